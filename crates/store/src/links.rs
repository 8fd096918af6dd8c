//! Acknowledgement links: the short token a notice's SMS or e-mail carries, so a duty officer
//! acknowledges from the message without signing in. The scheduler makes the token (an HMAC of
//! the rest of the row, keyed by the city's secret) and writes the row with the notice's outbox
//! rows; the server spends it once, in the same transaction as the acknowledgement.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Result, Store, WriteTx, ts};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckLink {
    pub token: String,
    pub notice_id: String,
    pub channel: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<String>,
}

/// Why a link acknowledged nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Unknown,
    Expired,
    Used,
}

impl WriteTx {
    /// Writes a link; a second write of the same token keeps the first.
    pub async fn insert_ack_link(&mut self, link: &AckLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO ack_links (token, notice_id, channel, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (token) DO NOTHING",
        )
        .bind(&link.token)
        .bind(&link.notice_id)
        .bind(&link.channel)
        .bind(ts(link.expires_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

type Row = (String, String, String, String, Option<String>);
const SELECT: &str = "SELECT token, notice_id, channel, expires_at, used_at FROM ack_links WHERE token = $1";

fn link(r: Row) -> Result<AckLink> {
    Ok(AckLink { token: r.0, notice_id: r.1, channel: r.2, expires_at: crate::parse_ts(&r.3)?, used_at: r.4 })
}

impl Store {
    pub async fn ack_link(&self, token: &str) -> Result<Option<AckLink>> {
        let row: Option<Row> = sqlx::query_as(SELECT).bind(token).fetch_optional(self.pool()).await?;
        row.map(link).transpose()
    }

    /// Spends the link and acknowledges its notice for `by`, in one transaction (the
    /// acknowledgement is recorded `via` `link:<channel>`, and audited). A link that is unknown,
    /// expired at `now` or already spent changes nothing.
    pub async fn acknowledge_by_link(
        &self,
        token: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<AckLink, LinkRefusal>> {
        let mut tx = self.write().await?;
        let row: Option<Row> = sqlx::query_as(SELECT).bind(token).fetch_optional(tx.conn()).await?;
        let Some(link) = row.map(link).transpose()? else { return Ok(Err(LinkRefusal::Unknown)) };
        if link.expires_at <= now {
            return Ok(Err(LinkRefusal::Expired));
        }
        let spent = sqlx::query("UPDATE ack_links SET used_at = $2 WHERE token = $1 AND used_at IS NULL")
            .bind(token)
            .bind(ts(now))
            .execute(tx.conn())
            .await?;
        if spent.rows_affected() != 1 {
            return Ok(Err(LinkRefusal::Used));
        }
        if !tx.acknowledge(&link.notice_id, by, now, &format!("link:{}", link.channel), None).await? {
            // Acknowledged already (another link, the page, a phone call): nothing is spent.
            return Ok(Err(LinkRefusal::Used));
        }
        tx.audit(now, by, "ack-link-spent", token, &link.notice_id).await?;
        tx.commit().await?;
        Ok(Ok(link))
    }
}
