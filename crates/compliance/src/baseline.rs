//! The baseline of a measured quantity: for each hour of the day, the mean of that hour over the
//! days before the warning's start, leaving out days of earlier warnings (they were curtailed).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike};

/// One hourly value (mean power in kW, or an emission rate), at its hour's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub at: DateTime<FixedOffset>,
    pub value: f64,
}

/// The mean per hour of the day (0–23) and the days it was drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub hourly: [Option<f64>; 24],
    pub days: Vec<NaiveDate>,
}

impl Baseline {
    pub fn at(&self, t: DateTime<FixedOffset>) -> Option<f64> {
        self.hourly[t.hour() as usize]
    }
}

/// The baseline of `history` for a warning starting at `start`: the `days` calendar days before
/// the start's date (in the start's offset), skipping `excluded` ones without looking further
/// back, each hour of the day the mean of the readings it has there.
pub fn baseline(history: &[Reading], start: DateTime<FixedOffset>, excluded: &[NaiveDate], days: u32) -> Baseline {
    let first = start.date_naive() - Duration::days(i64::from(days));
    let used: Vec<NaiveDate> =
        (0..i64::from(days)).map(|k| first + Duration::days(k)).filter(|d| !excluded.contains(d)).collect();
    let mut sums = [(0.0, 0u32); 24];
    for r in history {
        let local = r.at.with_timezone(start.offset());
        if used.contains(&local.date_naive()) && r.value.is_finite() {
            let s = &mut sums[local.hour() as usize];
            s.0 += r.value;
            s.1 += 1;
        }
    }
    Baseline { hourly: sums.map(|(sum, n)| (n > 0).then(|| sum / f64::from(n))), days: used }
}
