//! One edition of HJ 633 as data: breakpoints, footnote rules and levels.

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::AqiError;

/// The six pollutants of GB 3095.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pollutant {
    So2,
    No2,
    Pm10,
    Co,
    O3,
    Pm25,
}

impl Pollutant {
    /// The name used in Chinese reports, e.g. `PM2.5`, `O3`.
    pub fn label(self) -> &'static str {
        match self {
            Pollutant::So2 => "SO2",
            Pollutant::No2 => "NO2",
            Pollutant::Pm10 => "PM10",
            Pollutant::Co => "CO",
            Pollutant::O3 => "O3",
            Pollutant::Pm25 => "PM2.5",
        }
    }
}

/// A pollutant with its averaging period: one row of HJ 633 Table 1.
// The names mirror the rows of the standard (`CO_24h`), so they keep its underscore.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Indicator {
    So2_24h,
    So2_1h,
    No2_24h,
    No2_1h,
    Pm10_24h,
    Pm10_1h,
    Co_24h,
    Co_1h,
    O3_1h,
    O3_8h,
    Pm25_24h,
    Pm25_1h,
}

impl Indicator {
    pub const ALL: [Indicator; 12] = [
        Indicator::So2_24h,
        Indicator::So2_1h,
        Indicator::No2_24h,
        Indicator::No2_1h,
        Indicator::Pm10_24h,
        Indicator::Pm10_1h,
        Indicator::Co_24h,
        Indicator::Co_1h,
        Indicator::O3_1h,
        Indicator::O3_8h,
        Indicator::Pm25_24h,
        Indicator::Pm25_1h,
    ];

    /// The key used in the TOML tables, e.g. `pm25_24h`.
    pub fn key(self) -> &'static str {
        match self {
            Indicator::So2_24h => "so2_24h",
            Indicator::So2_1h => "so2_1h",
            Indicator::No2_24h => "no2_24h",
            Indicator::No2_1h => "no2_1h",
            Indicator::Pm10_24h => "pm10_24h",
            Indicator::Pm10_1h => "pm10_1h",
            Indicator::Co_24h => "co_24h",
            Indicator::Co_1h => "co_1h",
            Indicator::O3_1h => "o3_1h",
            Indicator::O3_8h => "o3_8h",
            Indicator::Pm25_24h => "pm25_24h",
            Indicator::Pm25_1h => "pm25_1h",
        }
    }

    pub fn pollutant(self) -> Pollutant {
        match self {
            Indicator::So2_24h | Indicator::So2_1h => Pollutant::So2,
            Indicator::No2_24h | Indicator::No2_1h => Pollutant::No2,
            Indicator::Pm10_24h | Indicator::Pm10_1h => Pollutant::Pm10,
            Indicator::Co_24h | Indicator::Co_1h => Pollutant::Co,
            Indicator::O3_1h | Indicator::O3_8h => Pollutant::O3,
            Indicator::Pm25_24h | Indicator::Pm25_1h => Pollutant::Pm25,
        }
    }

    fn from_key(key: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.key() == key)
    }
}

/// What the standard says for a concentration above an indicator's top breakpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AboveTop {
    /// A fixed sub-index, e.g. HJ 633-2026 gives O3 8 h above 800 an IAQI of 300.
    Fixed { iaqi: u32 },
    /// A footnote rule, spelled `"not-computed"` or `"cap"` in the tables.
    Rule(AboveTopRule),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AboveTopRule {
    /// The sub-index is not computed; another indicator reports the pollutant.
    NotComputed,
    /// The sub-index is the top of the scale (500).
    Cap,
}

/// One row of HJ 633 Table 2.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AqiLevel {
    /// 1 (一级) … 6 (六级).
    pub level: u8,
    /// The highest AQI of this level (inclusive).
    pub max_aqi: u32,
    /// 一级 … 六级.
    pub name: String,
    /// 优 … 严重污染.
    pub category: String,
    pub category_en: String,
    /// 绿色 … 褐红色.
    pub colour: String,
    /// The official colour as `#RRGGBB`.
    pub rgb: String,
    pub health_effect: String,
    pub advice: String,
    /// The advice in English (the project's rendering; HJ 633 gives only the Chinese).
    pub advice_en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandard {
    id: String,
    effective_from: NaiveDate,
    iaqi: Vec<u32>,
    decimals: RawDecimals,
    indicator: Vec<RawIndicator>,
    level: Vec<AqiLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecimals {
    co: u32,
    default: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    key: String,
    breakpoints: Vec<f64>,
    above_top: Option<AboveTop>,
}

#[derive(Debug, Clone)]
struct IndicatorTable {
    breakpoints: Vec<f64>,
    above_top: AboveTop,
}

/// One edition of HJ 633, validated on load.
#[derive(Debug, Clone)]
pub struct AqiStandard {
    id: String,
    effective_from: NaiveDate,
    iaqi: Vec<u32>,
    decimals_co: u32,
    decimals_default: u32,
    tables: Vec<(Indicator, IndicatorTable)>,
    levels: Vec<AqiLevel>,
}

impl AqiStandard {
    /// Parse and validate an edition from its TOML text. `source_name` names it in errors.
    pub fn from_toml(source_name: &str, text: &str) -> Result<AqiStandard, AqiError> {
        let err = |message: String| AqiError::Table { source_name: source_name.to_owned(), message };
        let raw: RawStandard = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if raw.iaqi.first() != Some(&0) || !raw.iaqi.windows(2).all(|w| w[0] < w[1]) {
            return Err(err("`iaqi` must start at 0 and rise strictly".into()));
        }
        let mut tables = Vec::new();
        for ind in raw.indicator {
            let key = Indicator::from_key(&ind.key).ok_or_else(|| err(format!("unknown indicator `{}`", ind.key)))?;
            let bp = &ind.breakpoints;
            if bp.len() < 2 || bp.len() > raw.iaqi.len() || bp[0] != 0.0 {
                return Err(err(format!(
                    "`{}`: breakpoints must start at 0 and have 2..={} entries",
                    ind.key,
                    raw.iaqi.len()
                )));
            }
            if !bp.windows(2).all(|w| w[0] < w[1]) {
                return Err(err(format!("`{}`: breakpoints must rise strictly", ind.key)));
            }
            if tables.iter().any(|(k, _)| *k == key) {
                return Err(err(format!("`{}` is defined twice", ind.key)));
            }
            let above_top = ind.above_top.unwrap_or(AboveTop::Rule(AboveTopRule::Cap));
            tables.push((key, IndicatorTable { breakpoints: bp.clone(), above_top }));
        }
        for ind in Indicator::ALL {
            if !tables.iter().any(|(k, _)| *k == ind) {
                return Err(err(format!("indicator `{}` is missing", ind.key())));
            }
        }
        let levels = raw.level;
        let ordered = levels.iter().enumerate().all(|(i, l)| usize::from(l.level) == i + 1)
            && levels.windows(2).all(|w| w[0].max_aqi < w[1].max_aqi);
        if levels.is_empty() || !ordered || levels.last().map(|l| l.max_aqi) != raw.iaqi.last().copied() {
            return Err(err(
                "levels must be numbered 1.. with rising `max_aqi`, the last at the top of the scale".into()
            ));
        }
        Ok(AqiStandard {
            id: raw.id,
            effective_from: raw.effective_from,
            iaqi: raw.iaqi,
            decimals_co: raw.decimals.co,
            decimals_default: raw.decimals.default,
            tables,
            levels,
        })
    }

    /// The edition's name, e.g. `HJ 633-2026`.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn effective_from(&self) -> NaiveDate {
        self.effective_from
    }

    /// The breakpoints of one indicator, in its unit (µg/m³, CO in mg/m³).
    pub fn breakpoints(&self, indicator: Indicator) -> &[f64] {
        &self.table(indicator).breakpoints
    }

    /// The IAQI values at the breakpoints (0, 50, … 500).
    pub fn iaqi_scale(&self) -> &[u32] {
        &self.iaqi
    }

    fn table(&self, indicator: Indicator) -> &IndicatorTable {
        // Every indicator is present: `from_toml` checks it.
        &self.tables.iter().find(|(k, _)| *k == indicator).expect("validated table").1
    }

    /// The individual AQI (IAQI) of one concentration, rounded up to an integer.
    /// `Ok(None)` means the standard says this sub-index is not computed.
    pub fn iaqi(&self, indicator: Indicator, concentration: f64) -> Result<Option<u32>, AqiError> {
        if !concentration.is_finite() || concentration < 0.0 {
            return Err(AqiError::InvalidConcentration { indicator: indicator.key(), value: concentration });
        }
        let decimals = if indicator.pollutant() == Pollutant::Co { self.decimals_co } else { self.decimals_default };
        let c = truncate(concentration, decimals);
        let table = self.table(indicator);
        let bp = &table.breakpoints;
        let top = bp[bp.len() - 1];
        if c > top {
            return Ok(match table.above_top {
                AboveTop::Fixed { iaqi } => Some(iaqi),
                AboveTop::Rule(AboveTopRule::NotComputed) => None,
                AboveTop::Rule(AboveTopRule::Cap) => Some(*self.iaqi.last().expect("validated scale")),
            });
        }
        let k = bp.windows(2).position(|w| c <= w[1]).expect("c is within the table");
        let (lo, hi) = (bp[k], bp[k + 1]);
        let (ilo, ihi) = (f64::from(self.iaqi[k]), f64::from(self.iaqi[k + 1]));
        let value = (ihi - ilo) / (hi - lo) * (c - lo) + ilo;
        // The tolerance keeps exact breakpoints exact despite binary rounding.
        Ok(Some((value - 1e-9).ceil().max(0.0) as u32))
    }

    /// The concentration whose IAQI is `iaqi`: the table read backwards, linear between the
    /// breakpoints. `None` above the table's top.
    pub fn concentration(&self, indicator: Indicator, iaqi: f64) -> Option<f64> {
        let bp = &self.table(indicator).breakpoints;
        let scale: Vec<f64> = self.iaqi.iter().take(bp.len()).map(|i| f64::from(*i)).collect();
        if !iaqi.is_finite() || iaqi < 0.0 {
            return None;
        }
        let k = scale.windows(2).position(|w| iaqi <= w[1])?;
        Some(bp[k] + (iaqi - scale[k]) * (bp[k + 1] - bp[k]) / (scale[k + 1] - scale[k]))
    }

    /// The level an AQI falls in.
    pub fn level(&self, aqi: u32) -> &AqiLevel {
        self.levels.iter().find(|l| aqi <= l.max_aqi).unwrap_or_else(|| self.levels.last().expect("validated levels"))
    }

    pub fn levels(&self) -> &[AqiLevel] {
        &self.levels
    }
}

fn truncate(c: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    // A small nudge so that 0.3 (stored as 0.2999…) truncates to 0.3, not 0.2.
    ((c * f) + 1e-9).floor() / f
}

/// The editions of HJ 633, ordered by the date they came into force.
#[derive(Debug, Clone)]
pub struct Standards {
    editions: Vec<AqiStandard>,
}

impl Standards {
    /// HJ 633-2012 and HJ 633-2026 as shipped in this crate.
    pub fn builtin() -> &'static Standards {
        static BUILTIN: OnceLock<Standards> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let load = |name, text| AqiStandard::from_toml(name, text).expect("shipped AQI tables are valid");
            Standards::new(vec![
                load("hj633-2012.toml", include_str!("../tables/hj633-2012.toml")),
                load("hj633-2026.toml", include_str!("../tables/hj633-2026.toml")),
            ])
            .expect("shipped AQI tables are valid")
        })
    }

    pub fn new(mut editions: Vec<AqiStandard>) -> Result<Standards, AqiError> {
        editions.sort_by_key(|e| e.effective_from);
        if editions.is_empty() {
            return Err(AqiError::Table { source_name: "standards".into(), message: "no edition given".into() });
        }
        Ok(Standards { editions })
    }

    /// The edition in force on `date`. The oldest edition also covers the dates before it,
    /// since there was no AQI standard earlier.
    pub fn for_date(&self, date: NaiveDate) -> &AqiStandard {
        self.editions.iter().rev().find(|e| e.effective_from <= date).unwrap_or(&self.editions[0])
    }

    pub fn editions(&self) -> &[AqiStandard] {
        &self.editions
    }
}
