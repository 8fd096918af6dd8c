//! Every test runs against SQLite and against PostgreSQL (a fresh schema, dropped afterwards).

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use hazewarn_response::{Actor, CurtailmentNotice, TransitionKind, Warning, WarningLevel};

use crate::forecasts::{ForecastRun, ReviewAction};
use crate::jobs::{SlotClaim, SlotLease};
use crate::users::{Role, User};
use crate::{DeliveryOutcome, Lease, NewMessage, OutboxEntry, OutboxStatus, Store, scratch};

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap()
}

/// Runs `check` on a SQLite file and on a PostgreSQL schema.
pub(crate) async fn on_both<F, Fut>(tag: &str, check: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("hw.db").display())).await.unwrap();
    check(sqlite).await;
    let (pg, schema) = scratch::postgres(tag)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (database test, user postgres) runs on every development and CI machine");
    check(pg.clone()).await;
    pg.close().await;
    scratch::drop_schema(scratch::POSTGRES_URL, &schema).await.unwrap();
}

fn message(id: &str) -> NewMessage {
    NewMessage {
        id: id.into(),
        kind: "notice".into(),
        subject: id.into(),
        channel: "webhook".into(),
        target: "http://127.0.0.1:9/".into(),
        idempotency_key: id.into(),
        payload: "{}".into(),
        route_rank: None,
    }
}

#[tokio::test]
async fn migrations_apply_once_and_reconnect_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let a = Store::connect(&url).await.unwrap();
    let mut tx = a.write().await.unwrap();
    tx.audit(t0(), "test", "first", "s", "").await.unwrap();
    tx.commit().await.unwrap();
    a.close().await;
    let b = Store::connect(&url).await.unwrap();
    assert_eq!(b.verify_audit().await.unwrap().entries, 1);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations").fetch_one(b.pool()).await.unwrap();
    assert_eq!(n, 13, "migrations 0001..0013, each once");
}

#[tokio::test]
async fn audit_chain_detects_edits_deletions_and_rollback_leaves_no_entry() {
    on_both("audit", |s| async move {
        for k in 0..5 {
            let mut tx = s.write().await.unwrap();
            tx.audit(t0() + Duration::minutes(k), "office", "test", &format!("s{k}"), "detail").await.unwrap();
            tx.commit().await.unwrap();
        }
        // A transaction that does not commit leaves nothing behind.
        let mut tx = s.write().await.unwrap();
        tx.audit(t0(), "office", "rolled-back", "x", "").await.unwrap();
        drop(tx);
        let report = s.verify_audit().await.unwrap();
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.entries, 5);

        sqlx::query("UPDATE audit_log SET detail = 'edited' WHERE seq = 3").execute(s.pool()).await.unwrap();
        let report = s.verify_audit().await.unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.0), Some(3), "{report:?}");

        sqlx::query("UPDATE audit_log SET detail = 'detail' WHERE seq = 3").execute(s.pool()).await.unwrap();
        assert!(s.verify_audit().await.unwrap().ok());
        sqlx::query("DELETE FROM audit_log WHERE seq = 5").execute(s.pool()).await.unwrap();
        assert!(!s.verify_audit().await.unwrap().ok(), "a removed last entry shows against the head");
    })
    .await;
}

#[tokio::test]
async fn outbox_leases_retries_and_dead_letters() {
    on_both("outbox", |s| async move {
        let mut tx = s.write().await.unwrap();
        assert!(tx.enqueue(&message("a"), t0()).await.unwrap());
        assert!(!tx.enqueue(&message("a"), t0()).await.unwrap(), "same id twice keeps the first");
        assert!(tx.enqueue(&message("b"), t0()).await.unwrap());
        tx.commit().await.unwrap();

        // Leases run on the database's clock, so a lease runs out in real time; due times are
        // the city's (here t0 and after).
        let lease = Duration::seconds(2);
        let first = s.claim_due("one", t0(), lease, 10, None).await.unwrap();
        assert_eq!(first.len(), 2);
        assert!(s.claim_due("two", t0() + Duration::days(1), lease, 10, None).await.unwrap().is_empty(), "leased");
        // The first dispatcher dies; after the lease both are due again.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let again = s.claim_due("two", t0(), lease, 10, None).await.unwrap();
        assert_eq!(again.len(), 2);
        let held = |e: &OutboxEntry| e.lease.clone().unwrap();

        let later = t0() + Duration::minutes(1);
        let retry = DeliveryOutcome::Retry { at: later + Duration::seconds(10), error: "503".into() };
        assert!(s.record_attempt("a", &held(&again[0]), later, &retry).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        // `a` waits for its retry time; `b`'s second lease has expired, so only `b` is due.
        let due = s.claim_due("two", later + Duration::seconds(5), lease, 10, None).await.unwrap();
        assert_eq!(due.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["b"]);
        let b_lease = held(&due[0]);
        let due = s.claim_due("two", later + Duration::seconds(10), lease, 10, None).await.unwrap();
        assert_eq!(due.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(due[0].attempts, 1);
        let a_lease = held(&due[0]);
        assert!(s.record_attempt("a", &a_lease, later, &DeliveryOutcome::Sent { detail: "200".into() }).await.unwrap());
        // A late report under the same, now released, lease does not undo a delivery.
        assert!(
            !s.record_attempt("a", &a_lease, later, &DeliveryOutcome::Dead { error: "late".into() }).await.unwrap()
        );
        assert_eq!(s.outbox_entry("a").await.unwrap().status, OutboxStatus::Sent);

        assert!(
            s.record_attempt("b", &b_lease, later, &DeliveryOutcome::Dead { error: "410 Gone".into() }).await.unwrap()
        );
        let dead = s.outbox_in(OutboxStatus::Dead, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].last_error.as_deref(), Some("410 Gone"));
        assert_eq!(s.outbox_counts().await.unwrap(), (0, 1, 1));
        s.retry_dead("b", "office", later).await.unwrap();
        assert_eq!(s.outbox_counts().await.unwrap(), (1, 1, 0));
        assert_eq!(s.attempts("a").await.unwrap().len(), 2);
        assert!(s.verify_audit().await.unwrap().ok());
    })
    .await;
}

fn beijing(h: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 1, 5, h, 0, 0).unwrap()
}

fn notice(id: &str, code: &str) -> CurtailmentNotice {
    serde_json::from_value(serde_json::json!({
        "id": id, "content_hash": "h", "warning_id": "W1", "step": 1, "kind": "issue",
        "credit_code": code, "enterprise": "E", "level": "orange",
        "issued_at": beijing(10), "effective_from": beijing(12), "effective_until": beijing(23),
        "ack_deadline": beijing(12), "lines": [], "transport_zh": "", "basis": "", "issuer": "",
        "contact": "", "endpoint": "", "supersedes": null
    }))
    .unwrap()
}

#[tokio::test]
async fn warnings_are_audited_once_per_step_and_notices_are_unique_per_step() {
    on_both("warn", |s| async move {
        let who = |h, reason| Actor { by: "office", at: beijing(h), reason, forecast_id: "run-1" };
        let mut w = Warning::draft("W1", WarningLevel::Yellow, beijing(12), beijing(23), &who(9, "draft")).unwrap();
        let mut tx = s.write().await.unwrap();
        tx.save_warning(&w).await.unwrap();
        tx.commit().await.unwrap();
        w.issue(&who(10, "issue")).unwrap();
        let mut tx = s.write().await.unwrap();
        tx.save_warning(&w).await.unwrap();
        tx.save_warning(&w).await.unwrap();
        assert!(tx.insert_notice(&notice("W1-1-A", "A"), t0()).await.unwrap());
        assert!(!tx.insert_notice(&notice("W1-1-A", "A"), t0()).await.unwrap());
        assert!(!tx.insert_notice(&notice("other-id", "A"), t0()).await.unwrap(), "one notice per enterprise and step");
        tx.commit().await.unwrap();

        let tail = s.audit_tail(10).await.unwrap();
        let actions: Vec<&str> = tail.iter().rev().map(|e| e.action.as_str()).collect();
        // The draft, the issue, and the one notice inserted (the two refused inserts are not).
        assert_eq!(actions, ["warning-draft", "warning-issue", "notice-issue"]);
        assert_eq!(s.warning_in_force().await.unwrap().unwrap().current().kind, TransitionKind::Issue);

        // Deadline 12:00 +08:00 = 04:00 UTC; overdue after it, until acknowledged.
        let after = Utc.with_ymd_and_hms(2026, 1, 5, 4, 30, 0).unwrap();
        assert_eq!(s.overdue(after, crate::response::OverdueMark::Reminded).await.unwrap().len(), 1);
        let acked = s.acknowledge("W1-1-A", "enterprise-a", after).await.unwrap();
        assert!(acked.acknowledged_at.is_some());
        assert!(s.overdue(after, crate::response::OverdueMark::Reminded).await.unwrap().is_empty());
        assert_eq!(s.ack_counts("W1").await.unwrap(), (1, 1));
        assert!(s.verify_audit().await.unwrap().ok());
    })
    .await;
}

#[tokio::test]
async fn job_slots_run_once_and_expired_or_failed_slots_can_be_retaken() {
    on_both("jobs", |s| async move {
        let lease = Duration::minutes(10);
        let claim = |owner: &'static str, slot: &'static str, lease| {
            let s = s.clone();
            async move { s.claim_slot("forecast", slot, owner, t0(), lease).await.unwrap() }
        };
        let first = SlotLease { owner: "i1".into(), epoch: 1 };
        assert_eq!(claim("i1", "s1", lease).await, SlotClaim::Claimed(first.clone()));
        assert_eq!(claim("i2", "s1", lease).await, SlotClaim::Busy);
        assert!(s.finish_slot("forecast", "s1", &first, t0(), true, "ok").await.unwrap());
        assert_eq!(claim("i1", "s1", lease).await, SlotClaim::Done);
        // A failed slot may be run again, under the next epoch.
        let SlotClaim::Claimed(held) = claim("i1", "s2", lease).await else { panic!("s2 is free") };
        assert!(s.finish_slot("forecast", "s2", &held, t0(), false, "source down").await.unwrap());
        assert_eq!(claim("i2", "s2", lease).await, SlotClaim::Claimed(SlotLease { owner: "i2".into(), epoch: 2 }));
        assert_eq!(s.slot_status("forecast", "s2").await.unwrap().as_deref(), Some("running"));
    })
    .await;
}

#[tokio::test]
async fn a_runner_whose_lease_ran_out_cannot_finish_over_its_successor() {
    on_both("fencing", |s| async move {
        // Leases run on the database's clock: a three-second lease, then real time passes. The
        // instance's clock (t0, years ago) has no say in when it ran out.
        let short = Duration::seconds(3);
        let SlotClaim::Claimed(stalled) = s.claim_slot("verify", "s", "i1", t0(), short).await.unwrap() else {
            panic!("the slot is free")
        };
        assert_eq!(s.claim_slot("verify", "s", "i2", t0(), short).await.unwrap(), SlotClaim::Busy);
        tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
        // The successor may even carry the same instance name (a restart): the epoch tells them apart.
        let SlotClaim::Claimed(successor) =
            s.claim_slot("verify", "s", "i1", t0(), Duration::minutes(10)).await.unwrap()
        else {
            panic!("the first lease ran out")
        };
        assert_eq!(successor, SlotLease { owner: "i1".into(), epoch: 2 });
        // The stalled runner wakes: its heartbeat and its result are refused, and nothing changes.
        assert!(!s.renew_slot("verify", "s", &stalled, Duration::minutes(10)).await.unwrap());
        assert!(!s.finish_slot("verify", "s", &stalled, t0(), true, "late").await.unwrap());
        assert_eq!(s.slot_status("verify", "s").await.unwrap().as_deref(), Some("running"));
        assert!(s.finish_slot("verify", "s", &successor, t0(), true, "on time").await.unwrap());
        let runs = s.job_runs(10).await.unwrap();
        let run = runs.iter().find(|r| r.job == "verify").unwrap();
        assert_eq!((run.status.as_str(), run.detail.as_str()), ("done", "on time"));
        // A heartbeat keeps a lease alive past its first term.
        let SlotClaim::Claimed(alive) = s.claim_slot("verify", "t", "i1", t0(), Duration::seconds(2)).await.unwrap()
        else {
            panic!("t is free")
        };
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        assert!(s.renew_slot("verify", "t", &alive, Duration::seconds(10)).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(s.claim_slot("verify", "t", "i2", t0(), Duration::seconds(5)).await.unwrap(), SlotClaim::Busy);
    })
    .await;
}

#[tokio::test]
async fn forecast_reviews_and_users() {
    on_both("review", |s| async move {
        let run = ForecastRun {
            id: "run-1".into(),
            issue_time: crate::ts(t0()),
            model: "gbdt".into(),
            created_at: crate::ts(t0()),
            inputs: "{}".into(),
            hourly: "[]".into(),
            daily: "[]".into(),
            status: "issued".into(),
            model_hourly: Some("[]".into()),
            levels: None,
        };
        let mut tx = s.write().await.unwrap();
        assert!(tx.save_forecast_run(&run).await.unwrap());
        assert!(!tx.save_forecast_run(&run).await.unwrap());
        tx.commit().await.unwrap();
        // The model's own forecast is kept beside the issued one (migration 11).
        assert_eq!(s.forecast_run("run-1").await.unwrap().unwrap(), run);
        assert!(s.latest_forecast_run(t0(), true).await.unwrap().is_none());
        assert!(s.review("run-1", ReviewAction::Adjust, "f", "", Some("[]"), t0()).await.is_err(), "reason needed");
        s.review("run-1", ReviewAction::Annotate, "f", "fog likely", None, t0()).await.unwrap();
        assert!(s.latest_forecast_run(t0(), true).await.unwrap().is_none());
        s.review("run-1", ReviewAction::Approve, "f", "", None, t0()).await.unwrap();
        assert_eq!(s.latest_forecast_run(t0(), true).await.unwrap().unwrap().status, "approved");
        assert_eq!(s.reviews("run-1").await.unwrap().len(), 2);

        let ent = User { name: "acme".into(), role: Role::Enterprise, credit_code: Some("91411100MA000000X".into()) };
        s.add_user(&ent, "secret-token", "admin", t0()).await.unwrap();
        assert!(s.add_user(&ent, "other", "admin", t0()).await.is_err());
        let office = User { name: "office".into(), role: Role::Office, credit_code: Some("x".into()) };
        assert!(s.add_user(&office, "t2", "admin", t0()).await.is_err(), "only enterprises carry a credit code");
        assert_eq!(s.user_by_token("secret-token").await.unwrap(), Some(ent));
        assert_eq!(s.user_by_token("wrong").await.unwrap(), None);
        let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM users").fetch_one(s.pool()).await.unwrap();
        assert_ne!(stored, "secret-token");
    })
    .await;
}

#[tokio::test]
async fn a_dispatcher_whose_lease_expired_cannot_record_over_its_successor() {
    on_both("fencing", |s| async move {
        let mut tx = s.write().await.unwrap();
        tx.enqueue(&message("a"), t0()).await.unwrap();
        tx.commit().await.unwrap();
        let lease = Duration::seconds(1);
        let one = s.claim_due("one", t0(), lease, 10, None).await.unwrap().remove(0).lease.unwrap();
        assert!(s.renew_lease("a", &one, Duration::seconds(4)).await.unwrap(), "the holder renews");
        // Renewed for 4 s on the database's clock: past the first term nobody else may claim
        // it, whatever time the claimant's own clock says; past the renewed term it has expired.
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        assert!(s.claim_due("two", t0() + Duration::days(1), lease, 10, None).await.unwrap().is_empty());
        tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
        let two = s.claim_due("two", t0(), lease, 10, None).await.unwrap().remove(0).lease.unwrap();
        assert_eq!((two.owner.as_str(), two.epoch), ("two", one.epoch + 1));
        // The stalled first dispatcher comes back: it may neither renew nor record.
        assert!(!s.renew_lease("a", &one, Duration::seconds(60)).await.unwrap());
        let dead = DeliveryOutcome::Dead { error: "stale".into() };
        assert!(!s.record_attempt("a", &one, t0() + Duration::seconds(42), &dead).await.unwrap());
        assert!(s.attempts("a").await.unwrap().is_empty(), "a fenced outcome writes no attempt");
        // Even the same owner under an older epoch is fenced.
        let same_owner_old = Lease { owner: "two".into(), epoch: one.epoch };
        assert!(!s.record_attempt("a", &same_owner_old, t0() + Duration::seconds(42), &dead).await.unwrap());
        let sent = DeliveryOutcome::Sent { detail: "200".into() };
        assert!(s.record_attempt("a", &two, t0() + Duration::seconds(43), &sent).await.unwrap());
        assert_eq!(s.outbox_entry("a").await.unwrap().status, OutboxStatus::Sent);
        assert_eq!(s.attempts("a").await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_claim_can_be_limited_to_one_channel() {
    on_both("per_channel", |s| async move {
        let mut tx = s.write().await.unwrap();
        let mut other = message("b");
        other.channel = "sms".into();
        tx.enqueue(&message("a"), t0()).await.unwrap();
        tx.enqueue(&other, t0()).await.unwrap();
        tx.commit().await.unwrap();
        let lease = Duration::seconds(30);
        let sms = s.claim_due("one", t0(), lease, 10, Some("sms")).await.unwrap();
        assert_eq!(sms.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["b"]);
        let rest = s.claim_due("one", t0(), lease, 10, None).await.unwrap();
        assert_eq!(rest.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a"]);
    })
    .await;
}

#[tokio::test]
async fn audit_verify_names_rows_edited_inserted_or_deleted_behind_its_back() {
    on_both("rows", |s| async move {
        let who = Actor { by: "office", at: beijing(9), reason: "issue", forecast_id: "run-1" };
        let mut w = Warning::draft("W1", WarningLevel::Orange, beijing(12), beijing(23), &who).unwrap();
        w.issue(&who).unwrap();
        let mut tx = s.write().await.unwrap();
        tx.save_warning(&w).await.unwrap();
        assert!(tx.insert_notice(&notice("W1-1-A", "A"), t0()).await.unwrap());
        assert!(tx.insert_notice(&notice("W1-1-B", "B"), t0()).await.unwrap());
        tx.commit().await.unwrap();
        s.acknowledge("W1-1-A", "enterprise-a", t0()).await.unwrap();
        let clean = s.verify_audit().await.unwrap();
        assert!(clean.ok(), "{clean:?}");
        assert_eq!(clean.rows_checked, 3);

        let edit = |q: &'static str| {
            let s = s.clone();
            async move { sqlx::query(q).execute(s.pool()).await.unwrap() }
        };
        edit("UPDATE notices SET acknowledged_by = 'someone else' WHERE id = 'W1-1-A'").await;
        edit("UPDATE warnings SET level = 'red' WHERE id = 'W1'").await;
        edit("DELETE FROM notices WHERE id = 'W1-1-B'").await;
        edit(
            "INSERT INTO notices (id, warning_id, step, credit_code, content_hash, body, created_at, ack_deadline) \
             VALUES ('W1-1-C', 'W1', 1, 'C', 'x', '{}', 't', 't')",
        )
        .await;
        let r = s.verify_audit().await.unwrap();
        assert!(r.broken.is_none(), "the chain itself holds: {r:?}");
        let mut altered = r.altered.clone();
        altered.sort();
        assert_eq!(altered.len(), 4, "{altered:#?}");
        assert!(altered[0].starts_with("notices W1-1-A: changed since audit entry"), "{altered:#?}");
        assert!(altered[1].starts_with("notices W1-1-B: deleted after audit entry"), "{altered:#?}");
        assert_eq!(altered[2], "notices W1-1-C: not in the audit (written outside hazewarn)");
        assert!(altered[3].starts_with("warnings W1: changed since audit entry"), "{altered:#?}");
        assert!(!r.ok());
    })
    .await;
}

#[tokio::test]
async fn rows_written_before_the_audit_covered_them_are_taken_as_a_baseline() {
    on_both("baseline", |s| async move {
        // A notice as a store before migration 4 held it: in the table, with no row hash.
        sqlx::query(
            "INSERT INTO notices (id, warning_id, step, credit_code, content_hash, body, created_at, ack_deadline) \
             VALUES ('OLD-1', 'W0', 1, 'A', 'x', '{}', '2025-12-01T00:00:00Z', '2025-12-01T02:00:00Z')",
        )
        .execute(s.pool())
        .await
        .unwrap();
        assert_eq!(
            s.verify_audit().await.unwrap().altered,
            ["notices OLD-1: not in the audit (written outside hazewarn)"]
        );
        let mut tx = s.write().await.unwrap();
        crate::audit::baseline(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
        let r = s.verify_audit().await.unwrap();
        assert!(r.ok(), "{r:?}");
        let tail = s.audit_tail(1).await.unwrap();
        assert_eq!((tail[0].action.as_str(), tail[0].subject.as_str()), ("audit-baseline", "OLD-1"));
        assert_eq!(tail[0].at, "2025-12-01T00:00:00Z", "dated by the row's own time");
    })
    .await;
}

#[tokio::test]
async fn a_demo_clock_keeps_its_first_anchor_until_its_start_changes() {
    on_both("democlock", |s| async move {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 8, 30, 0).unwrap();
        let first = t0() + Duration::days(300);
        assert_eq!(s.demo_clock_anchor(start, first).await.unwrap(), first);
        // A later process opens the same city: it runs on from the first opening.
        assert_eq!(s.demo_clock_anchor(start, first + Duration::hours(5)).await.unwrap(), first);
        // The configuration names a new start: the clock starts anew.
        let moved = start + Duration::days(1);
        let now = first + Duration::hours(6);
        assert_eq!(s.demo_clock_anchor(moved, now).await.unwrap(), now);
        assert!(s.verify_audit().await.unwrap().ok());
        let tail = s.audit_tail(2).await.unwrap();
        assert!(tail.iter().all(|e| e.action == "demo-clock-start"), "{tail:?}");
    })
    .await;
}

#[tokio::test]
async fn an_account_is_sent_at_most_ten_codes_a_day_one_a_minute() {
    use crate::sessions::{CodeCheck, CodeRefusal};
    let dir = tempfile::tempdir().unwrap();
    let s = Store::connect(&format!("sqlite://{}", dir.path().join("hw.db").display())).await.unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-04T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let issue = |k: i64| {
        let at = start + chrono::Duration::minutes(2 * k);
        let s = s.clone();
        async move { s.issue_code("acct", "123456", "139****0001", at, at + chrono::Duration::minutes(5)).await.unwrap() }
    };
    for k in 0..10 {
        assert_eq!(issue(k).await, Ok(()), "code {k}");
    }
    // The eleventh that day waits for midnight (UTC): 23 h 40 min after 00:20.
    assert_eq!(issue(10).await, Err(CodeRefusal::TooSoon(23 * 3600 + 40 * 60)));
    // Less than a minute after the last one: wait the rest of the minute.
    let soon = start + chrono::Duration::minutes(18) + chrono::Duration::seconds(20);
    assert_eq!(s.issue_code("other", "1", "x", soon, soon).await.unwrap(), Ok(()));
    let again = soon + chrono::Duration::seconds(15);
    assert_eq!(s.issue_code("other", "1", "x", again, again).await.unwrap(), Err(CodeRefusal::TooSoon(45)));
    // The next day counts afresh.
    let tomorrow = start + chrono::Duration::days(1);
    assert_eq!(
        s.issue_code("acct", "654321", "x", tomorrow, tomorrow + chrono::Duration::minutes(5)).await.unwrap(),
        Ok(())
    );
    assert_eq!(s.check_code("acct", "654321", tomorrow).await.unwrap(), CodeCheck::Accepted);
}

#[tokio::test]
async fn a_second_instance_claims_past_the_messages_another_is_claiming_instead_of_waiting() {
    let (pg, schema) = scratch::postgres("skiplocked")
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (database test, user postgres) runs on every development and CI machine");
    let mut tx = pg.write().await.unwrap();
    for id in ["m0", "m1"] {
        assert!(tx.enqueue(&message(id), t0()).await.unwrap());
    }
    tx.commit().await.unwrap();
    // Another instance is mid-claim: its transaction holds m0's row and has not committed.
    let mut other = pg.pool().begin().await.unwrap();
    sqlx::query("SELECT id FROM outbox WHERE id = 'm0' FOR UPDATE").execute(&mut *other).await.unwrap();
    let claimed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        pg.claim_due("i2", t0(), Duration::minutes(5), 10, None),
    )
    .await
    .expect("the claim did not wait for the other instance's rows")
    .unwrap();
    assert_eq!(claimed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["m1"]);
    other.rollback().await.unwrap();
    // Once the other lets go, m0 is free to claim.
    let rest = pg.claim_due("i2", t0(), Duration::minutes(5), 10, None).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["m0"]);
    pg.close().await;
    scratch::drop_schema(scratch::POSTGRES_URL, &schema).await.unwrap();
}
