//! The tolerances, read from TOML and checked.

use serde::Deserialize;

use crate::ComplianceError;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    pub version: String,
    /// Where the numbers come from.
    pub source: String,
    pub stop_max_ratio: f64,
    pub cut_slack: f64,
    pub running_ratio: f64,
    pub abatement_min_ratio: f64,
    pub min_coverage: f64,
    pub baseline_days: u32,
}

impl Tolerances {
    /// Reads and checks a table: every share between 0 and 1, a baseline of 1 to 30 days.
    pub fn from_toml(file: &str, text: &str) -> Result<Tolerances, ComplianceError> {
        let bad = |message: String| ComplianceError::Rules { file: file.to_owned(), message };
        let t: Tolerances = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let shares = [
            ("stop_max_ratio", t.stop_max_ratio),
            ("cut_slack", t.cut_slack),
            ("running_ratio", t.running_ratio),
            ("abatement_min_ratio", t.abatement_min_ratio),
            ("min_coverage", t.min_coverage),
        ];
        if let Some((k, v)) = shares.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(bad(format!("{k}: {v} is not a share between 0 and 1")));
        }
        if !(1..=30).contains(&t.baseline_days) {
            return Err(bad(format!("baseline_days: {} is not 1 to 30", t.baseline_days)));
        }
        Ok(t)
    }

    /// The table shipped with hazewarn (illustrative; a city sets its own).
    pub fn builtin() -> Tolerances {
        Tolerances::from_toml("tolerances.toml", include_str!("../rules/tolerances.toml"))
            .expect("the shipped table is valid")
    }
}
