//! `hazewarn backtest`: train up to a date, issue one forecast a day over a test range, write
//! the hourly and daily forecasts and a verification report for the model and the baselines.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::forecast_cmd::{FutureMet, ObsArgs};
use anyhow::{Result, anyhow, bail};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use hazewarn_aqi::Standards;
use hazewarn_forecast::verify::{Contingency, ErrorStats, contingency, error_stats};
use hazewarn_forecast::{
    BIAS_DAYS, DailyLevel, Derived, FIRST_CORRECTED_DAY, FittedModel, Forecast, ModelKind, ModelParams, NOWCAST_DAYS,
    RECENT_DAYS, Series, Stages, VerifiedIssuer, pm25_daily_aqi,
};
use hazewarn_response::{CurrentWarning, DailyForecast, GradingProfile, RangeBound, grade};
use serde::Serialize;

#[derive(clap::Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub source: ObsArgs,
    #[arg(long)]
    pub train_until: NaiveDate,
    #[arg(long)]
    pub test_from: NaiveDate,
    #[arg(long)]
    pub test_until: NaiveDate,
    #[arg(long, default_value_t = 16)]
    pub issue_hour: u32,
    #[arg(long, value_enum, default_value = "none")]
    pub future_met: FutureMet,
    /// gbdt (default), linear (elastic net), or a baseline: persistence, climatology, damped.
    #[arg(long, default_value = "gbdt")]
    pub model: String,
    #[arg(long)]
    pub hourly_out: PathBuf,
    #[arg(long)]
    pub daily_out: PathBuf,
    #[arg(long)]
    pub report: PathBuf,
    /// The stages after the learner: `all`, a list to keep, or `=-stage,…` to drop from all
    /// (default: the met mode's own set; see `hazewarn evaluate`).
    #[arg(long, value_parser = Stages::parse)]
    pub stages: Option<Stages>,
}

/// Where training ends and which days are forecast.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    pub train_until: NaiveDate,
    pub test_from: NaiveDate,
    pub test_until: NaiveDate,
    pub issue_hour: u32,
}

impl Split {
    pub fn check(&self) -> Result<()> {
        if self.test_from > self.test_until || self.train_until >= self.test_from {
            bail!("expected train_until < test_from ≤ test_until");
        }
        if self.issue_hour > 23 {
            bail!("the issue hour must be 0..=23");
        }
        Ok(())
    }
}

pub const MODELS: [&str; 5] = ["linear", "gbdt", "persistence", "climatology", "damped"];
const REPORT_LEADS: [usize; 7] = [1, 6, 12, 24, 48, 72, 96];

fn iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+08:00").to_string()
}

/// Mean, least and greatest of the per-issue factors of recent verification.
fn factor_summary(factors: &[f64]) -> serde_json::Value {
    serde_json::json!({
        "factor_mean": factors.iter().sum::<f64>() / factors.len() as f64,
        "factor_min": factors.iter().copied().fold(f64::INFINITY, f64::min),
        "factor_max": factors.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn aqi_level(aqi: u32) -> u8 {
    Standards::builtin().editions()[0].level(aqi).level
}

/// Daily (date, p10, p50, p90) of one model or baseline for D+1..D+7.
pub(crate) fn daily_of(f: &Forecast, model: &str, fitted: &FittedModel) -> Vec<(NaiveDate, f64, f64, f64)> {
    fitted.daily_outlook(f, Series::named(model)).into_iter().map(|d| (d.date, d.p10, d.p50, d.p90)).collect()
}

#[derive(Serialize, Default)]
struct DailyScore {
    n: usize,
    rmse: Option<f64>,
    /// The level of p50 against the observed level.
    level_accuracy: Option<f64>,
    /// The published level (the most probable one; the model only) against the observed level.
    #[serde(skip_serializing_if = "Option::is_none")]
    level_accuracy_product: Option<f64>,
    aqi_gt150: Contingency,
    aqi_gt200: Contingency,
}

#[derive(Serialize, Default)]
struct ModelScore {
    hourly: BTreeMap<String, ErrorStats>,
    daily: BTreeMap<String, DailyScore>,
    /// Warning level from D+1..D+3 under the national 2024 rules, forecast vs observed.
    warning_level_agreement: Option<f64>,
    warning_any: Contingency,
    /// Share of observations inside p10–p90, per reported lead, over leads 1..=72, and of daily
    /// means for D+1..D+3 (model only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    interval_coverage: BTreeMap<String, f64>,
}

pub fn run(a: &BacktestArgs) -> Result<()> {
    if !MODELS.contains(&a.model.as_str()) {
        bail!("unknown model `{}`; choose one of {}", a.model, MODELS.join(", "));
    }
    let split = Split {
        train_until: a.train_until,
        test_from: a.test_from,
        test_until: a.test_until,
        issue_hour: a.issue_hour,
    };
    split.check().map_err(|e| anyhow!("{e} (--train-until, --test-from, --test-until, --issue-hour)"))?;
    let future_met = a.future_met == FutureMet::Observed;
    let json = backtest(&a.source, &split, future_met, &a.model, a.stages, (&a.hourly_out, &a.daily_out))?;
    std::fs::write(&a.report, serde_json::to_string_pretty(&json)?)
        .map_err(|e| anyhow!("{}: {e}", a.report.display()))?;
    let fitted = json["model"].as_str().unwrap_or("gbdt");
    let g = &json["models"][fitted]["hourly"];
    let dp = &json["models"]["damped"]["hourly"];
    eprintln!(
        "backtest: {} issues; RMSE {fitted}/damped at 24 h {:.1}/{:.1}, 72 h {:.1}/{:.1}; fit {:.1} s, predict {:.1} ms/issue",
        json["test"]["issues"],
        g["24"]["rmse"].as_f64().unwrap_or(f64::NAN),
        dp["24"]["rmse"].as_f64().unwrap_or(f64::NAN),
        g["72"]["rmse"].as_f64().unwrap_or(f64::NAN),
        dp["72"]["rmse"].as_f64().unwrap_or(f64::NAN),
        json["timings_s"]["fit"].as_f64().unwrap_or(f64::NAN),
        json["timings_s"]["predict_per_issue_ms"].as_f64().unwrap_or(f64::NAN),
    );
    Ok(())
}

/// Train up to the split, issue one forecast a day over its test days, write the contract's
/// hourly and daily files for `model_name` (the fitted model or a baseline) and return the report.
pub(crate) fn backtest(
    source: &ObsArgs,
    a: &Split,
    future_met: bool,
    model_name: &str,
    stages: Option<Stages>,
    (hourly_out, daily_out): (&Path, &Path),
) -> Result<serde_json::Value> {
    let t_start = Instant::now();
    let (series, h) = source.load()?;
    let t_load = t_start.elapsed().as_secs_f64();
    let day_start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight");
    let until = h.index(day_start(a.train_until + Duration::days(1))).unwrap_or(h.len());
    if until < 24 * 120 {
        bail!(
            "{}: only {} training hours before {}; at least 120 days are needed",
            source.describe(),
            until,
            a.train_until
        );
    }
    let mut params = ModelParams::new(future_met, a.issue_hour);
    // A baseline is written from the default model's run: the baselines ride along with every forecast.
    params.kind = ModelKind::from_name(model_name).unwrap_or(ModelKind::Gbdt);
    if let Some(stages) = stages {
        params.stages = stages;
    }
    let met = future_met.then_some(&h);
    let t_fit0 = Instant::now();
    let model = params.fit(&h, until, met)?;
    let t_fit = t_fit0.elapsed().as_secs_f64();

    let derived = Derived::new(&h);
    let t_pred0 = Instant::now();
    let mut forecasts = Vec::new();
    let (mut spreads, mut biases, mut nowcasts) = (Vec::new(), Vec::new(), Vec::new());
    let mut issuer = VerifiedIssuer::new(&model, &derived, future_met.then_some(&derived));
    let mut skipped = 0;
    let mut day = a.test_from;
    // Drawn only when stderr is a terminal.
    let bar = indicatif::ProgressBar::new((a.test_until - a.test_from).num_days() as u64 + 1);
    while day <= a.test_until {
        bar.inc(1);
        match h.index(day.and_hms_opt(a.issue_hour, 0, 0).expect("hour")) {
            Some(i0) if !derived.pm_now(i0).is_nan() => {
                let (f, recent) = issuer.issue(i0)?;
                forecasts.push(f);
                spreads.push(recent.spread.factor);
                biases.push(recent.bias.factor);
                nowcasts.push(recent.nowcast.persistence_share);
            }
            _ => skipped += 1,
        }
        day += Duration::days(1);
    }
    bar.finish_and_clear();
    let t_pred = t_pred0.elapsed().as_secs_f64();
    if forecasts.is_empty() {
        bail!(
            "{}: no forecast could be issued in {}..{}: no PM2.5 at the issue hour",
            source.describe(),
            a.test_from,
            a.test_until
        );
    }
    write_outputs(hourly_out, daily_out, model_name, &forecasts, &model)?;

    // Verification against what was observed.
    let obs_at = |t: NaiveDateTime| h.index(t).map_or(f64::NAN, |i| h.pm25[i]);
    let obs_daily = |d: NaiveDate| {
        let v: Vec<f64> = (0..24).map(|k| obs_at(day_start(d) + Duration::hours(k))).filter(|x| !x.is_nan()).collect();
        if v.len() >= 20 { v.iter().sum::<f64>() / v.len() as f64 } else { f64::NAN }
    };
    let profile = GradingProfile::national_2024();
    let fitted = params.kind.name();
    let products: Vec<Vec<DailyLevel>> = forecasts.iter().map(|f| model.daily_levels(f)).collect();
    let mut report = BTreeMap::new();
    for name in [fitted, "persistence", "climatology", "damped"] {
        let mut s = ModelScore::default();
        for lead in REPORT_LEADS {
            let pairs = forecasts.iter().map(|f| (Series::named(name).at(f, lead).1, obs_at(f.leads[lead - 1].valid)));
            s.hourly.insert(lead.to_string(), error_stats(pairs));
            if name == fitted {
                let (mut inside, mut n) = (0, 0);
                for f in &forecasts {
                    let o = obs_at(f.leads[lead - 1].valid);
                    if !o.is_nan() {
                        let (p10, _, p90) = Series::named(name).at(f, lead);
                        n += 1;
                        inside += usize::from(p10 <= o && o <= p90);
                    }
                }
                if n > 0 {
                    s.interval_coverage.insert(lead.to_string(), inside as f64 / n as f64);
                }
            }
        }
        if name == fitted {
            let (mut inside, mut n) = (0, 0);
            for f in &forecasts {
                for l in &f.leads[..72] {
                    let o = obs_at(l.valid);
                    if !o.is_nan() {
                        n += 1;
                        inside += usize::from(l.p10 <= o && o <= l.p90);
                    }
                }
            }
            s.interval_coverage.insert("1-72".into(), inside as f64 / n.max(1) as f64);
        }
        let dailies: Vec<Vec<(NaiveDate, f64, f64, f64)>> =
            forecasts.iter().map(|f| daily_of(f, name, &model)).collect();
        for k in 0..3 {
            // (day's forecast (date, p10, p50, p90), observed daily mean) where one was observed.
            let observed: Vec<((NaiveDate, f64, f64, f64), f64)> =
                dailies.iter().map(|d| (d[k], obs_daily(d[k].0))).filter(|(_, o)| !o.is_nan()).collect();
            let pairs: Vec<(NaiveDate, f64, f64)> = observed.iter().map(|((d, _, f, _), o)| (*d, *f, *o)).collect();
            let es = error_stats(pairs.iter().map(|(_, f, o)| (*f, *o)));
            if name == fitted && !observed.is_empty() {
                let inside = observed.iter().filter(|((_, lo, _, hi), o)| lo <= o && o <= hi).count();
                s.interval_coverage.insert(format!("D+{}", k + 1), inside as f64 / observed.len() as f64);
            }
            let lv = |d: NaiveDate, x: f64| pm25_daily_aqi(d, x).map(aqi_level);
            let level_ok = pairs.iter().filter(|(d, f, o)| lv(*d, *f) == lv(*d, *o)).count();
            let gt = |th: u32| {
                contingency(
                    pairs
                        .iter()
                        .map(|(d, f, o)| (pm25_daily_aqi(*d, *f) > Some(th), pm25_daily_aqi(*d, *o) > Some(th))),
                )
            };
            // The published level of each issue's day k, where that day's mean was observed.
            let published: Vec<bool> = products
                .iter()
                .filter_map(|p| p.get(k))
                .filter_map(|d| lv(d.date, obs_daily(d.date)).map(|o| o == d.level))
                .collect();
            s.daily.insert(
                (k + 1).to_string(),
                DailyScore {
                    n: pairs.len(),
                    rmse: es.rmse,
                    level_accuracy: (!pairs.is_empty()).then(|| level_ok as f64 / pairs.len() as f64),
                    level_accuracy_product: (name == fitted && !published.is_empty())
                        .then(|| published.iter().filter(|ok| **ok).count() as f64 / published.len() as f64),
                    aqi_gt150: gt(150),
                    aqi_gt200: gt(200),
                },
            );
        }
        let mut agree = (0, 0);
        let mut any = Vec::new();
        for d in &dailies {
            let obs: Vec<f64> = d[..3].iter().map(|x| obs_daily(x.0)).collect();
            if obs.iter().any(|x| x.is_nan()) {
                continue;
            }
            let as_forecast = |vals: Vec<(NaiveDate, u32)>| -> Vec<DailyForecast> {
                vals.into_iter()
                    .map(|(date, aqi)| DailyForecast {
                        date,
                        aqi_p50: aqi,
                        aqi_p10: None,
                        aqi_p90: None,
                        primary: vec!["PM2.5".into()],
                    })
                    .collect()
            };
            let aqi = |date: NaiveDate, pm: f64| pm25_daily_aqi(date, pm).unwrap_or(0);
            let f = as_forecast(d[..3].iter().map(|x| (x.0, aqi(x.0, x.2))).collect());
            let o = as_forecast(d[..3].iter().zip(&obs).map(|(x, o)| (x.0, aqi(x.0, *o))).collect());
            let g =
                |x: &[DailyForecast]| grade(&profile, x, CurrentWarning::default(), RangeBound::P50).map(|r| r.level);
            let (lf, lo) = (g(&f)?, g(&o)?);
            agree.0 += usize::from(lf == lo);
            agree.1 += 1;
            any.push((lf > hazewarn_response::WarningLevel::None, lo > hazewarn_response::WarningLevel::None));
        }
        s.warning_level_agreement = (agree.1 > 0).then(|| agree.0 as f64 / agree.1 as f64);
        s.warning_any = contingency(any);
        report.insert(name.to_owned(), s);
    }
    Ok(serde_json::json!({
        "observations": source.describe(),
        "station": series.station,
        "future_met": if future_met {
            "observed: the observed meteorology after each issue time is passed in as if it were a perfect NWP forecast"
        } else {
            "none: no meteorology after the issue time is used"
        },
        "train": {"from": iso(h.time(0)), "until": iso(h.time(until - 1)), "rows": model.train_rows,
                  "features": Derived::feature_names(future_met)},
        "test": {"from": a.test_from, "until": a.test_until, "issue_hour": a.issue_hour,
                 "issues": forecasts.len(), "skipped_issues": skipped},
        "model": fitted,
        "p50": format!("the model's squared-loss central estimate (with future met, the average of the anomaly and log-target learners); p10/p90 from split-conformal residual quantiles per lead bucket and climatological tercile, each side scaled by how the forecasts of the previous {RECENT_DAYS} days verified up to the issue time; from D+{FIRST_CORRECTED_DAY} on, all three scaled by the observed/forecast ratio of the previous {BIAS_DAYS} days' verified D+1..D+3 days to the power {}; at 1 h, moved towards persistence by the share that scored best over the previous {NOWCAST_DAYS} days' 1-h forecasts", model.bias_power),
        "recent_spread": factor_summary(&spreads),
        "recent_bias": factor_summary(&biases),
        "recent_nowcast": factor_summary(&nowcasts),
        "written_model": model_name,
        "stages": params.stages.to_string(),
        "level_product_held_out_days": model.error_shapes.iter().map(|s| s.days).collect::<Vec<_>>(),
        "models": report,
        "timings_s": {"load": t_load, "fit": t_fit, "predict": t_pred,
                      "predict_per_issue_ms": 1000.0 * t_pred / forecasts.len() as f64,
                      "total": t_start.elapsed().as_secs_f64()},
    }))
}

/// The contract's H.csv and D.csv for `model` (the fitted model or a baseline).
pub(crate) fn write_outputs(
    hourly_out: &Path,
    daily_out: &Path,
    model: &str,
    forecasts: &[Forecast],
    fitted: &FittedModel,
) -> Result<()> {
    let open =
        |p: &Path| std::fs::File::create(p).map(std::io::BufWriter::new).map_err(|e| anyhow!("{}: {e}", p.display()));
    let mut hw = open(hourly_out)?;
    writeln!(hw, "issue_time,valid_time,lead_hours,pm25_p10,pm25_p50,pm25_p90")?;
    let mut dw = open(daily_out)?;
    writeln!(dw, "issue_time,date,lead_day,pm25_p10,pm25_p50,pm25_p90,aqi_p50,level_p50,level,trend")?;
    for f in forecasts {
        let it = iso(f.issue);
        for l in &f.leads {
            let (p10, p50, p90) = Series::named(model).at(f, l.lead);
            writeln!(hw, "{it},{},{},{p10:.1},{p50:.1},{p90:.1}", iso(l.valid), l.lead)?;
        }
        // The published level: the model's most probable one for D+1..D+3; a baseline, which has
        // no distribution, and the trend publish the level of p50.
        let product = if Series::named(model) == Series::Model { fitted.daily_levels(f) } else { Vec::new() };
        for (k, (date, p10, p50, p90)) in daily_of(f, model, fitted).into_iter().enumerate() {
            let aqi = pm25_daily_aqi(date, p50).unwrap_or(0);
            let published = product.iter().find(|d| d.date == date).map_or(aqi_level(aqi), |d| d.level);
            // D+4 onwards is past the skilful range: a trend, not a forecast.
            writeln!(
                dw,
                "{it},{date},{},{p10:.1},{p50:.1},{p90:.1},{aqi},{},{published},{}",
                k + 1,
                aqi_level(aqi),
                k >= 3
            )?;
        }
    }
    hw.flush()?;
    dw.flush()?;
    Ok(())
}
