//! Job slots. A slot (`forecast` at `2026-01-05T16:00+08:00`) runs once: the row's primary key is
//! the lease, so two instances on one database cannot both run it, and a second run of a finished
//! slot is skipped. A slot whose runner died (lease expired) or failed may be taken again.
//!
//! Every claim raises the slot's epoch, a fencing token: only the holder of the current epoch may
//! renew the lease (its heartbeat) or record the outcome, so a runner that stalled past its lease
//! cannot finish a slot over its successor. Lease times are the database's clock, not the
//! instance's, so instances whose clocks disagree (or a demonstration city on its own dates)
//! still agree on when a lease ran out.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{Backend, Result, Store, sql, ts};

/// A claim on a slot: who holds it, under which epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotLease {
    pub owner: String,
    pub epoch: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotClaim {
    /// This owner runs the slot now, under this lease.
    Claimed(SlotLease),
    /// Already finished: nothing to do.
    Done,
    /// Another owner holds a live lease.
    Busy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRun {
    pub job: String,
    pub slot: String,
    pub status: String,
    pub owner: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub detail: String,
}

type JobRow = (String, String, String, String, String, Option<String>, String);

impl Store {
    /// The database's clock `offset` from now, in the stored form of a time ([`ts`]).
    pub(crate) fn db_time(&self, offset: Duration) -> String {
        let s = offset.num_seconds();
        match self.backend {
            Backend::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '{s:+} seconds')"),
            Backend::Postgres => format!(
                "to_char(clock_timestamp() AT TIME ZONE 'UTC' + interval '{s} seconds', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            ),
        }
    }

    /// Claims a slot for `owner` with a lease of `lease` on the database's clock. `now` (the
    /// city's clock) is when it started, for the record.
    pub async fn claim_slot(
        &self,
        job: &str,
        slot: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<SlotClaim> {
        let (until, db_now) = (self.db_time(lease), self.db_time(Duration::zero()));
        let mut tx = self.write().await?;
        let inserted = sqlx::query(sql(format!(
            "INSERT INTO job_runs (job, slot, status, owner, started_at, lease_until, detail, lease_epoch) \
             VALUES ($1, $2, 'running', $3, $4, {until}, '', 1) ON CONFLICT (job, slot) DO NOTHING"
        )))
        .bind(job)
        .bind(slot)
        .bind(owner)
        .bind(ts(now))
        .execute(tx.conn())
        .await?;
        let claim = if inserted.rows_affected() == 1 {
            SlotClaim::Claimed(SlotLease { owner: owner.to_owned(), epoch: 1 })
        } else {
            let taken: Option<(i64,)> = sqlx::query_as(sql(format!(
                "UPDATE job_runs SET status = 'running', owner = $3, started_at = $4, lease_until = {until}, \
                 finished_at = NULL, lease_epoch = lease_epoch + 1 WHERE job = $1 AND slot = $2 \
                 AND (status = 'failed' OR (status = 'running' AND lease_until < {db_now})) RETURNING lease_epoch"
            )))
            .bind(job)
            .bind(slot)
            .bind(owner)
            .bind(ts(now))
            .fetch_optional(tx.conn())
            .await?;
            match taken {
                Some((epoch,)) => SlotClaim::Claimed(SlotLease { owner: owner.to_owned(), epoch }),
                None => {
                    let (status,): (String,) =
                        sqlx::query_as("SELECT status FROM job_runs WHERE job = $1 AND slot = $2")
                            .bind(job)
                            .bind(slot)
                            .fetch_one(tx.conn())
                            .await?;
                    if status == "done" { SlotClaim::Done } else { SlotClaim::Busy }
                }
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    /// The heartbeat: extends a running slot's lease to `lease` from now on the database's
    /// clock. False when `held` is no longer the slot's claim (it expired and another took it).
    pub async fn renew_slot(&self, job: &str, slot: &str, held: &SlotLease, lease: Duration) -> Result<bool> {
        let until = self.db_time(lease);
        let mut tx = self.write().await?;
        let renewed = sqlx::query(sql(format!(
            "UPDATE job_runs SET lease_until = {until} WHERE job = $1 AND slot = $2 AND status = 'running' \
             AND owner = $3 AND lease_epoch = $4"
        )))
        .bind(job)
        .bind(slot)
        .bind(&held.owner)
        .bind(held.epoch)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Ends a slot under `held`: `done`, or `failed` (which may be run again). False, with
    /// nothing written, when `held` is no longer the slot's claim: the successor's word stands.
    pub async fn finish_slot(
        &self,
        job: &str,
        slot: &str,
        held: &SlotLease,
        now: DateTime<Utc>,
        ok: bool,
        detail: &str,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let finished = sqlx::query(
            "UPDATE job_runs SET status = $5, finished_at = $6, detail = $7 WHERE job = $1 AND slot = $2 \
             AND status = 'running' AND owner = $3 AND lease_epoch = $4",
        )
        .bind(job)
        .bind(slot)
        .bind(&held.owner)
        .bind(held.epoch)
        .bind(if ok { "done" } else { "failed" })
        .bind(ts(now))
        .bind(detail)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(finished.rows_affected() == 1)
    }

    /// A slot's status (`running`, `done`, `failed`), if it was ever claimed.
    pub async fn slot_status(&self, job: &str, slot: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT status FROM job_runs WHERE job = $1 AND slot = $2")
            .bind(job)
            .bind(slot)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// The latest job runs, newest first.
    pub async fn job_runs(&self, limit: i64) -> Result<Vec<JobRun>> {
        let rows: Vec<JobRow> = sqlx::query_as(
            "SELECT job, slot, status, owner, started_at, finished_at, detail FROM job_runs \
             ORDER BY started_at DESC, job LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(job, slot, status, owner, started_at, finished_at, detail)| JobRun {
                job,
                slot,
                status,
                owner,
                started_at,
                finished_at,
                detail,
            })
            .collect())
    }
}

impl Store {
    /// The wall-clock time at which a demonstration clock starting at `city_start` was first
    /// opened. The first call records `wall_now` (audited); a different `city_start` (the
    /// configuration changed) starts the clock anew.
    pub async fn demo_clock_anchor(&self, city_start: DateTime<Utc>, wall_now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let mut tx = self.write().await?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT city_start, wall_start FROM demo_clock WHERE id = 1")
                .fetch_optional(tx.conn())
                .await?;
        if let Some((start, wall)) = row
            && start == ts(city_start)
        {
            return crate::parse_ts(&wall);
        }
        sqlx::query(
            "INSERT INTO demo_clock (id, city_start, wall_start) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET city_start = $1, wall_start = $2",
        )
        .bind(ts(city_start))
        .bind(ts(wall_now))
        .execute(tx.conn())
        .await?;
        let detail = format!("city clock {} at wall clock {}", ts(city_start), ts(wall_now));
        tx.audit(wall_now, "hazewarn", "demo-clock-start", "demo_clock", &detail).await?;
        tx.commit().await?;
        Ok(wall_now)
    }
}
