//! `hazewarn demo`: the daily cycle, offline, on the synthetic sample city.

use std::path::Path;

use anyhow::{Context as _, Result};
use hazewarn_aqi::Standards;
use hazewarn_ingest::{IngestOptions, daily::daily_records, ingest, write_parquet};

pub fn run(sample: &Path, out: &Path) -> Result<()> {
    let obs_file = sample.join(crate::sample::OBSERVATIONS_FILE);
    let (obs, report) = ingest(&[&obs_file], &IngestOptions::default())?;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    write_parquet(&obs, &out.join("observations.parquet"))?;
    std::fs::write(out.join("qc_report.json"), serde_json::to_string_pretty(&report)?)?;
    println!("== Quality control of {} (synthetic sample city)\n{}", obs_file.display(), report.summary());

    let series = &obs.series[0];
    let mut csv = String::from("date,pm25,pm10,so2,no2,co,o3_8h,aqi,level,category,primary_pollutants,standard\n");
    let mut counts = [0usize; 6];
    let (mut shown, mut invalid) = (0, 0);
    println!("== Daily AQI (HJ 633 by date); heavy days (AQI > 200) listed");
    for d in daily_records(series) {
        let c = d.concentrations;
        let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.1}"));
        let Ok(r) = Standards::builtin().daily(d.date, &c) else {
            // Too few valid hours for every pollutant (GB 3095 needs 20): the day is kept, without an AQI.
            invalid += 1;
            csv.push_str(&format!("{},,,,,,,,,数据不足,,\n", d.date));
            continue;
        };
        counts[usize::from(r.level.level) - 1] += 1;
        let primary: Vec<&str> = r.primary.iter().map(|p| p.label()).collect();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            d.date,
            f(c.pm25),
            f(c.pm10),
            f(c.so2),
            f(c.no2),
            f(c.co),
            f(c.o3_8h),
            r.aqi,
            r.level.level,
            r.level.category,
            primary.join(";"),
            r.standard
        ));
        if r.aqi > 200 && shown < 40 {
            shown += 1;
            println!(
                "  {}  AQI {:>3}  {:<4}  {}  ({})",
                d.date,
                r.aqi,
                r.level.category,
                primary.join(";"),
                r.standard
            );
        }
    }
    std::fs::write(out.join("daily_aqi.csv"), csv)?;
    let labels = ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"];
    let summary: Vec<String> = labels.iter().zip(counts).map(|(l, n)| format!("{l} {n}")).collect();
    println!("  days by category: {}; without enough valid hours: {invalid}", summary.join(", "));
    println!("wrote {}", out.display());
    Ok(())
}
