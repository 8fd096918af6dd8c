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
    // The response half: a warning, its plan, notices and the public alert.
    assert!(stdout.contains("recommended: Issue"), "{stdout}");
    let hourly = std::fs::read_to_string(out.path().join("forecast_hourly.csv")).unwrap();
    assert_eq!(hourly.lines().count(), 1 + 96);
    let warning: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("warning.json")).unwrap()).unwrap();
    assert_eq!(warning["state"], "issued");
    assert!(std::fs::read_to_string(out.path().join("cap.xml")).unwrap().contains("<msgType>Alert</msgType>"));
    assert!(std::fs::read_dir(out.path().join("notices")).unwrap().count() >= 3 * 60);
    // It ran as a city runs: through the store and the dispatcher, and it says how to serve the result.
    let report = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(report.matches("<svg").count(), 2, "the hourly and daily charts");
    assert!(report.contains("减排方案") && report.contains("O1："), "the plan and the reasons");
    let delivered = std::fs::read_dir(out.path().join("delivered")).unwrap().count();
    assert_eq!(
        delivered,
        std::fs::read_dir(out.path().join("notices")).unwrap().count() / 3 + 1,
        "every notice and the alert"
    );
    assert!(stdout.contains("serve --config") && out.path().join("city.toml").exists(), "{stdout}");
    let o = hazewarn(&["audit", "verify", "--config", out.path().join("city.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn the_committed_sample_is_what_the_generator_makes() {
    let out = tempfile::tempdir().unwrap();
    let lists = out.path().join("lists");
    let o = hazewarn(&["sample", "--out", out.path().to_str().unwrap(), "--lists", lists.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for (made, committed) in [
        (out.path().join("observations.csv"), "data/sample/observations.csv"),
        (lists.join("luohe-illustrative.csv"), "data/lists/luohe-illustrative.csv"),
        (lists.join("inventory-illustrative.csv"), "data/lists/inventory-illustrative.csv"),
    ] {
        let same = std::fs::read(&made).unwrap() == std::fs::read(repo().join(committed)).unwrap();
        assert!(same, "{committed} is stale: run `hazewarn sample`");
    }
}
