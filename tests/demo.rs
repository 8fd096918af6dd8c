use crate::common::{hazewarn, repo, text};

#[test]
fn demo_ingests_the_sample_and_writes_its_outputs() {
    let out = tempfile::tempdir().unwrap();
    let sample = repo().join("data/sample");
    let o = hazewarn(&["demo", "--sample", sample.to_str().unwrap(), "--out", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The sample arrives as the national real-time release: four assessment stations and a
    // reference point, with the planted QC problems spread across them.
    let qc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("qc_report.json")).unwrap()).unwrap();
    let station =
        |code: &str| qc["stations"].as_array().unwrap().iter().find(|s| s["station"] == code).unwrap().clone();
    let gap_hours = |code: &str| -> Vec<u64> {
        station(code)["gaps"].as_array().unwrap().iter().map(|g| g["hours"].as_u64().unwrap()).collect()
    };
    assert_eq!(gap_hours("9001A"), [5], "a five-hour outage");
    assert_eq!(gap_hours("9004A"), [24], "a station dark for a day");
    assert_eq!(station("9002A")["duplicates"][0]["conflicting"], serde_json::json!(["pm25"]));
    assert_eq!(station("9003A")["columns"][0]["spike"], 1);
    assert_eq!(qc["stations"].as_array().unwrap().len(), 5);
    assert!(stdout.contains("temp            0        0         0            0       0        30"), "{stdout}");
    assert!(stdout.contains("5 hours with fewer than half reporting; not averaged: 9005A"), "{stdout}");
    assert!(out.path().join("city.parquet").exists());
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
    // The simulated fleet: exactly the plants made not to curtail are flagged.
    let read =
        |f: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(out.path().join(f)).unwrap()).unwrap() };
    let (fleet, found) = (read("fleet.json"), read("compliance.json"));
    let made_to_fail: std::collections::BTreeSet<(String, String)> = fleet
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["behaviour"] != "complies")
        .map(|p| (p["credit_code"].as_str().unwrap().to_owned(), p["line"].as_str().unwrap().to_owned()))
        .collect();
    let alarms = found["alarms"].as_array().unwrap();
    let flagged: std::collections::BTreeSet<(String, String)> = alarms
        .iter()
        .map(|a| (a["credit_code"].as_str().unwrap().to_owned(), a["line"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(made_to_fail.len(), 3, "{fleet:#}");
    assert_eq!(flagged, made_to_fail, "{found:#}");
    assert_eq!(found["run"]["verdicts"]["complied"], fleet.as_array().unwrap().len() - 3, "{found:#}");
    // Each answered frame was stored first: three values (dust, SO2, flow) each.
    let frames = found["frames_sent"].as_u64().unwrap();
    assert_eq!(found["values_stored"].as_u64().unwrap(), 3 * frames, "{found:#}");
    assert_eq!(frames, 10 * 24 * 9, "eight days before the warning and one under it, hourly, per plant");
    let mut states: Vec<&str> = alarms.iter().map(|a| a["state"].as_str().unwrap()).collect();
    states.sort_unstable();
    // The demo city reaches no enterprise by itself (file drop only): one case the office phoned
    // and worked to closed, the others wait for it.
    assert_eq!(states, ["closed", "open", "open"]);
    assert!(alarms.iter().any(|a| a["outcome"] == "violation"));
    let delivered = std::fs::read_dir(out.path().join("delivered")).unwrap().count();
    assert_eq!(
        delivered,
        std::fs::read_dir(out.path().join("notices")).unwrap().count() / 3 + 1 + alarms.len(),
        "every notice, the alert and each alarm"
    );
    assert!(stdout.contains("serve --config") && out.path().join("city.toml").exists(), "{stdout}");
    let o = hazewarn(&["audit", "verify", "--config", out.path().join("city.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // Every role's page, as the demo leaves the city, in one language at a time.
    crate::pages_language::check_pages_of_demo(out.path(), alarms[0]["credit_code"].as_str().unwrap());
}

#[test]
fn the_committed_sample_is_what_the_generator_makes() {
    let out = tempfile::tempdir().unwrap();
    let lists = out.path().join("lists");
    let o = hazewarn(&["sample", "--out", out.path().to_str().unwrap(), "--lists", lists.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for (made, committed) in [
        (out.path().join("observations.csv"), "data/sample/observations.csv"),
        (out.path().join("met.csv.gz"), "data/sample/met.csv.gz"),
        (out.path().join("realtime/2024-07.csv.gz"), "data/sample/realtime/2024-07.csv.gz"),
        (out.path().join("realtime/2026-03.csv.gz"), "data/sample/realtime/2026-03.csv.gz"),
        (lists.join("luohe-illustrative.csv"), "data/lists/luohe-illustrative.csv"),
        (lists.join("inventory-illustrative.csv"), "data/lists/inventory-illustrative.csv"),
    ] {
        let same = std::fs::read(&made).unwrap() == std::fs::read(repo().join(committed)).unwrap();
        assert!(same, "{committed} is stale: run `hazewarn sample`");
    }
    let count = |d: std::path::PathBuf| std::fs::read_dir(d).unwrap().count();
    assert_eq!(count(out.path().join("realtime")), count(repo().join("data/sample/realtime")));
}
