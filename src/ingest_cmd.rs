//! `hazewarn ingest`: source files → canonical Parquet plus a QC report.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use hazewarn_ingest::city::{CityMeanOptions, CitySeries, city_mean};
use hazewarn_ingest::met::{ingest_met, join_met};
use hazewarn_ingest::{IngestOptions, Observations, ingest, write_parquet};

/// The city series as Parquet and as canonical CSV (which `ingest` and `backtest` read back),
/// and per hour how many stations contributed, each to a temporary name: the (temporary, final)
/// names to rename.
fn write_city(c: &CitySeries, out: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let city = Observations { series: vec![c.series.clone()] };
    let tmp = out.join(".city.parquet.tmp");
    write_parquet(&city, &tmp)?;
    let s = &c.series;
    let mut csv = String::from("time,station");
    for col in &s.columns {
        csv += &format!(",{}", col.variable.name());
    }
    csv.push('\n');
    for (k, t) in s.times.iter().enumerate() {
        csv += &format!("{},{}", t.format("%Y-%m-%d %H:%M"), s.station);
        for col in &s.columns {
            let v = col.values[k];
            csv += &if v.is_finite() { format!(",{v}") } else { ",".to_owned() };
        }
        csv.push('\n');
    }
    let csv_tmp = out.join(".city.csv.tmp");
    std::fs::write(&csv_tmp, csv)?;
    let mut counts = String::from("time,stations\n");
    for (t, n) in c.series.times.iter().zip(&c.contributing) {
        counts += &format!("{},{n}\n", t.format("%Y-%m-%d %H:%M"));
    }
    let counts_tmp = out.join(".city_stations.csv.tmp");
    std::fs::write(&counts_tmp, counts)?;

    let ignored =
        if c.ignored.is_empty() { String::new() } else { format!("; not averaged: {}", c.ignored.join(", ")) };
    println!(
        "city series of {} stations ({}): {} hours with fewer than half reporting{ignored}",
        c.stations.len(),
        c.stations.join(", "),
        c.thin_hours
    );
    Ok(vec![
        (tmp, out.join("city.parquet")),
        (csv_tmp, out.join("city.csv")),
        (counts_tmp, out.join("city_stations.csv")),
    ])
}

/// `city`: write the city series too, of these assessment stations (`None`: all of them).
/// `met`: a weather-station table joined onto the city series.
pub fn run(
    files: &[PathBuf],
    options: &IngestOptions,
    city: Option<Option<Vec<String>>>,
    met: &[PathBuf],
    out: &Path,
) -> Result<()> {
    let (obs, report) = ingest(files, options)?;
    // Computed before anything is written, so an unknown station leaves no output behind.
    let city = match city {
        Some(stations) => {
            let mut c = city_mean(&obs, &CityMeanOptions { stations, ..CityMeanOptions::default() })?;
            if !met.is_empty() {
                let (weather, _) = ingest_met(met, &options.qc)?;
                c.series = join_met(&c.series, &weather);
            }
            Some(c)
        }
        None => None,
    };
    std::fs::create_dir_all(out).map_err(|e| anyhow!("{}: {e}", out.display()))?;
    // Everything is written to temporary names first and renamed at the end, so a failure
    // leaves no half-written output behind.
    let parquet = out.join("observations.parquet");
    let tmp = out.join(".observations.parquet.tmp");
    write_parquet(&obs, &tmp)?;
    let mut renames = vec![(tmp, parquet.clone())];
    if let Some(c) = &city {
        renames.extend(write_city(c, out)?);
    }
    for (from, to) in renames {
        std::fs::rename(from, to)?;
    }
    std::fs::write(out.join("qc_report.json"), serde_json::to_string_pretty(&report)?)?;
    let summary = report.summary();
    std::fs::write(out.join("qc_summary.txt"), &summary)?;
    print!("{summary}");
    println!("wrote {}", parquet.display());
    Ok(())
}
