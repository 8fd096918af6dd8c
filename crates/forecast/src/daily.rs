//! Daily outlook: mean PM2.5 and its AQI for calendar days D+1..D+7 from an hourly forecast.
//! A day's interval narrows the mean of its hourly intervals by the forecast's daily spread
//! (errors within a day are not perfectly correlated). Hours past 96 h are the trend:
//! climatology, with the month's p10 and p90 of daily means as the range.

use chrono::{Datelike, Duration, NaiveDate};
use hazewarn_aqi::{DailyConcentrations, Standards};

use crate::{Climatology, Forecast, MAX_LEAD};

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

/// Daily (p10, p50, p90) means of one series for D+1..D+7 in the forecast's local calendar.
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
                    let (a, b, c) = series.at(f, lead as usize);
                    let share = f.daily_spread[(k as usize).min(SKILFUL_DAYS) - 1];
                    (b - share * (b - a), b, b + share * (c - b))
                } else {
                    // The hour's climatology scaled so that the day's range is the month's p10–p90
                    // of daily means (scaling by their median instead put p10 above the month's).
                    let m = clim.at(tv);
                    let month = tv.month0() as usize;
                    let month_mean = clim.mean[month].iter().sum::<f64>() / 24.0;
                    let (q10, _, q90) = clim.daily_quantiles[month];
                    (m * q10 / month_mean.max(1.0), m, m * q90 / month_mean.max(1.0))
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

/// The daily AQI of a day whose only pollutant is a PM2.5 mean (the edition by date); `None` for NaN.
pub fn pm25_daily_aqi(date: NaiveDate, pm: f64) -> Option<u32> {
    let c = DailyConcentrations { pm25: Some(pm.max(0.0)), ..Default::default() };
    (!pm.is_nan()).then(|| Standards::builtin().daily(date, &c).map(|r| r.aqi).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LeadForecast;

    #[test]
    fn daily_intervals_narrow_by_the_daily_spread_and_the_trend_spans_the_months_quantiles() {
        let issue = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap();
        let leads = (1..=MAX_LEAD)
            .map(|lead| LeadForecast {
                lead,
                valid: issue + Duration::hours(lead as i64),
                p10: 80.0,
                p50: 100.0,
                p90: 120.0,
                persistence: 0.0,
                climatology: 0.0,
                damped: 0.0,
            })
            .collect();
        let f = Forecast { issue, leads, daily_spread: [0.5, 0.5, 0.25] };
        // January: 50 µg/m³ at every hour; its daily means have p10/p50/p90 20/40/90.
        let clim = Climatology { mean: vec![[50.0; 24]; 12], daily_quantiles: vec![(20.0, 40.0, 90.0); 12] };
        let days = daily_outlook(&f, Series::Model, &clim);
        // D+1..D+3 lie within 96 h: half, half and a quarter of the hourly half-widths of 20.
        let within: Vec<_> = days[..3].iter().map(|d| (d.p10, d.p50, d.p90, d.trend)).collect();
        assert_eq!(within, [(90.0, 100.0, 110.0, false), (90.0, 100.0, 110.0, false), (95.0, 100.0, 105.0, false)]);
        // D+5..D+7 lie past 96 h: the month's mean with its p10 and p90 of daily means.
        for d in &days[4..] {
            assert_eq!((d.p10, d.p50, d.p90, d.trend), (20.0, 50.0, 90.0, true), "{d:?}");
        }
        // Baselines have no spread to narrow.
        assert!(daily_outlook(&f, Series::Persistence, &clim)[..3].iter().all(|d| d.p10 == d.p90));
    }
}
