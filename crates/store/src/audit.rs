//! The audit log: append-only, each entry chained to the previous one by SHA-256, so an edit,
//! deletion or reordering anywhere shows up in [`Store::verify_audit`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Result, Store, WriteTx, ts};

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

fn entry_hash(prev: &str, seq: i64, at: &str, actor: &str, action: &str, subject: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), at, actor, action, subject, detail] {
        // Length-prefixed, so no two different entries serialise alike.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
        let (seq, prev): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(self.conn()).await?;
        let seq = seq + 1;
        let at = ts(at);
        let hash = entry_hash(&prev, seq, &at, actor, action, subject, detail);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(&at)
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(&prev)
        .bind(&hash)
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&hash)
            .execute(self.conn())
            .await?;
        Ok(seq)
    }
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    pub entries: i64,
    pub head_hash: String,
    /// The first entry that breaks the chain and why; `None` when the chain holds.
    pub broken: Option<(i64, String)>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

type Row = (i64, String, String, String, String, String, String, String);

impl Store {
    /// Recomputes the chain from the first entry and compares it with the stored hashes and head.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(self.pool()).await?;
        let mut prev = GENESIS.to_owned();
        let mut broken = None;
        for (k, (seq, at, actor, action, subject, detail, prev_hash, hash)) in rows.iter().enumerate() {
            let why = if *seq != k as i64 + 1 {
                Some(format!("entry {} is missing (found {seq})", k + 1))
            } else if *prev_hash != prev {
                Some("its previous-hash does not match the entry before it".to_owned())
            } else if *hash != entry_hash(prev_hash, *seq, at, actor, action, subject, detail) {
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
        Ok(AuditReport { entries, head_hash, broken })
    }

    /// The latest `limit` entries, newest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
             ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, at, actor, action, subject, detail, prev_hash, hash)| AuditEntry {
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
