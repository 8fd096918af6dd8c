//! Warnings and their transitions, recommendations, reduction-list versions, plans and notices.
//! Saving a warning audits each transition it has not stored before, in the same transaction.

use chrono::{DateTime, Utc};
use hazewarn_response::{CurtailmentNotice, CurtailmentPlan, Recommendation, ReductionList, Warning, WarningState};
use serde::de::DeserializeOwned;

use crate::audit::AuditedTable;
use crate::{Result, Store, StoreError, WriteTx, sql, ts};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain types serialise")
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt { what: what.to_owned(), detail: e.to_string() })
}

fn kebab<T: serde::Serialize>(v: &T) -> String {
    json(v).trim_matches('"').to_owned()
}

/// The warning in force: issued, not lifted; the latest if several.
const IN_FORCE: &str = "SELECT body FROM warnings WHERE state = $1 ORDER BY updated_at DESC, id DESC LIMIT 1";

/// A stored notice with its acknowledgement.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredNotice {
    pub notice: CurtailmentNotice,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub reminded_at: Option<String>,
    pub escalated_at: Option<String>,
    /// `enterprise`, or `phone` when the office recorded an acknowledgement it received by phone.
    pub acknowledged_via: Option<String>,
    /// For a phone acknowledgement: who called and why the office recorded it.
    pub acknowledgement_note: Option<String>,
}

const NOTICE_COLUMNS: &str =
    "body, acknowledged_at, acknowledged_by, reminded_at, escalated_at, acknowledged_via, acknowledgement_note";
type NoticeRow =
    (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

fn stored(r: NoticeRow) -> Result<StoredNotice> {
    Ok(StoredNotice {
        notice: from_json("notice", &r.0)?,
        acknowledged_at: r.1,
        acknowledged_by: r.2,
        reminded_at: r.3,
        escalated_at: r.4,
        acknowledged_via: r.5,
        acknowledgement_note: r.6,
    })
}

impl WriteTx {
    /// Records the first acknowledgement of a notice, `via` the way it came (`enterprise`,
    /// `phone`, `link:<channel>`); audited. False when it was acknowledged before.
    pub(crate) async fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
        via: &str,
        note: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE notices SET acknowledged_at = $2, acknowledged_by = $3, acknowledged_via = $4, \
             acknowledgement_note = $5 WHERE id = $1 AND acknowledged_at IS NULL",
        )
        .bind(id)
        .bind(ts(now))
        .bind(by)
        .bind(via)
        .bind(note)
        .execute(self.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let action = match via {
            "phone" => "notice-acknowledge-phone",
            v if v.starts_with("link:") => "notice-acknowledge-link",
            _ => "notice-acknowledge",
        };
        self.audit_row(now, by, action, AuditedTable::Notices, id, note.unwrap_or(via)).await?;
        Ok(true)
    }

    /// Stores the warning and audits every transition not stored before.
    pub async fn save_warning(&mut self, w: &Warning) -> Result<()> {
        let updated = w.current().at.with_timezone(&Utc);
        sqlx::query(
            "INSERT INTO warnings (id, state, level, body, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET state = $2, level = $3, body = $4, updated_at = $5",
        )
        .bind(&w.id)
        .bind(kebab(&w.state))
        .bind(kebab(&w.level()))
        .bind(json(w))
        .bind(ts(updated))
        .execute(self.conn())
        .await?;
        for t in &w.transitions {
            let new = sqlx::query(
                "INSERT INTO warning_transitions (warning_id, step, kind, level, at, by_user, reason, forecast_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (warning_id, step) DO NOTHING",
            )
            .bind(&w.id)
            .bind(i64::from(t.step))
            .bind(kebab(&t.kind))
            .bind(kebab(&t.level))
            .bind(ts(t.at.with_timezone(&Utc)))
            .bind(&t.by)
            .bind(&t.reason)
            .bind(&t.forecast_id)
            .execute(self.conn())
            .await?;
            if new.rows_affected() == 1 {
                let action = format!("warning-{}", kebab(&t.kind));
                let at = t.at.with_timezone(&Utc);
                self.audit_row(at, &t.by, &action, AuditedTable::Warnings, &w.id, &json(t)).await?;
            }
        }
        Ok(())
    }

    pub async fn save_recommendation(&mut self, run_id: &str, at: DateTime<Utc>, r: &Recommendation) -> Result<()> {
        sqlx::query(
            "INSERT INTO recommendations (run_id, at, action, level, body) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (run_id) DO UPDATE SET at = $2, action = $3, level = $4, body = $5",
        )
        .bind(run_id)
        .bind(ts(at))
        .bind(kebab(&r.action))
        .bind(kebab(&r.level))
        .bind(json(r))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Stores a new list version (the previous ones are kept) and returns its number.
    pub async fn save_list(
        &mut self,
        list: &ReductionList,
        source: &str,
        sha256: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM reduction_lists").fetch_one(self.conn()).await?;
        let version = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO reduction_lists (version, imported_at, source, sha256, enterprises, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(version)
        .bind(ts(now))
        .bind(source)
        .bind(sha256)
        .bind(list.enterprises.len() as i64)
        .bind(json(list))
        .execute(self.conn())
        .await?;
        let detail = format!("{} enterprises from {source} (sha256 {sha256})", list.enterprises.len());
        self.audit(now, by, "list-import", &format!("list-v{version:04}"), &detail).await?;
        Ok(version)
    }

    pub async fn save_plan(
        &mut self,
        warning_id: &str,
        step: u32,
        list_version: i64,
        p: &CurtailmentPlan,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO plans (warning_id, step, list_version, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (warning_id, step) DO NOTHING",
        )
        .bind(warning_id)
        .bind(i64::from(step))
        .bind(list_version)
        .bind(json(p))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Stores a notice. Returns false, changing nothing, when this enterprise already has a
    /// notice for this warning step: never two different notices for one step.
    pub async fn insert_notice(&mut self, n: &CurtailmentNotice, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO notices (id, warning_id, step, credit_code, content_hash, body, created_at, ack_deadline) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&n.id)
        .bind(&n.warning_id)
        .bind(i64::from(n.step))
        .bind(&n.credit_code)
        .bind(&n.content_hash)
        .bind(json(n))
        .bind(ts(now))
        .bind(ts(n.ack_deadline.with_timezone(&Utc)))
        .execute(self.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let detail = format!("warning {} step {} for {}", n.warning_id, n.step, n.credit_code);
        self.audit_row(now, "hazewarn", "notice-issue", AuditedTable::Notices, &n.id, &detail).await?;
        Ok(true)
    }
}

impl Store {
    pub async fn warning(&self, id: &str) -> Result<Option<Warning>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM warnings WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        row.map(|r| from_json("warning", &r.0)).transpose()
    }

    /// The warning in force (issued and not lifted), the latest if several.
    pub async fn warning_in_force(&self) -> Result<Option<Warning>> {
        let row: Option<(String,)> =
            sqlx::query_as(IN_FORCE).bind(kebab(&WarningState::Issued)).fetch_optional(self.pool()).await?;
        row.map(|r| from_json("warning", &r.0)).transpose()
    }

    /// Every warning, newest first (by its id, which starts with its first step's date).
    pub async fn warnings_all(&self) -> Result<Vec<Warning>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM warnings ORDER BY id DESC").fetch_all(self.pool()).await?;
        rows.iter().map(|r| from_json("warning", &r.0)).collect()
    }

    /// Warnings in one state (`draft`, `issued`, `lifted`), latest first.
    pub async fn warnings_in(&self, state: WarningState) -> Result<Vec<Warning>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM warnings WHERE state = $1 ORDER BY updated_at DESC")
                .bind(kebab(&state))
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| from_json("warning", &r.0)).collect()
    }

    pub async fn recommendation(&self, run_id: &str) -> Result<Option<Recommendation>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM recommendations WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| from_json("recommendation", &r.0)).transpose()
    }

    /// When a run was graded.
    pub async fn recommendation_at(&self, run_id: &str) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT at FROM recommendations WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| crate::parse_ts(&r.0)).transpose()
    }

    /// The run graded last.
    pub async fn latest_graded_run(&self) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT run_id FROM recommendations ORDER BY at DESC, run_id DESC LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// The time of the latest step of any warning.
    pub async fn last_warning_step_at(&self) -> Result<Option<DateTime<Utc>>> {
        let row: (Option<String>,) =
            sqlx::query_as("SELECT MAX(at) FROM warning_transitions").fetch_one(self.pool()).await?;
        row.0.map(|t| crate::parse_ts(&t)).transpose()
    }

    /// The latest reduction-list version.
    pub async fn latest_list(&self) -> Result<Option<(i64, ReductionList)>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT version, body FROM reduction_lists ORDER BY version DESC LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        row.map(|(v, b)| Ok((v, from_json("reduction list", &b)?))).transpose()
    }

    pub async fn plan(&self, warning_id: &str, step: u32) -> Result<Option<CurtailmentPlan>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM plans WHERE warning_id = $1 AND step = $2")
            .bind(warning_id)
            .bind(i64::from(step))
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| from_json("plan", &r.0)).transpose()
    }

    pub async fn notice(&self, id: &str) -> Result<Option<StoredNotice>> {
        let row: Option<NoticeRow> = sqlx::query_as(sql(format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(stored).transpose()
    }

    /// One enterprise's notices, latest first.
    pub async fn notices_for(&self, credit_code: &str) -> Result<Vec<StoredNotice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(sql(format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE credit_code = $1 ORDER BY created_at DESC, id DESC"
        )))
        .bind(credit_code)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(stored).collect()
    }

    /// Every notice of a warning, or of one of its steps.
    pub async fn notices_of(&self, warning_id: &str, step: Option<u32>) -> Result<Vec<StoredNotice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(sql(format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE warning_id = $1 AND ($2 < 0 OR step = $2) ORDER BY step, id"
        )))
        .bind(warning_id)
        .bind(step.map_or(-1, i64::from))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(stored).collect()
    }

    /// Records an enterprise's acknowledgement (the first one counts); audited.
    /// The enterprise's own acknowledgement; a second one changes nothing.
    pub async fn acknowledge(&self, id: &str, by: &str, now: DateTime<Utc>) -> Result<StoredNotice> {
        self.record_acknowledgement(id, by, now, "enterprise", None).await
    }

    /// An acknowledgement the office received by phone, recorded by office user `by` with a note
    /// naming the caller and why; it is its own kind of entry, in the notice and in the audit.
    pub async fn acknowledge_by_phone(
        &self,
        id: &str,
        by: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredNotice> {
        self.record_acknowledgement(id, by, now, "phone", Some(note)).await
    }

    async fn record_acknowledgement(
        &self,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
        via: &str,
        note: Option<&str>,
    ) -> Result<StoredNotice> {
        let mut tx = self.write().await?;
        tx.acknowledge(id, by, now, via, note).await?;
        tx.commit().await?;
        self.notice(id).await?.ok_or_else(|| StoreError::NotFound(format!("notice {id}")))
    }

    /// Unacknowledged notices whose deadline passed before `now`, without the given mark.
    pub async fn overdue(&self, now: DateTime<Utc>, unmarked: OverdueMark) -> Result<Vec<StoredNotice>> {
        let col = unmarked.column();
        let rows: Vec<NoticeRow> = sqlx::query_as(sql(format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE acknowledged_at IS NULL AND ack_deadline < $1 \
             AND {col} IS NULL ORDER BY ack_deadline, id"
        )))
        .bind(ts(now))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(stored).collect()
    }

    /// How many of a warning's notices are acknowledged: (acknowledged, total).
    pub async fn ack_counts(&self, warning_id: &str) -> Result<(i64, i64)> {
        Ok(sqlx::query_as("SELECT COUNT(acknowledged_at), COUNT(*) FROM notices WHERE warning_id = $1")
            .bind(warning_id)
            .fetch_one(self.pool())
            .await?)
    }
}

/// The two marks of an overdue notice: reminded, then escalated to the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverdueMark {
    Reminded,
    Escalated,
}

impl OverdueMark {
    fn column(self) -> &'static str {
        match self {
            OverdueMark::Reminded => "reminded_at",
            OverdueMark::Escalated => "escalated_at",
        }
    }
}

impl WriteTx {
    /// Marks a notice reminded or escalated; false if it already was.
    pub async fn mark_overdue(&mut self, id: &str, mark: OverdueMark, now: DateTime<Utc>) -> Result<bool> {
        let col = mark.column();
        let done = sqlx::query(sql(format!("UPDATE notices SET {col} = $2 WHERE id = $1 AND {col} IS NULL")))
            .bind(id)
            .bind(ts(now))
            .execute(self.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let action = match mark {
            OverdueMark::Reminded => "notice-reminded",
            OverdueMark::Escalated => "notice-escalated",
        };
        self.audit_row(now, "scheduler", action, AuditedTable::Notices, id, "").await?;
        Ok(true)
    }
}

impl WriteTx {
    /// The warning in force, read under this transaction's write lock.
    pub async fn warning_in_force(&mut self) -> Result<Option<Warning>> {
        let row: Option<(String,)> =
            sqlx::query_as(IN_FORCE).bind(kebab(&WarningState::Issued)).fetch_optional(self.conn()).await?;
        row.map(|r| from_json("warning", &r.0)).transpose()
    }

    pub async fn warning_exists(&mut self, id: &str) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM warnings WHERE id = $1").bind(id).fetch_optional(self.conn()).await?;
        Ok(row.is_some())
    }

    /// Every notice of a warning so far.
    pub async fn notices_of(&mut self, warning_id: &str) -> Result<Vec<CurtailmentNotice>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT body FROM notices WHERE warning_id = $1 ORDER BY step, id")
            .bind(warning_id)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(|r| from_json("notice", &r.0)).collect()
    }

    /// The plan of a warning's latest step that has one.
    pub async fn latest_plan(&mut self, warning_id: &str) -> Result<Option<CurtailmentPlan>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM plans WHERE warning_id = $1 ORDER BY step DESC LIMIT 1")
                .bind(warning_id)
                .fetch_optional(self.conn())
                .await?;
        row.map(|r| from_json("plan", &r.0)).transpose()
    }
}
