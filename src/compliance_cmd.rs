//! `hazewarn power import` (electricity-use feeds), `hazewarn compliance check` (judge the
//! warning in force now) and `hazewarn compliance alarms`: thin wrappers over the scheduler.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, FixedOffset};

use crate::cycle_cmd::{ConfigArg, open, runtime};

pub fn import_power(c: &ConfigArg, files: &[PathBuf]) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        for f in files {
            let bytes = std::fs::read(f).with_context(|| f.display().to_string())?;
            let (n, new) = city.import_power(&f.display().to_string(), &bytes, city.now()).await?;
            println!("{}: {n} readings, {new} new", f.display());
        }
        Ok(())
    })
}

pub fn check(c: &ConfigArg, at: Option<DateTime<FixedOffset>>) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, at).await?;
        match city.check_compliance(city.now()).await? {
            None => println!("no warning in force"),
            Some(run) => println!("{}", serde_json::to_string_pretty(&run)?),
        }
        Ok(())
    })
}

pub fn list_alarms(c: &ConfigArg) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        for a in city.store.alarms(None).await? {
            println!("{}", serde_json::to_string(&a)?);
        }
        Ok(())
    })
}
