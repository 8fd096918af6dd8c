//! Reduction-list imports as the office makes them: a preview of what a file would change (the
//! enterprises added, removed and changed, and the plan's totals at each level before and
//! after), an import that refuses the file already in use, and a return to an earlier version.

use chrono::{DateTime, Utc};
use hazewarn_response::{ListDiff, PollutantTotal, ReductionList, WarningLevel, plan};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::SchedulerError;
use crate::city::{City, parse_list};

/// What importing a file would do; nothing is changed by making one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListPreview {
    pub name: String,
    pub sha256: String,
    /// The version in use, which the difference is against.
    pub current_version: i64,
    /// An earlier import of exactly this file, if any.
    pub identical_to: Option<i64>,
    pub enterprises: usize,
    pub lines: usize,
    pub diff: ListDiff,
    pub totals: Vec<LevelTotals>,
}

/// The plan's totals at one level with the list in use and with the new one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelTotals {
    pub level: WarningLevel,
    pub before: Vec<PollutantTotal>,
    pub after: Vec<PollutantTotal>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl City {
    /// Parses and checks a list file as an import would, and says what it would change.
    pub async fn preview_list(&self, name: &str, bytes: &[u8]) -> Result<ListPreview, SchedulerError> {
        let new = self.checked_list(name, bytes)?;
        let sha256 = sha256_hex(bytes);
        let (current_version, old) = self.list().await?;
        let identical_to =
            self.store.list_versions().await?.into_iter().find(|v| v.sha256 == sha256).map(|v| v.version);
        let mut totals = Vec::new();
        for level in WarningLevel::COLOURED {
            let at = |list: &ReductionList| {
                plan(list, &self.rules, level, &self.inventory, &self.profile.targets, self.guarantee())
                    .map(|p| p.totals)
            };
            totals.push(LevelTotals { level, before: at(&old)?, after: at(&new)? });
        }
        Ok(ListPreview {
            name: name.to_owned(),
            sha256,
            current_version,
            identical_to,
            enterprises: new.enterprises.len(),
            lines: new.line_count(),
            diff: old.diff(&new),
            totals,
        })
    }

    /// A list file parsed and checked against the city's inventory.
    pub(crate) fn checked_list(&self, name: &str, bytes: &[u8]) -> Result<ReductionList, SchedulerError> {
        let list = parse_list(name, bytes, &self.rules)?;
        list.check_inventory(&self.inventory).map_err(|e| crate::city::list_error(name, e))?;
        Ok(list)
    }

    /// Makes an earlier version the list in use again (as a new version); audited. It is
    /// checked again first, against today's inventory and rule table, as an import would be.
    pub async fn restore_list(&self, version: i64, by: &str, now: DateTime<Utc>) -> Result<i64, SchedulerError> {
        let versions = self.store.list_versions().await?;
        let wanted = versions.iter().find(|v| v.version == version);
        let wanted = wanted.ok_or_else(|| SchedulerError::Input(format!("there is no list version {version}")))?;
        if versions.first().is_some_and(|current| current.sha256 == wanted.sha256) {
            return Err(SchedulerError::Conflict(format!("version {version} is the list in use already")));
        }
        let list = self.store.list_version(version).await?;
        let name = format!("list v{version}");
        list.check_inventory(&self.inventory).map_err(|e| crate::city::list_error(&name, e))?;
        for level in WarningLevel::COLOURED {
            plan(&list, &self.rules, level, &self.inventory, &self.profile.targets, self.guarantee())
                .map_err(|e| SchedulerError::Input(format!("{name} no longer plans at {level}: {e}")))?;
        }
        Ok(self.store.restore_list(&list, wanted, by, now).await?)
    }
}
