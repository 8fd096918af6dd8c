//! A simulated week of the daily cycle on the synthetic sample city, run in seconds on a
//! [`ManualClock`], with the real store (SQLite) and the file-drop channel.

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Timelike, Utc};
use hazewarn_forecast::{Hourly, ModelParams};
use hazewarn_ingest::{IngestOptions, ingest};
use hazewarn_response::WarningState;

use crate::{City, Config, ManualClock, run_job};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A model trained on the sample up to `until` (exclusive), saved where the config expects it.
fn train_sample_model(dir: &Path, until: chrono::NaiveDateTime) {
    let (obs, _) = ingest(&[repo().join("data/sample/observations.csv")], &IngestOptions::default()).unwrap();
    let h = Hourly::from_series(&obs.series[0]);
    let model = ModelParams::new(false, 16).fit(&h, h.index(until).unwrap(), None).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("model.json"), model.to_json()).unwrap();
}

fn config(dir: &Path) -> Config {
    let text = format!(
        r#"
[city]
id = "SIM"
name = "模拟市"
[store]
url = "sqlite://hw.db"
[data]
work_dir = "work"
observations = ["{repo}/data/sample/observations.csv"]
model = "model"
list = "{repo}/data/lists/luohe-illustrative.csv"
inventory = "{repo}/data/lists/inventory-illustrative.csv"
[policy]
auto_approve = true
auto_issue = true
ack_hours = 2
escalate_after_hours = 2
update_hours_yellow = 8
update_hours_orange = 4
update_hours_red = 4
[[channels]]
kind = "file-drop"
name = "files"
dir = "drop"
"#,
        repo = repo().display()
    );
    Config::parse(&text, dir).unwrap()
}

fn dropped(dir: &Path, prefix: &str) -> usize {
    std::fs::read_dir(dir.join("drop"))
        .map(|rd| rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(prefix)).count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_week_issues_reminds_escalates_updates_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2025, 12, 28, 22, 0, 0).unwrap(); // 06:00 +08:00 on 12-29
    train_sample_model(&dir.path().join("model"), crate::cycle::issue_hour(start));
    let clock = ManualClock::new(start);
    let city = City::open(config(dir.path()), Arc::new(clock.clone())).await.unwrap();
    let wall = std::time::Instant::now();
    let mut acknowledged = Vec::new();
    for hour in 0..(7 * 24) {
        let now = start + Duration::hours(hour);
        clock.set(now);
        let local = crate::beijing(now).hour();
        if local == 6 || local == 16 {
            for job in ["forecast", "evaluate"] {
                let o = run_job(&city, job, now).await.unwrap();
                assert_eq!(o.status, "done", "{o:?}");
            }
        }
        if local == 9 {
            assert_eq!(run_job(&city, "verify", now).await.unwrap().status, "done");
        }
        // One enterprise in four acknowledges its notices within the hour.
        if let Some(w) = city.store.warning_in_force().await.unwrap() {
            for n in city.store.notices_of(&w.id, None).await.unwrap() {
                let code = &n.notice.credit_code;
                if n.acknowledged_at.is_none() && code.bytes().map(u32::from).sum::<u32>() % 4 == 0 {
                    city.store.acknowledge(&n.notice.id, code, now).await.unwrap();
                    acknowledged.push(n.notice.id.clone());
                }
            }
        }
        assert_eq!(run_job(&city, "dispatch", now).await.unwrap().status, "done");
    }
    eprintln!("a simulated week in {:.1} s", wall.elapsed().as_secs_f64());

    // The sample's episode of 2026-01-02..05 (daily AQI 247–285) is warned of, and every step audited.
    let issued = city.store.warnings_in(WarningState::Issued).await.unwrap();
    let lifted = city.store.warnings_in(WarningState::Lifted).await.unwrap();
    let all: Vec<_> = issued.iter().chain(&lifted).collect();
    assert!(!all.is_empty(), "no warning in a week that holds a heavy episode");
    let audit = city.store.verify_audit().await.unwrap();
    assert!(audit.ok(), "{audit:?}");
    let steps: usize = all.iter().map(|w| w.transitions.len()).sum();
    let entries = city.store.audit_tail(100_000).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.action.starts_with("warning-")).count(), steps);

    // Nothing is left undelivered; each notice, alert and follow-up is one file.
    let (pending, sent, dead) = city.store.outbox_counts().await.unwrap();
    assert_eq!((pending, dead), (0, 0));
    let end = start + Duration::hours(7 * 24 - 1);
    let mut notices = Vec::new();
    for w in &all {
        notices.extend(city.store.notices_of(&w.id, None).await.unwrap());
    }
    assert_eq!(
        dropped(dir.path(), "reminder-")
            + dropped(dir.path(), "escalation-")
            + dropped(dir.path(), "alert-")
            + notices.len()
            + dropped(dir.path(), "office-"),
        sent as usize
    );

    // Unacknowledged notices past their deadline are reminded once; 2 h later, escalated once.
    for n in &notices {
        let deadline = n.notice.ack_deadline.with_timezone(&Utc);
        let acked_in_time = n.acknowledged_at.as_deref().is_some_and(|a| *a <= *hazewarn_store::ts(deadline));
        let reminded = n.reminded_at.is_some();
        let escalated = n.escalated_at.is_some();
        if acked_in_time {
            assert!(!reminded && !escalated, "{} was acknowledged in time", n.notice.id);
        } else if n.acknowledged_at.is_none() && deadline + Duration::hours(3) < end {
            assert!(reminded && escalated, "{} is overdue and was not followed up", n.notice.id);
        }
    }
    eprintln!(
        "{} warnings, {steps} steps, {} notices ({} acknowledged), {} reminders, {} escalations, {} alert messages",
        all.len(),
        notices.len(),
        acknowledged.len(),
        dropped(dir.path(), "reminder-"),
        dropped(dir.path(), "escalation-"),
        dropped(dir.path(), "alert-")
    );
    assert!(!acknowledged.is_empty());
    assert!(dropped(dir.path(), "escalation-") > 0);

    // While a warning was in force the public alert was re-published at its level's cadence.
    assert!(dropped(dir.path(), "alert-") > all.len(), "no alert updates in a week with a warning");

    // Forecasts issued after the first warning step know its curtailments lowered emissions.
    let runs = city.store.forecast_runs_between(start, end).await.unwrap();
    assert_eq!(runs.len(), 14, "two forecasts a day");
    let fed_back = runs.iter().filter(|r| r.inputs.contains("\"curtailments\"")).count();
    assert!(fed_back > 0 && fed_back < runs.len(), "{fed_back} of {} runs saw curtailments", runs.len());

    // Each run keeps its model's own forecast and the level product of D+1..D+3, and the last
    // run's recent verification read the runs before it as they were issued.
    for r in &runs {
        assert!(r.model_hourly.as_deref().is_some_and(|t| t.starts_with("[{")), "{}", r.id);
        let levels: Vec<hazewarn_forecast::DailyLevel> = serde_json::from_str(r.levels.as_deref().unwrap()).unwrap();
        assert_eq!(levels.iter().map(|d| d.lead_day).collect::<Vec<_>>(), [1, 2, 3], "{}", r.id);
        for d in &levels {
            assert!((d.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{d:?}");
            let best = d.probabilities.iter().copied().fold(0.0, f64::max);
            assert_eq!(d.probabilities[usize::from(d.level) - 1], best, "the published level is the most probable");
        }
    }
    let last: Vec<crate::cycle::InputStatus> = serde_json::from_str(&runs[runs.len() - 1].inputs).unwrap();
    let recent = last.iter().find(|i| i.name == "recent verification").expect("recent verification is reported");
    // The model here forecasts without met, whose stages check the first hour (the nowcast).
    assert!(recent.detail.contains("verified 1-h forecasts"), "{}", recent.detail);
    assert!(!recent.detail.contains("; 0 verified 1-h forecasts"), "{}", recent.detail);

    // Verification scored the leads that had observations by the verify time.
    let scores = city.store.scores_between(start - Duration::days(1), end).await.unwrap();
    assert!(scores.len() > 100, "{} scores", scores.len());
    assert!(scores.iter().all(|s| s.valid_time <= hazewarn_store::ts(end)));
}

/// Serves fixed bodies by path over real HTTP; `/down` always answers 500.
async fn serve(routes: Vec<(&'static str, String)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = match routes.iter().find(|r| r.0 == path) {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("500 Internal Server Error", "down".to_owned()),
                };
                let reply =
                    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sources_feed_the_forecast_and_a_failing_feed_is_recorded_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let issue = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap(); // 16:00 +08:00
    let local = crate::cycle::issue_hour(issue);
    // A model that reads the NWP forecast, and one that does not (the fallback).
    let (obs, _) = ingest(&[repo().join("data/sample/observations.csv")], &IngestOptions::default()).unwrap();
    let h = Hourly::from_series(&obs.series[0]);
    let until = h.index(local - Duration::days(30)).unwrap();
    let with_met = ModelParams::new(true, 16).fit(&h, until, Some(&h)).unwrap();
    std::fs::create_dir_all(dir.path().join("model")).unwrap();
    std::fs::write(dir.path().join("model/model.json"), with_met.to_json()).unwrap();
    train_sample_model(&dir.path().join("fallback"), local - Duration::days(30));

    // The NWP feed: Open-Meteo layout in UTC, km/h, for the 96 h after the issue, taken from the sample.
    let i0 = h.index(local).unwrap();
    let (mut times, mut temp, mut wspd, mut wdir) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in i0 + 1..=i0 + 96 {
        times.push(format!("\"{}\"", (h.time(i) - Duration::hours(8)).format("%Y-%m-%dT%H:%M")));
        temp.push(format!("{}", h.temp[i]));
        wspd.push(format!("{}", h.wspd[i] * 3.6));
        wdir.push("180".to_owned());
    }
    let nwp = format!(
        r#"{{"utc_offset_seconds":0,"hourly_units":{{"wind_speed_10m":"km/h"}},"hourly":{{"time":[{}],"temperature_2m":[{}],"wind_speed_10m":[{}],"wind_direction_10m":[{}]}}}}"#,
        times.join(","),
        temp.join(","),
        wspd.join(","),
        wdir.join(",")
    );
    // Recent observations as canonical JSON (they repeat the sample's own hours, as a live feed would).
    let recent: Vec<String> = (i0 - 5..=i0)
        .map(|i| {
            format!(r#"{{"time":"{}","station":"示例站","pm25":{}}}"#, h.time(i).format("%Y-%m-%d %H:%M"), h.pm25[i])
        })
        .collect();
    let base = serve(vec![("/nwp", nwp), ("/obs", format!("[{}]", recent.join(",")))]).await;
    let sources = |nwp_path: &str| {
        format!(
            "\n[[sources]]\nname = \"obs-feed\"\nkind = \"observations-json\"\nurl = \"{base}/obs\"\n\
             [[sources]]\nname = \"nwp\"\nkind = \"open-meteo\"\nurl = \"{base}{nwp_path}\"\nretries = 1\ntimeout_s = 2\n"
        )
    };
    let text = |nwp_path: &str| {
        format!(
            "[city]\nid = \"SIM\"\nname = \"模拟市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\n\
             observations = [\"{repo}/data/sample/observations.csv\"]\nmodel = \"model\"\nfallback_model = \"fallback\"\n\
             list = \"{repo}/data/lists/luohe-illustrative.csv\"\ninventory = \"{repo}/data/lists/inventory-illustrative.csv\"\n{}",
            sources(nwp_path),
            repo = repo().display()
        )
    };

    let city =
        City::open(Config::parse(&text("/nwp"), dir.path()).unwrap(), Arc::new(ManualClock::new(issue))).await.unwrap();
    let run = city.forecast(issue).await.unwrap();
    let inputs: Vec<crate::cycle::InputStatus> = serde_json::from_str(&run.inputs).unwrap();
    assert!(inputs.iter().all(|s| s.ok), "{inputs:?}");
    assert!(inputs.iter().any(|s| s.name == "nwp" && s.detail == "96 forecast hours"), "{inputs:?}");
    let recent = inputs.iter().find(|s| s.name == "recent verification").expect("recent verification is shown");
    assert!(recent.detail.contains("verified hours of the last 14 days' forecasts; interval ×"), "{recent:?}");
    assert!(dir.path().join("work/fetched/obs-feed-20260101T16.csv").exists());
    let batches = city.store.observation_batches(10).await.unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].source.matches(".csv").count(), 2, "the sample and the fetched feed: {:?}", batches[0]);
    assert!(batches[0].location.ends_with("observations.parquet"));

    // The next day the NWP feed is down: the cycle goes on with the fallback model and says so.
    let next = issue + Duration::days(1);
    let city =
        City::open(Config::parse(&text("/down"), dir.path()).unwrap(), Arc::new(ManualClock::new(next))).await.unwrap();
    let run = city.forecast(next).await.unwrap();
    let inputs: Vec<crate::cycle::InputStatus> = serde_json::from_str(&run.inputs).unwrap();
    let nwp = inputs.iter().find(|s| s.name == "nwp" && !s.ok).expect("the failed feed is recorded");
    assert!(nwp.detail.contains("source `nwp`") && nwp.detail.contains("HTTP 500"), "{nwp:?}");
    assert!(inputs.iter().any(|s| s.detail.contains("fell back")), "{inputs:?}");
    let leads: Vec<hazewarn_forecast::LeadForecast> = serde_json::from_str(&run.hourly).unwrap();
    assert_eq!(leads.len(), 96);
}

#[tokio::test]
async fn a_bad_channel_or_profile_creates_no_store_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "[city]\nid = \"X\"\nname = \"x\"\n{{profile}}[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"w\"\nmodel = \"m\"\n\
         list = \"{r}/data/lists/luohe-illustrative.csv\"\ninventory = \"{r}/data/lists/inventory-illustrative.csv\"\n",
        r = repo().display()
    );
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 4, 8, 0, 0).unwrap()));
    let webhook = base.replace("{profile}", "")
        + "[[channels]]\nkind = \"webhook\"\nname = \"w\"\nurl = \"http://127.0.0.1:9/\"\n";
    let e = City::open(Config::parse(&webhook, dir.path()).unwrap(), clock.clone()).await.err().unwrap();
    assert!(e.to_string().contains("channel `w`: `secret` or `secret_env` is required"), "{e}");
    let profile = base.replace("{profile}", "profile = \"no-such-profile\"\n");
    assert!(City::open(Config::parse(&profile, dir.path()).unwrap(), clock).await.is_err());
    assert!(!dir.path().join("hw.db").exists());
}

#[tokio::test]
async fn a_city_with_stations_forecasts_the_mean_of_its_assessment_stations() {
    let dir = tempfile::tempdir().unwrap();
    // Three configured stations (R a reference point) and one the configuration does not know.
    let mut csv = String::from("time,station,pm25\n");
    for h in 0..48 {
        let t = format!("2026-01-01 {:02}:00", h % 24)
            .replace("2026-01-01", if h < 24 { "2026-01-01" } else { "2026-01-02" });
        for (station, v) in [("S1", 100.0 + f64::from(h)), ("S2", 200.0), ("R", 900.0), ("X", 5.0)] {
            csv += &format!("{t},{station},{v}\n");
        }
    }
    std::fs::write(dir.path().join("obs.csv"), csv).unwrap();
    let text = format!(
        "[city]\nid = \"SIM\"\nname = \"模拟市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\n\
         observations = [\"obs.csv\"]\nmodel = \"model\"\nlist = \"{r}/data/lists/luohe-illustrative.csv\"\n\
         inventory = \"{r}/data/lists/inventory-illustrative.csv\"\n\
         [[stations]]\ncode = \"S1\"\nname = \"一号站\"\nlongitude = 114.0\nlatitude = 33.6\n\
         [[stations]]\ncode = \"S2\"\nname = \"二号站\"\nlongitude = 114.1\nlatitude = 33.5\n\
         [[stations]]\ncode = \"R\"\nname = \"对照点\"\nlongitude = 113.9\nlatitude = 33.7\nrole = \"reference\"\n",
        r = repo().display()
    );
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 2, 8, 0, 0).unwrap()));
    let city = City::open(Config::parse(&text, dir.path()).unwrap(), clock.clone()).await.unwrap();
    let inputs = city.gather(city.now(), false).await.unwrap();
    assert_eq!(inputs.series.station, "SIM");
    let pm = inputs.series.usable(hazewarn_ingest::Variable::Pm25).unwrap();
    // (100 + h + 200) / 2: neither the reference point nor the unknown station counts.
    assert_eq!(pm[0], 150.0);
    assert_eq!(pm[47], 173.5);
    let said = |name: &str| inputs.status.iter().find(|s| s.name == name).map(|s| (s.ok, s.detail.clone()));
    assert_eq!(said("unknown stations"), Some((false, "not configured, not used: X".into())));
    assert_eq!(said("city series").unwrap().1, "mean of 2 assessment stations; 0 hours with fewer than half reporting");
}

#[test]
fn station_configurations_are_checked() {
    let base = "[city]\nid = \"X\"\nname = \"x\"\n[store]\nurl = \"sqlite://x.db\"\n[data]\nwork_dir = \"w\"\nmodel = \"m\"\n\
                list = \"l.csv\"\ninventory = \"i.csv\"\n";
    let station = |code: &str, lon: f64, role: &str| {
        format!(
            "[[stations]]\ncode = \"{code}\"\nname = \"n\"\nlongitude = {lon}\nlatitude = 33.0\nrole = \"{role}\"\n"
        )
    };
    let twice = format!("{base}{}{}", station("A", 114.0, "assessment"), station("A", 114.0, "assessment"));
    assert_eq!(Config::parse(&twice, Path::new("/tmp")).unwrap_err(), "stations[1].code: `A` is listed twice");
    let off = format!("{base}{}", station("A", 214.0, "assessment"));
    assert!(Config::parse(&off, Path::new("/tmp")).unwrap_err().contains("not on the globe"));
    let only_reference = format!("{base}{}", station("R", 114.0, "reference"));
    assert!(Config::parse(&only_reference, Path::new("/tmp")).unwrap_err().contains("none is an assessment station"));
    let bad_role = format!("{base}{}", station("A", 114.0, "control"));
    assert!(Config::parse(&bad_role, Path::new("/tmp")).unwrap_err().contains("unknown variant `control`"));
}
