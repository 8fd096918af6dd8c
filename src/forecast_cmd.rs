//! `hazewarn train` and `hazewarn forecast`: fit and save a model; issue one forecast from it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use hazewarn_forecast::{Derived, FittedModel, Hourly, MAX_LEAD, ModelKind, ModelParams, rh_from, wind_components};
use hazewarn_ingest::{Layout, StationSeries, parse_local_time, read_station};

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
    #[arg(long)]
    pub obs: PathBuf,
    /// auto, canonical, parquet, uci-prsa, uci-5city or uci-multisite.
    #[arg(long, default_value = "auto")]
    pub format: Format,
    #[arg(long)]
    pub station: Option<String>,
    /// Emissions-history table (time,sector,index), with curtailments; default: the calendar proxy.
    #[arg(long)]
    pub emissions: Option<PathBuf>,
}

impl ObsArgs {
    /// The station's series and the forecaster's hourly table, with the emissions table applied.
    pub fn load(&self) -> Result<(StationSeries, Hourly)> {
        let series = read_station(&self.obs, self.format.0, self.station.as_deref())?;
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
    let third_party = a.source.obs.canonicalize().ok().is_some_and(|p| p.to_string_lossy().contains("/shared/data/"));
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
    let data = format!("{} (station {})", a.source.obs.display(), series.station);
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

/// Met forecast rows (`issue_time,valid_time,<met columns>`) laid onto `met` after index `i0`.
fn lay_met_forecast(path: &Path, met: &mut Hourly, i0: usize, issue: NaiveDateTime) -> Result<usize> {
    let file = path.display();
    let mut reader = csv::Reader::from_path(path).map_err(|e| anyhow!("{file}: {e}"))?;
    let headers = reader.headers()?.clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    let (ic, vc) = (
        col("issue_time").ok_or_else(|| anyhow!("{file}: required column `issue_time` is missing"))?,
        col("valid_time").ok_or_else(|| anyhow!("{file}: required column `valid_time` is missing"))?,
    );
    let cols: Vec<(&str, usize)> = ["temp", "dewp", "rh", "pres", "wspd", "wdir", "precip"]
        .iter()
        .filter_map(|n| col(n).map(|c| (*n, c)))
        .collect();
    let parse_time = |s: &str| parse_local_time(s.trim()).ok_or(());
    let mut laid = 0;
    let mut wdir = vec![f64::NAN; met.len()];
    for (k, r) in reader.records().enumerate() {
        let r = r.map_err(|e| anyhow!("{file}: {e}"))?;
        let line = k + 2;
        let it = parse_time(r.get(ic).unwrap_or(""))
            .map_err(|_| anyhow!("{file}: line {line}, column `issue_time`: not a time"))?;
        let vt = parse_time(r.get(vc).unwrap_or(""))
            .map_err(|_| anyhow!("{file}: line {line}, column `valid_time`: not a time"))?;
        if it != issue || vt <= issue {
            continue; // another run, or not in the future of this one
        }
        let Some(i) = met.index(vt).filter(|i| *i > i0) else { continue };
        for (name, c) in &cols {
            let text = r.get(*c).unwrap_or("").trim();
            let v = if text.is_empty() || text == "NA" {
                f64::NAN
            } else {
                text.parse::<f64>()
                    .map_err(|_| anyhow!("{file}: line {line}, column `{name}`: `{text}` is not a number"))?
            };
            match *name {
                "temp" => met.temp[i] = v,
                "dewp" => met.dewp[i] = v,
                "rh" => met.rh[i] = v,
                "pres" => met.pres[i] = v,
                "wspd" => met.wspd[i] = v,
                "wdir" => wdir[i] = v,
                _ => met.precip[i] = v,
            }
        }
        if met.rh[i].is_nan() {
            met.rh[i] = rh_from(met.temp[i], met.dewp[i]);
        }
        laid += 1;
    }
    for (i, d) in wdir.iter().enumerate().skip(i0 + 1) {
        (met.u[i], met.v[i]) = wind_components(met.wspd[i], *d);
    }
    Ok(laid)
}

/// Cut the table at `i0` (nothing later is read) and extend it with empty hours for the leads.
fn cut_and_extend(h: &Hourly, i0: usize) -> Hourly {
    let n = i0 + 1 + MAX_LEAD;
    let fit = |v: &[f64]| -> Vec<f64> { (0..n).map(|i| if i <= i0 { v[i] } else { f64::NAN }).collect() };
    Hourly {
        start: h.start,
        pm25: fit(&h.pm25),
        temp: fit(&h.temp),
        dewp: fit(&h.dewp),
        rh: fit(&h.rh),
        pres: fit(&h.pres),
        wspd: fit(&h.wspd),
        u: fit(&h.u),
        v: fit(&h.v),
        precip: fit(&h.precip),
        emission: (0..n).map(|i| h.emission_at(i)).collect(),
    }
}

pub fn forecast(a: &ForecastArgs) -> Result<()> {
    let text = std::fs::read_to_string(a.model.join("model.json"))
        .with_context(|| a.model.join("model.json").display().to_string())?;
    let model = FittedModel::from_json(&text)?;
    let (_, full) = a.source.load()?;
    let i0 = full
        .index(a.issue_time)
        .ok_or_else(|| anyhow!("{}: no hour {} in the observations", a.source.obs.display(), a.issue_time))?;
    let h = cut_and_extend(&full, i0);
    let d = Derived::new(&h);
    let f = if model.params.future_met {
        let path =
            a.met.as_ref().ok_or_else(|| anyhow!("this model was trained with future meteorology: pass --met FILE"))?;
        let mut met = h.clone();
        let laid = lay_met_forecast(path, &mut met, i0, a.issue_time)?;
        if laid == 0 {
            bail!("{}: no rows with issue_time {} and a later valid_time", path.display(), a.issue_time);
        }
        let dm = Derived::new(&met);
        model.predict(&d, i0, Some(&dm))?
    } else {
        model.predict(&d, i0, None)?
    };
    crate::backtest::write_outputs(&a.hourly_out, &a.daily_out, model.params.kind.name(), &[f], &model.clim)?;
    println!("wrote {} and {}", a.hourly_out.display(), a.daily_out.display());
    Ok(())
}

/// An emissions-history table: `time,sector,index` (local time). Curtailments of past and active
/// warnings enter as rows with a lowered index for the sectors they cut.
pub fn read_emissions(path: &Path) -> Result<Vec<(NaiveDateTime, String, f64)>> {
    let file = path.display();
    let mut reader = csv::Reader::from_path(path).map_err(|e| anyhow!("{file}: {e}"))?;
    let headers = reader.headers()?.clone();
    let col = |n: &str| {
        headers.iter().position(|h| h.trim() == n).ok_or_else(|| anyhow!("{file}: required column `{n}` is missing"))
    };
    let (tc, sc, ic) = (col("time")?, col("sector")?, col("index")?);
    let mut out = Vec::new();
    for (k, r) in reader.records().enumerate() {
        let r = r.map_err(|e| anyhow!("{file}: {e}"))?;
        let line = k + 2;
        let text = r.get(tc).unwrap_or("").trim();
        let t = parse_local_time(text)
            .ok_or_else(|| anyhow!("{file}: line {line}, column `time`: `{text}` is not a time"))?;
        let v: f64 = r
            .get(ic)
            .unwrap_or("")
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| anyhow!("{file}: line {line}, column `index`: not a non-negative number"))?;
        out.push((t, r.get(sc).unwrap_or("").trim().to_owned(), v));
    }
    Ok(out)
}
