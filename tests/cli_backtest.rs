use serde_json::Value;

use crate::common::{hazewarn, repo, shared_data, text, trained_on_sample};

fn run(obs: &str, train_until: &str, from: &str, until: &str, extra: &[&str]) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let (h, d, r) = (dir.path().join("h.csv"), dir.path().join("d.csv"), dir.path().join("r.json"));
    let mut args = vec![
        "backtest",
        "--obs",
        obs,
        "--train-until",
        train_until,
        "--test-from",
        from,
        "--test-until",
        until,
        "--hourly-out",
        h.to_str().unwrap(),
        "--daily-out",
        d.to_str().unwrap(),
        "--report",
        r.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
    let report = serde_json::from_slice(&std::fs::read(&r).unwrap()).unwrap();
    (dir, report)
}

#[test]
fn backtest_writes_the_contract_files_on_the_sample_city() {
    let obs = repo().join("data/sample/observations.csv");
    let (dir, r) = run(obs.to_str().unwrap(), "2025-09-30", "2025-12-01", "2025-12-10", &[]);
    let hourly = std::fs::read_to_string(dir.path().join("h.csv")).unwrap();
    let lines: Vec<&str> = hourly.lines().collect();
    assert_eq!(lines[0], "issue_time,valid_time,lead_hours,pm25_p10,pm25_p50,pm25_p90");
    assert_eq!(lines.len(), 1 + 10 * 96);
    assert!(lines[1].starts_with("2025-12-01T16:00:00+08:00,2025-12-01T17:00:00+08:00,1,"), "{}", lines[1]);
    for l in &lines[1..] {
        let q: Vec<f64> = l.split(',').skip(3).map(|x| x.parse().unwrap()).collect();
        assert!(q[0] <= q[1] && q[1] <= q[2] && q[0] >= 0.0, "{l}");
    }
    let daily = std::fs::read_to_string(dir.path().join("d.csv")).unwrap();
    let dl: Vec<&str> = daily.lines().collect();
    assert!(dl[0].starts_with("issue_time,date,lead_day,pm25_p10,pm25_p50,pm25_p90,aqi_p50,level_p50"));
    assert_eq!(dl.len(), 1 + 10 * 7);
    assert!(dl[1].starts_with("2025-12-01T16:00:00+08:00,2025-12-02,1,") && dl[1].ends_with(",false"));
    assert!(dl[7].ends_with(",true"), "D+7 is a trend: {}", dl[7]);
    // The published level is one of HJ 633's six, and the model's (only) is scored as such.
    assert!(dl[0].ends_with(",level_p50,level,trend"), "{}", dl[0]);
    for l in &dl[1..] {
        let level: u8 = l.split(',').nth(8).unwrap().parse().unwrap();
        assert!((1..=6).contains(&level), "{l}");
    }
    let product = r["models"]["gbdt"]["daily"]["1"]["level_accuracy_product"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&product));
    assert!(r["models"]["damped"]["daily"]["1"].get("level_accuracy_product").is_none());
    for m in ["gbdt", "persistence", "climatology", "damped"] {
        for lead in ["1", "6", "12", "24", "48", "72", "96"] {
            assert!(r["models"][m]["hourly"][lead]["rmse"].as_f64().is_some(), "{m} {lead}");
        }
        assert!(r["models"][m]["daily"]["1"]["aqi_gt200"].is_object());
    }
    assert!(r["models"]["gbdt"]["interval_coverage"]["1-72"].as_f64().is_some());
    assert!(r["future_met"].as_str().unwrap().starts_with("none"));
    assert!(r["timings_s"]["fit"].as_f64().is_some());
    // Recent verification widens within 0.7–1.6, corrects the level within the ratio's 0.5–2 and
    // gives persistence a share of 0–1 at 1 h.
    for (key, lo, hi) in [("recent_spread", 0.7, 1.6), ("recent_bias", 0.5, 2.0), ("recent_nowcast", 0.0, 1.0)] {
        let (min, max) = (r[key]["factor_min"].as_f64().unwrap(), r[key]["factor_max"].as_f64().unwrap());
        assert!(lo <= min && min <= max && max <= hi, "{key}: {min}..{max}");
    }
}

#[test]
fn backtest_on_prsa_labels_observed_met_and_beats_persistence_where_it_should() {
    let Some(data) = shared_data() else { return };
    let obs = data.join("PRSA_data_2010.1.1-2014.12.31.csv.gz");
    let (_dir, r) = run(obs.to_str().unwrap(), "2012-12-31", "2013-01-01", "2013-02-28", &["--future-met", "observed"]);
    assert!(r["future_met"].as_str().unwrap().starts_with("observed"));
    let rmse = |m: &str, lead: &str| r["models"][m]["hourly"][lead]["rmse"].as_f64().unwrap();
    // With the weather known, a day ahead is far better than assuming nothing changes.
    assert!(
        rmse("gbdt", "24") < 0.8 * rmse("persistence", "24"),
        "{} vs {}",
        rmse("gbdt", "24"),
        rmse("persistence", "24")
    );
    assert_eq!(r["test"]["issues"].as_u64().unwrap() + r["test"]["skipped_issues"].as_u64().unwrap(), 59);
}

#[test]
fn backtest_refuses_bad_ranges_and_models() {
    let obs = repo().join("data/sample/observations.csv");
    let o = hazewarn(&[
        "backtest",
        "--obs",
        obs.to_str().unwrap(),
        "--train-until",
        "2025-12-31",
        "--test-from",
        "2025-12-01",
        "--test-until",
        "2025-12-10",
        "--hourly-out",
        "/dev/null",
        "--daily-out",
        "/dev/null",
        "--report",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = hazewarn(&[
        "backtest",
        "--obs",
        obs.to_str().unwrap(),
        "--train-until",
        "2025-06-30",
        "--test-from",
        "2025-12-01",
        "--test-until",
        "2025-12-10",
        "--model",
        "oracle",
        "--hourly-out",
        "/dev/null",
        "--daily-out",
        "/dev/null",
        "--report",
        "/dev/null",
    ]);
    assert!(text(&o).contains("unknown model"), "{}", text(&o));
}

#[test]
fn train_saves_a_model_and_forecast_issues_from_it() {
    let (dir, obs, model) = trained_on_sample("2025-06-30");
    assert!(std::fs::read_to_string(model.join("card.md")).unwrap().contains("Held-out skill"));
    let (h, d) = (dir.path().join("h.csv"), dir.path().join("d.csv"));
    let args = [
        "forecast",
        "--model",
        model.to_str().unwrap(),
        "--obs",
        obs.to_str().unwrap(),
        "--issue-time",
        "2025-12-01 16:00",
        "--hourly-out",
        h.to_str().unwrap(),
        "--daily-out",
        d.to_str().unwrap(),
    ];
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&h).unwrap().lines().count(), 1 + 96);
    assert_eq!(std::fs::read_to_string(&d).unwrap().lines().count(), 1 + 7);
}

#[test]
fn a_model_trained_on_shared_data_is_refused_inside_the_repository() {
    let Some(data) = shared_data() else { return };
    let obs = data.join("PRSA_data_2010.1.1-2014.12.31.csv.gz");
    let out = repo().join("target/should-not-exist-model");
    let o = hazewarn(&["train", "--obs", obs.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("may not be written inside the repository"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn forecast_reads_an_emissions_table_and_names_its_bad_rows() {
    let (dir, obs, model) = trained_on_sample("2025-03-31");
    let em = dir.path().join("e.csv");
    // A curtailment: industry at 70 % of normal for the days after the issue.
    let mut rows = String::from("time,sector,index\n");
    for h in 0..96 {
        let t = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap().and_hms_opt(17, 0, 0).unwrap()
            + chrono::Duration::hours(h);
        rows += &format!("{},industry,0.7\n", t.format("%Y-%m-%d %H:%M"));
    }
    std::fs::write(&em, &rows).unwrap();
    let (h, d) = (dir.path().join("h.csv"), dir.path().join("d.csv"));
    let args = |e: &str| {
        vec![
            "forecast".to_owned(),
            "--model".into(),
            model.display().to_string(),
            "--obs".into(),
            obs.display().to_string(),
            "--emissions".into(),
            e.to_owned(),
            "--issue-time".into(),
            "2025-12-01 16:00".into(),
            "--hourly-out".into(),
            h.display().to_string(),
            "--daily-out".into(),
            d.display().to_string(),
        ]
    };
    let run = |a: Vec<String>| hazewarn(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args(em.to_str().unwrap()));
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(&em, "time,sector,index\n2025-12-01 17:00,industry,lots\n").unwrap();
    let o = run(args(em.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("line 2, column `index`"), "{}", text(&o));
}

/// Two station-years of the sample city, declared as `hazewarn evaluate` reads them.
const SAMPLE_LIST: &str = "[[station_year]]\nname = \"dec\"\nobs = [\"observations.csv\"]\n\
    train_until = \"2025-09-30\"\ntest_from = \"2025-12-01\"\ntest_until = \"2025-12-10\"\n\n\
    [[station_year]]\nname = \"oct\"\nobs = [\"observations.csv\"]\n\
    train_until = \"2025-06-30\"\ntest_from = \"2025-10-01\"\ntest_until = \"2025-10-05\"\n";

#[test]
fn evaluate_runs_each_declared_station_year_and_turns_stages_off() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.toml");
    std::fs::write(&list, SAMPLE_LIST).unwrap();
    let (out, json) = (dir.path().join("out"), dir.path().join("table.json"));
    let data = repo().join("data/sample");
    let base = ["evaluate", "--list", list.to_str().unwrap(), "--data", data.to_str().unwrap(), "--future-met", "none"];
    let mut args = base.to_vec();
    args.extend(["--out", out.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    for row in ["| dec | none | 10 |", "| oct | none | 5 |", "| **mean** | none |", "| **worst ratio** | none |"] {
        assert!(table.contains(row), "{row} missing from\n{table}");
    }
    // Each row's ratio is the model's RMSE over the best baseline's in that run's own report.
    let rows: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for row in rows["rows"].as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        let r: Value = serde_json::from_slice(&std::fs::read(out.join(format!("{name}-none.json"))).unwrap()).unwrap();
        let rmse = |m: &str| r["models"][m]["hourly"]["24"]["rmse"].as_f64().unwrap();
        let best = rmse("persistence").min(rmse("climatology")).min(rmse("damped"));
        assert!((row["ratio"][3].as_f64().unwrap() - rmse("gbdt") / best).abs() < 1e-12, "{name}");
        assert!(
            out.join(format!("{name}-none.hourly.csv")).is_file()
                && out.join(format!("{name}-none.daily.csv")).is_file()
        );
    }
    // With the level product off, the level published is the level of p50 on every day.
    let mut args = base.to_vec();
    args.extend(["--only", "oct", "--stages=-level-product", "--out", out.to_str().unwrap()]);
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
    let daily = std::fs::read_to_string(out.join("oct-none.daily.csv")).unwrap();
    for l in daily.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f[7], f[8], "{l}");
    }
    // Bad names are refused before any work.
    let mut args = base.to_vec();
    args.extend(["--stages=-bias"]);
    assert!(text(&hazewarn(&args)).contains("unknown stage `bias`"));
    let mut args = base.to_vec();
    args.extend(["--only", "nov"]);
    assert!(text(&hazewarn(&args)).contains("no station-year `nov`"));
}
