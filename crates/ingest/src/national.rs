//! The two layouts a Chinese forecaster actually has for the national monitoring network (国控点):
//!
//! - the real-time release, one row per station and hour, one file per hour or several hours
//!   concatenated: `timepoint,stationcode,longitude,latitude,area,positionname,primarypollutant,
//!   aqi,pm10,pm10_24h,pm2_5,pm2_5_24h,o3,o3_24h,o3_8h,o3_8h_24h,no2,no2_24h,so2,so2_24h,co,co_24h`
//!   (`area` is the city, e.g. `漯河市`);
//! - the long-form station archive shared as daily files: `date,hour,type,<code>,<code>,…`, one
//!   row per hour and pollutant `type`.
//!
//! Only the hourly values are read (PM2.5, PM10, SO2, NO2, O3 1 h, CO); the running means
//! (`_24h`, `O3_8h…`) and the AQI are derived from them, so they are recognised and left aside.
//! Columns are found by name, so their order does not matter. Units are µg/m³, CO mg/m³, as in the
//! canonical table. Empty cells, `—`, `-`, `--` and `NA` are missing. Rows of stations outside the
//! selection (another city, or a code not asked for) are counted, not read.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use crate::IngestError;
use crate::read::{Cells, Layout, NVAR, RawFile, RawRow, cells, empty_values, next, present};
use crate::table::Variable;

/// Which stations of a national file to read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Selection<'a> {
    /// The city, as the real-time release names it in `area`.
    pub area: Option<&'a str>,
    /// Station codes.
    pub codes: Option<&'a [String]>,
}

const POLLUTANTS: [(&str, &str, Variable); 6] = [
    ("pm2_5", "PM2.5", Variable::Pm25),
    ("pm10", "PM10", Variable::Pm10),
    ("so2", "SO2", Variable::So2),
    ("no2", "NO2", Variable::No2),
    ("o3", "O3", Variable::O3),
    ("co", "CO", Variable::Co),
];

/// Archive `type` values that are running means or indices of the hourly values, not read.
const DERIVED: [&str; 9] =
    ["AQI", "PM2.5_24h", "PM10_24h", "SO2_24h", "NO2_24h", "O3_24h", "O3_8h", "O3_8h_24h", "CO_24h"];

/// Dashes the national files write for a missing value, besides empty cells and `NA`.
const MISSING: [&str; 4] = ["—", "-", "--", "NA"];

/// A value cell: the national files also write a dash for a missing value.
fn value(c: &mut Cells, col: usize) -> Result<f64, IngestError> {
    let text = c.text(col);
    if MISSING[..3].contains(&text) {
        c.stats[col].missing += 1;
        return Ok(f64::NAN);
    }
    c.number(col)
}

/// The index of `name` in `stations`, adding it when new.
fn station_index(stations: &mut Vec<String>, index: &mut HashMap<String, usize>, name: &str) -> usize {
    if let Some(i) = index.get(name) {
        return *i;
    }
    stations.push(name.to_owned());
    index.insert(name.to_owned(), stations.len() - 1);
    stations.len() - 1
}

pub(crate) fn read_realtime(file: &str, bytes: &[u8], select: Selection) -> Result<RawFile, IngestError> {
    let (mut reader, mut c) = cells(file, bytes)?;
    let (tcol, scol, acol) = (c.col("timepoint")?, c.col("stationcode")?, c.col("area")?);
    let cols: Vec<(usize, Variable)> =
        POLLUTANTS.iter().map(|(name, _, var)| c.col(name).map(|i| (i, *var))).collect::<Result<_, _>>()?;
    let mut stations = Vec::new();
    let mut index = HashMap::new();
    let mut rows = Vec::new();
    let mut outside_rows = 0;
    while next(&mut reader, &mut c)? {
        let code = c.text(scol);
        if code.is_empty() {
            return Err(c.err("stationcode", "the station code is empty".into()));
        }
        let area = c.text(acol);
        let wanted_code = select.codes.is_some_and(|codes| codes.iter().any(|k| k == code));
        let in_city = select.area.is_some_and(|a| a == area);
        if let Some(city) = select.area
            && wanted_code
            && !in_city
        {
            return Err(c.err("area", format!("station {code} is configured for {city}, but this row says `{area}`")));
        }
        let selected = (select.area.is_none() && select.codes.is_none()) || wanted_code || in_city;
        if !selected {
            outside_rows += 1;
            continue;
        }
        let code = code.to_owned();
        let time = c.local_hour(tcol, "timepoint")?;
        let mut v = empty_values();
        for &(col, var) in &cols {
            v[var.index()] = value(&mut c, col)?;
        }
        let station = station_index(&mut stations, &mut index, &code);
        rows.push(RawRow { station, time, values: v, line: c.line, calm: false });
    }
    let vars: Vec<Variable> = cols.iter().map(|(_, v)| *v).collect();
    Ok(RawFile {
        layout: Layout::CnRealtime,
        stations,
        present: present(&vars),
        rows,
        source_columns: c.stats,
        outside_rows,
    })
}

/// `20240115` or `2024-01-15`.
fn archive_date(c: &Cells, col: usize) -> Result<NaiveDate, IngestError> {
    let text = c.text(col);
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .map_err(|_| c.err("date", format!("`{text}` is not a date (YYYYMMDD)")))
}

/// One cell of an archive row: where its value goes, and the line it came from.
struct ArchiveCell {
    row: usize,
    var: Variable,
    value: f64,
    line: u64,
}

pub(crate) fn read_archive(file: &str, bytes: &[u8], select: Selection) -> Result<RawFile, IngestError> {
    if select.area.is_some() && select.codes.is_none() {
        return Err(IngestError::Parse {
            file: file.to_owned(),
            line: 1,
            column: "area".into(),
            message: "the station archive has no area column; select its stations by code".into(),
        });
    }
    let (mut reader, mut c) = cells(file, bytes)?;
    let (dcol, hcol, tcol) = (c.col("date")?, c.col("hour")?, c.col("type")?);
    let mut station_cols: Vec<(usize, String)> = c
        .index
        .iter()
        .filter(|(_, i)| ![dcol, hcol, tcol].contains(i))
        .filter(|(name, _)| select.codes.is_none_or(|codes| codes.iter().any(|k| k == *name)))
        .map(|(name, i)| (*i, name.clone()))
        .collect();
    station_cols.sort();
    if let Some((_, name)) = station_cols.iter().find(|(_, n)| n.is_empty()) {
        return Err(IngestError::Parse {
            file: file.to_owned(),
            line: 1,
            column: name.clone(),
            message: "a station column has no code in the header".into(),
        });
    }
    let stations: Vec<String> = station_cols.iter().map(|(_, n)| n.clone()).collect();
    // One raw row per station and hour, filled from that hour's pollutant rows.
    let mut rows: Vec<RawRow> = Vec::new();
    let mut slot: HashMap<(usize, NaiveDateTime), usize> = HashMap::new();
    // The line that gave each raw row each pollutant (0: not given yet).
    let mut given: Vec<[u64; NVAR]> = Vec::new();
    let mut repeated: Vec<ArchiveCell> = Vec::new();
    while next(&mut reader, &mut c)? {
        let date = archive_date(&c, dcol)?;
        let hour = c.integer("hour")?;
        let time =
            date.and_hms_opt(hour, 0, 0).ok_or_else(|| c.err("hour", format!("{hour} is not an hour (0–23)")))?;
        let kind = c.text(tcol).to_owned();
        let var = match POLLUTANTS.iter().find(|(_, name, _)| *name == kind) {
            Some((_, _, var)) => *var,
            None if DERIVED.contains(&kind.as_str()) => {
                // Not read, but still numbers; their empty cells are not counted as missing data.
                for (col, code) in &station_cols {
                    let text = c.text(*col);
                    if !(text.is_empty() || MISSING.contains(&text) || text.parse::<f64>().is_ok_and(f64::is_finite)) {
                        return Err(c.err(code, format!("`{text}` is not a number")));
                    }
                }
                continue;
            }
            None => return Err(c.err("type", format!("`{kind}` is not a pollutant type of the archive"))),
        };
        for (s, &(col, _)) in station_cols.iter().enumerate() {
            let x = value(&mut c, col)?;
            let next_row = rows.len();
            let row = *slot.entry((s, time)).or_insert(next_row);
            if row == next_row {
                rows.push(RawRow { station: s, time, values: [f64::NAN; NVAR], line: c.line, calm: false });
                given.push([0; NVAR]);
            }
            let first = given[row][var.index()];
            if first != 0 {
                repeated.push(ArchiveCell { row, var, value: x, line: c.line });
                // QC names the kept row by its line: the first row that gave this pollutant.
                rows[row].line = first;
            } else {
                rows[row].values[var.index()] = x;
                given[row][var.index()] = c.line;
            }
        }
    }
    // A pollutant row given twice for an hour becomes a second raw row for that station and hour,
    // so QC keeps the first and reports the conflict with both lines.
    for cell in repeated {
        let mut again = rows[cell.row].clone();
        again.values[cell.var.index()] = cell.value;
        again.line = cell.line;
        rows.push(again);
    }
    let vars: Vec<Variable> = POLLUTANTS.iter().map(|(_, _, v)| *v).collect();
    Ok(RawFile {
        layout: Layout::CnArchive,
        stations,
        present: present(&vars),
        rows,
        source_columns: c.stats,
        outside_rows: 0,
    })
}
