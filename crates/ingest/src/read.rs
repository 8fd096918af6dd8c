//! Readers for the source layouts: canonical CSV and the three UCI layouts.
//! Each turns a file into raw rows in source order; QC happens afterwards.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Shanghai;
use serde::Serialize;

use crate::national::{self, Selection};
use crate::table::Variable;
use crate::{IngestError, IngestOptions};

/// A source file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// The canonical table as CSV (`time,station,pm25,…`).
    Canonical,
    /// The canonical table as Parquet.
    Parquet,
    /// UCI "Beijing PM2.5 Data": one site, `pm2.5`, `cbwd`, cumulative `Iws`.
    UciPrsa,
    /// UCI "PM2.5 Data of Five Chinese Cities": `PM_<site>` columns per city file.
    #[serde(rename = "uci-5city")]
    UciFiveCity,
    /// UCI "Beijing Multi-Site Air-Quality Data": one station per file, six pollutants.
    UciMultisite,
    /// The national real-time release: one row per station and hour (`timepoint,stationcode,…,area,…`).
    CnRealtime,
    /// The long-form national station archive: `date,hour,type,<station code>,…`.
    CnArchive,
}

impl Layout {
    pub const ALL: [Layout; 7] = [
        Layout::Canonical,
        Layout::Parquet,
        Layout::UciPrsa,
        Layout::UciFiveCity,
        Layout::UciMultisite,
        Layout::CnRealtime,
        Layout::CnArchive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Canonical => "canonical",
            Layout::Parquet => "parquet",
            Layout::UciPrsa => "uci-prsa",
            Layout::UciFiveCity => "uci-5city",
            Layout::UciMultisite => "uci-multisite",
            Layout::CnRealtime => "cn-realtime",
            Layout::CnArchive => "cn-archive",
        }
    }
}

impl FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Layout, String> {
        Layout::ALL.into_iter().find(|l| l.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Layout::ALL.iter().map(|l| l.name()).collect();
            format!("unknown format `{s}`; expected one of {}", names.join(", "))
        })
    }
}

/// Missing markers found in one source column, before any conversion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceColumnStats {
    pub column: String,
    /// Cells that were `NA`, `NaN` or empty.
    pub missing: usize,
    /// Cells holding a sentinel (`-9999`, `999990`).
    pub sentinel: usize,
}

pub(crate) const NVAR: usize = Variable::ALL.len();

#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub station: usize,
    pub time: NaiveDateTime,
    pub values: [f64; NVAR],
    pub line: u64,
    /// The source reported calm or variable wind: no direction, but not missing either.
    pub calm: bool,
}

/// One file's rows before QC.
#[derive(Debug, Clone)]
pub(crate) struct RawFile {
    pub layout: Layout,
    pub stations: Vec<String>,
    pub present: [bool; NVAR],
    pub rows: Vec<RawRow>,
    pub source_columns: Vec<SourceColumnStats>,
    /// Rows of stations outside the selection, counted and not read.
    pub outside_rows: usize,
}

/// The file's bytes, gunzipped when they start with the gzip magic number.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, IngestError> {
    let io = |source| IngestError::Io { file: path.display().to_string(), source };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 5);
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Recognise the layout from the first line (or the Parquet magic number).
pub fn detect_layout(bytes: &[u8]) -> Option<Layout> {
    if bytes.starts_with(b"PAR1") {
        return Some(Layout::Parquet);
    }
    let first = bytes.split(|b| *b == b'\n').next()?;
    let header: Vec<String> = String::from_utf8_lossy(first)
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_owned())
        .collect();
    let has = |name: &str| header.iter().any(|h| h == name);
    if has("time") && has("station") && has("pm25") {
        Some(Layout::Canonical)
    } else if has("PM2.5") && has("wd") && has("WSPM") && has("station") {
        Some(Layout::UciMultisite)
    } else if header.iter().any(|h| h.starts_with("PM_")) && has("Iws") {
        Some(Layout::UciFiveCity)
    } else if has("pm2.5") && has("cbwd") && has("Iws") {
        Some(Layout::UciPrsa)
    } else if has("timepoint") && has("stationcode") && has("pm2_5") {
        Some(Layout::CnRealtime)
    } else if has("date") && has("hour") && has("type") {
        Some(Layout::CnArchive)
    } else {
        None
    }
}

/// Reads delimited text and reports errors by file, line and column.
pub(crate) struct Cells<'a> {
    pub file: &'a str,
    bytes: &'a [u8],
    pub index: HashMap<String, usize>,
    pub record: csv::StringRecord,
    pub line: u64,
    pub stats: Vec<SourceColumnStats>,
}

impl<'a> Cells<'a> {
    pub(crate) fn col(&self, name: &str) -> Result<usize, IngestError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| IngestError::MissingColumn { file: self.file.to_owned(), column: name.to_owned() })
    }

    pub(crate) fn err(&self, column: &str, message: String) -> IngestError {
        IngestError::Parse { file: self.file.to_owned(), line: self.line, column: column.to_owned(), message }
    }

    pub(crate) fn text(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("").trim()
    }

    /// A numeric cell; NA, NaN, empty and sentinels are missing (NaN) and counted.
    pub(crate) fn number(&mut self, col: usize) -> Result<f64, IngestError> {
        let text = self.record.get(col).unwrap_or("").trim();
        if text.is_empty() || text.eq_ignore_ascii_case("na") || text.eq_ignore_ascii_case("nan") {
            self.stats[col].missing += 1;
            return Ok(f64::NAN);
        }
        match text.parse::<f64>() {
            Ok(v) if v == -9999.0 || v == 999_990.0 => {
                self.stats[col].sentinel += 1;
                Ok(f64::NAN)
            }
            Ok(v) if v.is_finite() => Ok(v),
            _ => {
                let column = self.stats[col].column.clone();
                Err(self.err(&column, format!("`{text}` is not a number")))
            }
        }
    }

    /// A canonical local time in column `col` (named `name`), which must fall on the hour.
    pub(crate) fn local_hour(&self, col: usize, name: &str) -> Result<NaiveDateTime, IngestError> {
        let text = self.text(col);
        let time =
            parse_local_time(text).ok_or_else(|| self.err(name, format!("`{text}` is not a valid local time")))?;
        if time.and_utc().timestamp() % 3600 != 0 {
            return Err(self.err(name, format!("`{text}` is not on the hour")));
        }
        Ok(time)
    }

    pub(crate) fn integer(&mut self, name: &str) -> Result<u32, IngestError> {
        let col = self.col(name)?;
        let text = self.text(col);
        text.parse::<u32>().map_err(|_| self.err(name, format!("`{text}` is not a whole number")))
    }

    /// The local time from `year, month, day, hour` columns.
    fn ymdh(&mut self) -> Result<NaiveDateTime, IngestError> {
        let (y, m, d, h) = (self.integer("year")?, self.integer("month")?, self.integer("day")?, self.integer("hour")?);
        if !(1..=12).contains(&m) {
            return Err(self.err("month", format!("{m} is not a month")));
        }
        let date = NaiveDate::from_ymd_opt(y as i32, m, d)
            .ok_or_else(|| self.err("day", format!("{y}-{m:02}-{d:02} is not a date")))?;
        date.and_hms_opt(h, 0, 0).ok_or_else(|| self.err("hour", format!("{h} is not an hour (0–23)")))
    }
}

pub(crate) type Csv<'b> = csv::Reader<&'b [u8]>;

pub(crate) fn cells<'a>(file: &'a str, bytes: &'a [u8]) -> Result<(Csv<'a>, Cells<'a>), IngestError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| IngestError::Parse {
            file: file.to_owned(),
            line: 1,
            column: String::new(),
            message: e.to_string(),
        })?
        .clone();
    let names: Vec<String> = headers.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect();
    // A name given twice would lose one of its columns (two columns of one station, say).
    if let Some(k) = (1..names.len()).find(|&k| names[..k].contains(&names[k])) {
        return Err(IngestError::Parse {
            file: file.to_owned(),
            line: 1,
            column: names[k].clone(),
            message: format!(
                "the header names `{}` twice (columns {} and {})",
                names[k],
                names[..k].iter().position(|n| *n == names[k]).unwrap_or(0) + 1,
                k + 1
            ),
        });
    }
    let index = names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();
    let stats = names.iter().map(|n| SourceColumnStats { column: n.clone(), ..Default::default() }).collect();
    Ok((reader, Cells { file, bytes, index, record: csv::StringRecord::new(), line: 1, stats }))
}

/// The line a record starts on. With CRLF line ends the reader's position sits on the previous
/// line's `\n`, so the line ends at the position are counted here.
fn line_at(bytes: &[u8], position: &csv::Position) -> u64 {
    let mut line = position.line();
    for b in bytes.iter().skip(position.byte() as usize).take_while(|b| matches!(b, b'\r' | b'\n')) {
        line += u64::from(*b == b'\n');
    }
    line
}

/// Advance to the next record; false at the end of the file.
pub(crate) fn next(reader: &mut Csv, c: &mut Cells) -> Result<bool, IngestError> {
    match reader.read_record(&mut c.record) {
        Ok(more) => {
            c.line = c.record.position().map_or(c.line + 1, |p| line_at(c.bytes, p));
            Ok(more)
        }
        Err(e) => {
            let line = e.position().map_or(c.line + 1, |p| line_at(c.bytes, p));
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("the row has {len} fields; the header has {expected_len}")
                }
                _ => e.to_string(),
            };
            Err(IngestError::Parse { file: c.file.to_owned(), line, column: String::new(), message })
        }
    }
}

pub(crate) fn empty_values() -> [f64; NVAR] {
    [f64::NAN; NVAR]
}

/// Degrees for the UCI combined direction (`cbwd`) and the 16-point compass (`wd`).
/// Calm or variable (`cv`) has no direction.
fn compass(text: &str) -> Option<Option<f64>> {
    const POINTS: [&str; 16] =
        ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"];
    if text.eq_ignore_ascii_case("cv") || text.eq_ignore_ascii_case("c") {
        return Some(None);
    }
    POINTS.iter().position(|p| *p == text).map(|i| Some(i as f64 * 22.5))
}

/// Hourly wind speed from UCI's `Iws`, which accumulates while the direction holds and
/// restarts when it changes. The hour's speed is the increment, or the value itself after a restart.
struct CumulativeWind {
    last: Option<(NaiveDateTime, String, f64)>,
}

impl CumulativeWind {
    fn step(&mut self, time: NaiveDateTime, dir: &str, iws: f64) -> f64 {
        let speed = match &self.last {
            _ if iws.is_nan() => f64::NAN,
            Some((t, d, prev)) if *t + chrono::Duration::hours(1) == time && d == dir && iws > *prev + 1e-9 => {
                iws - prev
            }
            // After a missing hour the increment cannot be told from a restart.
            Some((t, d, _)) if *t + chrono::Duration::hours(1) != time && d == dir => f64::NAN,
            _ => iws,
        };
        self.last = (!iws.is_nan()).then(|| (time, dir.to_owned(), iws));
        speed
    }
}

/// The direction in degrees (NaN when missing or calm) and whether the source said calm.
fn wind_direction(c: &Cells, col: usize, name: &str) -> Result<(f64, bool), IngestError> {
    let text = c.text(col);
    if text.is_empty() || text.eq_ignore_ascii_case("na") {
        return Ok((f64::NAN, false));
    }
    match compass(text) {
        Some(Some(deg)) => Ok((deg, false)),
        Some(None) => Ok((f64::NAN, true)),
        None => Err(c.err(name, format!("`{text}` is not a wind direction"))),
    }
}

pub(crate) fn read_file(path: &Path, options: &IngestOptions) -> Result<RawFile, IngestError> {
    parse_file(path, read_bytes(path)?, options)
}

/// Parses the bytes of a file named `path` (read or received already).
pub(crate) fn parse_file(path: &Path, bytes: Vec<u8>, options: &IngestOptions) -> Result<RawFile, IngestError> {
    let station = options.station.as_deref();
    let select = Selection { area: options.area.as_deref(), codes: options.codes.as_deref() };
    let file = path.display().to_string();
    text_only(&file, &bytes)?;
    let layout = match options.layout.or_else(|| detect_layout(&bytes)) {
        Some(l) => l,
        None => {
            let first = String::from_utf8_lossy(bytes.split(|b| *b == b'\n').next().unwrap_or(&[])).into_owned();
            return Err(IngestError::UnknownLayout { file, header: first.trim().chars().take(200).collect() });
        }
    };
    match layout {
        Layout::Canonical => read_canonical(&file, &bytes),
        #[cfg(feature = "parquet")]
        Layout::Parquet => crate::parquet::read_raw(&file, bytes),
        #[cfg(not(feature = "parquet"))]
        Layout::Parquet => Err(IngestError::Parquet { file, message: "built without Parquet support".into() }),
        Layout::UciPrsa => read_prsa(&file, &bytes, station),
        Layout::UciFiveCity => read_five_city(&file, path, &bytes, station),
        Layout::UciMultisite => read_multisite(&file, &bytes),
        Layout::CnRealtime => national::read_realtime(&file, &bytes, select),
        Layout::CnArchive => national::read_archive(&file, &bytes, select),
    }
}

fn read_prsa(file: &str, bytes: &[u8], station: Option<&str>) -> Result<RawFile, IngestError> {
    let (mut reader, mut c) = cells(file, bytes)?;
    let (pm, dewp, temp, pres, cbwd, iws) =
        (c.col("pm2.5")?, c.col("DEWP")?, c.col("TEMP")?, c.col("PRES")?, c.col("cbwd")?, c.col("Iws")?);
    let mut rows = Vec::new();
    let mut wind = CumulativeWind { last: None };
    while next(&mut reader, &mut c)? {
        let time = c.ymdh()?;
        let mut v = empty_values();
        v[Variable::Pm25.index()] = c.number(pm)?;
        v[Variable::Dewp.index()] = c.number(dewp)?;
        v[Variable::Temp.index()] = c.number(temp)?;
        v[Variable::Pres.index()] = c.number(pres)?;
        let calm: bool;
        (v[Variable::Wdir.index()], calm) = wind_direction(&c, cbwd, "cbwd")?;
        let dir = c.text(cbwd).to_owned();
        let cum = c.number(iws)?;
        v[Variable::Wspd.index()] = wind.step(time, &dir, cum);
        rows.push(RawRow { station: 0, time, values: v, line: c.line, calm });
    }
    let present =
        present(&[Variable::Pm25, Variable::Dewp, Variable::Temp, Variable::Pres, Variable::Wspd, Variable::Wdir]);
    let name = station.unwrap_or("PRSA").to_owned();
    Ok(RawFile {
        layout: Layout::UciPrsa,
        stations: vec![name],
        present,
        rows,
        source_columns: c.stats,
        outside_rows: 0,
    })
}

fn read_five_city(file: &str, path: &Path, bytes: &[u8], station: Option<&str>) -> Result<RawFile, IngestError> {
    let (mut reader, mut c) = cells(file, bytes)?;
    let mut sites: Vec<(String, usize)> =
        c.index.iter().filter(|(n, _)| n.starts_with("PM_")).map(|(n, i)| (n.clone(), *i)).collect();
    sites.sort_by_key(|(_, i)| *i);
    // The city is the file name's leading word: `BeijingPM2010…` → Beijing.
    let stem = path.file_name().and_then(|s| s.to_str()).unwrap_or("city");
    let city = stem.split("PM").next().filter(|s| !s.is_empty()).unwrap_or("city").to_owned();
    let (name, chosen) = match station {
        Some(s) => {
            let want = s.strip_prefix("PM_").unwrap_or(s);
            let site = sites.iter().find(|(n, _)| &n[3..] == want).ok_or_else(|| IngestError::UnknownStation {
                file: file.to_owned(),
                station: s.to_owned(),
                available: sites.iter().map(|(n, _)| n[3..].to_owned()).collect(),
            })?;
            (format!("{city} {want}"), vec![site.1])
        }
        None => (city, sites.iter().map(|(_, i)| *i).collect()),
    };
    let (dewp, humi, pres, temp, cbwd, iws) =
        (c.col("DEWP")?, c.col("HUMI")?, c.col("PRES")?, c.col("TEMP")?, c.col("cbwd")?, c.col("Iws")?);
    let precip = c.col("precipitation")?;
    let iprec = c.index.get("Iprec").copied();
    let all_sites: Vec<usize> = sites.iter().map(|(_, i)| *i).collect();
    let mut rows = Vec::new();
    let mut wind = CumulativeWind { last: None };
    while next(&mut reader, &mut c)? {
        let time = c.ymdh()?;
        let mut v = empty_values();
        // Every site column is parsed (and its missing cells counted) even when one is selected.
        let (mut sum, mut n) = (0.0, 0);
        for &col in &all_sites {
            let x = c.number(col)?;
            if chosen.contains(&col) && !x.is_nan() {
                sum += x;
                n += 1;
            }
        }
        v[Variable::Pm25.index()] = if n > 0 { sum / n as f64 } else { f64::NAN };
        v[Variable::Dewp.index()] = c.number(dewp)?;
        v[Variable::Rh.index()] = c.number(humi)?;
        v[Variable::Pres.index()] = c.number(pres)?;
        v[Variable::Temp.index()] = c.number(temp)?;
        v[Variable::Precip.index()] = c.number(precip)?;
        if let Some(col) = iprec {
            c.number(col)?;
        }
        let calm: bool;
        (v[Variable::Wdir.index()], calm) = wind_direction(&c, cbwd, "cbwd")?;
        if c.text(cbwd).eq_ignore_ascii_case("na") || c.text(cbwd).is_empty() {
            c.stats[cbwd].missing += 1;
        }
        let dir = c.text(cbwd).to_owned();
        let cum = c.number(iws)?;
        v[Variable::Wspd.index()] = wind.step(time, &dir, cum);
        rows.push(RawRow { station: 0, time, values: v, line: c.line, calm });
    }
    let present = present(&[
        Variable::Pm25,
        Variable::Dewp,
        Variable::Rh,
        Variable::Pres,
        Variable::Temp,
        Variable::Precip,
        Variable::Wspd,
        Variable::Wdir,
    ]);
    Ok(RawFile {
        layout: Layout::UciFiveCity,
        stations: vec![name],
        present,
        rows,
        source_columns: c.stats,
        outside_rows: 0,
    })
}

fn read_multisite(file: &str, bytes: &[u8]) -> Result<RawFile, IngestError> {
    let (mut reader, mut c) = cells(file, bytes)?;
    let numeric = [
        ("PM2.5", Variable::Pm25, 1.0),
        ("PM10", Variable::Pm10, 1.0),
        ("SO2", Variable::So2, 1.0),
        ("NO2", Variable::No2, 1.0),
        // The source gives CO in µg/m³; the canonical unit is mg/m³.
        ("CO", Variable::Co, 1e-3),
        ("O3", Variable::O3, 1.0),
        ("TEMP", Variable::Temp, 1.0),
        ("PRES", Variable::Pres, 1.0),
        ("DEWP", Variable::Dewp, 1.0),
        ("RAIN", Variable::Precip, 1.0),
        ("WSPM", Variable::Wspd, 1.0),
    ];
    let cols: Vec<(usize, Variable, f64)> =
        numeric.iter().map(|(n, v, k)| c.col(n).map(|i| (i, *v, *k))).collect::<Result<_, _>>()?;
    let (wd, st) = (c.col("wd")?, c.col("station")?);
    let mut stations: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    while next(&mut reader, &mut c)? {
        let time = c.ymdh()?;
        let mut v = empty_values();
        for &(col, var, k) in &cols {
            v[var.index()] = c.number(col)? * k;
        }
        if c.text(wd).eq_ignore_ascii_case("na") {
            c.stats[wd].missing += 1;
        }
        let calm: bool;
        (v[Variable::Wdir.index()], calm) = wind_direction(&c, wd, "wd")?;
        let name = c.text(st);
        if name.is_empty() {
            return Err(c.err("station", "the station name is empty".into()));
        }
        let station = match stations.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                stations.push(name.to_owned());
                stations.len() - 1
            }
        };
        rows.push(RawRow { station, time, values: v, line: c.line, calm });
    }
    let mut vars: Vec<Variable> = numeric.iter().map(|(_, v, _)| *v).collect();
    vars.push(Variable::Wdir);
    Ok(RawFile {
        layout: Layout::UciMultisite,
        stations,
        present: present(&vars),
        rows,
        source_columns: c.stats,
        outside_rows: 0,
    })
}

/// Parse a canonical time: `YYYY-MM-DD HH:MM[:SS]` (local) or RFC 3339 with an offset,
/// returned as Asia/Shanghai local time.
pub fn parse_local_time(text: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Shanghai).naive_local());
    }
    let text = text.replace('T', " ");
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .filter(|t| Shanghai.from_local_datetime(t).single().is_some())
}

/// A weather-station table: the canonical layout with meteorological columns and no pollutant.
pub(crate) fn read_met_file(path: &Path) -> Result<RawFile, IngestError> {
    let file = path.display().to_string();
    let bytes = read_bytes(path)?;
    text_only(&file, &bytes)?;
    read_canonical_table(&file, &bytes, false)
}

/// Text sources must be UTF-8 (a GBK file gets its own message); Parquet is binary.
fn text_only(file: &str, bytes: &[u8]) -> Result<(), IngestError> {
    match hazewarn_text::utf8_text(bytes) {
        Err(message) if !bytes.starts_with(b"PAR1") => Err(IngestError::Encoding { file: file.to_owned(), message }),
        _ => Ok(()),
    }
}

fn read_canonical(file: &str, bytes: &[u8]) -> Result<RawFile, IngestError> {
    read_canonical_table(file, bytes, true)
}

fn read_canonical_table(file: &str, bytes: &[u8], pollutants: bool) -> Result<RawFile, IngestError> {
    let (mut reader, mut c) = cells(file, bytes)?;
    let (tcol, scol) = (c.col("time")?, c.col("station")?);
    if pollutants {
        c.col("pm25")?;
    }
    let mut cols = Vec::new();
    for (name, &i) in &c.index {
        if i == tcol || i == scol || name.ends_with("_qc") {
            continue;
        }
        let var = Variable::from_name(name).ok_or_else(|| IngestError::Parse {
            file: file.to_owned(),
            line: 1,
            column: name.clone(),
            message: "not a column of the canonical table".into(),
        })?;
        if !pollutants && !var.is_met() {
            return Err(IngestError::Parse {
                file: file.to_owned(),
                line: 1,
                column: name.clone(),
                message: "a meteorological table has no pollutant columns".into(),
            });
        }
        cols.push((i, var));
    }
    let mut stations: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    while next(&mut reader, &mut c)? {
        let time = c.local_hour(tcol, "time")?;
        let name = c.text(scol).to_owned();
        if name.is_empty() {
            return Err(c.err("station", "the station name is empty".into()));
        }
        let station = match stations.iter().position(|s| *s == name) {
            Some(i) => i,
            None => {
                stations.push(name);
                stations.len() - 1
            }
        };
        let mut v = empty_values();
        for &(col, var) in &cols {
            v[var.index()] = c.number(col)?;
        }
        rows.push(RawRow { station, time, values: v, line: c.line, calm: false });
    }
    let vars: Vec<Variable> = cols.iter().map(|(_, v)| *v).collect();
    Ok(RawFile {
        layout: Layout::Canonical,
        stations,
        present: present(&vars),
        rows,
        source_columns: c.stats,
        outside_rows: 0,
    })
}

pub(crate) fn present(vars: &[Variable]) -> [bool; NVAR] {
    let mut p = [false; NVAR];
    for v in vars {
        p[v.index()] = true;
    }
    p[Variable::Pm25.index()] = true;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compass_points_are_degrees() {
        assert_eq!(compass("N"), Some(Some(0.0)));
        assert_eq!(compass("ESE"), Some(Some(112.5)));
        assert_eq!(compass("NW"), Some(Some(315.0)));
        assert_eq!(compass("cv"), Some(None));
        assert_eq!(compass("XX"), None);
    }

    #[test]
    fn cumulative_wind_becomes_hourly_speed() {
        let t0 = NaiveDate::from_ymd_opt(2014, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let h = |k| t0 + chrono::Duration::hours(k);
        let mut w = CumulativeWind { last: None };
        // NW 1.79, 3.58 (+1.79), 6.71 (+3.13), then the direction changes and the sum restarts.
        let got: Vec<f64> = [(0, "NW", 1.79), (1, "NW", 3.58), (2, "NW", 6.71), (3, "SE", 0.89), (4, "SE", 1.78)]
            .iter()
            .map(|(k, d, x)| w.step(h(*k), d, *x))
            .collect();
        let want = [1.79, 1.79, 3.13, 0.89, 0.89];
        for (g, e) in got.iter().zip(want) {
            assert!((g - e).abs() < 1e-9, "{got:?}");
        }
    }

    #[test]
    fn layouts_are_detected_from_the_header() {
        assert_eq!(
            detect_layout(b"No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"),
            Some(Layout::UciPrsa)
        );
        assert_eq!(
            detect_layout(b"No,year,month,day,hour,season,PM_Dongsi,PM_US Post,DEWP,HUMI,PRES,TEMP,cbwd,Iws\n"),
            Some(Layout::UciFiveCity)
        );
        assert_eq!(
            detect_layout(b"\"No\",\"year\",\"PM2.5\",\"wd\",\"WSPM\",\"station\"\r\n"),
            Some(Layout::UciMultisite)
        );
        assert_eq!(detect_layout(b"time,station,pm25\n"), Some(Layout::Canonical));
        assert_eq!(detect_layout(b"a,b,c\n"), None);
    }

    #[test]
    fn canonical_times_accept_offsets() {
        let t = parse_local_time("2026-01-10T10:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-10 18:00:00");
        assert_eq!(parse_local_time("2026-01-10 18:00").unwrap(), t);
        assert!(parse_local_time("2026-02-30 01:00").is_none());
    }
}
