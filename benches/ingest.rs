//! Ingest plus QC of the largest shared file (the five-city Beijing file, 52,584 rows).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use hazewarn_ingest::{IngestOptions, ingest};

fn bench(c: &mut Criterion) {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/BeijingPM20100101_20151231.csv.gz");
    if !file.exists() {
        eprintln!("skipping: {} is absent", file.display());
        return;
    }
    let mut group = c.benchmark_group("ingest");
    group.sample_size(20);
    group.bench_function("five-city 52584 rows: read + QC", |b| {
        b.iter(|| ingest(std::slice::from_ref(&file), &IngestOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
