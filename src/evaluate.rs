//! `hazewarn evaluate`: the backtest over a declared list of station-years, in one or both met
//! modes, printed as one table: per lead the RMSE as a ratio to the best built-in baseline, the
//! published D+1..D+3 level accuracy, the D+1 heavy-day (AQI > 200) POD/FAR/CSI, warning-level
//! agreement and p10–p90 coverage, then the mean and the worst over the station-years.
//!
//! A stage earns its place only across station-years: `--stages` turns stages off so that its
//! worth is one command away (`hazewarn evaluate --stages=-nowcast` beside
//! `hazewarn evaluate --stages all`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use hazewarn_forecast::Stages;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backtest::{Split, backtest};
use crate::forecast_cmd::{Format, ObsArgs};

/// The leads whose RMSE ratio is shown (h).
const LEADS: [usize; 6] = [1, 6, 12, 24, 48, 72];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetModes {
    /// No meteorology after the issue time.
    None,
    /// Observed meteorology after the issue time, as a perfect NWP forecast.
    Observed,
    /// Both, one after the other.
    Both,
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The station-years and their train/test splits (TOML; see data/evaluate/dev.toml).
    #[arg(long, default_value = "data/evaluate/dev.toml")]
    pub list: PathBuf,
    /// The folder the list's observation files are read from.
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value = "both")]
    pub future_met: MetModes,
    /// The stages after the learner: `all`, a list to keep, or `=-stage,…` to drop from all
    /// (default: each met mode's own set).
    #[arg(long, value_parser = Stages::parse)]
    pub stages: Option<Stages>,
    /// Only these station-years (by name).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Keep each run's hourly and daily files and report here, named `NAME-MET.{hourly,daily}.csv`
    /// and `NAME-MET.json` (for `hwbench.py score`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the table's rows as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The list file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StationYears {
    station_year: Vec<StationYear>,
}

/// One station-year: where its observations are and how it is split.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StationYear {
    name: String,
    /// One file, or several whose stations' mean is the city series.
    obs: Vec<String>,
    /// The station (column) in a file that holds several.
    station: Option<String>,
    train_until: NaiveDate,
    test_from: NaiveDate,
    test_until: NaiveDate,
    #[serde(default = "sixteen")]
    issue_hour: u32,
}

fn sixteen() -> u32 {
    16
}

impl StationYear {
    fn split(&self) -> Split {
        Split {
            train_until: self.train_until,
            test_from: self.test_from,
            test_until: self.test_until,
            issue_hour: self.issue_hour,
        }
    }

    fn source(&self, data: &Path) -> ObsArgs {
        ObsArgs {
            obs: self.obs.iter().map(|f| data.join(f)).collect(),
            city_mean: self.obs.len() > 1,
            stations: None,
            area: None,
            met_obs: Vec::new(),
            format: Format(None),
            station: self.station.clone(),
            emissions: None,
        }
    }
}

/// The station-years of a list file, checked: each split, the names unique, each file present.
fn read_list(path: &Path, data: &Path) -> Result<Vec<StationYear>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let list: StationYears = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut names = BTreeSet::new();
    for (k, sy) in list.station_year.iter().enumerate() {
        let at = format!("{}: station_year {} (`{}`)", path.display(), k + 1, sy.name);
        if !names.insert(sy.name.as_str()) {
            bail!("{at}: the name is used twice");
        }
        if sy.obs.is_empty() {
            bail!("{at}: field `obs` names no file");
        }
        sy.split().check().map_err(|e| anyhow!("{at}: {e}"))?;
        for f in &sy.obs {
            if !data.join(f).is_file() {
                bail!("{at}: field `obs`: {} is not a file (--data is {})", data.join(f).display(), data.display());
            }
        }
    }
    Ok(list.station_year)
}

/// One row of the table: one station-year in one met mode.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    met: &'static str,
    issues: u64,
    /// Model RMSE / best baseline RMSE at each of [`LEADS`].
    ratio: Vec<f64>,
    /// Published level accuracy, D+1..D+3.
    level: Vec<f64>,
    /// The level of p50's accuracy at D+1, for comparison.
    level_p50_d1: f64,
    /// D+1 AQI > 200: POD, FAR, CSI.
    heavy_d1: [f64; 3],
    warning_agreement: f64,
    /// p10–p90 coverage at 24 h and over leads 1..=72.
    coverage_24: f64,
    coverage_1_72: f64,
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

impl Row {
    fn from_report(name: &str, met: &'static str, r: &Value) -> Row {
        let model = r["model"].as_str().unwrap_or("gbdt");
        let m = &r["models"][model];
        let ratio = LEADS
            .iter()
            .map(|lead| {
                let rmse = |s: &str| num(&r["models"][s]["hourly"][lead.to_string()]["rmse"]);
                let best = ["persistence", "climatology", "damped"].map(rmse).into_iter().fold(f64::INFINITY, f64::min);
                rmse(model) / best
            })
            .collect();
        let day = |k: usize| &m["daily"][k.to_string()];
        let heavy = &day(1)["aqi_gt200"];
        Row {
            name: name.to_owned(),
            met,
            issues: r["test"]["issues"].as_u64().unwrap_or(0),
            ratio,
            level: (1..=3).map(|k| num(&day(k)["level_accuracy_product"])).collect(),
            level_p50_d1: num(&day(1)["level_accuracy"]),
            heavy_d1: [num(&heavy["pod"]), num(&heavy["far"]), num(&heavy["csi"])],
            warning_agreement: num(&m["warning_level_agreement"]),
            coverage_24: num(&m["interval_coverage"]["24"]),
            coverage_1_72: num(&m["interval_coverage"]["1-72"]),
        }
    }

    fn values(&self) -> Vec<f64> {
        let mut v = self.ratio.clone();
        v.extend(&self.level);
        v.push(self.level_p50_d1);
        v.extend(self.heavy_d1);
        v.extend([self.warning_agreement, self.coverage_24, self.coverage_1_72]);
        v
    }
}

fn header() -> String {
    let leads: Vec<String> = LEADS.iter().map(|l| format!("{l} h")).collect();
    format!(
        "| station-year | met | issues | {} | level D+1 | D+2 | D+3 | level of p50 D+1 | POD>200 D+1 | FAR | CSI | warning | cover 24 h | cover 1–72 h |\n|{}",
        leads.join(" | "),
        "---|".repeat(3 + LEADS.len() + 10)
    )
}

fn line(name: &str, met: &str, issues: &str, values: &[f64]) -> String {
    let cells: Vec<String> = values.iter().map(|v| if v.is_nan() { "–".into() } else { format!("{v:.3}") }).collect();
    format!("| {name} | {met} | {issues} | {} |", cells.join(" | "))
}

/// The mean of each column (NaN cells left out), and the worst ratio per lead.
fn summary(rows: &[&Row]) -> (Vec<f64>, Vec<f64>) {
    let values: Vec<Vec<f64>> = rows.iter().map(|r| r.values()).collect();
    let cols = values.first().map_or(0, Vec::len);
    let mean = (0..cols)
        .map(|c| {
            let v: Vec<f64> = values.iter().map(|r| r[c]).filter(|x| !x.is_nan()).collect();
            if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
        })
        .collect();
    let worst = (0..LEADS.len()).map(|c| rows.iter().map(|r| r.ratio[c]).fold(f64::NEG_INFINITY, f64::max)).collect();
    (mean, worst)
}

/// How the stages asked for read in the table's title.
fn stages_named(stages: Option<Stages>) -> String {
    stages.map_or_else(|| "as each met mode has them".to_owned(), |s| s.to_string())
}

pub fn run(a: &EvaluateArgs) -> Result<()> {
    let mut list = read_list(&a.list, &a.data)?;
    if !a.only.is_empty() {
        for name in &a.only {
            if !list.iter().any(|s| &s.name == name) {
                bail!("--only: no station-year `{name}` in {}", a.list.display());
            }
        }
        list.retain(|s| a.only.contains(&s.name));
    }
    let modes: &[(bool, &'static str)] = match a.future_met {
        MetModes::None => &[(false, "none")],
        MetModes::Observed => &[(true, "observed")],
        MetModes::Both => &[(false, "none"), (true, "observed")],
    };
    let scratch = tempfile::tempdir()?;
    let out = a.out.as_deref().unwrap_or(scratch.path());
    std::fs::create_dir_all(out).with_context(|| format!("{}", out.display()))?;
    let mut rows = Vec::new();
    for &(future_met, met) in modes {
        for sy in &list {
            let stem = format!("{}-{met}", sy.name);
            let (hourly, daily) = (out.join(format!("{stem}.hourly.csv")), out.join(format!("{stem}.daily.csv")));
            eprintln!("evaluate: {} (met {met})", sy.name);
            let report = backtest(&sy.source(&a.data), &sy.split(), future_met, "gbdt", a.stages, (&hourly, &daily))
                .with_context(|| format!("station-year `{}`", sy.name))?;
            let path = out.join(format!("{stem}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(&report)?)
                .with_context(|| format!("{}", path.display()))?;
            rows.push(Row::from_report(&sy.name, met, &report));
        }
    }
    println!("hazewarn evaluate: {} (stages {})\n", a.list.display(), stages_named(a.stages));
    println!("RMSE as a ratio to the best built-in baseline at each lead (below 1 is better); levels are HJ 633's.\n");
    println!("{}", header());
    for r in &rows {
        println!("{}", line(&r.name, r.met, &r.issues.to_string(), &r.values()));
    }
    for &(_, met) in modes {
        let of_mode: Vec<&Row> = rows.iter().filter(|r| r.met == met).collect();
        let (mean, worst) = summary(&of_mode);
        println!("{}", line("**mean**", met, "", &mean));
        let mut w = worst;
        w.resize(mean.len(), f64::NAN);
        println!("{}", line("**worst ratio**", met, "", &w));
    }
    if let Some(p) = &a.json {
        let json =
            serde_json::json!({"list": a.list.display().to_string(), "stages": stages_named(a.stages), "rows": rows});
        std::fs::write(p, serde_json::to_string_pretty(&json)?).with_context(|| format!("{}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("list.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    const ONE: &str = "[[station_year]]\nname = \"a\"\nobs = [\"obs.csv\"]\ntrain_until = \"2013-12-31\"\n\
                       test_from = \"2014-01-01\"\ntest_until = \"2014-12-31\"\n";

    #[test]
    fn a_list_is_checked_and_its_errors_name_the_file_the_entry_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("obs.csv"), "x").unwrap();
        let list = read_list(&write(dir.path(), ONE), dir.path()).unwrap();
        assert_eq!((list[0].name.as_str(), list[0].issue_hour), ("a", 16));
        let e = read_list(&write(dir.path(), &format!("{ONE}{ONE}")), dir.path()).unwrap_err().to_string();
        assert!(e.contains("list.toml: station_year 2 (`a`): the name is used twice"), "{e}");
        let bad = ONE.replace("2014-01-01", "2013-06-01");
        let e = read_list(&write(dir.path(), &bad), dir.path()).unwrap_err().to_string();
        assert!(e.contains("station_year 1 (`a`): expected train_until < test_from"), "{e}");
        let e = read_list(&write(dir.path(), &ONE.replace("obs.csv", "gone.csv")), dir.path()).unwrap_err().to_string();
        assert!(e.contains("field `obs`") && e.contains("gone.csv is not a file"), "{e}");
        // toml's own message names the line and the field.
        let e = read_list(&write(dir.path(), &ONE.replace("2014-12-31", "2014-13-01")), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("list.toml") && e.contains("line 6") && e.contains("test_until"), "{e}");
        let e = read_list(&write(dir.path(), &format!("{ONE}colour = 1\n")), dir.path()).unwrap_err().to_string();
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn the_summary_is_the_mean_of_each_column_and_the_worst_ratio() {
        let row = |r: f64, level: f64| Row {
            name: "x".into(),
            met: "none",
            issues: 1,
            ratio: vec![r; LEADS.len()],
            level: vec![level, f64::NAN, 0.5],
            level_p50_d1: 0.5,
            heavy_d1: [1.0, 0.0, 1.0],
            warning_agreement: 0.5,
            coverage_24: 0.8,
            coverage_1_72: 0.8,
        };
        let (a, b) = (row(0.9, 0.6), row(1.1, 0.7));
        let (mean, worst) = summary(&[&a, &b]);
        assert!((mean[0] - 1.0).abs() < 1e-12 && (mean[LEADS.len()] - 0.65).abs() < 1e-12);
        // A column with no value in any row stays empty, not zero.
        assert!(mean[LEADS.len() + 1].is_nan());
        assert_eq!(worst, vec![1.1; LEADS.len()]);
        assert_eq!(line("m", "none", "", &[0.5, f64::NAN]), "| m | none |  | 0.500 | – |");
    }
}
