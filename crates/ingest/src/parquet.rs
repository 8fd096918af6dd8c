//! The canonical table as Parquet: `time` (Datetime[ms, Asia/Shanghai]), `station`,
//! one Float64 column per variable (null = missing) and an Int32 `<variable>_qc` flag column each.

use std::fs::File;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Shanghai;
use polars::prelude::{self as pl, DataType, IntoColumn, ParquetCompression, ParquetReader, ParquetWriter, SerReader};

use crate::IngestError;
use crate::read::{Layout, RawFile, RawRow, present};
use crate::table::{Observations, Variable};

fn polars_err(file: &str) -> impl Fn(pl::PolarsError) -> IngestError + '_ {
    move |e| IngestError::Parquet { file: file.to_owned(), message: e.to_string() }
}

/// The observations as one long polars frame, sorted by station then time.
pub fn to_frame(obs: &Observations) -> Result<pl::DataFrame, pl::PolarsError> {
    let vars: Vec<Variable> =
        Variable::ALL.into_iter().filter(|v| obs.series.iter().any(|s| s.column(*v).is_some())).collect();
    let height: usize = obs.series.iter().map(|s| s.len()).sum();
    let mut millis = Vec::with_capacity(height);
    let mut stations = Vec::with_capacity(height);
    for s in &obs.series {
        for t in &s.times {
            let local = Shanghai.from_local_datetime(t).single().expect("Asia/Shanghai has no DST");
            millis.push(local.timestamp_millis());
            stations.push(s.station.as_str());
        }
    }
    let time = pl::Int64Chunked::from_vec("time".into(), millis)
        .into_datetime(pl::TimeUnit::Milliseconds, Some(pl::TimeZone::from_chrono(&Shanghai)))
        .into_column();
    let mut columns = vec![time, pl::Column::new("station".into(), stations)];
    for v in &vars {
        let mut values: Vec<Option<f64>> = Vec::with_capacity(height);
        let mut flags: Vec<i32> = Vec::with_capacity(height);
        for s in &obs.series {
            match s.column(*v) {
                Some(c) => {
                    values.extend(c.values.iter().map(|x| (!x.is_nan()).then_some(*x)));
                    flags.extend(c.flags.iter().map(|f| i32::from(f.0)));
                }
                None => {
                    values.extend(std::iter::repeat_n(None, s.len()));
                    flags.extend(std::iter::repeat_n(i32::from(crate::QcFlags::MISSING.0), s.len()));
                }
            }
        }
        columns.push(pl::Column::new(v.name().into(), values));
        columns.push(pl::Column::new(format!("{}_qc", v.name()).into(), flags));
    }
    pl::DataFrame::new(height, columns)
}

pub fn write_parquet(obs: &Observations, path: &Path) -> Result<(), IngestError> {
    let file = path.display().to_string();
    let mut df = to_frame(obs).map_err(polars_err(&file))?;
    let out = File::create(path).map_err(|source| IngestError::Io { file: file.clone(), source })?;
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut df)
        .map_err(polars_err(&file))?;
    Ok(())
}

/// Read a canonical Parquet file into raw rows; QC runs again on them.
pub(crate) fn read_raw(file: &str, bytes: Vec<u8>) -> Result<RawFile, IngestError> {
    let df = ParquetReader::new(std::io::Cursor::new(bytes)).finish().map_err(polars_err(file))?;
    let missing = |column: &str| IngestError::MissingColumn { file: file.to_owned(), column: column.to_owned() };
    let time = df.column("time").map_err(|_| missing("time"))?.as_materialized_series();
    let times: Vec<NaiveDateTime> = match time.dtype() {
        DataType::Datetime(unit, tz) => {
            let per_sec = match unit {
                pl::TimeUnit::Milliseconds => 1_000,
                pl::TimeUnit::Microseconds => 1_000_000,
                pl::TimeUnit::Nanoseconds => 1_000_000_000,
            };
            let phys = time.datetime().map_err(polars_err(file))?.physical();
            phys.iter()
                .enumerate()
                .map(|(i, t)| {
                    let t = t.ok_or_else(|| IngestError::Parse {
                        file: file.to_owned(),
                        line: i as u64 + 1,
                        column: "time".into(),
                        message: "the time is null".into(),
                    })?;
                    let utc = DateTime::from_timestamp(t.div_euclid(per_sec), 0).expect("in range");
                    // A zone-less time is already local; a zoned one is stored as UTC.
                    Ok(if tz.is_some() { utc.with_timezone(&Shanghai).naive_local() } else { utc.naive_utc() })
                })
                .collect::<Result<_, IngestError>>()?
        }
        other => {
            return Err(IngestError::Parse {
                file: file.to_owned(),
                line: 1,
                column: "time".into(),
                message: format!("expected a Datetime column, found {other}"),
            });
        }
    };
    let station_col = df.column("station").map_err(|_| missing("station"))?.as_materialized_series();
    let station_col = station_col.cast(&DataType::String).map_err(polars_err(file))?;
    let mut stations: Vec<String> = Vec::new();
    let mut rows: Vec<RawRow> = Vec::with_capacity(df.height());
    for (i, name) in station_col.str().map_err(polars_err(file))?.iter().enumerate() {
        let name = name.unwrap_or("");
        let station = match stations.iter().position(|s| s == name) {
            Some(k) => k,
            None => {
                stations.push(name.to_owned());
                stations.len() - 1
            }
        };
        rows.push(RawRow {
            station,
            time: times[i],
            values: [f64::NAN; crate::read::NVAR],
            line: i as u64 + 1,
            calm: false,
        });
    }
    df.column("pm25").map_err(|_| missing("pm25"))?;
    let mut vars = Vec::new();
    for v in Variable::ALL {
        let Ok(col) = df.column(v.name()) else { continue };
        vars.push(v);
        let col = col.as_materialized_series().cast(&DataType::Float64).map_err(polars_err(file))?;
        for (row, x) in rows.iter_mut().zip(col.f64().map_err(polars_err(file))?.iter()) {
            row.values[v.index()] = x.unwrap_or(f64::NAN);
        }
    }
    Ok(RawFile {
        layout: Layout::Parquet,
        stations,
        present: present(&vars),
        rows,
        source_columns: Vec::new(),
        outside_rows: 0,
    })
}
