//! Forecast runs with their outputs, the forecaster's reviews, and verification scores.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Result, Store, StoreError, WriteTx, sql, ts};

/// A stored forecast run. `hourly` and `daily` are the JSON of the forecast; `inputs` says which
/// inputs were present and which were missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastRun {
    pub id: String,
    pub issue_time: String,
    pub model: String,
    pub created_at: String,
    pub inputs: String,
    pub hourly: String,
    pub daily: String,
    /// `issued`, then `approved` or `adjusted` by a forecaster.
    pub status: String,
    /// The hourly forecast as the model issued it, before recent verification adjusted it (JSON);
    /// what later runs' recent verification reads. `None` for runs stored before it was kept.
    pub model_hourly: Option<String>,
    /// The daily level product of D+1..D+3 (JSON): each level's probability and the one published.
    pub levels: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewAction {
    Approve,
    /// Approve with changed daily values; needs a reason.
    Adjust,
    Annotate,
}

impl ReviewAction {
    fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Approve => "approve",
            ReviewAction::Adjust => "adjust",
            ReviewAction::Annotate => "annotate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub seq: i64,
    pub action: String,
    pub by: String,
    pub at: String,
    pub note: String,
    pub adjusted_daily: Option<String>,
}

/// One verified lead of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub run_id: String,
    pub lead_hours: i64,
    pub valid_time: String,
    pub observed: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

const RUN_COLUMNS: &str = "id, issue_time, model, created_at, inputs, hourly, daily, status, model_hourly, levels";
type RunRow = (String, String, String, String, String, String, String, String, Option<String>, Option<String>);

fn run(r: RunRow) -> ForecastRun {
    ForecastRun {
        id: r.0,
        issue_time: r.1,
        model: r.2,
        created_at: r.3,
        inputs: r.4,
        hourly: r.5,
        daily: r.6,
        status: r.7,
        model_hourly: r.8,
        levels: r.9,
    }
}

impl WriteTx {
    /// Stores a run; false (changing nothing) if a run with this id exists.
    pub async fn save_forecast_run(&mut self, r: &ForecastRun) -> Result<bool> {
        let done = sqlx::query(sql(format!(
            "INSERT INTO forecast_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING"
        )))
        .bind(&r.id)
        .bind(&r.issue_time)
        .bind(&r.model)
        .bind(&r.created_at)
        .bind(&r.inputs)
        .bind(&r.hourly)
        .bind(&r.daily)
        .bind(&r.status)
        .bind(&r.model_hourly)
        .bind(&r.levels)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn save_scores(&mut self, scores: &[Score], now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for s in scores {
            let done = sqlx::query(
                "INSERT INTO forecast_scores (run_id, lead_hours, valid_time, observed, p10, p50, p90, scored_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_id, lead_hours) DO NOTHING",
            )
            .bind(&s.run_id)
            .bind(s.lead_hours)
            .bind(&s.valid_time)
            .bind(s.observed)
            .bind(s.p10)
            .bind(s.p50)
            .bind(s.p90)
            .bind(ts(now))
            .execute(self.conn())
            .await?;
            n += done.rows_affected() as usize;
        }
        Ok(n)
    }
}

impl Store {
    pub async fn forecast_run(&self, id: &str) -> Result<Option<ForecastRun>> {
        let row: Option<RunRow> = sqlx::query_as(sql(format!("SELECT {RUN_COLUMNS} FROM forecast_runs WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(run))
    }

    /// The latest run issued at or before `at`; only reviewed-and-approved ones when asked.
    pub async fn latest_forecast_run(&self, at: DateTime<Utc>, approved_only: bool) -> Result<Option<ForecastRun>> {
        let filter = if approved_only { "AND status IN ('approved', 'adjusted')" } else { "" };
        let row: Option<RunRow> = sqlx::query_as(sql(format!(
            "SELECT {RUN_COLUMNS} FROM forecast_runs WHERE issue_time <= $1 {filter} ORDER BY issue_time DESC, id DESC LIMIT 1"
        )))
        .bind(ts(at))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(run))
    }

    /// Runs issued in `[from, to)`, oldest first.
    pub async fn forecast_runs_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ForecastRun>> {
        let rows: Vec<RunRow> = sqlx::query_as(sql(format!(
            "SELECT {RUN_COLUMNS} FROM forecast_runs WHERE issue_time >= $1 AND issue_time < $2 ORDER BY issue_time, id"
        )))
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(run).collect())
    }

    /// A forecaster's review; approve and adjust change the run's status. Audited.
    pub async fn review(
        &self,
        run_id: &str,
        action: ReviewAction,
        by: &str,
        note: &str,
        adjusted_daily: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Review> {
        if action == ReviewAction::Adjust && (note.trim().is_empty() || adjusted_daily.is_none()) {
            return Err(StoreError::Conflict("an adjustment needs a reason and the adjusted values".into()));
        }
        let mut tx = self.write().await?;
        let exists: Option<(String,)> = sqlx::query_as("SELECT status FROM forecast_runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(tx.conn())
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("forecast run {run_id}")));
        }
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM forecast_reviews WHERE run_id = $1")
            .bind(run_id)
            .fetch_one(tx.conn())
            .await?;
        let seq = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO forecast_reviews (run_id, seq, action, by_user, at, note, adjusted_daily) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(run_id)
        .bind(seq)
        .bind(action.as_str())
        .bind(by)
        .bind(ts(now))
        .bind(note)
        .bind(adjusted_daily)
        .execute(tx.conn())
        .await?;
        let status = match action {
            ReviewAction::Approve => Some("approved"),
            ReviewAction::Adjust => Some("adjusted"),
            ReviewAction::Annotate => None,
        };
        if let Some(status) = status {
            sqlx::query("UPDATE forecast_runs SET status = $2 WHERE id = $1")
                .bind(run_id)
                .bind(status)
                .execute(tx.conn())
                .await?;
        }
        tx.audit(now, by, &format!("forecast-{}", action.as_str()), run_id, note).await?;
        tx.commit().await?;
        Ok(Review {
            seq,
            action: action.as_str().to_owned(),
            by: by.to_owned(),
            at: ts(now),
            note: note.to_owned(),
            adjusted_daily: adjusted_daily.map(str::to_owned),
        })
    }

    pub async fn reviews(&self, run_id: &str) -> Result<Vec<Review>> {
        let rows: Vec<(i64, String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT seq, action, by_user, at, note, adjusted_daily FROM forecast_reviews WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, action, by, at, note, adjusted_daily)| Review { seq, action, by, at, note, adjusted_daily })
            .collect())
    }

    /// Scores of leads valid in `[from, to)`.
    pub async fn scores_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Score>> {
        let rows: Vec<(String, i64, String, f64, f64, f64, f64)> = sqlx::query_as(
            "SELECT run_id, lead_hours, valid_time, observed, p10, p50, p90 FROM forecast_scores \
             WHERE valid_time >= $1 AND valid_time < $2 ORDER BY valid_time, run_id, lead_hours",
        )
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(run_id, lead_hours, valid_time, observed, p10, p50, p90)| Score {
                run_id,
                lead_hours,
                valid_time,
                observed,
                p10,
                p50,
                p90,
            })
            .collect())
    }
}

/// One ingest of observations: where the canonical Parquet was written and what QC said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationBatch {
    pub id: String,
    pub source: String,
    pub location: String,
    pub rows: i64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    pub qc_summary: String,
}

impl WriteTx {
    /// Records an ingest; a repeat of the same batch id keeps the first record.
    pub async fn record_observations(&mut self, b: &ObservationBatch, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO observation_batches (id, source, location, rows_count, first_time, last_time, qc_summary, \
             ingested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&b.id)
        .bind(&b.source)
        .bind(&b.location)
        .bind(b.rows)
        .bind(&b.first_time)
        .bind(&b.last_time)
        .bind(&b.qc_summary)
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

type BatchRow = (String, String, String, i64, Option<String>, Option<String>, String);

impl Store {
    /// The latest ingests, newest first.
    pub async fn observation_batches(&self, limit: i64) -> Result<Vec<ObservationBatch>> {
        let rows: Vec<BatchRow> = sqlx::query_as(
            "SELECT id, source, location, rows_count, first_time, last_time, qc_summary FROM observation_batches \
             ORDER BY ingested_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, source, location, rows, first_time, last_time, qc_summary)| ObservationBatch {
                id,
                source,
                location,
                rows,
                first_time,
                last_time,
                qc_summary,
            })
            .collect())
    }
}
