//! Delivery that loses nothing: a real flaky webhook receiver, a dispatcher killed with SIGKILL
//! in the middle of 1,000 notices and restarted, on SQLite and on PostgreSQL; and two instances
//! on one PostgreSQL database running each job slot once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hazewarn_store::{OutboxStatus, Store, scratch};

use crate::common::{hazewarn, repo, text, trained_on_sample};
use crate::fixtures::{Mischief, Receiver, list_csv};

pub(crate) const SECRET: &str = "test-signing-secret";

pub(crate) fn write_config(dir: &Path, store_url: &str, hook: &str, model: &Path, list: &Path, extra: &str) -> PathBuf {
    let lists = repo().join("data/lists");
    let config = format!(
        r#"
[city]
id = "T"
name = "测试市"
# The warnings these tests issue are for January 2026: the city runs on that winter's clock.
demo_clock_start = "2026-01-04T16:00:00+08:00"

[store]
url = "{store_url}"

[data]
work_dir = "work"
observations = ["{obs}"]
model = "{model}"
list = "{list}"
inventory = "{inventory}"

[delivery]
max_attempts = 20
base_backoff_ms = 20
max_backoff_ms = 300
timeout_ms = 1000
lease_s = 3
batch = 100
concurrency = 16

[[channels]]
kind = "webhook"
name = "hook"
url = "{hook}"
secret = "{SECRET}"
{extra}
"#,
        obs = repo().join("data/sample/observations.csv").display(),
        model = model.display(),
        list = list.display(),
        inventory = lists.join("inventory-illustrative.csv").display(),
    );
    let path = dir.join("city.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// The illustrative list with auto-approval and auto-issue, delivering to a well-behaved webhook
/// and to the file drop `DIR/drop`.
fn auto_issuing_city(dir: &Path, store_url: &str, model: &Path) -> (Receiver, PathBuf) {
    let extra = format!(
        "[policy]\nauto_approve = true\nauto_issue = true\n\n[[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"{}\"\n",
        dir.join("drop").display()
    );
    let receiver = Receiver::start(SECRET, Mischief { fail: 0.0, busy: 0.0, hang: 0.0, slow: 0.0, hang_ms: 0 }, 1);
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let config = write_config(dir, store_url, &receiver.url, model, &list, &extra);
    (receiver, config)
}

/// One runtime for every store call of the tests: a pool's connections belong to the runtime
/// that opened them, and a fresh runtime per call failed once on a connection of a runtime
/// already shut down ("A Tokio 1.x context was found, but it is being shutdown").
pub(crate) fn rt() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().unwrap())
}

/// `hazewarn warning issue` of an orange warning for 5–8 January 2026 (the test cities' clock).
pub(crate) fn issue_orange(cfg: &str) -> std::process::Output {
    let o = hazewarn(&[
        "warning",
        "--config",
        cfg,
        "issue",
        "--level",
        "orange",
        "--start",
        "2026-01-05T00:00:00+08:00",
        "--end",
        "2026-01-08T00:00:00+08:00",
        "--by",
        "office",
        "--reason",
        "会商后发布",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// A `hazewarn dispatch --until-empty` process, to be killed or waited for.
pub(crate) fn dispatch_until_empty(cfg: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_hazewarn"))
        .args(["dispatch", "--config", cfg, "--until-empty"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// SIGKILLs a dispatcher and opens its store, checking that messages were still pending (the
/// kill fell inside the dispatch).
pub(crate) fn kill_mid_dispatch(mut dispatcher: std::process::Child, store_url: &str) -> Store {
    dispatcher.kill().unwrap(); // SIGKILL
    dispatcher.wait().unwrap();
    let store = rt().block_on(Store::connect(store_url)).unwrap();
    let (pending, _, _) = rt().block_on(store.outbox_counts()).unwrap();
    assert!(pending > 0, "the kill came after the dispatch had finished; nothing was tested");
    store
}

/// Issues an orange warning to 1,000 enterprises, kills the dispatcher mid-way, restarts it,
/// and checks that nothing was lost or doubled.
fn sigkill_mid_dispatch(store_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, list_csv(1000)).unwrap();
    let mischief = Mischief { fail: 0.15, busy: 0.05, hang: 0.03, slow: 0.1, hang_ms: 1_300 };
    let receiver = Receiver::start(SECRET, mischief, 7);
    let config = write_config(dir.path(), store_url, &receiver.url, Path::new("unused"), &list, "");
    let cfg = config.to_str().unwrap();
    let o = issue_orange(cfg);
    assert!(text(&o).contains("1000 notices"), "{}", text(&o));
    let dispatch = || dispatch_until_empty(cfg);
    let first = dispatch();
    let t0 = Instant::now();
    while receiver.accepted().len() < 300 {
        assert!(t0.elapsed() < Duration::from_secs(120), "the dispatcher made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let store = kill_mid_dispatch(first, store_url);

    let second = dispatch().wait_with_output().unwrap();
    assert!(second.status.success(), "{}", text(&second));

    let warning = rt().block_on(store.warning_in_force()).unwrap().expect("the warning is in force");
    let notices = rt().block_on(store.notices_of(&warning.id, None)).unwrap();
    assert_eq!(notices.len(), 1000);
    let dead: BTreeMap<String, String> = rt()
        .block_on(store.outbox_in(OutboxStatus::Dead, 10_000))
        .unwrap()
        .into_iter()
        .map(|e| (e.idempotency_key, e.last_error.unwrap_or_default()))
        .collect();
    assert!(dead.values().all(|why| !why.is_empty()), "every dead letter says why");
    let (pending, _, _) = rt().block_on(store.outbox_counts()).unwrap();
    assert_eq!(pending, 0, "the outbox is empty or dead-lettered");

    let log = receiver.log.lock().unwrap().clone();
    assert!(log.iter().all(|r| r.signature_ok), "every request carries a valid HMAC-SHA256 signature");
    let accepted: BTreeSet<&str> = log.iter().filter(|r| r.status == 200).map(|r| r.idempotency_key.as_str()).collect();
    let mut ids_per_enterprise: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in log.iter().filter(|r| r.status == 200 && !r.idempotency_key.starts_with("alert-")) {
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["id"], r.idempotency_key.as_str(), "the idempotency key is the notice id");
        let code = body["credit_code"].as_str().unwrap().to_owned();
        ids_per_enterprise.entry(code).or_default().insert(r.idempotency_key.clone());
    }
    for n in &notices {
        let id = &n.notice.id;
        assert!(
            accepted.contains(id.as_str()) || dead.contains_key(id),
            "notice {id} was neither delivered nor dead-lettered"
        );
    }
    assert!(
        ids_per_enterprise.values().all(|ids| ids.len() == 1),
        "an enterprise got two different notices for one step"
    );
    let repeats = log.iter().filter(|r| r.status == 200).count() - accepted.len();
    eprintln!(
        "{} requests, {} accepted ({} repeats the receiver can drop by key), {} dead letters",
        log.len(),
        accepted.len(),
        repeats,
        dead.len()
    );
    let o = hazewarn(&["audit", "verify", "--config", cfg]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn sigkill_mid_dispatch_of_1000_notices_loses_none_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    sigkill_mid_dispatch(&format!("sqlite://{}", dir.path().join("hw.db").display()));
}

/// A fresh schema on the PostgreSQL server every machine runs; dropped afterwards.
fn with_postgres(tag: &str, check: impl FnOnce(&str)) {
    let schema = scratch::schema_name(tag);
    let url = rt()
        .block_on(scratch::create_schema(scratch::POSTGRES_URL, &schema))
        .expect("PostgreSQL at 127.0.0.1:5432 (database test, user postgres) runs on every machine, CI included");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&url)));
    rt().block_on(scratch::drop_schema(scratch::POSTGRES_URL, &schema)).unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn sigkill_mid_dispatch_of_1000_notices_loses_none_on_postgres() {
    with_postgres("kill", sigkill_mid_dispatch);
}

#[test]
fn two_instances_on_one_postgres_database_run_each_slot_once() {
    let (_m, _obs, model) = trained_on_sample("2025-12-31");
    with_postgres("two", |url| {
        let dir = tempfile::tempdir().unwrap();
        let (_receiver, config) = auto_issuing_city(dir.path(), url, &model);
        // The store is migrated once before the race, as a deployment would.
        rt().block_on(Store::connect(url)).unwrap();
        let cycle = || {
            Command::new(env!("CARGO_BIN_EXE_hazewarn"))
                .args(["cycle", "--config", config.to_str().unwrap(), "--at", "2026-01-01T16:00:00+08:00", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (cycle(), cycle());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success(), "{}", text(&a));
        assert!(b.status.success(), "{}", text(&b));
        let reports: Vec<serde_json::Value> =
            [&a, &b].iter().map(|o| serde_json::from_slice(&o.stdout).unwrap()).collect();
        for job in ["forecast", "evaluate", "verify"] {
            let done = reports
                .iter()
                .filter(|r| r["jobs"].as_array().unwrap().iter().any(|j| j["job"] == job && j["status"] == "done"))
                .count();
            assert_eq!(done, 1, "{job} ran in exactly one instance: {reports:?}");
        }
        let store = rt().block_on(Store::connect(url)).unwrap();
        let runs: Vec<(String, String)> =
            rt().block_on(sqlx::query_as("SELECT job, slot FROM job_runs").fetch_all(store.pool())).unwrap();
        assert_eq!(runs.len(), 3, "{runs:?}");
        let w = rt()
            .block_on(store.warning_in_force())
            .unwrap()
            .unwrap_or_else(|| panic!("the sample's January episode is warned of: {reports:?}"));
        let notices = rt().block_on(store.notices_of(&w.id, None)).unwrap();
        let codes: BTreeSet<&str> = notices.iter().map(|n| n.notice.credit_code.as_str()).collect();
        assert_eq!(codes.len(), notices.len(), "one notice per enterprise");
        assert!(!notices.is_empty());
    });
}

#[test]
fn a_second_cycle_for_the_same_time_changes_nothing() {
    let (_m, _obs, model) = trained_on_sample("2025-12-31");
    let dir = tempfile::tempdir().unwrap();
    let drop_dir = dir.path().join("drop");
    let url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let (receiver, config) = auto_issuing_city(dir.path(), &url, &model);
    let cfg = config.to_str().unwrap();
    let at = "2026-01-01T16:00:00+08:00";
    let first = hazewarn(&["cycle", "--config", cfg, "--at", at]);
    assert!(first.status.success(), "{}", text(&first));
    let files = std::fs::read_dir(&drop_dir).unwrap().count();
    let requests = receiver.log.lock().unwrap().len();
    let audit = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let before = audit(&hazewarn(&["audit", "verify", "--config", cfg]));
    assert!(before.contains("intact"), "{before}");

    let second = hazewarn(&["cycle", "--config", cfg, "--at", at]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).matches("skipped (done before)").count() == 3, "{}", text(&second));
    assert_eq!(std::fs::read_dir(&drop_dir).unwrap().count(), files);
    assert_eq!(receiver.log.lock().unwrap().len(), requests);
    assert_eq!(audit(&hazewarn(&["audit", "verify", "--config", cfg])), before, "no new audit entries");

    // Both channels carried the same messages (the notices and the public alert).
    let status = hazewarn(&["outbox", "--config", cfg, "status"]);
    assert!(text(&status).starts_with("0 pending"), "{}", text(&status));
    assert_eq!(files, requests);
}

#[test]
fn run_dispatches_on_its_cron_schedule_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let drop_dir = dir.path().join("drop");
    // Dispatch every second; the other jobs at a time that does not come during the test.
    let extra = format!(
        "[schedule]\ningest = \"0 0 3 1 1 *\"\nforecast = [\"0 0 3 1 1 *\"]\nevaluate = [\"0 0 3 1 1 *\"]\n\
         dispatch = \"* * * * * *\"\nverify = \"0 0 3 1 1 *\"\n\n\
         [[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"{}\"\n",
        drop_dir.display()
    );
    let receiver = Receiver::start(SECRET, Mischief { fail: 0.0, busy: 0.0, hang: 0.0, slow: 0.0, hang_ms: 0 }, 1);
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let config = write_config(dir.path(), &url, &receiver.url, Path::new("unused"), &list, &extra);
    let cfg = config.to_str().unwrap();
    let o = hazewarn(&[
        "warning",
        "--config",
        cfg,
        "issue",
        "--level",
        "yellow",
        "--start",
        "2026-01-05T00:00:00+08:00",
        "--end",
        "2026-01-07T00:00:00+08:00",
        "--by",
        "office",
        "--reason",
        "会商后发布",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut run = Command::new(env!("CARGO_BIN_EXE_hazewarn"))
        .args(["run", "--config", cfg])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let store = rt().block_on(Store::connect(&url)).unwrap();
    loop {
        let (pending, sent, _) = rt().block_on(store.outbox_counts()).unwrap();
        if pending == 0 && sent > 0 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "the scheduler delivered nothing in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    let files = std::fs::read_dir(&drop_dir).unwrap().count();
    let accepted: BTreeSet<String> = receiver.accepted().into_iter().map(|r| r.idempotency_key).collect();
    assert_eq!(files, accepted.len(), "both channels carried every message");
    assert!(files > 1);
}

/// An invalid cron expression used to leave `serve` answering with no scheduler behind it.
#[test]
fn serve_refuses_an_invalid_schedule_naming_the_file_and_key_and_creates_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("hw.db");
    let url = format!("sqlite://{}", store.display());
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let extra = "[schedule]\ndispatch = \"*/30 * * *\"\n";
    let config = write_config(dir.path(), &url, "http://127.0.0.1:9/", Path::new("model"), &list, extra);
    let o = hazewarn(&["serve", "--config", config.to_str().unwrap(), "--addr", "127.0.0.1:0"]);
    assert!(!o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains(&config.display().to_string()) && said.contains("schedule.dispatch: `*/30 * * *`"), "{said}");
    assert!(!store.exists(), "a configuration that fails to load creates no store");
}

#[test]
fn user_add_refuses_weak_tokens_and_credit_codes_not_on_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let config = write_config(dir.path(), &url, "http://127.0.0.1:9/", Path::new("model"), &list, "");
    let cfg = config.to_str().unwrap();
    let on_list = std::fs::read_to_string(&list).unwrap().lines().nth(1).unwrap().split(',').next().unwrap().to_owned();
    let add = |extra: &[&str]| {
        let mut args = vec!["user", "add", "--config", cfg, "--name", "e", "--role", "enterprise"];
        args.extend(extra);
        hazewarn(&args)
    };
    let o = add(&["--credit-code", &on_list, "--token", "password123"]);
    assert!(!o.status.success() && text(&o).contains("the token is too weak"), "{}", text(&o));
    let o = add(&["--credit-code", &on_list, "--token", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]);
    assert!(!o.status.success() && text(&o).contains("the token is too weak"), "{}", text(&o));
    // A valid code (its check character is right) that is not on the list.
    let o = add(&["--credit-code", "91350100M000100Y43"]);
    assert!(!o.status.success() && text(&o).contains("is not on the active reduction list"), "{}", text(&o));
    let o = add(&[]);
    assert!(!o.status.success() && text(&o).contains("needs --credit-code"), "{}", text(&o));
    let o = add(&["--credit-code", &on_list]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("bearer token (shown once)"));
}

#[test]
fn user_import_list_disable_and_rotate_manage_accounts_as_the_office_would() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let config = write_config(dir.path(), &url, "http://127.0.0.1:9/", Path::new("model"), &list, "");
    let cfg = config.to_str().unwrap();
    let rows: Vec<String> = std::fs::read_to_string(&list).unwrap().lines().skip(1).map(str::to_owned).collect();
    let codes: BTreeSet<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
    let o = hazewarn(&["user", "import", "--config", cfg, "--list"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("{} created, 0 updated", codes.len())), "{}", text(&o));
    // Again: the same accounts, their contacts refreshed.
    let o = hazewarn(&["user", "import", "--config", cfg, "--list"]);
    assert!(text(&o).contains(&format!("0 created, {} updated", codes.len())), "{}", text(&o));
    let o = hazewarn(&["user", "add", "--config", cfg, "--name", "duty", "--role", "office"]);
    assert!(o.status.success(), "{}", text(&o));
    let first = rows[0].split(',').collect::<Vec<_>>();
    let o = hazewarn(&["user", "list", "--config", cfg]);
    let listed = text(&o);
    let line = listed.lines().find(|l| l.starts_with(first[0])).unwrap();
    // The list's own mobile and e-mail (columns 21 and 22).
    assert!(line.contains(first[21]) && line.contains(first[22]) && line.ends_with("active"), "{line}");
    assert_eq!(listed.lines().count(), codes.len() + 2, "a header, the office and every enterprise");

    let o = hazewarn(&["user", "disable", "--config", cfg, first[0]]);
    assert!(o.status.success(), "{}", text(&o));
    let o = hazewarn(&["user", "list", "--config", cfg]);
    assert!(text(&o).lines().find(|l| l.starts_with(first[0])).unwrap().contains("disabled"));
    let o = hazewarn(&["user", "disable", "--config", cfg, "nobody"]);
    assert!(!o.status.success() && text(&o).contains("account nobody"), "{}", text(&o));
    let o = hazewarn(&["user", "rotate", "--config", cfg, "duty"]);
    assert!(o.status.success() && text(&o).contains("new bearer token (shown once)"), "{}", text(&o));
    let o = hazewarn(&["audit", "verify", "--config", cfg]);
    assert!(o.status.success(), "{}", text(&o));
}
