//! `hazewarn ingest`: source files → canonical Parquet plus a QC report.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use hazewarn_ingest::{IngestOptions, Layout, ingest, write_parquet};

pub fn run(files: &[PathBuf], layout: Option<Layout>, station: Option<String>, out: &Path) -> Result<()> {
    let options = IngestOptions { layout, station, ..Default::default() };
    let (obs, report) = ingest(files, &options)?;
    std::fs::create_dir_all(out).map_err(|e| anyhow!("{}: {e}", out.display()))?;
    // Write to temporary names first so a failure leaves no half-written output behind.
    let parquet = out.join("observations.parquet");
    let tmp = out.join(".observations.parquet.tmp");
    write_parquet(&obs, &tmp)?;
    std::fs::rename(&tmp, &parquet)?;
    std::fs::write(out.join("qc_report.json"), serde_json::to_string_pretty(&report)?)?;
    let summary = report.summary();
    std::fs::write(out.join("qc_summary.txt"), &summary)?;
    print!("{summary}");
    println!("wrote {}", parquet.display());
    Ok(())
}
