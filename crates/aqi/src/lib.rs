/*!
Air Quality Index (AQI) as China's HJ 633 defines it, for both the 2012 and the
2026 edition of the standard.

The principal type is [`AqiStandard`]: one edition's breakpoint table, footnote
rules and level table, loaded from versioned TOML data shipped with this crate
(`tables/hj633-2012.toml`, `tables/hj633-2026.toml`). [`Standards`] holds the
editions and picks the one in force on a date ([`Standards::for_date`]), so
HJ 633-2012 applies before 2026-03-01 and HJ 633-2026 from that day.

A report is computed from concentrations:

* [`DailyConcentrations`] → [`Standards::daily`] → [`AqiReport`] (日报: 24 h
  means, O3 as its daily maximum 8 h mean);
* [`HourlyConcentrations`] → [`Standards::hourly`] → [`AqiReport`] (实时报: 1 h
  means, with the 1 h tables for SO2, NO2, CO and O3).

An [`AqiReport`] carries the AQI, every sub-index (IAQI), the [`AqiLevel`]
(一级…六级 with category and colour), the primary pollutants (only when AQI > 50,
all of them on a tie) and the edition applied.

This crate does no IO and reads no clock: the date is always passed in.

```
use chrono::NaiveDate;
use hazewarn_aqi::{DailyConcentrations, Pollutant, Standards};

let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
let c = DailyConcentrations { pm25: Some(75.0), pm10: Some(100.0), ..Default::default() };
let report = Standards::builtin().daily(day, &c).unwrap();
// Under HJ 633-2026, 75 µg/m³ of PM2.5 lies between 60 (IAQI 100) and 115 (IAQI 150).
assert_eq!(report.aqi, 114);
assert_eq!(report.primary, vec![Pollutant::Pm25]);
assert_eq!(report.standard, "HJ 633-2026");
```
*/

mod report;
mod table;

pub use report::{AqiReport, DailyConcentrations, HourlyConcentrations, SubIndex};
pub use table::{AboveTop, AqiLevel, AqiStandard, Indicator, Pollutant, Standards};

/// Everything that can go wrong when loading tables or computing an AQI.
#[derive(Debug, thiserror::Error)]
pub enum AqiError {
    #[error("AQI table {source_name}: {message}")]
    Table { source_name: String, message: String },
    #[error("{indicator}: concentration {value} is not a finite non-negative number")]
    InvalidConcentration { indicator: &'static str, value: f64 },
    #[error("no pollutant concentration given, so no AQI can be computed")]
    NoPollutant,
    #[error("no AQI standard is defined for {0}")]
    NoStandard(chrono::NaiveDate),
}

#[cfg(test)]
mod tests;
