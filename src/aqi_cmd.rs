//! `hazewarn aqi`: daily AQI for a CSV of daily concentrations.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use chrono::NaiveDate;
use hazewarn_aqi::{AqiReport, DailyConcentrations, Pollutant, Standards};

/// The input columns this command understands, and the pollutant each one reports.
const COLUMNS: [(&str, Pollutant); 6] = [
    ("pm25", Pollutant::Pm25),
    ("pm10", Pollutant::Pm10),
    ("so2", Pollutant::So2),
    ("no2", Pollutant::No2),
    ("co", Pollutant::Co),
    ("o3_8h", Pollutant::O3),
];

pub fn run(input: &Path, output: &Path) -> Result<()> {
    let file = input.display();
    let mut reader = csv::Reader::from_path(input).map_err(|e| anyhow!("{file}: {e}"))?;
    let headers = reader.headers().map_err(|e| anyhow!("{file}: {e}"))?.clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let date_col = index("date").ok_or_else(|| anyhow!("{file}: required column `date` is missing"))?;
    let mut pollutant_cols: Vec<(usize, &str, Pollutant)> =
        COLUMNS.iter().filter_map(|(n, p)| index(n).map(|i| (i, *n, *p))).collect();
    pollutant_cols.sort_by_key(|(i, _, _)| *i);
    if pollutant_cols.is_empty() {
        bail!("{file}: no pollutant column; expected any of pm25,pm10,so2,no2,co,o3_8h");
    }
    let mut rows = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| anyhow!("{file}: {e}"))?;
        let line = record.position().map_or(k as u64 + 2, |p| p.line());
        let at = |column: &str| format!("{file}: line {line} (row {}), column `{column}`", k + 1);
        let text = record.get(date_col).unwrap_or("").trim();
        let date: NaiveDate =
            text.parse().map_err(|_| anyhow!("{}: `{text}` is not a date (YYYY-MM-DD)", at("date")))?;
        let mut c = DailyConcentrations::default();
        for &(col, name, _) in &pollutant_cols {
            let text = record.get(col).unwrap_or("").trim();
            if text.is_empty() {
                continue;
            }
            let v: f64 = text.parse().map_err(|_| anyhow!("{}: `{text}` is not a number", at(name)))?;
            if !v.is_finite() || v < 0.0 {
                bail!("{}: {text} is not a concentration (must be ≥ 0)", at(name));
            }
            let slot = match name {
                "pm25" => &mut c.pm25,
                "pm10" => &mut c.pm10,
                "so2" => &mut c.so2,
                "no2" => &mut c.no2,
                "co" => &mut c.co,
                _ => &mut c.o3_8h,
            };
            *slot = Some(v);
        }
        let report = Standards::builtin().daily(date, &c).map_err(|e| anyhow!("{}: {e}", at("*")))?;
        rows.push((record, report));
    }
    let mut writer = csv::Writer::from_path(output).map_err(|e| anyhow!("{}: {e}", output.display()))?;
    let mut header: Vec<&str> = headers.iter().collect();
    header.extend(["aqi", "level", "category", "primary_pollutants", "standard"]);
    writer.write_record(&header)?;
    for (record, report) in &rows {
        let mut out: Vec<String> = record.iter().map(str::to_owned).collect();
        out.extend(output_fields(report, &pollutant_cols));
        writer.write_record(&out)?;
    }
    writer.flush()?;
    tracing::info!(rows = rows.len(), output = %output.display(), "wrote daily AQI");
    Ok(())
}

fn output_fields(r: &AqiReport, cols: &[(usize, &str, Pollutant)]) -> [String; 5] {
    // Listed in the input's column order.
    let primary: Vec<&str> = cols.iter().filter(|(_, _, p)| r.primary.contains(p)).map(|(_, n, _)| *n).collect();
    [r.aqi.to_string(), r.level.level.to_string(), r.level.category.clone(), primary.join(";"), r.standard.clone()]
}
