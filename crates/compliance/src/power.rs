//! Power feeds (分表计电): a meter's mean power over an interval, from CSV or JSON bytes, and the
//! hourly means the evaluation compares.
//!
//! CSV has a header with `meter`, `time` and `kw` (or 电表编号, 时间, 功率); JSON is an array of
//! `{"meter", "time", "kw"}` (or an object holding it as `readings`). A time is RFC 3339, or
//! `YYYY-MM-DD HH:MM[:SS]` in Beijing time. A feed with any bad row is refused whole, each
//! problem named by its row and field.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Timelike};

use crate::{ComplianceError, Reading};

/// One meter's reading.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerReading {
    pub meter: String,
    pub at: DateTime<FixedOffset>,
    pub kw: f64,
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return beijing().from_local_datetime(&t).single().ok_or_else(|| format!("`{s}` is not a time"));
        }
    }
    Err(format!("`{s}` is not RFC 3339 or YYYY-MM-DD HH:MM[:SS]"))
}

fn check_meter(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.#".contains(c)) {
        return Err(format!("`{s}` is not 1 to 64 letters, digits or -_.#"));
    }
    Ok(s.to_owned())
}

fn check_kw(v: f64) -> Result<f64, String> {
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(format!("{v} is not a power in kW (finite, not negative)")) }
}

fn reading(meter: &str, time: &str, kw: Result<f64, String>) -> Result<PowerReading, (&'static str, String)> {
    Ok(PowerReading {
        meter: check_meter(meter).map_err(|e| ("meter", e))?,
        at: parse_time(time).map_err(|e| ("time", e))?,
        kw: kw.and_then(check_kw).map_err(|e| ("kw", e))?,
    })
}

/// Reads a feed by its name: `.json` as JSON, anything else as CSV.
pub fn parse_power(file: &str, bytes: &[u8]) -> Result<Vec<PowerReading>, ComplianceError> {
    let problems = if file.to_ascii_lowercase().ends_with(".json") { from_json(bytes) } else { from_csv(bytes) };
    let (readings, mut problems) = problems.map_err(|message| ComplianceError::Feed { file: file.into(), message })?;
    // The same meter and time twice with different values: which one is true is unknown.
    let mut seen: BTreeMap<(&str, DateTime<FixedOffset>), (usize, f64)> = BTreeMap::new();
    for (row, r) in &readings {
        if let Some((first, kw)) = seen.insert((&r.meter, r.at), (*row, r.kw))
            && kw != r.kw
        {
            problems
                .push(format!("row {row}, field `time`: {} {} is also row {first}, with another kw", r.meter, r.at));
        }
    }
    if !problems.is_empty() {
        let shown: Vec<String> = problems.iter().take(20).cloned().collect();
        let more =
            if problems.len() > 20 { format!("\n  … and {} more", problems.len() - 20) } else { String::new() };
        return Err(ComplianceError::Feed {
            file: file.into(),
            message: format!("{} problem(s); nothing was read\n  {}{more}", problems.len(), shown.join("\n  ")),
        });
    }
    Ok(readings.into_iter().map(|(_, r)| r).collect())
}

type Parsed = (Vec<(usize, PowerReading)>, Vec<String>);

fn from_csv(bytes: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 ({e})"))?;
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = rd.headers().map_err(|e| format!("header: {e}"))?.clone();
    let col = |names: [&str; 2]| {
        header
            .iter()
            .position(|h| names.contains(&h.trim()))
            .ok_or_else(|| format!("header: no `{}` (or {}) column", names[0], names[1]))
    };
    let (m, t, k) = (col(["meter", "电表编号"])?, col(["time", "时间"])?, col(["kw", "功率"])?);
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for (i, rec) in rd.records().enumerate() {
        let row = i + 2; // the header is line 1
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("row {row}: {e}"));
                continue;
            }
        };
        let get = |c: usize| rec.get(c).unwrap_or("");
        let kw = get(k).trim().parse::<f64>().map_err(|_| format!("`{}` is not a number", get(k)));
        match reading(get(m), get(t), kw) {
            Ok(r) => out.push((row, r)),
            Err((field, e)) => problems.push(format!("row {row}, field `{field}`: {e}")),
        }
    }
    Ok((out, problems))
}

fn from_json(bytes: &[u8]) -> Result<Parsed, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let items = v
        .as_array()
        .or_else(|| v.get("readings").and_then(|r| r.as_array()))
        .ok_or("expected an array of {meter, time, kw}, or {\"readings\": [...]}")?;
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        let row = i + 1;
        let text = |f: &str| item.get(f).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        let kw = item.get("kw").and_then(|x| x.as_f64()).ok_or_else(|| "missing, or not a number".to_owned());
        match reading(&text("meter"), &text("time"), kw) {
            Ok(r) => out.push((row, r)),
            Err((field, e)) => problems.push(format!("row {row}, field `{field}`: {e}")),
        }
    }
    Ok((out, problems))
}

/// The mean of the readings in each clock hour, at the hour's start (in the readings' own
/// offset), oldest first. A meter that reports every 15 minutes gives one value an hour.
pub fn hourly_means(readings: &[Reading]) -> Vec<Reading> {
    let mut hours: BTreeMap<DateTime<FixedOffset>, (f64, u32)> = BTreeMap::new();
    for r in readings.iter().filter(|r| r.value.is_finite()) {
        let start = r.at.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0));
        let e = hours.entry(start.unwrap_or(r.at)).or_insert((0.0, 0));
        e.0 += r.value;
        e.1 += 1;
    }
    hours.into_iter().map(|(at, (sum, n))| Reading { at, value: sum / f64::from(n) }).collect()
}
