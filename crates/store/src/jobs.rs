//! Job slots. A slot (`forecast` at `2026-01-05T16:00+08:00`) runs once: the row's primary key is
//! the lease, so two instances on one database cannot both run it, and a second run of a finished
//! slot is skipped. A slot whose runner died (lease expired) or failed may be taken again.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{Result, Store, ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotClaim {
    /// This owner runs the slot now.
    Claimed,
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
    pub async fn claim_slot(
        &self,
        job: &str,
        slot: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<SlotClaim> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO job_runs (job, slot, status, owner, started_at, lease_until, detail) \
             VALUES ($1, $2, 'running', $3, $4, $5, '') ON CONFLICT (job, slot) DO NOTHING",
        )
        .bind(job)
        .bind(slot)
        .bind(owner)
        .bind(ts(now))
        .bind(ts(now + lease))
        .execute(tx.conn())
        .await?;
        let claim = if inserted.rows_affected() == 1 {
            SlotClaim::Claimed
        } else {
            let taken = sqlx::query(
                "UPDATE job_runs SET status = 'running', owner = $3, started_at = $4, lease_until = $5, \
                 finished_at = NULL WHERE job = $1 AND slot = $2 \
                 AND (status = 'failed' OR (status = 'running' AND lease_until < $4))",
            )
            .bind(job)
            .bind(slot)
            .bind(owner)
            .bind(ts(now))
            .bind(ts(now + lease))
            .execute(tx.conn())
            .await?;
            if taken.rows_affected() == 1 {
                SlotClaim::Claimed
            } else {
                let (status,): (String,) = sqlx::query_as("SELECT status FROM job_runs WHERE job = $1 AND slot = $2")
                    .bind(job)
                    .bind(slot)
                    .fetch_one(tx.conn())
                    .await?;
                if status == "done" { SlotClaim::Done } else { SlotClaim::Busy }
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    /// Ends a slot this owner claimed: `done`, or `failed` (which may be run again).
    pub async fn finish_slot(
        &self,
        job: &str,
        slot: &str,
        owner: &str,
        now: DateTime<Utc>,
        ok: bool,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE job_runs SET status = $4, finished_at = $5, detail = $6 WHERE job = $1 AND slot = $2 AND owner = $3",
        )
        .bind(job)
        .bind(slot)
        .bind(owner)
        .bind(if ok { "done" } else { "failed" })
        .bind(ts(now))
        .bind(detail)
        .execute(tx.conn())
        .await?;
        tx.commit().await
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
