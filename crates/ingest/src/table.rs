//! The canonical hourly table: one regular hourly series per station.

use chrono::NaiveDateTime;
use serde::Serialize;

/// A variable of the canonical table. Units are those of Chinese reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Variable {
    /// PM2.5, µg/m³.
    Pm25,
    /// PM10, µg/m³.
    Pm10,
    /// SO2, µg/m³.
    So2,
    /// NO2, µg/m³.
    No2,
    /// CO, mg/m³.
    Co,
    /// O3 (1 h), µg/m³.
    O3,
    /// Air temperature, °C.
    Temp,
    /// Dew point, °C.
    Dewp,
    /// Relative humidity, %.
    Rh,
    /// Station pressure, hPa.
    Pres,
    /// Wind speed, m/s.
    Wspd,
    /// Wind direction the wind blows from, degrees clockwise from north; missing when calm or variable.
    Wdir,
    /// Precipitation in the hour, mm.
    Precip,
}

impl Variable {
    pub const ALL: [Variable; 13] = [
        Variable::Pm25,
        Variable::Pm10,
        Variable::So2,
        Variable::No2,
        Variable::Co,
        Variable::O3,
        Variable::Temp,
        Variable::Dewp,
        Variable::Rh,
        Variable::Pres,
        Variable::Wspd,
        Variable::Wdir,
        Variable::Precip,
    ];

    /// The column name in the canonical table.
    pub fn name(self) -> &'static str {
        match self {
            Variable::Pm25 => "pm25",
            Variable::Pm10 => "pm10",
            Variable::So2 => "so2",
            Variable::No2 => "no2",
            Variable::Co => "co",
            Variable::O3 => "o3",
            Variable::Temp => "temp",
            Variable::Dewp => "dewp",
            Variable::Rh => "rh",
            Variable::Pres => "pres",
            Variable::Wspd => "wspd",
            Variable::Wdir => "wdir",
            Variable::Precip => "precip",
        }
    }

    pub fn from_name(name: &str) -> Option<Variable> {
        Variable::ALL.into_iter().find(|v| v.name() == name)
    }

    /// Temperature, dew point, humidity, pressure, wind and precipitation.
    pub fn is_met(self) -> bool {
        self >= Variable::Temp
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Quality-control flags of one cell, as a bit set. A flag never removes a value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QcFlags(pub u8);

impl QcFlags {
    /// The source row exists but the value is missing (NA, empty or a sentinel).
    pub const MISSING: QcFlags = QcFlags(1);
    /// The hour was absent from the source and inserted by the hourly reindex.
    pub const GAP: QcFlags = QcFlags(2);
    /// The hour appeared more than once with conflicting values; the first was kept.
    pub const DUPLICATE: QcFlags = QcFlags(4);
    /// Negative or physically impossible.
    pub const OUT_OF_RANGE: QcFlags = QcFlags(8);
    /// A jump far outside the local distribution.
    pub const SPIKE: QcFlags = QcFlags(16);
    /// Part of a run of identical values long enough to suggest a stuck sensor.
    pub const FLATLINE: QcFlags = QcFlags(32);
    /// A city-series hour made from fewer than the configured share of the assessment stations.
    pub const THIN: QcFlags = QcFlags(64);

    pub const ALL: [(QcFlags, &'static str); 7] = [
        (QcFlags::MISSING, "missing"),
        (QcFlags::GAP, "gap"),
        (QcFlags::DUPLICATE, "duplicate"),
        (QcFlags::OUT_OF_RANGE, "out_of_range"),
        (QcFlags::SPIKE, "spike"),
        (QcFlags::FLATLINE, "flatline"),
        (QcFlags::THIN, "thin"),
    ];

    pub fn contains(self, other: QcFlags) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn insert(&mut self, other: QcFlags) {
        self.0 |= other.0;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when the value should not be used as a measurement.
    pub fn is_unusable(self) -> bool {
        self.0 & (QcFlags::MISSING.0 | QcFlags::GAP.0 | QcFlags::OUT_OF_RANGE.0) != 0
    }
}

/// One column of a station series: values (NaN = missing) and their flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub variable: Variable,
    pub values: Vec<f64>,
    pub flags: Vec<QcFlags>,
}

/// A complete hourly series for one station: `times[i] = start + i hours`, local time
/// in Asia/Shanghai.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSeries {
    pub station: String,
    pub times: Vec<NaiveDateTime>,
    /// The variables the source carried, in [`Variable`] order; `pm25` is always present.
    pub columns: Vec<Column>,
}

impl StationSeries {
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub fn column(&self, variable: Variable) -> Option<&Column> {
        self.columns.iter().find(|c| c.variable == variable)
    }

    /// The values of a variable with unusable cells (missing, gap, out of range) set to NaN.
    pub fn usable(&self, variable: Variable) -> Option<Vec<f64>> {
        let c = self.column(variable)?;
        Some(c.values.iter().zip(&c.flags).map(|(v, f)| if f.is_unusable() { f64::NAN } else { *v }).collect())
    }
}

/// Observations of one or more stations in the canonical layout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observations {
    pub series: Vec<StationSeries>,
}

impl Observations {
    pub fn station(&self, name: &str) -> Option<&StationSeries> {
        self.series.iter().find(|s| s.station == name)
    }
}
