//! Ingest speed.
//!
//! - Read + QC of the largest shared file (the five-city Beijing file, 52,584 rows), skipped
//!   when `../shared/data` is absent.
//! - One month of the national real-time release for one city: 720 hourly files of 2,000
//!   stations each (generated here, 5 of them the city's), read with the city selected by `area`.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use hazewarn_ingest::{IngestOptions, ingest};

const STATIONS: usize = 2000;
const HOURS: i64 = 720;

/// Hourly release files in `dir`: one per hour, `STATIONS` rows each, the first five in 漯河市.
fn national_month(dir: &std::path::Path) -> Vec<PathBuf> {
    let t0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(1, 0, 0).unwrap();
    let header = "timepoint,stationcode,longitude,latitude,area,positionname,primarypollutant,aqi,pm10,pm10_24h,\
                  pm2_5,pm2_5_24h,o3,o3_24h,o3_8h,o3_8h_24h,no2,no2_24h,so2,so2_24h,co,co_24h\n";
    (0..HOURS)
        .map(|h| {
            let t = t0 + Duration::hours(h);
            let mut text = String::from(header);
            for s in 0..STATIONS {
                let area = if s < 5 { "漯河市".to_owned() } else { format!("城市{}", s / 5) };
                let pm = 20 + (h as usize * 7 + s * 13) % 180;
                let _ = writeln!(
                    text,
                    "{},{}A,{:.4},{:.4},{area},站点{s},PM2.5,{},{},{},{pm},{},{},{},{},{},{},{},{},{},{:.2},{:.2}",
                    t.format("%Y-%m-%d %H:%M:%S"),
                    1001 + s,
                    100.0 + s as f64 * 0.01,
                    30.0 + s as f64 * 0.005,
                    pm + 30,
                    pm + 40,
                    pm + 38,
                    pm - 2,
                    40,
                    42,
                    45,
                    44,
                    35,
                    33,
                    9,
                    10,
                    0.8,
                    0.9
                );
            }
            let p = dir.join(format!("{}.csv", t.format("%Y%m%d%H")));
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let files = national_month(dir.path());
    let city = IngestOptions { area: Some("漯河市".into()), ..Default::default() };
    let (obs, report) = ingest(&files, &city).unwrap();
    assert_eq!(obs.series.len(), 5);
    assert_eq!(report.files.iter().map(|f| f.outside_rows).sum::<usize>(), 720 * (STATIONS - 5));
    group.bench_function("national real-time, 720 files x 2000 stations, one city", |b| {
        b.iter(|| ingest(&files, &city).unwrap())
    });

    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/BeijingPM20100101_20151231.csv.gz");
    if file.exists() {
        group.bench_function("five-city 52584 rows: read + QC", |b| {
            b.iter(|| ingest(std::slice::from_ref(&file), &IngestOptions::default()).unwrap())
        });
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {} is absent", file.display());
    } else {
        eprintln!("not measured: {} is absent", file.display());
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
