//! The daily level product a forecaster publishes for D+1..D+3: the AQI range, the probability of
//! each AQI level (HJ 633's six), the most probable level and the primary pollutant.
//!
//! A day's forecast distribution is its p10–p90 interval stretched by the shape of held-out
//! errors: at fit time each held-out day's error is measured in units of its own interval's
//! half-width on that side (`z` = −1 at p10, +1 at p90), and the percentiles of those `z` per lead
//! day are kept ([`ErrorShape`]). A new day's distribution is then `p50 + z·half-width`, so the
//! recent widening of the interval and the level correction carry into it, and the tails beyond
//! p10 and p90 are the ones held-out days showed, not a normal curve's.
//!
//! The published level is the one with the highest probability (with the `level-product` stage
//! on, [`crate::stages`]). It is not the level of p50: p50 is the mean of a right-skewed
//! distribution, and near a level boundary the mean's level is a coin toss that leans high.

use chrono::NaiveDate;
use hazewarn_aqi::Standards;
use serde::{Deserialize, Serialize};

use crate::daily::{DailyOutlook, DailySpreads, DayMeans, HeldOutHour, SKILFUL_DAYS, day_means, of_lead_day};
use crate::pipeline::PostStage;
use crate::stages::Stage;

/// HJ 633's levels: 一级 (优) … 六级 (严重污染).
pub const LEVELS: usize = 6;
use crate::tuning::{ERROR_PERCENTILES as PERCENTILES, MIN_SHAPE_DAYS as MIN_DAYS};

/// The percentiles of held-out daily errors in units of the interval's half-width on their side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorShape {
    /// Sorted; [`PERCENTILES`] values.
    pub z: Vec<f64>,
    /// Held-out days behind it (0 = the default shape).
    pub days: usize,
}

impl Default for ErrorShape {
    /// Too few held-out days: a logistic curve with p10 and p90 at ±1 (close to a normal one,
    /// with somewhat heavier tails, and in closed form).
    fn default() -> ErrorShape {
        let z = (1..=PERCENTILES)
            .map(|k| {
                let q = k as f64 / (PERCENTILES + 1) as f64;
                (q / (1.0 - q)).ln() / 9f64.ln()
            })
            .collect();
        ErrorShape { z, days: 0 }
    }
}

impl ErrorShape {
    /// From held-out days' (observed, forecast, forecast − p10, p90 − forecast) means.
    pub(crate) fn fit(days: &[DayMeans]) -> ErrorShape {
        let mut z: Vec<f64> = days
            .iter()
            .filter_map(|&[o, m, below, above]| {
                let side = if o < m { below } else { above };
                (side > 0.0).then(|| (o - m) / side)
            })
            .collect();
        if z.len() < MIN_DAYS {
            return ErrorShape::default();
        }
        z.sort_by(f64::total_cmp);
        let at = |q: f64| z[((z.len() - 1) as f64 * q).round() as usize];
        let kept = (1..=PERCENTILES).map(|k| at(k as f64 / (PERCENTILES + 1) as f64)).collect();
        ErrorShape { z: kept, days: z.len() }
    }
}

/// The shapes of D+1..D+3 from held-out hours, whose hourly (p10, p90) is `bounds(cell, pred)`,
/// each day's interval narrowed by its lead day's daily spread as a forecast's is.
pub(crate) fn fit_shapes(
    rows: &[HeldOutHour],
    bounds: impl Fn(usize, f64) -> (f64, f64),
    spreads: &DailySpreads,
) -> [ErrorShape; SKILFUL_DAYS] {
    std::array::from_fn(|k| {
        let s = spreads.0[k];
        let days: Vec<DayMeans> = day_means(&of_lead_day(rows, k + 1), &bounds)
            .into_iter()
            .map(|[o, m, below, above]| [o, m, s.below * below, s.above * above])
            .collect();
        ErrorShape::fit(&days)
    })
}

/// One day of the level product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyLevel {
    pub date: NaiveDate,
    pub lead_day: usize,
    pub aqi_p10: u32,
    pub aqi_p50: u32,
    pub aqi_p90: u32,
    /// P(level 1) … P(level 6); they sum to 1.
    pub probabilities: [f64; LEVELS],
    /// The published level, 1..=6: p50's, or the most probable one with the `level-product`
    /// stage ([`LevelProduct`]).
    pub level: u8,
    /// What decides the AQI where it exceeds 50; the forecaster knows PM2.5 only, so that is
    /// what it names (HJ 633 names none at or below 50).
    pub primary: Option<String>,
}

impl DailyLevel {
    /// The most probable level, 1..=6; of two equally likely levels, the lower.
    pub fn most_probable(&self) -> u8 {
        let p = &self.probabilities;
        (0..LEVELS).fold(0, |best, k| if p[k] > p[best] + 1e-12 { k } else { best }) as u8 + 1
    }

    /// P(AQI level ≥ `level`), e.g. 5 for AQI above 200.
    pub fn at_least(&self, level: u8) -> f64 {
        self.probabilities.iter().skip(usize::from(level.max(1)) - 1).sum()
    }
}

/// The level of a day's AQI, by the edition in force that day.
pub fn aqi_level(date: NaiveDate, aqi: u32) -> u8 {
    Standards::builtin().for_date(date).level(aqi).level
}

/// The AQI level of a day whose only pollutant is a PM2.5 mean, by the edition in force that day.
pub fn pm25_level(date: NaiveDate, pm: f64) -> u8 {
    aqi_level(date, crate::pm25_daily_aqi(date, pm).unwrap_or(0))
}

/// The level product of one day of the outlook under `shape`.
pub fn daily_level(day: &DailyOutlook, shape: &ErrorShape) -> DailyLevel {
    let mut probabilities = [0.0; LEVELS];
    let n = shape.z.len().max(1) as f64;
    for z in &shape.z {
        let pm = if *z < 0.0 { day.p50 + z * (day.p50 - day.p10) } else { day.p50 + z * (day.p90 - day.p50) };
        let level = pm25_level(day.date, pm.max(0.0));
        probabilities[usize::from(level.clamp(1, LEVELS as u8)) - 1] += 1.0 / n;
    }
    let aqi = |pm: f64| crate::pm25_daily_aqi(day.date, pm).unwrap_or(0);
    let aqi_p50 = aqi(day.p50);
    DailyLevel {
        date: day.date,
        lead_day: day.lead_day,
        aqi_p10: aqi(day.p10),
        aqi_p50,
        aqi_p90: aqi(day.p90),
        probabilities,
        level: aqi_level(day.date, aqi_p50),
        primary: (aqi_p50 > 50).then(|| "PM2.5".to_owned()),
    }
}

/// The `level-product` stage: each day publishes its most probable level, not p50's.
pub struct LevelProduct;

impl PostStage for LevelProduct {
    const STAGE: Option<Stage> = Some(Stage::LevelProduct);
    type Target = [DailyLevel];

    fn apply(&self, days: &mut [DailyLevel]) {
        for d in days {
            d.level = d.most_probable();
        }
    }
}

/// The level product of D+1..D+3 of an outlook, each day under its lead day's shape, publishing
/// p50's level until [`LevelProduct`] is applied.
pub fn daily_levels(days: &[DailyOutlook], shapes: &[ErrorShape; SKILFUL_DAYS]) -> Vec<DailyLevel> {
    days.iter().filter(|d| !d.trend).map(|d| daily_level(d, &shapes[d.lead_day.clamp(1, SKILFUL_DAYS) - 1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(p10: f64, p50: f64, p90: f64) -> DailyOutlook {
        let date = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        DailyOutlook { date, lead_day: 1, p10, p50, p90, trend: false }
    }

    #[test]
    fn the_default_shape_puts_p10_and_p90_at_one_half_width() {
        let s = ErrorShape::default();
        assert_eq!(s.z.len(), 99);
        // The 10th and 90th of 99 percentiles are q = 0.10 and 0.90: ln(9)/ln(9) = ±1.
        assert!((s.z[9] + 1.0).abs() < 1e-12 && (s.z[89] - 1.0).abs() < 1e-12);
        assert!(s.z[49].abs() < 1e-12);
        assert!(s.z.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn probabilities_count_the_shape_in_each_level_and_the_mode_is_published() {
        // Held-out days err evenly from −1 to +1 half-width: z is uniform on [−1, 1].
        let days: Vec<DayMeans> =
            (0..1000).map(|k| [60.0 + (k as f64 - 499.5) / 499.5 * 20.0, 60.0, 20.0, 20.0]).collect();
        let s = ErrorShape::fit(&days);
        assert_eq!(s.days, 1000);
        assert!((s.z[0] + 0.98).abs() < 0.01 && (s.z[98] - 0.98).abs() < 0.01, "{:?}", &s.z[..3]);
        // p50 = 70 with ±20 on each side: PM2.5 spans 50–90 evenly. HJ 633 truncates PM2.5 to
        // whole µg/m³, so 75.9 reads 75 (AQI 100, level 2's top) and 76 is level 3: level 2 holds
        // (76 − 50)/40 = 65 % of it (within a percentile) and level 3 the rest.
        let l = daily_level(&day(50.0, 70.0, 90.0), &s);
        assert!((l.probabilities[1] - 0.65).abs() <= 0.011, "{:?}", l.probabilities);
        assert!((l.probabilities[1] + l.probabilities[2] - 1.0).abs() < 1e-9);
        // p50 = 70: AQI 50 + (70 − 35)·50/40 = 93.75, rounded up to 94.
        assert_eq!((l.level, l.aqi_p50, l.primary.as_deref()), (2, 94, Some("PM2.5")));
        assert!((l.at_least(3) - l.probabilities[2]).abs() < 1e-12);
        // A right-skewed day whose mean lies just above 75: its p50's level is 3, but most of
        // its mass (below p50 to 55) is level 2, so the stage publishes level 2.
        let mut l = [daily_level(&day(55.0, 78.0, 160.0), &s)];
        assert_eq!((crate::level::pm25_level(l[0].date, 78.0), l[0].level), (3, 3));
        LevelProduct.apply(&mut l[..]);
        assert_eq!(l[0].level, 2, "{:?}", l[0].probabilities);
        // A clean day: AQI at most 50 names no primary pollutant.
        let l = daily_level(&day(10.0, 20.0, 30.0), &s);
        assert_eq!((l.level, l.primary), (1, None));
        assert!((l.probabilities[0] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn too_few_held_out_days_keep_the_default_shape() {
        let days: Vec<DayMeans> = (0..49).map(|_| [80.0, 60.0, 20.0, 20.0]).collect();
        assert_eq!(ErrorShape::fit(&days), ErrorShape::default());
    }
}
