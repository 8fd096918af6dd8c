//! Scale-out on one PostgreSQL database (127.0.0.1:5432, database `test`): every city a schema
//! of its own, several instances per city claiming job slots and outbox messages under short
//! leases, dying and stalling at random (`hazewarn_store::simulate`). Runs Henan's size (18 cities
//! × 2 instances, all at once) and every prefecture-level city (339 × 4, ten cities at a time so
//! that 10 × 4 × 2 connections stay under PostgreSQL's default 100), checks the invariants and
//! prints the times.
//!
//! `cargo bench --bench scaleout` (`-- 339x4` or `-- 18x2` for one of them)

use hazewarn_store::simulate::{Plan, run};

fn main() {
    let only = std::env::args().skip(1).find(|a| a.contains('x'));
    let plans = [Plan { cities: 18, instances: 2, parallel: 18 }, Plan { cities: 339, instances: 4, parallel: 10 }];
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let mut failed = false;
    for plan in plans {
        let name = format!("{}x{}", plan.cities, plan.instances);
        if only.as_ref().is_some_and(|o| *o != name) {
            continue;
        }
        let report = runtime.block_on(run(plan));
        println!("{}", report.summary());
        if let Err(e) = report.check() {
            eprintln!("{name}: {e}");
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
