//! The transactional outbox. A message is written in the same transaction as the change that
//! caused it; a dispatcher claims due messages under a lease, delivers them, and records each
//! attempt. Delivery is at least once: a dispatcher that dies mid-send leaves its lease to
//! expire, and the message is claimed again with the same idempotency key. Every claim is a
//! [`Lease`] with a new epoch (a fencing token): only its holder may renew it or record the
//! outcome, so a dispatcher that stalled past its lease cannot overwrite its successor's word.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{Backend, Result, Store, StoreError, WriteTx, sql, ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OutboxStatus {
    Pending,
    Sent,
    Dead,
    /// A later channel of a notice's route, waiting for the one before it to fail.
    Standby,
}

impl OutboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Standby => "standby",
        }
    }

    fn parse(s: &str) -> Result<OutboxStatus> {
        Ok(match s {
            "pending" => OutboxStatus::Pending,
            "sent" => OutboxStatus::Sent,
            "dead" => OutboxStatus::Dead,
            "standby" => OutboxStatus::Standby,
            other => return Err(StoreError::Corrupt { what: "outbox status".into(), detail: other.into() }),
        })
    }
}

/// A message to deliver on one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Unique per message and channel; enqueuing the same id twice keeps the first.
    pub id: String,
    /// `notice`, `alert` (the public CAP alert) or `office`.
    pub kind: String,
    /// What it is about: a notice id, a warning id.
    pub subject: String,
    pub channel: String,
    pub target: String,
    /// What receivers deduplicate on: the notice id for notices.
    pub idempotency_key: String,
    pub payload: String,
    /// Its place in the notice's route (0 first); `None` for a message every channel takes.
    pub route_rank: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub channel: String,
    pub target: String,
    pub idempotency_key: String,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    /// The claim on it, while a dispatcher holds one.
    pub lease: Option<Lease>,
    pub route_rank: Option<i64>,
}

impl OutboxEntry {
    /// A message that is sent at once and never queued (a sign-in code), or a test's message.
    pub fn unqueued(kind: &str, channel: &str, target: &str, key: &str, payload: String) -> OutboxEntry {
        OutboxEntry {
            id: format!("{key}@{channel}"),
            kind: kind.to_owned(),
            subject: key.to_owned(),
            channel: channel.to_owned(),
            target: target.to_owned(),
            idempotency_key: key.to_owned(),
            payload,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: String::new(),
            last_error: None,
            sent_at: None,
            lease: None,
            route_rank: None,
        }
    }
}

/// A dispatcher's claim on a message: who holds it, and which claim of the message it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lease {
    pub owner: String,
    pub epoch: i64,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Sent {
        detail: String,
    },
    /// Try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Give up: the message moves to the dead-letter state, visible to the office.
    Dead {
        error: String,
    },
}

const COLUMNS: &str = "id, kind, subject, channel, target, idempotency_key, payload, status, attempts, next_attempt_at, last_error, sent_at, lease_owner, lease_epoch, route_rank";
type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

fn entry(r: Row) -> Result<OutboxEntry> {
    Ok(OutboxEntry {
        id: r.0,
        kind: r.1,
        subject: r.2,
        channel: r.3,
        target: r.4,
        idempotency_key: r.5,
        payload: r.6,
        status: OutboxStatus::parse(&r.7)?,
        attempts: r.8,
        next_attempt_at: r.9,
        last_error: r.10,
        sent_at: r.11,
        lease: r.12.map(|owner| Lease { owner, epoch: r.13 }),
        route_rank: r.14,
    })
}

impl WriteTx {
    /// Queues a message, due now (or on standby, for a later place in a route). Returns false
    /// when a message with this id was already queued.
    pub async fn enqueue(&mut self, m: &NewMessage, now: DateTime<Utc>) -> Result<bool> {
        let status = if m.route_rank.unwrap_or(0) > 0 { "standby" } else { "pending" };
        let done = sqlx::query(
            "INSERT INTO outbox (id, kind, subject, channel, target, idempotency_key, payload, status, attempts, \
             next_attempt_at, created_at, route_rank) VALUES ($1, $2, $3, $4, $5, $6, $7, $9, 0, $8, $8, $10) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&m.id)
        .bind(&m.kind)
        .bind(&m.subject)
        .bind(&m.channel)
        .bind(&m.target)
        .bind(&m.idempotency_key)
        .bind(&m.payload)
        .bind(ts(now))
        .bind(status)
        .bind(m.route_rank)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl WriteTx {
    /// Makes the next channel on standby in a notice's route due now, after `dead` failed;
    /// audited. Nothing when the route has no channel left, or when the notice (`subject`) was
    /// acknowledged meanwhile (by phone, or by the link of an earlier attempt).
    async fn fall_back(&mut self, key: &str, subject: &str, dead: &str, at: DateTime<Utc>) -> Result<()> {
        let acked: Option<(Option<String>,)> = sqlx::query_as("SELECT acknowledged_at FROM notices WHERE id = $1")
            .bind(subject)
            .fetch_optional(self.conn())
            .await?;
        if acked.is_some_and(|(a,)| a.is_some()) {
            return Ok(());
        }
        let next: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM outbox WHERE idempotency_key = $1 AND status = 'standby' ORDER BY route_rank, id LIMIT 1",
        )
        .bind(key)
        .fetch_optional(self.conn())
        .await?;
        let Some((next,)) = next else { return Ok(()) };
        sqlx::query("UPDATE outbox SET status = 'pending', next_attempt_at = $2 WHERE id = $1 AND status = 'standby'")
            .bind(&next)
            .bind(ts(at))
            .execute(self.conn())
            .await?;
        self.audit(at, "dispatcher", "route-fallback", &next, &format!("after {dead}")).await.map(|_| ())
    }
}

impl Store {
    /// Leases up to `limit` messages due by `now` (the city's clock, which set their due times;
    /// of one channel, or of any) to `owner` for `lease` on the database's clock, each under a
    /// new epoch: instances with skewed clocks agree on whose lease has run out. A message whose
    /// lease expired (its dispatcher died or stalled) is due again.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
        channel: Option<&str>,
    ) -> Result<Vec<OutboxEntry>> {
        let now_s = ts(now);
        let only = if channel.is_some() { " AND channel = $4" } else { "" };
        let (db_now, until) = (self.db_time(Duration::zero()), self.db_time(lease));
        let free = format!(
            "status = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < {db_now}){only}"
        );
        // On PostgreSQL a second instance skips the rows another is claiming instead of waiting
        // for them, and the rows are chosen once (`= ANY(ARRAY(…))` is evaluated once, where an
        // `IN (…)` subquery may be run again and claim past the limit); SQLite has one writer at
        // a time anyway.
        let pick = format!("SELECT id FROM outbox WHERE {free} ORDER BY next_attempt_at, id LIMIT $3");
        let chosen = match self.backend {
            Backend::Postgres => format!("id = ANY(ARRAY({pick} FOR UPDATE SKIP LOCKED))"),
            Backend::Sqlite => format!("id IN ({pick})"),
        };
        let statement = format!(
            "UPDATE outbox SET lease_owner = $1, lease_until = {until}, lease_epoch = lease_epoch + 1 WHERE {chosen} \
             AND {free} RETURNING {COLUMNS}"
        );
        // Not the store's write lock: a claim is lease bookkeeping, not audited, and instances
        // must be able to claim side by side.
        let mut tx = self.pool().begin().await?;
        let mut query = sqlx::query_as(sql(statement)).bind(owner).bind(&now_s).bind(limit);
        if let Some(c) = channel {
            query = query.bind(c);
        }
        let rows: Vec<Row> = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.into_iter().map(entry).collect()
    }

    /// Extends a lease its holder still has to `term` from now on the database's clock; false
    /// when it lost it (it expired and the message was claimed again, or its outcome is recorded).
    pub async fn renew_lease(&self, id: &str, lease: &Lease, term: Duration) -> Result<bool> {
        let done = sqlx::query(sql(format!(
            "UPDATE outbox SET lease_until = {} WHERE id = $1 AND status = 'pending' AND lease_owner = $2 \
             AND lease_epoch = $3",
            self.db_time(term)
        )))
        .bind(id)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records one attempt and its outcome under `lease`, and releases the lease. False, with
    /// nothing written, when `lease` is no longer the message's current claim.
    pub async fn record_attempt(
        &self,
        id: &str,
        lease: &Lease,
        at: DateTime<Utc>,
        outcome: &DeliveryOutcome,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let (status, next, error, detail) = match outcome {
            DeliveryOutcome::Sent { detail } => ("sent", ts(at), None, detail.clone()),
            DeliveryOutcome::Retry { at: next, error } => ("pending", ts(*next), Some(error.clone()), error.clone()),
            DeliveryOutcome::Dead { error } => ("dead", ts(at), Some(error.clone()), error.clone()),
        };
        let sent_at = (status == "sent").then(|| ts(at));
        let row: Option<(i64, String, Option<i64>, String, String)> = sqlx::query_as(
            "UPDATE outbox SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
             sent_at = COALESCE(sent_at, $5), lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND status = 'pending' AND lease_owner = $6 AND lease_epoch = $7 \
             RETURNING attempts, idempotency_key, route_rank, subject, kind",
        )
        .bind(id)
        .bind(status)
        .bind(&next)
        .bind(error)
        .bind(sent_at)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .fetch_optional(tx.conn())
        .await?;
        // Fenced: another claim (or an outcome) came after this lease; the current holder speaks.
        let Some((attempt, key, rank, subject, kind)) = row else { return Ok(false) };
        sqlx::query(
            "INSERT INTO delivery_attempts (outbox_id, attempt, at, outcome, detail) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (outbox_id, attempt) DO NOTHING",
        )
        .bind(id)
        .bind(attempt)
        .bind(ts(at))
        .bind(status)
        .bind(detail)
        .execute(tx.conn())
        .await?;
        if status == "dead" {
            tx.audit(at, "dispatcher", "dead-letter", id, outcome_error(outcome)).await?;
            if rank.is_some() {
                tx.fall_back(&key, &subject, id, at).await?;
            }
        }
        // A compliance alarm has reached its enterprise once a channel of its route (SMS, e-mail,
        // its robot) delivered it; the machine channels' copies are the city's own.
        if status == "sent" && kind == "alarm" && rank.is_some() {
            tx.mark_alarm_notified(&subject, id, at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Messages in one state, oldest first.
    pub async fn outbox_in(&self, status: OutboxStatus, limit: i64) -> Result<Vec<OutboxEntry>> {
        let rows: Vec<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = $1 ORDER BY created_at, id LIMIT $2"
        )))
        .bind(status.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(entry).collect()
    }

    pub async fn outbox_entry(&self, id: &str) -> Result<OutboxEntry> {
        let row: Option<Row> = sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        entry(row.ok_or_else(|| StoreError::NotFound(format!("outbox message {id}")))?)
    }

    /// Every message about one subject (a notice id, a warning id), in route order.
    pub async fn outbox_of(&self, subject: &str) -> Result<Vec<OutboxEntry>> {
        let rows: Vec<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM outbox WHERE subject = $1 ORDER BY COALESCE(route_rank, -1), channel, id"
        )))
        .bind(subject)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(entry).collect()
    }

    /// (pending, sent, dead) counts.
    pub async fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetch_all(self.pool()).await?;
        let get = |s: &str| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
        Ok((get("pending"), get("sent"), get("dead")))
    }

    /// The earliest time a pending message is due, if any.
    pub async fn next_due(&self) -> Result<Option<String>> {
        let row: (Option<String>,) = sqlx::query_as("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(self.pool())
            .await?;
        Ok(row.0)
    }

    /// Puts a dead letter back in the queue, due now, with a fresh attempt budget; audited.
    pub async fn retry_dead(&self, id: &str, by: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1 AND status = 'dead'",
        )
        .bind(id)
        .bind(ts(now))
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound(format!("dead letter {id}")));
        }
        tx.audit(now, by, "retry-dead-letter", id, "").await?;
        tx.commit().await
    }

    /// Every attempt at one message: (attempt, at, outcome, detail).
    pub async fn attempts(&self, id: &str) -> Result<Vec<(i64, String, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT attempt, at, outcome, detail FROM delivery_attempts WHERE outbox_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }
}

fn outcome_error(o: &DeliveryOutcome) -> &str {
    match o {
        DeliveryOutcome::Sent { detail } => detail,
        DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Dead { error } => error,
    }
}
