//! Daily (日报) and real-time (实时报) AQI reports.

use chrono::NaiveDate;

use crate::AqiError;
use crate::table::{AqiLevel, AqiStandard, Indicator, Pollutant, Standards};

/// Daily values for the daily report (日报). µg/m³, CO in mg/m³. `None` = not measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DailyConcentrations {
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub pm10: Option<f64>,
    pub co: Option<f64>,
    /// Daily maximum of the 8 h sliding mean.
    pub o3_8h: Option<f64>,
    /// Daily maximum 1 h O3. Only used where the 8 h sub-index is not computed
    /// (HJ 633-2012 footnote 3); whether the daily report also counts it is [U].
    pub o3_1h: Option<f64>,
    pub pm25: Option<f64>,
}

/// Hourly values for the real-time report (实时报). µg/m³, CO in mg/m³.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HourlyConcentrations {
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub pm10: Option<f64>,
    pub co: Option<f64>,
    pub o3: Option<f64>,
    pub pm25: Option<f64>,
    /// 8 h sliding O3 mean ending this hour, when the report includes it.
    pub o3_8h: Option<f64>,
    /// 24 h SO2 mean: reports SO2 when the 1 h sub-index is not computed (HJ 633-2012 footnote 2).
    pub so2_24h: Option<f64>,
}

/// One pollutant's individual AQI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubIndex {
    pub indicator: Indicator,
    pub iaqi: u32,
}

/// An AQI with its level, primary pollutants and the edition of HJ 633 applied.
#[derive(Debug, Clone, PartialEq)]
pub struct AqiReport {
    pub aqi: u32,
    pub level: AqiLevel,
    /// Pollutants whose IAQI equals the AQI; empty when AQI ≤ 50.
    pub primary: Vec<Pollutant>,
    pub sub_indices: Vec<SubIndex>,
    /// `HJ 633-2012` or `HJ 633-2026`.
    pub standard: String,
}

impl Standards {
    /// The daily AQI (日报) of `date`, by the edition in force that day.
    pub fn daily(&self, date: NaiveDate, c: &DailyConcentrations) -> Result<AqiReport, AqiError> {
        let std = self.for_date(date);
        let mut subs = Vec::new();
        push(std, &mut subs, Indicator::So2_24h, c.so2)?;
        push(std, &mut subs, Indicator::No2_24h, c.no2)?;
        push(std, &mut subs, Indicator::Pm10_24h, c.pm10)?;
        push(std, &mut subs, Indicator::Co_24h, c.co)?;
        push(std, &mut subs, Indicator::Pm25_24h, c.pm25)?;
        let o3_8h = push(std, &mut subs, Indicator::O3_8h, c.o3_8h)?;
        if c.o3_8h.is_some() && !o3_8h {
            push(std, &mut subs, Indicator::O3_1h, c.o3_1h)?;
        }
        report(std, subs)
    }

    /// The real-time AQI (实时报) of an hour on `date`, by the edition in force that day.
    pub fn hourly(&self, date: NaiveDate, c: &HourlyConcentrations) -> Result<AqiReport, AqiError> {
        let std = self.for_date(date);
        let mut subs = Vec::new();
        let so2 = push(std, &mut subs, Indicator::So2_1h, c.so2)?;
        if c.so2.is_some() && !so2 {
            push(std, &mut subs, Indicator::So2_24h, c.so2_24h)?;
        }
        push(std, &mut subs, Indicator::No2_1h, c.no2)?;
        push(std, &mut subs, Indicator::Pm10_1h, c.pm10)?;
        push(std, &mut subs, Indicator::Co_1h, c.co)?;
        push(std, &mut subs, Indicator::O3_1h, c.o3)?;
        push(std, &mut subs, Indicator::O3_8h, c.o3_8h)?;
        push(std, &mut subs, Indicator::Pm25_1h, c.pm25)?;
        report(std, subs)
    }
}

/// Adds a sub-index when the value is given and computable; says whether it was added.
fn push(
    std: &AqiStandard,
    subs: &mut Vec<SubIndex>,
    indicator: Indicator,
    value: Option<f64>,
) -> Result<bool, AqiError> {
    let Some(v) = value else { return Ok(false) };
    match std.iaqi(indicator, v)? {
        Some(iaqi) => {
            subs.push(SubIndex { indicator, iaqi });
            Ok(true)
        }
        None => Ok(false),
    }
}

fn report(std: &AqiStandard, subs: Vec<SubIndex>) -> Result<AqiReport, AqiError> {
    let aqi = subs.iter().map(|s| s.iaqi).max().ok_or(AqiError::NoPollutant)?;
    let mut primary: Vec<Pollutant> = if aqi > 50 {
        subs.iter().filter(|s| s.iaqi == aqi).map(|s| s.indicator.pollutant()).collect()
    } else {
        Vec::new()
    };
    primary.sort();
    primary.dedup();
    Ok(AqiReport { aqi, level: std.level(aqi).clone(), primary, sub_indices: subs, standard: std.id().to_owned() })
}
