//! Forecaster speed: fitting and one forecast issue on the bundled synthetic sample, and the full
//! PRSA backtest of the forecaster issue (train 2010–13, 365 issues of 2014 × 96 leads) on
//! `../shared/data`, which is skipped when that data is absent (and fails under `CI=true`).

use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use hazewarn_forecast::{Derived, Hourly, ModelParams, VerifiedIssuer};
use hazewarn_ingest::read_station;

fn bench(c: &mut Criterion) {
    let obs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample/observations.csv");
    let h = Hourly::from_series(&read_station(&obs, None, None).unwrap());
    let until = 24 * 640; // about 21 months of training
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    group.bench_function("fit gbdt, future met, 21 months", |b| {
        b.iter(|| ModelParams::new(true, 16).fit(&h, until, Some(&h)).unwrap())
    });
    let model = ModelParams::new(true, 16).fit(&h, until, Some(&h)).unwrap();
    let d = Derived::new(&h);
    let i0 = until + 24 * 30 + 16;
    group.bench_function("one forecast issue (96 leads, p10/p50/p90, baselines)", |b| {
        b.iter(|| model.predict(&d, i0, Some(&d)).unwrap())
    });
    group.bench_function(
        "one forecast issue with its spread, level and first hour from recent verification (61 issues)",
        |b| b.iter(|| model.predict_verified(&d, i0, Some(&d)).unwrap()),
    );
    if let Some(h) = prsa() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let until = h.index(day(2014, 1, 1)).unwrap();
        for future_met in [false, true] {
            let name = format!("full backtest PRSA 2014, future met {}", if future_met { "observed" } else { "none" });
            group.bench_function(name, |b| {
                b.iter(|| {
                    let model = ModelParams::new(future_met, 16).fit(&h, until, future_met.then_some(&h)).unwrap();
                    let d = Derived::new(&h);
                    let issues = (0..365).map(|k| until + 24 * k + 16).filter(|i| !d.pm_now(*i).is_nan());
                    let mut issuer = VerifiedIssuer::new(&model, &d, future_met.then_some(&d));
                    issues.map(|i0| issuer.issue(i0).unwrap().0.leads.len()).sum::<usize>()
                })
            });
        }
    }
    group.finish();
}

/// The single-site PRSA file from `../shared/data`, or `None` (outside CI) when it is absent.
fn prsa() -> Option<Hourly> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/PRSA_data_2010.1.1-2014.12.31.csv.gz");
    if !path.exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is missing", path.display());
        eprintln!("skipping the PRSA backtest: {} is absent", path.display());
        return None;
    }
    Some(Hourly::from_series(&read_station(&path, None, None).unwrap()))
}

criterion_group!(benches, bench);
criterion_main!(benches);
