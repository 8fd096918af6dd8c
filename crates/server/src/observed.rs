//! The city's latest observed hour for the public: its real-time AQI (HJ 633 实时报) computed
//! from the city series the cycle last wrote (`city.parquet`), the same series the forecast,
//! the grading and verification use. Read again only when the file changes.

use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use chrono::{NaiveDateTime, Timelike};
use hazewarn_aqi::{HourlyConcentrations, Standards};
use hazewarn_ingest::{Layout, StationSeries, Variable};
use serde::Serialize;

/// The latest hour with a valid PM2.5, as the real-time report gives it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ObservedHour {
    /// Local time (Asia/Shanghai) the hour is labelled with.
    #[schema(value_type = String)]
    pub time: NaiveDateTime,
    pub aqi: u32,
    pub category: String,
    pub category_en: String,
    pub colour: String,
    /// Primary pollutants (首要污染物); empty when the AQI is 50 or less.
    pub primary: Vec<String>,
    /// PM2.5 of the hour, µg/m³.
    pub pm25: f64,
}

/// The real-time AQI of the last hour of `series`, at or before `until` (the city's clock, Beijing
/// time), that has a valid PM2.5. A city on a demonstration clock has data past its clock: an
/// hour that has not happened yet is not observed.
pub fn latest_hour(series: &StationSeries, until: NaiveDateTime) -> Option<ObservedHour> {
    let pm25 = series.usable(Variable::Pm25)?;
    let k = (0..pm25.len()).rev().find(|&k| series.times[k] <= until && pm25[k].is_finite())?;
    let at = |v: Variable| series.usable(v).map(|x| x[k]).filter(|x| x.is_finite());
    let c = HourlyConcentrations {
        so2: at(Variable::So2),
        no2: at(Variable::No2),
        pm10: at(Variable::Pm10),
        co: at(Variable::Co),
        o3: at(Variable::O3),
        pm25: Some(pm25[k]),
        o3_8h: None,
        so2_24h: None,
    };
    let time = series.times[k];
    let r = Standards::builtin().hourly(time.date(), &c).ok()?;
    Some(ObservedHour {
        time,
        aqi: r.aqi,
        category: r.level.category.clone(),
        category_en: r.level.category_en.clone(),
        colour: r.level.rgb.clone(),
        primary: r.primary.iter().map(|p| p.label().to_owned()).collect(),
        pm25: pm25[k],
    })
}

/// The latest observed hour, cached by the file's modification time and the clock's hour.
#[derive(Default)]
pub struct ObservedCache(Mutex<Option<(SystemTime, NaiveDateTime, Option<ObservedHour>)>>);

impl ObservedCache {
    pub fn latest(&self, path: &Path, now: NaiveDateTime) -> Option<ObservedHour> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        let hour_now = now.date().and_hms_opt(now.hour(), 0, 0)?;
        let mut cached = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((when, at, hour)) = cached.as_ref()
            && *when == modified
            && *at == hour_now
        {
            return hour.clone();
        }
        let series = hazewarn_ingest::read_station(path, Some(Layout::Parquet), None).ok();
        let hour = series.and_then(|s| latest_hour(&s, now));
        *cached = Some((modified, hour_now, hour.clone()));
        hour
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use hazewarn_ingest::{Column, QcFlags};

    #[test]
    fn the_latest_valid_hour_is_reported_by_hj_633() {
        let t0 = NaiveDate::from_ymd_opt(2026, 1, 3).unwrap().and_hms_opt(6, 0, 0).unwrap();
        let col = |variable, values: Vec<f64>| Column {
            variable,
            flags: values.iter().map(|v| if v.is_nan() { QcFlags::MISSING } else { QcFlags::default() }).collect(),
            values,
        };
        let series = StationSeries {
            station: "LH".into(),
            times: (0..3).map(|k| t0 + chrono::Duration::hours(k)).collect(),
            // The last hour has no PM2.5, so 07:00 is the latest observed hour.
            columns: vec![
                col(Variable::Pm25, vec![100.0, 160.0, f64::NAN]),
                col(Variable::No2, vec![40.0, 40.0, 40.0]),
            ],
        };
        let h = latest_hour(&series, t0 + chrono::Duration::hours(5)).unwrap();
        assert_eq!(h.time, t0 + chrono::Duration::hours(1));
        // On a clock that stands at 06:30, 07:00 has not been observed yet.
        let early = latest_hour(&series, t0 + chrono::Duration::minutes(30)).unwrap();
        assert_eq!(early.time, t0);
        assert_eq!(latest_hour(&series, t0 - chrono::Duration::hours(1)), None);
        // HJ 633-2012 (in force until 2026-03-01; 150 and 250 are the same in 2026): PM2.5 1 h
        // 160 µg/m³ lies in 150–250 → IAQI 200–300: 200 + (160 − 150) × 100 / 100 = 210, 重度污染;
        // NO2 1 h 40 µg/m³ is far lower.
        assert_eq!((h.aqi, h.category.as_str()), (210, "重度污染"));
        assert_eq!(h.primary, ["PM2.5"]);
    }
}
