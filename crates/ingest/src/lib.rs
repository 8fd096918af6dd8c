/*!
Observations and meteorology in, one canonical hourly table out, with quality control
that flags and never deletes.

# The canonical table

One row per station and hour, on a complete hourly grid. `time` is local time in
Asia/Shanghai, labelled by the source's own hour convention.

| column | unit | required |
|---|---|---|
| `time` | local time, Asia/Shanghai | yes |
| `station` | name | yes |
| `pm25` | µg/m³ | yes |
| `pm10`, `so2`, `no2`, `o3` | µg/m³ | no |
| `co` | mg/m³ | no |
| `temp`, `dewp` | °C | no |
| `rh` | % | no |
| `pres` | hPa | no |
| `wspd` | m/s | no |
| `wdir` | degrees the wind blows from; missing when calm | no |
| `precip` | mm in the hour | no |

In memory it is [`Observations`]: one [`StationSeries`] per station, each variable a
[`Column`] of values (NaN = missing) with one [`QcFlags`] per cell. As Parquet it is a
long frame with a `<variable>_qc` Int32 column (the flag bits) beside each variable.

# Sources

[`ingest`] reads canonical CSV or Parquet, the three UCI layouts and the two national
layouts (the real-time release and the long-form station archive, selected by city or by
station code; see `national.rs`), detected from the header unless a layout is given ([`Layout`]). Gzipped files are read as they are.
`NA`, `NaN`, empty cells, `-9999` and `999990` are missing. UCI's cumulative wind
(`Iws`) becomes an hourly speed and compass points become degrees. In the five-city
layout the city series is the hourly mean of the available `PM_*` sites, or one site
when a station is named. PRSA's cumulated hours of snow and rain (`Is`, `Ir`) have no
canonical column and are not read.

# Quality control

[`QcReport`] counts, per station and column: missing values, gap hours inserted by the
reindex, duplicate hours with conflicting values (the first row read is kept and the
report says which rows were set aside), negative or impossible values, spikes (a Hampel
filter on the surrounding 12 hours) and flat lines. Thresholds live in [`QcConfig`].

A malformed file is an [`IngestError`] naming the file, the line and the column, and
nothing is returned for it.
*/

pub mod city;
pub mod daily;
pub mod met;
mod national;
#[cfg(feature = "parquet")]
mod parquet;
mod qc;
mod read;
mod table;

use std::path::{Path, PathBuf};

#[cfg(feature = "parquet")]
pub use parquet::{to_frame, write_parquet};
pub use qc::{DuplicateRecord, FileReport, FlagCounts, GapRecord, QcConfig, QcReport, StationReport};
pub use read::{Layout, SourceColumnStats, detect_layout, parse_local_time};
pub use table::{Column, Observations, QcFlags, StationSeries, Variable};

/// Everything ingest can fail on. Each names the file, and the line and column where known.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: line {line}, column `{column}`: {message}")]
    Parse { file: String, line: u64, column: String, message: String },
    #[error("{file}: required column `{column}` is missing")]
    MissingColumn { file: String, column: String },
    #[error("{file}: unrecognised layout (header: {header}); pass --format")]
    UnknownLayout { file: String, header: String },
    #[error("{file}: no station `{station}`; the file has {}", available.join(", "))]
    UnknownStation { file: String, station: String, available: Vec<String> },
    #[error("{file}: {message}")]
    Parquet { file: String, message: String },
    #[error("{file}: the file has no data rows")]
    Empty { file: String },
    #[error("{file}: {message}")]
    Encoding { file: String, message: String },
}

/// How to read the sources.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Force a layout instead of detecting it.
    pub layout: Option<Layout>,
    /// For the five-city layout: one `PM_*` site instead of the city mean. For PRSA: the station name.
    pub station: Option<String>,
    /// National layouts: read the stations of this city (the real-time release's `area`, e.g. `漯河市`).
    pub area: Option<String>,
    /// National layouts: read these station codes. With `area` too, a listed station whose rows
    /// name another city is an error, and an unlisted station of the city is still read.
    pub codes: Option<Vec<String>>,
    pub qc: QcConfig,
}

/// Read every file, then reindex and flag. Fails as a whole on the first malformed file.
pub fn ingest<P: AsRef<Path>>(paths: &[P], options: &IngestOptions) -> Result<(Observations, QcReport), IngestError> {
    let files = paths.iter().map(|p| {
        let p = p.as_ref();
        with_rows(p.display().to_string(), read::read_file(p, options)?)
    });
    Ok(qc::build(files.collect::<Result<_, _>>()?, &options.qc))
}

/// Like [`ingest`], for files already in memory: `(name, bytes)`, the name standing for the path
/// in errors and reports.
pub fn ingest_bytes(
    files: Vec<(String, Vec<u8>)>,
    options: &IngestOptions,
) -> Result<(Observations, QcReport), IngestError> {
    let files = files.into_iter().map(|(name, bytes)| {
        let raw = read::parse_file(Path::new(&name), bytes, options)?;
        with_rows(name, raw)
    });
    Ok(qc::build(files.collect::<Result<_, _>>()?, &options.qc))
}

/// A file read, refused when it holds no data rows.
fn with_rows(name: String, raw: read::RawFile) -> Result<(String, read::RawFile), IngestError> {
    if raw.rows.is_empty() { Err(IngestError::Empty { file: name }) } else { Ok((name, raw)) }
}

/// Read one file with default options and return its only station.
pub fn read_station(path: &Path, layout: Option<Layout>, station: Option<&str>) -> Result<StationSeries, IngestError> {
    let options = IngestOptions { layout, station: station.map(str::to_owned), ..Default::default() };
    let (obs, _) = ingest(&[PathBuf::from(path)], &options)?;
    let mut series = obs.series;
    match series.len() {
        1 => Ok(series.remove(0)),
        _ => Err(IngestError::UnknownStation {
            file: path.display().to_string(),
            station: station.unwrap_or("").to_owned(),
            available: series.into_iter().map(|s| s.station).collect(),
        }),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_city;
#[cfg(test)]
mod tests_national;
