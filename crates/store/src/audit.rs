//! The audit log: append-only, each entry chained to the previous one by SHA-256, so an edit,
//! deletion or reordering anywhere shows up in [`Store::verify_audit`].
//!
//! The log also covers the rows it describes. Each write to a row of an [`AuditedTable`] is
//! audited with the hash of the row as the write left it (inside the chain), and
//! `verify_audit` recomputes every such row's hash from the table as it is now: a warning or
//! notice edited, inserted or deleted behind hazewarn's back is named. The outbox and the job
//! slots are bookkeeping that changes on every attempt and is not covered.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use crate::{Result, Store, StoreError, WriteTx, sql, ts};

/// The hash every chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The tables whose rows the audit covers, keyed by their `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditedTable {
    Warnings,
    Notices,
    /// Compliance alarms: each step of a case is an audited write of its row.
    Alarms,
    /// Regional advisories and the cities' answers to them (a province's store).
    Advisories,
    AdvisoryAnswers,
}

impl AuditedTable {
    pub const ALL: [AuditedTable; 5] = [
        AuditedTable::Warnings,
        AuditedTable::Notices,
        AuditedTable::Alarms,
        AuditedTable::Advisories,
        AuditedTable::AdvisoryAnswers,
    ];
    /// The tables there were when the audit began covering rows (migration 4).
    const BASELINED: [AuditedTable; 2] = [AuditedTable::Warnings, AuditedTable::Notices];

    pub fn name(self) -> &'static str {
        match self {
            AuditedTable::Warnings => "warnings",
            AuditedTable::Notices => "notices",
            AuditedTable::Alarms => "compliance_alarms",
            AuditedTable::Advisories => "advisories",
            AuditedTable::AdvisoryAnswers => "advisory_answers",
        }
    }

    fn time_column(self) -> &'static str {
        match self {
            AuditedTable::Warnings => "updated_at",
            AuditedTable::Notices => "created_at",
            AuditedTable::Alarms => "opened_at",
            AuditedTable::Advisories => "updated_at",
            AuditedTable::AdvisoryAnswers => "answered_at",
        }
    }

    /// Every column of a row as text, the id first.
    fn select(self) -> &'static str {
        match self {
            AuditedTable::Warnings => "SELECT id, state, level, body, updated_at FROM warnings",
            AuditedTable::Notices => {
                "SELECT id, warning_id, CAST(step AS TEXT), credit_code, content_hash, body, created_at, ack_deadline, \
                 acknowledged_at, acknowledged_by, acknowledged_via, acknowledgement_note, reminded_at, escalated_at \
                 FROM notices"
            }
            AuditedTable::Alarms => {
                "SELECT id, warning_id, CAST(step AS TEXT), credit_code, enterprise, line, state, evidence, \
                 CAST(confidence AS TEXT), opened_at, notified_at, explanation, explained_at, site_check, verified_at, \
                 verified_by, outcome, closed_at, closed_by FROM compliance_alarms"
            }
            AuditedTable::Advisories => "SELECT id, state, level, body, updated_at FROM advisories",
            AuditedTable::AdvisoryAnswers => {
                "SELECT id, advisory_id, CAST(step AS TEXT), city, answer, body, answered_at, answered_by \
                 FROM advisory_answers"
            }
        }
    }
}

/// Length-prefixed parts, a missing one marked apart from an empty one, so no two different
/// rows or entries hash alike.
fn digest<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut h = Sha256::new();
    for part in parts {
        match part {
            Some(p) => {
                h.update((p.len() as u64).to_be_bytes());
                h.update(p.as_bytes());
            }
            None => h.update(u64::MAX.to_be_bytes()),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The id and hash of a row as fetched by [`AuditedTable::select`].
fn row_digest(row: &sqlx::any::AnyRow) -> Result<(String, String)> {
    let values =
        (0..row.len()).map(|i| row.try_get::<Option<String>, _>(i)).collect::<std::result::Result<Vec<_>, _>>()?;
    let id = values.first().cloned().flatten().unwrap_or_default();
    Ok((id, digest(values.iter().map(Option::as_deref))))
}

struct EntryFields<'a> {
    prev: &'a str,
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    subject: &'a str,
    detail: &'a str,
    /// (table, row hash) for an entry about an audited row.
    row: Option<(&'a str, &'a str)>,
}

fn entry_hash(e: &EntryFields<'_>) -> String {
    let seq = e.seq.to_string();
    let base = [e.prev, &seq, e.at, e.actor, e.action, e.subject, e.detail].map(Some);
    // Entries without a row hash hash as they did before rows were covered.
    let row = e.row.map(|(t, h)| [Some(t), Some(h)]);
    digest(base.into_iter().chain(row.into_iter().flatten()))
}

impl WriteTx {
    /// Appends an entry in this transaction; it lands only if the transaction commits.
    pub async fn audit(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<i64> {
        append(self.conn(), &ts(at), actor, action, subject, detail, None).await
    }

    /// Appends an entry about row `id` of `table`, with the hash of that row as this
    /// transaction has written it.
    pub async fn audit_row(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        table: AuditedTable,
        id: &str,
        detail: &str,
    ) -> Result<i64> {
        let row = sqlx::query(sql(format!("{} WHERE id = $1", table.select())))
            .bind(id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{} {id}", table.name())))?;
        let (_, hash) = row_digest(&row)?;
        append(self.conn(), &ts(at), actor, action, id, detail, Some((table.name(), &hash))).await
    }
}

/// Appends one entry on `conn`, which must hold the write lock (a [`WriteTx`] or a migration).
async fn append(
    conn: &mut sqlx::AnyConnection,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    row: Option<(&str, &str)>,
) -> Result<i64> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    let seq = seq + 1;
    let hash = entry_hash(&EntryFields { prev: &prev, seq, at, actor, action, subject, detail, row });
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash, row_table, row_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(&prev)
    .bind(&hash)
    .bind(row.map(|r| r.0))
    .bind(row.map(|r| r.1))
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// When the audit begins to cover rows (migration 4), one baseline entry for each row already
/// there, dated by the row's own time, in the migration's transaction: rows written before are
/// taken as they stand, and only later changes are named.
pub(crate) async fn baseline(conn: &mut sqlx::AnyConnection) -> Result<()> {
    for table in AuditedTable::BASELINED {
        let rows = sqlx::query(sql(format!("{} ORDER BY id", table.select()))).fetch_all(&mut *conn).await?;
        let times: Vec<(String, String)> =
            sqlx::query_as(sql(format!("SELECT id, {} FROM {} ORDER BY id", table.time_column(), table.name())))
                .fetch_all(&mut *conn)
                .await?;
        for (row, (_, at)) in rows.iter().zip(&times) {
            let (id, hash) = row_digest(row)?;
            let detail = "present when the audit began covering rows";
            append(conn, at, "hazewarn", "audit-baseline", &id, detail, Some((table.name(), &hash))).await?;
        }
    }
    Ok(())
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    pub entries: i64,
    pub head_hash: String,
    /// The first entry that breaks the chain and why; `None` when the chain holds.
    pub broken: Option<(i64, String)>,
    /// Rows of the audited tables compared with their latest audit entry.
    pub rows_checked: i64,
    /// Each row that no longer matches the audit: `table id: why`.
    pub altered: Vec<String>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.broken.is_none() && self.altered.is_empty()
    }
}

const ENTRY_COLUMNS: &str = "seq, at, actor, action, subject, detail, prev_hash, hash, row_table, row_hash";
type Row = (i64, String, String, String, String, String, String, String, Option<String>, Option<String>);

impl Store {
    /// Recomputes the chain from the first entry and compares it with the stored hashes and head,
    /// then every audited row with the hash its latest audit entry recorded. It reads under the
    /// write lock, so a server writing meanwhile cannot make a consistent store look altered.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let mut tx = self.write().await?;
        let rows: Vec<Row> = sqlx::query_as(sql(format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq")))
            .fetch_all(tx.conn())
            .await?;
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(tx.conn()).await?;
        let mut prev = GENESIS.to_owned();
        let mut broken = None;
        for (k, (seq, at, actor, action, subject, detail, prev_hash, hash, table, row_hash)) in rows.iter().enumerate()
        {
            let row = table.as_deref().zip(row_hash.as_deref());
            let fields = EntryFields { prev: prev_hash, seq: *seq, at, actor, action, subject, detail, row };
            let why = if *seq != k as i64 + 1 {
                Some(format!("entry {} is missing (found {seq})", k + 1))
            } else if *prev_hash != prev {
                Some("its previous-hash does not match the entry before it".to_owned())
            } else if *hash != entry_hash(&fields) {
                Some("its content does not match its hash".to_owned())
            } else {
                None
            };
            if let Some(why) = why {
                broken = Some((*seq, why));
                break;
            }
            prev = hash.clone();
        }
        let entries = rows.len() as i64;
        if broken.is_none() && (head_seq != entries || head_hash != prev) {
            broken = Some((entries + 1, format!("the head says {head_seq} entries; the log has {entries}")));
        }
        let (rows_checked, altered) = compare_rows(&mut tx, &rows).await?;
        Ok(AuditReport { entries, head_hash, broken, rows_checked, altered })
    }

    /// The latest `limit` entries, newest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        self.audit_before(i64::MAX, limit).await
    }

    /// The `limit` entries before sequence number `before`, newest first: one page of the log.
    pub async fn audit_before(&self, before: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<Row> = sqlx::query_as(sql(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
        )))
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, at, actor, action, subject, detail, prev_hash, hash, _, _)| AuditEntry {
                seq,
                at,
                actor,
                action,
                subject,
                detail,
                prev_hash,
                hash,
            })
            .collect())
    }
}

/// Each audited table's rows against the hash of their latest audit entry.
async fn compare_rows(tx: &mut WriteTx, entries: &[Row]) -> Result<(i64, Vec<String>)> {
    // (table, id) → (seq, row hash) of the latest entry about that row.
    let mut latest: BTreeMap<(String, String), (i64, &str)> = BTreeMap::new();
    for (seq, _, _, _, subject, _, _, _, table, hash) in entries {
        if let (Some(t), Some(h)) = (table, hash) {
            latest.insert((t.clone(), subject.clone()), (*seq, h.as_str()));
        }
    }
    let (mut checked, mut altered) = (0, Vec::new());
    for table in AuditedTable::ALL {
        let rows = sqlx::query(sql(format!("{} ORDER BY id", table.select()))).fetch_all(tx.conn()).await?;
        for row in &rows {
            checked += 1;
            let (id, hash) = row_digest(row)?;
            match latest.remove(&(table.name().to_owned(), id.clone())) {
                None => altered.push(format!("{} {id}: not in the audit (written outside hazewarn)", table.name())),
                Some((seq, want)) if want != hash => {
                    altered.push(format!("{} {id}: changed since audit entry {seq}", table.name()));
                }
                Some(_) => {}
            }
        }
    }
    for ((table, id), (seq, _)) in latest {
        altered.push(format!("{table} {id}: deleted after audit entry {seq}"));
    }
    Ok((checked, altered))
}
