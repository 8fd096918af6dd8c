//! Reduction-list versions: what each import was, so the office sees the history, recognises a
//! file imported already, and can go back to an earlier version (as a new version, audited).

use chrono::{DateTime, Utc};
use hazewarn_response::ReductionList;
use serde::Serialize;

use crate::response::from_json;
use crate::{Result, Store, StoreError};

/// One imported version of the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListVersion {
    pub version: i64,
    pub imported_at: String,
    pub source: String,
    pub sha256: String,
    pub enterprises: i64,
}

type VersionRow = (i64, String, String, String, i64);

impl Store {
    /// Every version, newest first.
    pub async fn list_versions(&self) -> Result<Vec<ListVersion>> {
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT version, imported_at, source, sha256, enterprises FROM reduction_lists ORDER BY version DESC",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, imported_at, source, sha256, enterprises)| ListVersion {
                version,
                imported_at,
                source,
                sha256,
                enterprises,
            })
            .collect())
    }

    /// One version's list.
    pub async fn list_version(&self, version: i64) -> Result<ReductionList> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM reduction_lists WHERE version = $1")
            .bind(version)
            .fetch_optional(self.pool())
            .await?;
        let (body,) = row.ok_or_else(|| StoreError::NotFound(format!("reduction list version {version}")))?;
        from_json("reduction list", &body)
    }

    /// Saves `list`, read from `from` (whose file had `sha256`), as the new version in use;
    /// audited.
    pub async fn restore_list(
        &self,
        list: &ReductionList,
        from: &ListVersion,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let source = format!("restored from v{:04}", from.version);
        let new = tx.save_list(list, &source, &from.sha256, by, now).await?;
        tx.commit().await?;
        Ok(new)
    }
}
