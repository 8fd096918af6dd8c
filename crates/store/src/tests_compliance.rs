//! Power readings and the alarm lifecycle, on SQLite and PostgreSQL: each step only from the
//! step before it, an enterprise only on its own alarm, notified by the delivery of its
//! message, and every step in the audit, which names an alarm edited behind its back.

use chrono::Duration;

use crate::compliance::{Alarm, AlarmOutcome, AlarmState, PowerReading};
use crate::monitoring::DeviceCounts;
use crate::tests::{on_both, t0};
use crate::{DeliveryOutcome, NewMessage, StoreError};

fn alarm(id: &str, code: &str, line: &str) -> Alarm {
    Alarm {
        id: id.into(),
        warning_id: "LH-20260105".into(),
        step: 1,
        credit_code: code.into(),
        enterprise: "甲".into(),
        line: line.into(),
        evidence: vec!["production power at 98 % of its baseline; 10 % allowed".into()],
        confidence: 1.0,
        ..Default::default()
    }
}

#[tokio::test]
async fn power_readings_are_kept_once_and_read_by_window() {
    on_both("power", |s| async move {
        let r = |h: i64, kw: f64| PowerReading { meter: "M1".into(), at: t0() + Duration::hours(h), kw };
        assert_eq!(s.save_power(&[r(0, 10.0), r(1, 11.0), r(2, 12.0)], "feed.csv", t0()).await.unwrap(), 3);
        assert_eq!(s.save_power(&[r(1, 11.0), r(3, 13.0)], "feed.csv", t0()).await.unwrap(), 1, "one new");
        let got = s.power_of("M1", t0() + Duration::hours(1), t0() + Duration::hours(3)).await.unwrap();
        assert_eq!(got.iter().map(|p| p.kw).collect::<Vec<_>>(), [11.0, 12.0], "[from, to)");
        assert_eq!(s.power_counts().await.unwrap()[0].1, 4);
        // A later feed that gives a stored hour another value is refused whole.
        let e = s.save_power(&[r(4, 14.0), r(2, 99.0)], "fix.csv", t0()).await.unwrap_err().to_string();
        assert!(e.starts_with("fix.csv: 1 reading(s) differ from the stored ones; nothing was imported"), "{e}");
        assert_eq!(s.power_counts().await.unwrap()[0].1, 4, "hour 4 was not taken either");
    })
    .await;
}

#[tokio::test]
async fn an_alarm_is_worked_from_open_to_closed_one_step_at_a_time() {
    on_both("alarms", |s| async move {
        let mut tx = s.write().await.unwrap();
        assert!(tx.open_alarm(&alarm("ALM-1", "A", "1#"), t0()).await.unwrap());
        // The same line and step again, under another id, opens nothing.
        assert!(!tx.open_alarm(&alarm("ALM-2", "A", "1#"), t0()).await.unwrap());
        tx.commit().await.unwrap();
        let conflict = |r: Result<Alarm, StoreError>| matches!(r, Err(StoreError::Conflict(_)));
        assert!(conflict(s.verify_alarm("ALM-1", "office", "site", t0()).await), "not yet notified");
        assert!(conflict(s.close_alarm("ALM-1", "office", AlarmOutcome::Violation, "n", t0()).await));
        // A copy on a machine channel (no route rank: the city's archive) reaches no one.
        let mut tx = s.write().await.unwrap();
        tx.enqueue(
            &NewMessage {
                id: "ALM-1@files".into(),
                kind: "alarm".into(),
                subject: "ALM-1".into(),
                channel: "files".into(),
                target: "archive".into(),
                idempotency_key: "ALM-1".into(),
                payload: "{}".into(),
                route_rank: None,
            },
            t0(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let claimed = s.claim_due("d", t0(), Duration::seconds(30), 10, None).await.unwrap();
        let lease = claimed[0].lease.clone().unwrap();
        s.record_attempt("ALM-1@files", &lease, t0(), &DeliveryOutcome::Sent { detail: "ok".into() }).await.unwrap();
        assert_eq!(s.alarm("ALM-1").await.unwrap().unwrap().state, AlarmState::Open);

        // Its message is delivered: the alarm is notified.
        let m = NewMessage {
            id: "ALM-1@sms".into(),
            kind: "alarm".into(),
            subject: "ALM-1".into(),
            channel: "sms".into(),
            target: "13800000000".into(),
            idempotency_key: "ALM-1".into(),
            payload: "{}".into(),
            route_rank: Some(0),
        };
        let mut tx = s.write().await.unwrap();
        tx.enqueue(&m, t0()).await.unwrap();
        tx.commit().await.unwrap();
        let claimed = s.claim_due("d", t0(), Duration::seconds(30), 10, None).await.unwrap();
        let lease = claimed[0].lease.clone().unwrap();
        s.record_attempt("ALM-1@sms", &lease, t0(), &DeliveryOutcome::Sent { detail: "ok".into() }).await.unwrap();
        assert_eq!(s.alarm("ALM-1").await.unwrap().unwrap().state, AlarmState::Notified);

        // Another enterprise learns nothing of it; its own answers (and may answer again).
        assert!(matches!(s.explain_alarm("ALM-1", "B", "not ours", t0()).await, Err(StoreError::NotFound(_))));
        s.explain_alarm("ALM-1", "A", "first answer", t0()).await.unwrap();
        let a = s.explain_alarm("ALM-1", "A", "the line was in maintenance", t0()).await.unwrap();
        assert_eq!((a.state, a.explanation.as_deref()), (AlarmState::Explained, Some("the line was in maintenance")));
        let a = s.verify_alarm("ALM-1", "office", "running on arrival", t0()).await.unwrap();
        assert_eq!((a.state, a.verified_by.as_deref()), (AlarmState::Verified, Some("office")));
        assert!(conflict(s.explain_alarm("ALM-1", "A", "too late", t0()).await), "verified: no more answers");
        let a = s.close_alarm("ALM-1", "office", AlarmOutcome::Violation, "to enforcement", t0()).await.unwrap();
        assert_eq!((a.state, a.outcome.as_deref()), (AlarmState::Closed, Some("violation")));
        assert!(conflict(s.close_alarm("ALM-1", "office", AlarmOutcome::Complied, "again", t0()).await));
        assert_eq!(s.alarms(Some("A")).await.unwrap().len(), 1);
        assert!(s.alarms(Some("B")).await.unwrap().is_empty());

        let report = s.verify_audit().await.unwrap();
        assert!(report.ok(), "{report:?}");
        let actions: Vec<(String, String)> =
            sqlx::query_as("SELECT action, actor FROM audit_log WHERE subject = 'ALM-1' ORDER BY seq")
                .fetch_all(s.pool())
                .await
                .unwrap();
        let names: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(
            names,
            ["alarm-open", "alarm-notified", "alarm-explain", "alarm-explain", "alarm-verify", "alarm-close"]
        );
        sqlx::query("UPDATE compliance_alarms SET outcome = 'complied' WHERE id = 'ALM-1'")
            .execute(s.pool())
            .await
            .unwrap();
        let r = s.verify_audit().await.unwrap();
        assert!(r.altered.iter().any(|a| a.starts_with("compliance_alarms ALM-1: changed")), "{r:?}");
    })
    .await;
}

#[tokio::test]
async fn the_office_may_record_that_it_reached_the_enterprise_itself() {
    on_both("phone", |s| async move {
        let mut tx = s.write().await.unwrap();
        assert!(tx.open_alarm(&alarm("ALM-3", "A", "2#"), t0()).await.unwrap());
        tx.commit().await.unwrap();
        let a = s.notify_alarm_by_phone("ALM-3", "office", "电话通知张经理 139…", t0()).await.unwrap();
        assert_eq!(a.state, AlarmState::Notified);
        let again = s.notify_alarm_by_phone("ALM-3", "office", "again", t0()).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        assert!(s.verify_audit().await.unwrap().ok());
    })
    .await;
}

/// `n` values of one device's packet at minute `m`.
fn packet(mn: &str, m: u32, n: usize) -> Vec<crate::monitoring::Reading> {
    (0..n)
        .map(|k| crate::monitoring::Reading {
            mn: mn.into(),
            cn: "2011".into(),
            data_time: format!("2026-01-05T{:02}:{:02}:00+08:00", m / 60, m % 60),
            code: format!("a{k:05}"),
            field: "Rtd".into(),
            value: Some(k as f64),
            text: None,
            flag: Some("N".into()),
            qn: Some(format!("{m}")),
        })
        .collect()
}

#[tokio::test]
async fn a_group_commit_counts_each_packets_new_values_once_across_statements() {
    on_both("readings", |s| async move {
        // 400 packets of 12 values: more rows than one statement carries, so the count of new
        // values per packet must survive the statements' boundaries.
        let packets: Vec<_> = (0..400).map(|m| packet("D1", m, 12)).collect();
        let resent = packet("D1", 7, 12);
        let mut batch: Vec<(&str, &[crate::monitoring::Reading])> =
            packets.iter().map(|p| ("D1", p.as_slice())).collect();
        batch.insert(100, ("D1", &resent));
        let garbage = DeviceCounts { bad_frames: 2, ..Default::default() };
        let counted = [
            ("D1".to_owned(), DeviceCounts { packets: 401, ..Default::default() }),
            ("unlisted 10.0.0.9".to_owned(), garbage),
        ];
        let news = s.save_packets(&batch, &counted, t0()).await.unwrap();
        assert_eq!(news.len(), 401);
        assert_eq!(news[100], 0, "minute 7 was first carried by packet 7 of the batch");
        assert_eq!(news[7], 12);
        assert_eq!(news.iter().sum::<usize>(), 400 * 12);
        assert_eq!(s.readings_of("D1").await.unwrap().len(), 400 * 12);
        // Sent again in a later commit, beside one new packet: only the new one counts.
        let later = packet("D1", 400, 12);
        let news = s.save_packets(&[("D1", &packets[3]), ("D1", &later)], &[], t0()).await.unwrap();
        assert_eq!(news, [0, 12]);
        // The counts add up across commits (and so across restarts: they are the store's).
        let counts = s.receiver_counts().await.unwrap();
        assert_eq!(counts["D1"], DeviceCounts { packets: 401, stored: 401 * 12, bad_frames: 0, refused: 0 });
        assert_eq!(counts["unlisted 10.0.0.9"], garbage);
    })
    .await;
}
