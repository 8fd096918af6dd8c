//! The grade-rule table: industry × grade × level → measure, as versioned data.

use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;
use crate::list::Grade;
use crate::measure::Measure;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    pub industry: String,
    pub grade: Grade,
    pub yellow: String,
    pub orange: String,
    pub red: String,
    /// True only for rows checked against the official guide.
    pub verified: bool,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRuleTable {
    pub version: String,
    #[serde(default)]
    pub rule: Vec<GradeRule>,
}

impl GradeRuleTable {
    /// The shipped table (cement clinker from the 2020 guide).
    pub fn builtin() -> GradeRuleTable {
        GradeRuleTable::from_toml("grade-rules.toml", include_str!("../rules/grade-rules.toml"))
            .expect("shipped grade rules are valid")
    }

    pub fn from_toml(source_name: &str, text: &str) -> Result<GradeRuleTable, ResponseError> {
        let err = |message: String| ResponseError::Profile { source_name: source_name.to_owned(), message };
        let t: GradeRuleTable = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        for r in &t.rule {
            for (level, m) in [("yellow", &r.yellow), ("orange", &r.orange), ("red", &r.red)] {
                Measure::parse(m).map_err(|e| err(format!("{} {} {level}: {e}", r.industry, r.grade.name())))?;
            }
        }
        Ok(t)
    }

    /// The measure for an industry and grade at a level, with the rule it came from.
    pub fn lookup(&self, industry: &str, grade: Grade, level: WarningLevel) -> Option<(Measure, &GradeRule)> {
        let r = self.rule.iter().find(|r| r.industry == industry && r.grade == grade)?;
        let text = match level {
            WarningLevel::None => return None,
            WarningLevel::Yellow => &r.yellow,
            WarningLevel::Orange => &r.orange,
            WarningLevel::Red => &r.red,
        };
        Some((Measure::parse(text).expect("validated on load"), r))
    }
}
