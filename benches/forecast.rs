//! Forecaster speed on the bundled synthetic sample: fitting, and one forecast issue.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use hazewarn_forecast::{Derived, Hourly, ModelParams};
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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
