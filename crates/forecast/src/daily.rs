//! Daily outlook: mean PM2.5 and its AQI for calendar days D+1..D+7 from an hourly forecast.
//! Hours past 96 h are the trend: climatology, with the month's spread of daily means as the range.

use chrono::{Duration, NaiveDate};
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
                    series.at(f, lead as usize)
                } else {
                    let m = clim.at(tv);
                    let month = tv.date().format("%m").to_string().parse::<usize>().unwrap_or(1);
                    let (q10, q50, q90) = clim.daily_quantiles[month - 1];
                    (m * q10 / q50.max(1.0), m, m * q90 / q50.max(1.0))
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
