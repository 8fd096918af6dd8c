//! The compliance job on a city: a warning is issued, two lines the plan stops get power
//! meters fed by a CSV written here, one stops and one runs on; the check judges them from
//! hand-computed ratios, opens one alarm, and its delivery makes it notified.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use hazewarn_compliance::{Treatment, Verdict};
use hazewarn_response::WarningLevel;

use crate::compliance::treatment;
use crate::{City, Config, ManualClock, Step};

fn bj(d: u32, h: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 1, d, h, 0, 0).unwrap()
}

/// The city with a file drop (the office's archive) and e-mail to a loopback SMTP server on
/// `smtp` (the illustrative list gives each enterprise an address).
async fn city(dir: &std::path::Path, extra: &str, at: DateTime<Utc>, smtp: u16) -> City {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let text = format!(
        "[city]\nid = \"LH\"\nname = \"漯河市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"w\"\nmodel = \"m\"\n\
         list = \"{repo}/data/lists/luohe-illustrative.csv\"\ninventory = \"{repo}/data/lists/inventory-illustrative.csv\"\n\
         [links]\nbase_url = \"https://hw.example.gov.cn\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n\
         [[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"out\"\n{mail}{extra}",
        mail = hazewarn_testkit::smtp::channel("mail", smtp),
    );
    City::open(Config::parse(&text, dir).unwrap(), Arc::new(ManualClock::new(at))).await.unwrap()
}

/// Issues a red warning over 11–13 January on a city with no meters yet; returns the warning's id
/// and the (credit code, line) of each line its plan stops.
async fn red_warning_and_its_stopped_lines(dir: &std::path::Path, smtp: u16) -> (String, Vec<(String, String)>) {
    let issued = bj(10, 16).to_utc();
    let office = city(dir, "", issued, smtp).await;
    let step = Step::Issue { level: WarningLevel::Red, start: bj(11, 0), end: bj(13, 0) };
    let w = office.apply(step, "office", "test", "run-1", issued).await.unwrap();
    let plan = office.store.plan(&w.id, 1).await.unwrap().unwrap();
    let stopped = plan
        .enterprises
        .iter()
        .flat_map(|e| e.lines.iter().map(move |l| (e, l)))
        .filter(|(e, l)| treatment(e, l).unwrap() == Treatment::Stop)
        .map(|(e, l)| (e.credit_code.clone(), l.line.clone()))
        .collect();
    (w.id, stopped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_runs_through_a_stop_is_suspected_and_alarmed_and_one_that_stopped_complied() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = hazewarn_testkit::smtp::SmtpServer::default();
    let port = smtp.start().await;
    // Two lines the red plan stops.
    let (warning_id, mut stopped) = red_warning_and_its_stopped_lines(dir.path(), port).await;
    stopped.truncate(2);
    assert_eq!(stopped.len(), 2, "the illustrative list stops lines at red");
    let meters: String = stopped
        .iter()
        .enumerate()
        .map(|(k, (code, line))| {
            format!("[[meters]]\nid = \"P{k}\"\ncredit_code = \"{code}\"\nline = \"{line}\"\nrole = \"production\"\n")
        })
        .collect();
    // Six hours into the warning.
    let judged = bj(11, 6).to_utc() + Duration::minutes(10);
    let city = city(dir.path(), &meters, judged, port).await;

    // 100 kW every hour of the week before; then P0 draws 5 kW (stopped) and P1 100 kW.
    let mut csv = String::from("meter,time,kw\n");
    for d in 3..=10 {
        for h in 0..24 {
            for k in 0..2 {
                csv += &format!("P{k},2026-01-{d:02} {h:02}:00,100\n");
            }
        }
    }
    for h in 0..6 {
        csv += &format!("P0,2026-01-11 {h:02}:00,5\nP1,2026-01-11 {h:02}:00,100\n");
    }
    // A reading of an unlisted meter refuses the whole feed.
    let bad = format!("{csv}P9,2026-01-11 05:00,1\n");
    let e = city.import_power("feed.csv", bad.as_bytes(), judged).await.unwrap_err().to_string();
    assert!(e.contains("feed.csv: field `meter`: `P9` not a [[meters]] entry"), "{e}");
    assert_eq!(
        city.import_power("feed.csv", csv.as_bytes(), judged).await.unwrap(),
        (8 * 24 * 2 + 12, 8 * 24 * 2 + 12)
    );

    let run = city.check_compliance(judged).await.unwrap().unwrap();
    assert_eq!(run.hours, 6, "00:00 to 06:00, whole hours only");
    assert_eq!(run.verdicts.get("complied"), Some(&1));
    assert_eq!(run.verdicts.get("suspected"), Some(&1));
    assert_eq!(run.alarms_opened.len(), 1);
    let checks = city.store.checks_of(&warning_id, 1).await.unwrap();
    let verdict = |code: &str, line: &str| {
        let c = checks.iter().find(|c| c.credit_code == code && c.line == line).unwrap();
        serde_json::from_str::<hazewarn_compliance::LineVerdict>(&c.body).unwrap()
    };
    let stopped_ok = verdict(&stopped[0].0, &stopped[0].1);
    assert_eq!((stopped_ok.production_ratio, stopped_ok.verdict), (Some(0.05), Verdict::Complied));
    let ran = verdict(&stopped[1].0, &stopped[1].1);
    assert_eq!(ran.production_ratio, Some(1.0));
    assert_eq!(
        ran.verdict,
        Verdict::Suspected {
            evidence: vec!["production power at 100 % of its baseline; 10 % allowed".into()],
            confidence: 1.0
        }
    );
    // Judged again, the line keeps its one alarm.
    assert!(city.check_compliance(judged).await.unwrap().unwrap().alarms_opened.is_empty());

    let alarm = city.store.alarm(&run.alarms_opened[0]).await.unwrap().unwrap();
    assert_eq!(
        (alarm.credit_code.as_str(), alarm.state),
        (stopped[1].0.as_str(), hazewarn_store::compliance::AlarmState::Open)
    );
    crate::run_job(&city, "dispatch", judged).await.unwrap();
    let alarm = city.store.alarm(&alarm.id).await.unwrap().unwrap();
    assert_eq!(alarm.state, hazewarn_store::compliance::AlarmState::Notified, "delivered by e-mail");
    let (_, list) = city.list().await.unwrap();
    let email =
        list.enterprises.iter().find(|e| e.credit_code.as_str() == stopped[1].0).unwrap().contacts.email.clone();
    let mails = smtp.received.lock().unwrap().clone();
    let to_it: Vec<_> = mails.iter().filter(|m| Some(&m.to[0]) == email.as_ref()).collect();
    let alarm_mail = to_it.iter().find(|m| String::from_utf8_lossy(&m.data).contains(&alarm.id));
    assert!(alarm_mail.is_some(), "the enterprise got the alarm by e-mail");
    assert!(dir.path().join("out").join(format!("{}.json", alarm.id)).exists(), "the office's archive has its copy");
    assert!(city.store.verify_audit().await.unwrap().ok());
}

/// Serves `body` at `/power.csv` and 404 for anything else, one HTTP/1.1 exchange a connection.
async fn power_server(body: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let body = body.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let found = String::from_utf8_lossy(&req).starts_with("GET /power.csv ");
                let (status, body) = if found { ("200 OK", body) } else { ("404 Not Found", String::new()) };
                let resp =
                    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_pulls_power_sources_and_a_failed_one_fails_the_job_after_judging() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = hazewarn_testkit::smtp::SmtpServer::default();
    let port = smtp.start().await;
    let (warning_id, stopped) = red_warning_and_its_stopped_lines(dir.path(), port).await;
    let (code, line) = stopped[0].clone();
    let mut csv = String::from("meter,time,kw\n");
    for d in 3..=10 {
        for h in 0..24 {
            csv += &format!("M1,2026-01-{d:02} {h:02}:00,100\n");
        }
    }
    csv += "M1,2026-01-11 00:00,100\nM1,2026-01-11 01:00,100\n";
    let http = power_server(csv).await;
    let extra = format!(
        "[[sources]]\nname = \"meters\"\nkind = \"power-csv\"\nurl = \"http://127.0.0.1:{http}/power.csv\"\nretries = 0\n\
         [[sources]]\nname = \"gone\"\nkind = \"power-json\"\nurl = \"http://127.0.0.1:{http}/gone.json\"\nretries = 0\n\
         [[meters]]\nid = \"M1\"\ncredit_code = \"{code}\"\nline = \"{line}\"\nrole = \"production\"\n"
    );
    let judged = bj(11, 2).to_utc() + Duration::minutes(5);
    let city = city(dir.path(), &extra, judged, port).await;
    let e = city.check_compliance(judged).await.unwrap_err().to_string();
    assert!(e.contains("power source(s) failed: source `gone`") && e.contains("HTTP 404"), "{e}");
    // The working source was imported and the lines were judged before the job failed.
    assert_eq!(
        city.store.power_counts().await.unwrap(),
        [("M1".to_owned(), 8 * 24 + 2, "2026-01-10T17:00:00.000Z".to_owned())]
    );
    let checks = city.store.checks_of(&warning_id, 1).await.unwrap();
    let c = checks.iter().find(|c| c.credit_code == code && c.line == line).unwrap();
    assert_eq!(c.verdict, "suspected", "100 kW through a stop, two hours of two");
    assert_eq!(c.hours, 2);
}
