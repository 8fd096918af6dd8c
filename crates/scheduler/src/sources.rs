//! Fetching the configured HTTP sources: timeouts, retries with backoff, schema checks, and an
//! error that names the source. Observations arrive as canonical CSV or JSON; the NWP
//! meteorological forecast arrives as Open-Meteo JSON (`hourly` arrays).

use std::time::Duration;

use chrono::{Duration as Span, NaiveDateTime};
use hazewarn_forecast::MetForecastHour;
use serde_json::Value;

use crate::config::{Source, SourceKind};

/// The canonical columns, in the order a converted JSON source is written.
const CANONICAL: [&str; 15] = [
    "time", "station", "pm25", "pm10", "so2", "no2", "co", "o3", "temp", "dewp", "rh", "pres", "wspd", "wdir", "precip",
];

/// GET with a timeout, retrying transport errors and 5xx/429 with exponential backoff.
pub async fn fetch(client: &reqwest::Client, s: &Source) -> Result<Vec<u8>, String> {
    let mut last = String::new();
    for attempt in 0..=s.retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200u64 << attempt.min(6))).await;
        }
        let sent = client.get(&s.url).timeout(Duration::from_secs_f64(s.timeout_s)).send().await;
        match sent {
            Ok(r) if r.status().is_success() => match r.bytes().await {
                Ok(b) => return Ok(b.to_vec()),
                Err(e) => last = format!("reading the body: {e}"),
            },
            Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                last = format!("HTTP {}", r.status())
            }
            Ok(r) => return Err(format!("source `{}` ({}): HTTP {}", s.name, s.url, r.status())),
            Err(e) => last = if e.is_timeout() { format!("timed out after {} s", s.timeout_s) } else { e.to_string() },
        }
    }
    Err(format!("source `{}` ({}): {last} (after {} attempts)", s.name, s.url, s.retries + 1))
}

/// A JSON array of canonical rows → canonical CSV text. Unknown keys are an error, not dropped.
pub fn json_observations_to_csv(source: &str, bytes: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("source `{source}`: not JSON: {e}"))?;
    let rows = v.as_array().ok_or_else(|| format!("source `{source}`: expected a JSON array of rows"))?;
    let mut used: Vec<&str> = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let obj = r.as_object().ok_or_else(|| format!("source `{source}`: row {}: not an object", k + 1))?;
        for key in obj.keys() {
            let col = CANONICAL
                .iter()
                .find(|c| *c == key)
                .ok_or_else(|| format!("source `{source}`: row {}, field `{key}`: not a canonical column", k + 1))?;
            if !used.contains(col) {
                used.push(col);
            }
        }
    }
    used.sort_by_key(|c| CANONICAL.iter().position(|x| x == c));
    let mut out = used.join(",");
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = used
            .iter()
            .map(|c| match r.get(*c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.replace([',', '\n'], " "),
                Some(other) => other.to_string(),
            })
            .collect();
        out += &cells.join(",");
        out.push('\n');
    }
    Ok(out)
}

/// Open-Meteo's `hourly` arrays → forecast hours in Beijing time (+08:00). Wind speed in km/h is
/// converted to m/s; times are shifted from the response's `utc_offset_seconds`.
pub fn parse_open_meteo(source: &str, bytes: &[u8]) -> Result<Vec<MetForecastHour>, String> {
    let err = |m: String| format!("source `{source}`: {m}");
    let v: Value = serde_json::from_slice(bytes).map_err(|e| err(format!("not JSON: {e}")))?;
    let hourly = v.get("hourly").and_then(Value::as_object).ok_or_else(|| err("no `hourly` object".into()))?;
    let times = hourly.get("time").and_then(Value::as_array).ok_or_else(|| err("no `hourly.time` array".into()))?;
    let offset = v.get("utc_offset_seconds").and_then(Value::as_i64).unwrap_or(8 * 3600);
    let kmh =
        v.get("hourly_units").and_then(|u| u.get("wind_speed_10m")).and_then(Value::as_str).is_none_or(|u| u == "km/h");
    let series = |name: &str| -> Result<Option<Vec<Option<f64>>>, String> {
        let Some(a) = hourly.get(name) else { return Ok(None) };
        let a = a.as_array().ok_or_else(|| err(format!("`hourly.{name}` is not an array")))?;
        if a.len() != times.len() {
            return Err(err(format!("`hourly.{name}` has {} values for {} times", a.len(), times.len())));
        }
        a.iter()
            .enumerate()
            .map(|(k, x)| match x {
                Value::Null => Ok(None),
                Value::Number(n) => Ok(n.as_f64()),
                _ => Err(err(format!("`hourly.{name}`[{k}] is not a number"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    };
    let temp = series("temperature_2m")?;
    let dewp = series("dew_point_2m")?;
    let rh = series("relative_humidity_2m")?;
    let pres = match series("surface_pressure")? {
        Some(p) => Some(p),
        None => series("pressure_msl")?,
    };
    let wspd = series("wind_speed_10m")?;
    let wdir = series("wind_direction_10m")?;
    let precip = series("precipitation")?;
    if temp.is_none() && wspd.is_none() {
        return Err(err("neither `temperature_2m` nor `wind_speed_10m` is present".into()));
    }
    let at = |s: &Option<Vec<Option<f64>>>, k: usize| s.as_ref().and_then(|v| v[k]);
    times
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let text = t.as_str().ok_or_else(|| err(format!("`hourly.time`[{k}] is not a string")))?;
            let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .map_err(|_| err(format!("`hourly.time`[{k}]: `{text}` is not YYYY-MM-DDTHH:MM")))?;
            let valid = local - Span::seconds(offset) + Span::hours(8);
            let speed = at(&wspd, k).map(|w| if kmh { w / 3.6 } else { w });
            Ok(MetForecastHour {
                valid,
                temp: at(&temp, k),
                dewp: at(&dewp, k),
                rh: at(&rh, k),
                pres: at(&pres, k),
                wspd: speed,
                wdir: at(&wdir, k),
                precip: at(&precip, k),
            })
        })
        .collect()
}

/// Power feeds: pulled by the compliance job into the store, not read by the forecast.
pub fn is_power(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::PowerCsv | SourceKind::PowerJson)
}

pub fn is_observations(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::ObservationsCsv | SourceKind::ObservationsJson)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_meteo_wind_is_converted_and_utc_times_shifted_to_beijing() {
        let body = br#"{"utc_offset_seconds":0,"hourly_units":{"wind_speed_10m":"km/h"},
            "hourly":{"time":["2026-01-05T00:00","2026-01-05T01:00"],
            "temperature_2m":[1.5,null],"wind_speed_10m":[36.0,7.2],"wind_direction_10m":[90,180]}}"#;
        let h = parse_open_meteo("nwp", body).unwrap();
        assert_eq!(h[0].valid.to_string(), "2026-01-05 08:00:00");
        assert_eq!(h[0].wspd, Some(10.0));
        assert!((h[1].wspd.unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(h[1].temp, None);
    }

    #[test]
    fn malformed_sources_name_the_source_and_field() {
        let short = br#"{"hourly":{"time":["2026-01-05T00:00"],"temperature_2m":[1,2]}}"#;
        let e = parse_open_meteo("nwp", short).unwrap_err();
        assert!(e.contains("source `nwp`") && e.contains("temperature_2m"), "{e}");
        let e = json_observations_to_csv("obs", br#"[{"time":"2026-01-05 08:00","pm2.5":3}]"#).unwrap_err();
        assert!(e.contains("row 1") && e.contains("pm2.5"), "{e}");
        let csv = json_observations_to_csv("obs", br#"[{"pm25":3,"time":"2026-01-05 08:00","station":"A"}]"#).unwrap();
        assert_eq!(csv, "time,station,pm25\n2026-01-05 08:00,A,3\n");
    }
}
