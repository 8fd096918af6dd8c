//! Regional advisories and the cities' answers, in a province's store. Each step of an advisory
//! and each answer is an audited write of its row; a second answer by one city to one step is
//! refused by the unique key, not by a read before the write. Which (step, city) deliveries were
//! queued is bookkeeping, like the outbox's, and not audited here: the receipt is audited in the
//! city's own chain.

use chrono::{DateTime, FixedOffset, Utc};
use hazewarn_response::{Advisory, AdvisoryState, CityAnswer};

use crate::audit::AuditedTable;
use crate::response::from_json;
use crate::{Result, Store, StoreError, WriteTx, ts};

/// A city's answer as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredAnswer {
    pub advisory_id: String,
    pub step: u32,
    pub city: String,
    pub answer: CityAnswer,
    pub at: DateTime<FixedOffset>,
    pub by: String,
}

fn state_name(s: AdvisoryState) -> &'static str {
    match s {
        AdvisoryState::InForce => "in_force",
        AdvisoryState::Lifted => "lifted",
    }
}

impl WriteTx {
    /// The next advisory id of `prefix` (e.g. `henan-2026`): `prefix-001`, `-002`, …
    /// Read under the write lock the transaction holds, so two issues cannot take one number.
    pub async fn next_advisory_id(&mut self, prefix: &str) -> Result<String> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM advisories WHERE id LIKE $1")
            .bind(format!("{prefix}-%"))
            .fetch_one(self.conn())
            .await?;
        Ok(format!("{prefix}-{:03}", n + 1))
    }

    /// Writes the advisory as its latest step left it, and audits that step with the row.
    pub async fn save_advisory(&mut self, a: &Advisory) -> Result<()> {
        let step = a.current();
        let at = step.at.with_timezone(&Utc);
        let body = serde_json::to_string(a).expect("advisories serialise");
        sqlx::query(
            "INSERT INTO advisories (id, state, level, body, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET state = $2, level = $3, body = $4, updated_at = $5",
        )
        .bind(&a.id)
        .bind(state_name(a.state))
        .bind(step.terms.level.name())
        .bind(body)
        .bind(ts(at))
        .execute(self.conn())
        .await?;
        let action = format!("advisory-{}", serde_json::to_string(&step.kind).expect("serialises").trim_matches('"'));
        let detail = serde_json::to_string(step).expect("serialises");
        self.audit_row(at, &step.by, &action, AuditedTable::Advisories, &a.id, &detail).await?;
        Ok(())
    }

    /// Records a city's answer to step `step`; audited. A second answer to the same step is a
    /// conflict.
    pub async fn save_answer(&mut self, a: &StoredAnswer) -> Result<()> {
        let id = format!("{}/{}/{}", a.advisory_id, a.step, a.city);
        let at = a.at.with_timezone(&Utc);
        let body = serde_json::to_string(&a.answer).expect("answers serialise");
        let done = sqlx::query(
            "INSERT INTO advisory_answers (id, advisory_id, step, city, answer, body, answered_at, answered_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (advisory_id, step, city) DO NOTHING",
        )
        .bind(&id)
        .bind(&a.advisory_id)
        .bind(i64::from(a.step))
        .bind(&a.city)
        .bind(a.answer.name())
        .bind(&body)
        .bind(ts(at))
        .bind(&a.by)
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "city {} has already answered step {} of advisory {}",
                a.city, a.step, a.advisory_id
            )));
        }
        self.audit_row(
            at,
            &a.by,
            &format!("advisory-answer-{}", a.answer.name()),
            AuditedTable::AdvisoryAnswers,
            &id,
            &body,
        )
        .await?;
        Ok(())
    }

    /// Records that a city's outbox holds its copy of an advisory step. False when it was
    /// recorded before.
    pub async fn mark_advisory_delivered(
        &mut self,
        advisory: &str,
        step: u32,
        city: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO advisory_deliveries (advisory_id, step, city, queued_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (advisory_id, step, city) DO NOTHING",
        )
        .bind(advisory)
        .bind(i64::from(step))
        .bind(city)
        .bind(ts(at))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

type AnswerRow = (String, i64, String, String, String, String);

impl WriteTx {
    /// An advisory as this transaction sees it (read under its write lock).
    pub async fn advisory(&mut self, id: &str) -> Result<Option<Advisory>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM advisories WHERE id = $1").bind(id).fetch_optional(self.conn()).await?;
        row.map(|(b,)| from_json("advisory", &b)).transpose()
    }
}

impl Store {
    pub async fn advisory(&self, id: &str) -> Result<Option<Advisory>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM advisories WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        row.map(|(b,)| from_json("advisory", &b)).transpose()
    }

    /// Every advisory, the latest changed first.
    pub async fn advisories(&self) -> Result<Vec<Advisory>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT body FROM advisories ORDER BY updated_at DESC, id DESC")
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(|(b,)| from_json("advisory", &b)).collect()
    }

    /// Every answer to an advisory, by step and city.
    pub async fn answers(&self, advisory: &str) -> Result<Vec<StoredAnswer>> {
        let rows: Vec<AnswerRow> = sqlx::query_as(
            "SELECT advisory_id, step, city, body, answered_at, answered_by FROM advisory_answers \
             WHERE advisory_id = $1 ORDER BY step, city",
        )
        .bind(advisory)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(advisory_id, step, city, body, at, by)| {
                Ok(StoredAnswer {
                    advisory_id,
                    step: u32::try_from(step)
                        .map_err(|e| StoreError::Corrupt { what: "answer step".into(), detail: e.to_string() })?,
                    city,
                    answer: from_json("answer", &body)?,
                    // hazewarn writes every local time in Beijing time (+08:00, no daylight saving).
                    at: crate::parse_ts(&at)?.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+08:00")),
                    by,
                })
            })
            .collect()
    }

    /// The (step, city) deliveries of an advisory recorded so far, in one query: the province's
    /// catch-up reads them every minute.
    pub async fn advisory_deliveries(&self, advisory: &str) -> Result<std::collections::HashSet<(u32, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT step, city FROM advisory_deliveries WHERE advisory_id = $1")
                .bind(advisory)
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|(step, city)| {
                let step = u32::try_from(step)
                    .map_err(|e| StoreError::Corrupt { what: "delivery step".into(), detail: e.to_string() })?;
                Ok((step, city))
            })
            .collect()
    }
}
