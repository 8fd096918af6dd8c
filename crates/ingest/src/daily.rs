//! Daily concentrations from an hourly series, with the GB 3095 data-validity rules.

use chrono::{NaiveDate, Timelike};
use hazewarn_aqi::DailyConcentrations;

use crate::table::{StationSeries, Variable};

/// Hours a 24 h mean needs (GB 3095-2012 §8.2: at least 20 hourly values a day).
pub const MIN_HOURS_PER_DAY: usize = 20;
/// Hours an 8 h O3 mean needs (at least 6 of 8).
pub const MIN_HOURS_PER_8H: usize = 6;
/// Valid 8 h means the daily maximum needs (at least 14 a day).
pub const MIN_8H_MEANS_PER_DAY: usize = 14;

/// One natural day (Asia/Shanghai) of a station's daily report inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyRecord {
    pub date: NaiveDate,
    /// Hours with a usable PM2.5 value.
    pub pm25_hours: usize,
    pub concentrations: DailyConcentrations,
}

/// Daily means of every natural day in the series. A pollutant whose day is not valid is `None`.
/// Flagged cells that are unusable (missing, gap, out of range) do not count.
pub fn daily_records(series: &StationSeries) -> Vec<DailyRecord> {
    let usable = |v| series.usable(v);
    let cols: Vec<(Variable, Option<Vec<f64>>)> =
        [Variable::Pm25, Variable::Pm10, Variable::So2, Variable::No2, Variable::Co, Variable::O3]
            .into_iter()
            .map(|v| (v, usable(v)))
            .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < series.len() {
        let date = series.times[i].date();
        let mut j = i;
        while j < series.len() && series.times[j].date() == date {
            j += 1;
        }
        let mean = |v: Variable| -> Option<f64> {
            let vals = cols.iter().find(|(c, _)| *c == v)?.1.as_ref()?;
            let day: Vec<f64> = vals[i..j].iter().copied().filter(|x| !x.is_nan()).collect();
            (day.len() >= MIN_HOURS_PER_DAY).then(|| day.iter().sum::<f64>() / day.len() as f64)
        };
        let o3 = cols.iter().find(|(c, _)| *c == Variable::O3).and_then(|(_, v)| v.as_ref());
        let pm25_hours = cols[0].1.as_ref().map_or(0, |v| v[i..j].iter().filter(|x| !x.is_nan()).count());
        out.push(DailyRecord {
            date,
            pm25_hours,
            concentrations: DailyConcentrations {
                so2: mean(Variable::So2),
                no2: mean(Variable::No2),
                pm10: mean(Variable::Pm10),
                co: mean(Variable::Co),
                o3_8h: o3.and_then(|v| o3_8h_max(series, v, i, j)),
                o3_1h: o3.and_then(|v| v[i..j].iter().copied().filter(|x| !x.is_nan()).reduce(f64::max)),
                pm25: mean(Variable::Pm25),
            },
        });
        i = j;
    }
    out
}

/// The day's maximum 8 h sliding mean, over windows that lie within the natural day
/// (ending 07:00 … 23:00), as the daily report uses.
fn o3_8h_max(series: &StationSeries, o3: &[f64], i: usize, j: usize) -> Option<f64> {
    let mut means = Vec::new();
    for end in i..j {
        if series.times[end].hour() < 7 || end < 7 {
            continue;
        }
        let w: Vec<f64> = o3[end - 7..=end].iter().copied().filter(|x| !x.is_nan()).collect();
        if w.len() >= MIN_HOURS_PER_8H {
            means.push(w.iter().sum::<f64>() / w.len() as f64);
        }
    }
    (means.len() >= MIN_8H_MEANS_PER_DAY).then(|| means.into_iter().fold(f64::MIN, f64::max))
}
