use crate::common::{hazewarn, repo, text};

#[test]
fn demo_ingests_the_sample_and_writes_its_outputs() {
    let out = tempfile::tempdir().unwrap();
    let sample = repo().join("data/sample");
    let o = hazewarn(&["demo", "--sample", sample.to_str().unwrap(), "--out", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The planted QC problems are found: one gap of 5 hours, one conflicting duplicate, one spike.
    assert!(stdout.contains("1 duplicate hours, 1 gaps"), "{stdout}");
    assert!(stdout.contains("differing pm25"), "{stdout}");
    let daily = std::fs::read_to_string(out.path().join("daily_aqi.csv")).unwrap();
    // 821 days (2024-01-01 .. 2026-03-31) and both editions of HJ 633 in use.
    assert_eq!(daily.lines().count(), 1 + 821);
    assert!(daily.contains("HJ 633-2012") && daily.contains("HJ 633-2026"));
    assert!(out.path().join("observations.parquet").exists());
}

#[test]
fn the_committed_sample_is_what_the_generator_makes() {
    let out = tempfile::tempdir().unwrap();
    let o = hazewarn(&["sample", "--out", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let made = std::fs::read(out.path().join("observations.csv")).unwrap();
    let committed = std::fs::read(repo().join("data/sample/observations.csv")).unwrap();
    assert!(made == committed, "data/sample/observations.csv is stale: run `hazewarn sample`");
}
