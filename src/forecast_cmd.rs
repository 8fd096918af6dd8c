//! `hazewarn train` and `hazewarn forecast`: fit and save a model; issue one forecast from it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use hazewarn_forecast::{Derived, FittedModel, Hourly, ModelKind, ModelParams, parse_met_forecast_csv};
use hazewarn_ingest::city::{CityMeanOptions, city_mean};
use hazewarn_ingest::met::{ingest_met, join_met};
use hazewarn_ingest::{IngestOptions, Layout, StationSeries, ingest, parse_local_time, read_station};

/// `--format`: `auto` (detect from the header) or a layout name.
#[derive(Debug, Clone, Copy)]
pub struct Format(pub Option<Layout>);

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        if s == "auto" { Ok(Format(None)) } else { s.parse().map(|l| Format(Some(l))) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FutureMet {
    /// No meteorology after the issue time.
    None,
    /// The observed meteorology after the issue time, as if it were a perfect NWP forecast.
    Observed,
}

/// Where the observations come from, shared by backtest, train and forecast.
#[derive(clap::Args)]
pub struct ObsArgs {
    /// The observations; several files (joined by commas) with --city-mean.
    #[arg(long, value_delimiter = ',', required = true)]
    pub obs: Vec<PathBuf>,
    /// Forecast the city series: the mean of the stations' valid values each hour (HJ 663).
    #[arg(long)]
    pub city_mean: bool,
    /// With --city-mean: the assessment stations (default: every station in the files).
    #[arg(long, value_delimiter = ',', requires = "city_mean")]
    pub stations: Option<Vec<String>>,
    /// National layouts, with --city-mean: the city's stations by the release's `area` (e.g. 漯河市).
    #[arg(long, requires = "city_mean")]
    pub area: Option<String>,
    /// A weather-station table (canonical layout, met columns only) joined on the hour, for
    /// station data that carries no meteorology (the national layouts).
    #[arg(long = "met-obs", value_delimiter = ',')]
    pub met_obs: Vec<PathBuf>,
    /// auto, canonical, parquet, uci-prsa, uci-5city, uci-multisite, cn-realtime or cn-archive.
    #[arg(long, default_value = "auto")]
    pub format: Format,
    #[arg(long)]
    pub station: Option<String>,
    /// Emissions-history table (time,sector,index), with curtailments; default: the calendar proxy.
    #[arg(long)]
    pub emissions: Option<PathBuf>,
}

impl ObsArgs {
    /// The files, as the report and errors name them.
    pub fn describe(&self) -> String {
        self.obs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",")
    }

    /// One station's series, or with --city-mean the city series of all the files' stations.
    fn series(&self) -> Result<StationSeries> {
        let series = if self.city_mean {
            let options = IngestOptions {
                layout: self.format.0,
                station: self.station.clone(),
                area: self.area.clone(),
                codes: self.stations.clone(),
                ..Default::default()
            };
            let (obs, _) = ingest(&self.obs, &options)?;
            let city = CityMeanOptions { stations: self.stations.clone(), ..CityMeanOptions::default() };
            let c = city_mean(&obs, &city)?;
            tracing::info!(stations = %c.stations.join(","), thin_hours = c.thin_hours, "city series");
            c.series
        } else {
            let [one] = self.obs.as_slice() else {
                bail!("{} files were given; several files need --city-mean", self.obs.len());
            };
            read_station(one, self.format.0, self.station.as_deref())?
        };
        if self.met_obs.is_empty() {
            return Ok(series);
        }
        let (met, _) = ingest_met(&self.met_obs, &Default::default())?;
        Ok(join_met(&series, &met))
    }

    /// The station's series and the forecaster's hourly table, with the emissions table applied.
    pub fn load(&self) -> Result<(StationSeries, Hourly)> {
        let series = self.series()?;
        let mut h = Hourly::from_series(&series);
        if let Some(p) = &self.emissions {
            let off = h.apply_emissions(&read_emissions(p)?);
            if off > 0 {
                tracing::info!(rows = off, file = %p.display(), "emission rows outside the observation period were not used");
            }
        }
        Ok((series, h))
    }
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub source: ObsArgs,
    /// Last day of training data (default: all of it).
    #[arg(long)]
    pub until: Option<NaiveDate>,
    #[arg(long, default_value_t = 16)]
    pub issue_hour: u32,
    #[arg(long, value_enum, default_value = "none")]
    pub future_met: FutureMet,
    /// gbdt (default) or linear.
    #[arg(long, default_value = "gbdt")]
    pub model: String,
    #[arg(long)]
    pub out: PathBuf,
}

/// True when `dir` lies inside this repository (an ancestor holds crates/forecast).
fn inside_repository(dir: &Path) -> bool {
    dir.canonicalize().ok().is_some_and(|d| d.ancestors().any(|a| a.join("crates/forecast/Cargo.toml").exists()))
}

pub fn train(a: &TrainArgs) -> Result<()> {
    let third_party = a
        .source
        .obs
        .iter()
        .any(|o| o.canonicalize().ok().is_some_and(|p| p.to_string_lossy().contains("/shared/data/")));
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    if third_party && inside_repository(&a.out) {
        bail!(
            "{}: a model trained on ../shared/data may not be written inside the repository (models/ is for what \
             the project may redistribute); choose a directory outside it",
            a.out.display()
        );
    }
    let (series, h) = a.source.load()?;
    let until = match a.until {
        Some(d) => h.index((d + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight")).unwrap_or(h.len()),
        None => h.len(),
    };
    let observed = a.future_met == FutureMet::Observed;
    let mut params = ModelParams::new(observed, a.issue_hour);
    params.kind = match ModelKind::from_name(&a.model) {
        Some(k @ (ModelKind::Gbdt | ModelKind::Linear)) => k,
        _ => bail!("`{}` cannot be saved; train gbdt or linear", a.model),
    };
    let model = params.fit(&h, until, observed.then_some(&h))?;
    std::fs::write(a.out.join("model.json"), model.to_json())?;
    let name = a.out.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    let data = format!("{} (station {})", a.source.describe(), series.station);
    std::fs::write(a.out.join("card.md"), model.model_card(name, &data))?;
    println!("saved {} ({} training rows) and its model card", a.out.join("model.json").display(), model.train_rows);
    Ok(())
}

#[derive(clap::Args)]
pub struct ForecastArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub source: ObsArgs,
    /// Met forecast: issue_time,valid_time and any of temp,dewp,rh,pres,wspd,wdir,precip.
    #[arg(long)]
    pub met: Option<PathBuf>,
    /// Local time (Asia/Shanghai), e.g. "2026-01-01 16:00".
    #[arg(long, value_parser = parse_issue_time)]
    pub issue_time: NaiveDateTime,
    #[arg(long)]
    pub hourly_out: PathBuf,
    #[arg(long)]
    pub daily_out: PathBuf,
}

fn parse_issue_time(s: &str) -> Result<NaiveDateTime, String> {
    parse_local_time(s.trim()).ok_or_else(|| format!("`{s}` is not a local time such as 2026-01-01 16:00"))
}

pub fn forecast(a: &ForecastArgs) -> Result<()> {
    let text = std::fs::read_to_string(a.model.join("model.json"))
        .with_context(|| a.model.join("model.json").display().to_string())?;
    let model = FittedModel::from_json(&text)?;
    let (_, full) = a.source.load()?;
    let i0 = full
        .index(a.issue_time)
        .ok_or_else(|| anyhow!("{}: no hour {} in the observations", a.source.describe(), a.issue_time))?;
    let h = full.cut_at(i0);
    let d = Derived::new(&h);
    let (f, recent) = if model.params.future_met {
        let path =
            a.met.as_ref().ok_or_else(|| anyhow!("this model was trained with future meteorology: pass --met FILE"))?;
        let mut met = h.clone();
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        let hours = parse_met_forecast_csv(&path.display().to_string(), &bytes, a.issue_time)?;
        let laid = met.lay_met_forecast(&hours, i0);
        if laid == 0 {
            bail!("{}: no rows with issue_time {} and a later valid_time", path.display(), a.issue_time);
        }
        let dm = Derived::new(&met);
        model.predict_verified(&d, i0, Some(&dm))?
    } else {
        model.predict_verified(&d, i0, None)?
    };
    eprintln!("recent verification: {}", recent.describe());
    crate::backtest::write_outputs(&a.hourly_out, &a.daily_out, model.params.kind.name(), &[f], &model)?;
    println!("wrote {} and {}", a.hourly_out.display(), a.daily_out.display());
    Ok(())
}

/// An emissions-history table: `time,sector,index` (local time). Curtailments of past and active
/// warnings enter as rows with a lowered index for the sectors they cut.
pub fn read_emissions(path: &Path) -> Result<Vec<(NaiveDateTime, String, f64)>> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    Ok(hazewarn_forecast::parse_emissions_csv(&path.display().to_string(), &bytes)?)
}
