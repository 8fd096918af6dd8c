//! Delivery and cycle speed, as a bench binary (one measured run each; criterion's repetition
//! would mean re-issuing 10,000 notices per sample):
//! * issuing a warning to 10,000 enterprises (plan, notices and outbox rows in one transaction),
//!   then dispatching all of them to a local webhook receiver, with zero loss checked;
//! * the same warning to 10,000 enterprises by SMS (Tencent's API on loopback), a tenth of them
//!   falling back to e-mail (SMTP on loopback): the time to the last SMS accepted and to the end;
//! * one full cycle for the sample city (ingest of local files, forecast, grade, plan, notices).
//!
//! `cargo bench --bench delivery`

#[path = "../tests/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{FixedOffset, TimeZone, Utc};
use hazewarn_forecast::{Hourly, ModelParams};
use hazewarn_ingest::{IngestOptions, ingest};
use hazewarn_response::WarningLevel;
use hazewarn_scheduler::{City, Config, ManualClock, Step, SystemClock, cycle};

const SECRET: &str = "bench-secret";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn config(dir: &Path, extra: &str, list: &Path) -> Config {
    let text = format!(
        "[city]\nid = \"B\"\nname = \"基准市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\n\
         observations = [\"{repo}/data/sample/observations.csv\"]\nmodel = \"model\"\nlist = \"{list}\"\n\
         inventory = \"{repo}/data/lists/inventory-illustrative.csv\"\n\
         [delivery]\nbatch = 500\nconcurrency = 64\ntimeout_ms = 5000\n{extra}",
        repo = repo().display(),
        list = list.display()
    );
    Config::parse(&text, dir).expect("bench config")
}

/// A warning window from an hour ahead of the wall clock (the city runs on it) for three days.
fn window() -> (chrono::DateTime<FixedOffset>, chrono::DateTime<FixedOffset>) {
    let start = hazewarn_scheduler::beijing(Utc::now()) + chrono::Duration::hours(1);
    (start, start + chrono::Duration::days(3))
}

async fn ten_thousand_notices() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, fixtures::list_csv(10_000)).unwrap();
    let quiet = fixtures::Mischief { fail: 0.0, busy: 0.0, hang: 0.0, slow: 0.0, hang_ms: 0 };
    let receiver = fixtures::Receiver::start(SECRET, quiet, 1);
    let hook = format!(
        "[[channels]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n",
        receiver.url
    );
    let city = City::open(config(dir.path(), &hook, &list), Arc::new(SystemClock)).await.unwrap();
    let (start, end) = window();
    city.list().await.unwrap(); // the list import is not part of the warning step
    let t = Instant::now();
    let step = Step::Issue { level: WarningLevel::Orange, start, end };
    city.apply(step, "office", "bench", "manual", Utc::now()).await.unwrap();
    let written = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = city.dispatcher().drain().await.unwrap();
    let sent = t.elapsed().as_secs_f64();
    let keys: std::collections::BTreeSet<String> = receiver.accepted().into_iter().map(|r| r.idempotency_key).collect();
    let counts = city.store.outbox_counts().await.unwrap();
    assert_eq!(counts, (0, 10_001, 0), "pending, sent, dead");
    assert_eq!(keys.len(), 10_001, "every notice and the alert arrived");
    println!(
        "warning step to 10,000 enterprises (plan + notices + outbox, one transaction): {written:.2} s\n\
         dispatch of {} messages to a local webhook: {sent:.2} s ({:.0} msg/s), zero loss",
        report.sent,
        report.sent as f64 / sent
    );
}

/// 10,000 enterprises by SMS (Tencent's API on loopback, signatures checked), every tenth number
/// refused so its notice falls back to e-mail (an SMTP server on loopback).
async fn ten_thousand_by_sms_and_email() {
    use hazewarn_testkit::{smtp::SmtpServer, tencent};
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, fixtures::list_csv(10_000)).unwrap();
    let (sms, smtp) = (tencent::TencentSms::default(), SmtpServer::default());
    let (sms_url, smtp_port) = (sms.start().await, smtp.start().await);
    for i in (3..10_000).step_by(10) {
        let phone = format!("+86{}", fixtures::list_contacts(i).0);
        sms.codes.lock().unwrap().insert(phone, "InvalidParameterValue.IncorrectPhoneNumber".into());
    }
    let channels = format!(
        "[links]\nbase_url = \"https://hw.example.gov.cn\"\nsecret = \"bench-link-secret-0123456789abcdefgh\"\n{}{}",
        tencent::channel("sms", &sms_url),
        hazewarn_testkit::smtp::channel("mail", smtp_port)
    );
    let city = City::open(config(dir.path(), &channels, &list), Arc::new(SystemClock)).await.unwrap();
    let (start, end) = window();
    city.list().await.unwrap();
    let t = Instant::now();
    let step = Step::Issue { level: WarningLevel::Orange, start, end };
    city.apply(step, "office", "bench", "manual", Utc::now()).await.unwrap();
    let written = t.elapsed().as_secs_f64();
    let report = city.dispatcher().drain().await.unwrap();
    let all = t.elapsed().as_secs_f64();
    let last_sms = sms.last_accepted.lock().unwrap().map(|at| (at - t).as_secs_f64()).unwrap_or(f64::NAN);
    let (texts, mails) = (sms.accepted.lock().unwrap().len(), smtp.received.lock().unwrap().len());
    assert_eq!((texts, mails), (9_000, 1_000), "SMS accepted, e-mails after a refused number");
    println!(
        "warning step to 10,000 enterprises by SMS, e-mail as fallback: step written {written:.2} s; \
         last SMS accepted {last_sms:.2} s after the step began; all delivered {all:.2} s \
         ({} sent, {} dead letters = the refused numbers)",
        report.sent, report.dead
    );
}

async fn full_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let (obs, _) = ingest(&[repo().join("data/sample/observations.csv")], &IngestOptions::default()).unwrap();
    let h = Hourly::from_series(&obs.series[0]);
    let until = h.index(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()).unwrap();
    let model = ModelParams::new(false, 16).fit(&h, until, None).unwrap();
    std::fs::create_dir_all(dir.path().join("model")).unwrap();
    std::fs::write(dir.path().join("model/model.json"), model.to_json()).unwrap();
    let extra = "[policy]\nauto_approve = true\nauto_issue = true\n[[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"drop\"\n";
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
    let city = City::open(config(dir.path(), extra, &list), Arc::new(ManualClock::new(at))).await.unwrap();
    city.list().await.unwrap();
    let t = Instant::now();
    let report = cycle(&city, at).await.unwrap();
    let took = t.elapsed().as_secs_f64();
    assert!(report.jobs.iter().all(|j| j.status == "done"), "{report:?}");
    println!(
        "full cycle for the sample city (ingest 19,700 rows, forecast, grade, plan, notices, dispatch, verify): {took:.2} s"
    );
    for j in &report.jobs {
        println!("  {:<9} {}", j.job, j.detail);
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(ten_thousand_notices());
    rt.block_on(ten_thousand_by_sms_and_email());
    rt.block_on(full_cycle());
}
