//! Daily outlook: mean PM2.5 and its AQI for calendar days D+1..D+7 from an hourly forecast.
//! [`daily_outlook`] averages the hours; the `daily-spread` stage ([`DailySpreads`]) then keeps,
//! of each D+1..D+3 day's mean half-widths below and above the central estimate, the shares
//! chosen at fit time on held-out days (errors within a day are not perfectly correlated, and the
//! central estimate is a mean, not a median). Hours past 96 h are the trend: climatology, with the
//! month's p10 and p90 of daily means as the range, scaled for the model by the forecast's recent
//! level correction ([`Forecast::level_factor`], [`crate::bias`]).

use chrono::{Datelike, Duration, NaiveDate};
use hazewarn_aqi::{DailyConcentrations, Standards};
use serde::{Deserialize, Serialize};

use crate::pipeline::PostStage;
use crate::{Climatology, Forecast, MAX_LEAD, Stage};

/// Days of the daily outlook; days after [`SKILFUL_DAYS`] are a trend.
pub const OUTLOOK_DAYS: i64 = 7;
/// D+1..D+3 are forecast; later days are marked as a trend.
pub const SKILFUL_DAYS: usize = 3;

/// One series of a [`Forecast`]: the model or one of its baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Model,
    Persistence,
    Climatology,
    Damped,
}

impl Series {
    /// `persistence`, `climatology` and `damped` name baselines; anything else is the model.
    pub fn named(name: &str) -> Series {
        match name {
            "persistence" => Series::Persistence,
            "climatology" => Series::Climatology,
            "damped" => Series::Damped,
            _ => Series::Model,
        }
    }

    /// (p10, p50, p90) at a lead; a baseline has no spread.
    pub fn at(self, f: &Forecast, lead: usize) -> (f64, f64, f64) {
        let l = &f.leads[lead - 1];
        match self {
            Series::Persistence => (l.persistence, l.persistence, l.persistence),
            Series::Climatology => (l.climatology, l.climatology, l.climatology),
            Series::Damped => (l.damped, l.damped, l.damped),
            Series::Model => (l.p10, l.p50, l.p90),
        }
    }
}

/// One calendar day of the outlook.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyOutlook {
    pub date: NaiveDate,
    pub lead_day: usize,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    /// Beyond the skilful range: a trend, not a forecast.
    pub trend: bool,
}

/// Daily (p10, p50, p90) means of one series for D+1..D+7 in the forecast's local calendar, before
/// the daily spread (see [`crate::FittedModel::daily_outlook`]).
pub fn daily_outlook(f: &Forecast, series: Series, clim: &Climatology) -> Vec<DailyOutlook> {
    let issue_day = f.issue.date();
    (1..=OUTLOOK_DAYS)
        .map(|k| {
            let date = issue_day + Duration::days(k);
            let (mut s10, mut s50, mut s90) = (0.0, 0.0, 0.0);
            for h in 0..24 {
                let tv = date.and_hms_opt(h, 0, 0).expect("hour");
                let lead = (tv - f.issue).num_hours();
                let (a, b, c) = if (1..=MAX_LEAD as i64).contains(&lead) {
                    series.at(f, lead as usize)
                } else {
                    // The hour's climatology scaled so that the day's range is the month's p10–p90
                    // of daily means (scaling by their median instead put p10 above the month's).
                    let m = clim.at(tv);
                    let month = tv.month0() as usize;
                    let month_mean = clim.mean[month].iter().sum::<f64>() / 24.0;
                    let (q10, _, q90) = clim.daily_quantiles[month];
                    // The model's trend follows its recent level correction; a baseline's does not.
                    let level = if series == Series::Model { f.level_factor() } else { 1.0 };
                    let scale = level / month_mean.max(1.0);
                    (m * q10 * scale, m * level, m * q90 * scale)
                };
                (s10, s50, s90) = (s10 + a, s50 + b, s90 + c);
            }
            let lead_day = k as usize;
            DailyOutlook {
                date,
                lead_day,
                p10: s10 / 24.0,
                p50: s50 / 24.0,
                p90: s90 / 24.0,
                trend: lead_day > SKILFUL_DAYS,
            }
        })
        .collect()
}

pub(crate) use crate::tuning::DAILY_SPREAD_MAX_LEAD;

/// One held-out hour for the daily spread and the level correction: its (issue index, valid
/// day), lead day (0 for the issue's own day), observation, central forecast and quantile cell.
pub(crate) struct HeldOutHour {
    pub day: (usize, chrono::NaiveDate),
    pub lead_day: usize,
    pub obs: f64,
    pub pred: f64,
    /// The conformal quantile cell of the hour.
    pub cell: usize,
}

/// The shares of the hourly half-widths below and above the central estimate that a daily
/// mean's interval keeps (1 = as wide as the mean of its hours' intervals).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "SpreadRepr")]
pub struct DailySpread {
    pub below: f64,
    pub above: f64,
}

impl DailySpread {
    /// The hourly widths, unchanged.
    pub const WHOLE: DailySpread = DailySpread { below: 1.0, above: 1.0 };
}

/// Models saved before the two sides were chosen apart hold one share per day.
#[derive(Deserialize)]
#[serde(untagged)]
enum SpreadRepr {
    Symmetric(f64),
    Sided { below: f64, above: f64 },
}

impl From<SpreadRepr> for DailySpread {
    fn from(r: SpreadRepr) -> DailySpread {
        match r {
            SpreadRepr::Symmetric(k) => DailySpread { below: k, above: k },
            SpreadRepr::Sided { below, above } => DailySpread { below, above },
        }
    }
}

/// The fitted `daily-spread` stage: D+1..D+3's shares, applied to a model's daily outlook.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DailySpreads(pub [DailySpread; SKILFUL_DAYS]);

impl Default for DailySpreads {
    fn default() -> DailySpreads {
        DailySpreads([DailySpread::WHOLE; SKILFUL_DAYS])
    }
}

impl PostStage for DailySpreads {
    const STAGE: Option<Stage> = Some(Stage::DailySpread);
    type Target = [DailyOutlook];

    /// Each D+1..D+3 day keeps its lead day's shares of its half-widths (p10 stays at or above 0).
    fn apply(&self, days: &mut [DailyOutlook]) {
        for d in days.iter_mut().filter(|d| (1..=SKILFUL_DAYS).contains(&d.lead_day)) {
            let share = self.0[d.lead_day - 1];
            (d.p10, d.p90) = ((d.p50 - share.below * (d.p50 - d.p10)).max(0.0), d.p50 + share.above * (d.p90 - d.p50));
        }
    }
}

use crate::tuning::DAILY_SPREADS;

/// The shares of the hourly p10–p90 half-widths that a daily mean's interval keeps for D+1..D+3,
/// each side chosen so that held-out days of that lead fall beyond it 10 % of the time.
///
/// Averaging the hourly quantiles is exact only if the errors of a day's hours move together. They
/// do not quite, so such daily intervals are too wide; a spread from the within-day correlation
/// of residuals (normal approximation) comes out too narrow, since hourly errors are heavy-tailed
/// and a day's mean is not. So the share is chosen directly: held-out hours are grouped by
/// (issue, valid day), and for each side the share whose bound around a group's mean forecast
/// leaves its mean observation outside closest to 10 % of the time is kept. Groups hold the 4–9
/// training leads of a day, not 24 hours, so the choice errs wide. Each lead day has its own
/// shares (later days' errors are more of a shared, day-long miss), and the sides are chosen
/// apart because the central estimate is a mean, above the median of a right-skewed day. What
/// the stage is worth: `hazewarn evaluate --stages=-daily-spread` against `--stages all`.
pub(crate) fn daily_spreads(rows: &[HeldOutHour], bounds: impl Fn(usize, f64) -> (f64, f64)) -> DailySpreads {
    DailySpreads(std::array::from_fn(|k| daily_spread(&of_lead_day(rows, k + 1), &bounds)))
}

/// A held-out day's means: (observed, forecast, forecast − p10, p90 − forecast), p10 and p90
/// being the means of its hours'.
pub(crate) type DayMeans = [f64; 4];

/// The held-out hours grouped by (issue, valid day) into days of at least four hours.
/// `bounds(cell, pred)` is an hour's (p10, p90).
pub(crate) fn day_means(rows: &[&HeldOutHour], bounds: &impl Fn(usize, f64) -> (f64, f64)) -> Vec<DayMeans> {
    let mut groups: std::collections::HashMap<(usize, chrono::NaiveDate), [f64; 5]> = Default::default();
    for r in rows {
        let (lo, hi) = bounds(r.cell, r.pred);
        let g = groups.entry(r.day).or_default();
        let add = [1.0, r.obs, r.pred, lo, hi];
        for (g, a) in g.iter_mut().zip(add) {
            *g += a;
        }
    }
    groups
        .into_values()
        .filter(|g| g[0] >= 4.0)
        .map(|g| {
            let (o, m) = (g[1] / g[0], g[2] / g[0]);
            [o, m, m - g[3] / g[0], g[4] / g[0] - m]
        })
        .collect()
}

/// The held-out hours of one lead day (the issue's own day joins D+1, days past D+3 join D+3).
pub(crate) fn of_lead_day(rows: &[HeldOutHour], lead_day: usize) -> Vec<&HeldOutHour> {
    rows.iter().filter(|r| r.lead_day.clamp(1, SKILFUL_DAYS) == lead_day).collect()
}

/// `bounds(cell, pred)` is an hour's (p10, p90).
fn daily_spread(rows: &[&HeldOutHour], bounds: &impl Fn(usize, f64) -> (f64, f64)) -> DailySpread {
    let days = day_means(rows, bounds);
    if days.len() < 50 {
        return DailySpread::WHOLE;
    }
    let n = days.len() as f64;
    let side = |outside: &dyn Fn(f64) -> usize| {
        DAILY_SPREADS
            .into_iter()
            .min_by(|a, b| (outside(*a) as f64 / n - 0.1).abs().total_cmp(&(outside(*b) as f64 / n - 0.1).abs()))
            .unwrap_or(1.0)
    };
    DailySpread {
        below: side(&|k| days.iter().filter(|[o, m, below, _]| *o < m - k * below).count()),
        above: side(&|k| days.iter().filter(|[o, m, _, above]| *o > m + k * above).count()),
    }
}

/// The daily AQI of a day whose only pollutant is a PM2.5 mean (the edition by date); `None` for NaN.
pub fn pm25_daily_aqi(date: NaiveDate, pm: f64) -> Option<u32> {
    let c = DailyConcentrations { pm25: Some(pm.max(0.0)), ..Default::default() };
    (!pm.is_nan()).then(|| Standards::builtin().daily(date, &c).map(|r| r.aqi).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 200 held-out days of 6 hours at 100 µg/m³ with hourly p10–p90 of 35–165, each day off by a
    /// shared error `err(g)` for day g of 200.
    fn held_out_days(err: impl Fn(f64) -> f64) -> Vec<HeldOutHour> {
        let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (0..200)
            .flat_map(|g| {
                let e = err((g as f64 + 0.5) / 200.0);
                (0..6).map(move |_| HeldOutHour { day: (g, t), lead_day: 2, obs: 100.0 + e, pred: 100.0, cell: 0 })
            })
            .collect()
    }

    #[test]
    fn each_side_of_the_daily_spread_leaves_one_in_ten_held_out_days_outside() {
        let bounds = |_: usize, pred: f64| (pred - 65.0, pred + 65.0);
        // Errors spread evenly over ±65 (the hourly half-width): a share k of the half-width leaves
        // (1 − k)/2 of the days beyond each side, so 10 % needs k = 0.8 on both.
        let even = held_out_days(|u| 65.0 * (2.0 * u - 1.0));
        // The days are all D+2; D+1 and D+3 have none to choose from and keep the hourly widths.
        let w = DailySpread::WHOLE;
        assert_eq!(daily_spreads(&even, bounds).0, [w, DailySpread { below: 0.8, above: 0.8 }, w]);
        // A skewed day: errors spread evenly over −80..+30 (the forecast is a mean above the
        // median). 10 % of days lie below −69 (a share 1.06 of 65; the nearest, 1.05, leaves
        // 10.5 %) and above +19 (a share 0.29; the nearest, 0.3, leaves 9.5 %).
        let skewed = held_out_days(|u| -80.0 + 110.0 * u);
        assert_eq!(daily_spreads(&skewed, bounds).0[1], DailySpread { below: 1.05, above: 0.3 });
        // Too few days: 40 of them.
        let few: Vec<&HeldOutHour> = even[..6 * 40].iter().collect();
        assert_eq!(daily_spread(&few, &bounds), w);
    }

    #[test]
    fn a_model_saved_with_one_share_per_day_loads_with_both_sides_equal() {
        let old: [DailySpread; SKILFUL_DAYS] = serde_json::from_str("[0.5, 0.8, 1.0]").unwrap();
        assert_eq!(old[1], DailySpread { below: 0.8, above: 0.8 });
        let new = DailySpread { below: 1.1, above: 0.6 };
        assert_eq!(serde_json::from_str::<DailySpread>(&serde_json::to_string(&new).unwrap()).unwrap(), new);
    }

    #[test]
    fn daily_intervals_narrow_by_the_daily_spread_and_the_trend_spans_the_months_quantiles() {
        let issue = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap();
        let mut f = crate::tests::flat_forecast(issue);
        let (half, quarter) = (DailySpread { below: 0.5, above: 0.5 }, DailySpread { below: 1.5, above: 0.25 });
        // January: 50 µg/m³ at every hour; its daily means have p10/p50/p90 20/40/90.
        let clim = Climatology { mean: vec![[50.0; 24]; 12], daily_quantiles: vec![(20.0, 40.0, 90.0); 12] };
        let mut days = daily_outlook(&f, Series::Model, &clim);
        assert_eq!((days[0].p10, days[0].p90), (80.0, 120.0), "the hours' means before the stage");
        DailySpreads([half, half, quarter]).apply(&mut days[..]);
        // D+1..D+3 lie within 96 h: half, half, and for D+3 one and a half below and a quarter
        // above, of the hourly half-widths of 20.
        let within: Vec<_> = days[..3].iter().map(|d| (d.p10, d.p50, d.p90, d.trend)).collect();
        assert_eq!(within, [(90.0, 100.0, 110.0, false), (90.0, 100.0, 110.0, false), (70.0, 100.0, 105.0, false)]);
        // D+5..D+7 lie past 96 h: the month's mean with its p10 and p90 of daily means.
        for d in &days[4..] {
            assert_eq!((d.p10, d.p50, d.p90, d.trend), (20.0, 50.0, 90.0, true), "{d:?}");
        }
        // Baselines have no spread to narrow.
        assert!(daily_outlook(&f, Series::Persistence, &clim)[..3].iter().all(|d| d.p10 == d.p90));
        // A forecast whose level was corrected by 0.8 carries it into the model's trend, not a
        // baseline's: 20/50/90 become 16/40/72.
        f.applied.push(crate::pipeline::Applied { stage: Stage::LevelCorrection, value: 0.8 });
        for d in &daily_outlook(&f, Series::Model, &clim)[4..] {
            assert_eq!((d.p10, d.p50, d.p90), (16.0, 40.0, 72.0), "{d:?}");
        }
        for d in &daily_outlook(&f, Series::Climatology, &clim)[4..] {
            assert_eq!((d.p10, d.p50, d.p90), (20.0, 50.0, 90.0), "{d:?}");
        }
    }
}
