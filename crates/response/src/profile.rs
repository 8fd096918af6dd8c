//! Warning grading profiles: versioned TOML data, shipped or supplied by a city.

use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;

/// "Daily AQI above `above` on at least `days` consecutive days" (strictly above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub above: u32,
    pub days: usize,
}

/// One clause of the rule text: it holds when one episode meets all of its conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: String,
    pub zh: String,
    pub en: String,
    pub conditions: Vec<Condition>,
}

impl Clause {
    /// The threshold that defines the clause's episode: its lowest one.
    pub fn floor(&self) -> u32 {
        self.conditions.iter().map(|c| c.above).min().unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    pub level: WarningLevel,
    #[serde(default)]
    pub clause: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[serde(default)]
    pub clause: Vec<Clause>,
}

/// Share of city-wide emissions each pollutant must be cut by, per level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub yellow: f64,
    pub orange: f64,
    pub red: f64,
}

impl Targets {
    pub fn for_level(&self, level: WarningLevel) -> f64 {
        match level {
            WarningLevel::None => 0.0,
            WarningLevel::Yellow => self.yellow,
            WarningLevel::Orange => self.orange,
            WarningLevel::Red => self.red,
        }
    }
}

/// A text in Chinese and English.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

/// What the public is told at one warning level: health protection (健康防护提示), what it is
/// advised to do (建议性措施) and what it is required to do (强制性措施). Cities word these in
/// their own plans; the shipped ones are illustrative [U].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicMeasures {
    pub level: WarningLevel,
    #[serde(default)]
    pub health: Vec<Bilingual>,
    #[serde(default)]
    pub advisory: Vec<Bilingual>,
    #[serde(default)]
    pub mandatory: Vec<Bilingual>,
}

impl PublicMeasures {
    /// Every measure of the level in one language, health first: the CAP `<instruction>`.
    pub fn instruction(&self, en: bool) -> String {
        let all = self.health.iter().chain(&self.advisory).chain(&self.mandatory);
        let texts: Vec<&str> = all.map(|t| if en { t.en.as_str() } else { t.zh.as_str() }).collect();
        texts.join(if en { " " } else { "" })
    }
}

/// A complete grading profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingProfile {
    pub id: String,
    pub name: String,
    /// Legal basis cited in notices.
    pub basis: String,
    pub merge_gap_days: usize,
    pub upper_bound_min_days: usize,
    pub lift_after_hours: u32,
    /// Primary pollutants (as `O3`, `PM10`, `PM2.5` …) whose episodes get a health advisory instead.
    pub advisory_primaries: Vec<String>,
    pub level: Vec<LevelRule>,
    #[serde(default)]
    pub temporary_control: Band,
    pub targets: Targets,
    /// What the public is told per level; a level may be missing (the alert then gives the
    /// generic instruction).
    #[serde(default)]
    pub public_measures: Vec<PublicMeasures>,
}

const SHIPPED: [(&str, &str); 3] = [
    ("national-2024", include_str!("../profiles/national-2024.toml")),
    ("national-2019", include_str!("../profiles/national-2019.toml")),
    ("example-local", include_str!("../profiles/example-local.toml")),
];

impl GradingProfile {
    /// A shipped profile by id: `national-2024` (the default), `national-2019`, `example-local`.
    pub fn builtin(id: &str) -> Result<GradingProfile, ResponseError> {
        let (_, text) = SHIPPED.iter().find(|(k, _)| *k == id).ok_or_else(|| ResponseError::Profile {
            source_name: id.to_owned(),
            message: format!("no shipped profile `{id}`; shipped: national-2024, national-2019, example-local"),
        })?;
        GradingProfile::from_toml(id, text)
    }

    pub fn national_2024() -> GradingProfile {
        GradingProfile::builtin("national-2024").expect("shipped profile is valid")
    }

    pub fn shipped_ids() -> impl Iterator<Item = &'static str> {
        SHIPPED.iter().map(|(k, _)| *k)
    }

    /// Parse and check a profile. `source_name` names it in errors.
    pub fn from_toml(source_name: &str, text: &str) -> Result<GradingProfile, ResponseError> {
        let err = |message: String| ResponseError::Profile { source_name: source_name.to_owned(), message };
        let p: GradingProfile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let levels: Vec<WarningLevel> = p.level.iter().map(|l| l.level).collect();
        if levels != WarningLevel::COLOURED {
            return Err(err("levels must be yellow, orange and red, in that order".into()));
        }
        let all = p.level.iter().flat_map(|l| &l.clause).chain(&p.temporary_control.clause);
        for c in all {
            if c.conditions.is_empty() || c.conditions.iter().any(|k| k.days == 0) {
                return Err(err(format!("clause {}: needs conditions with days ≥ 1", c.id)));
            }
        }
        if p.level.iter().any(|l| l.clause.is_empty()) {
            return Err(err("every level needs at least one clause".into()));
        }
        for (k, m) in p.public_measures.iter().enumerate() {
            if m.level == WarningLevel::None {
                return Err(err(format!("public_measures[{k}]: level must be yellow, orange or red")));
            }
            if p.public_measures[..k].iter().any(|o| o.level == m.level) {
                return Err(err(format!("public_measures[{k}]: level {} is given twice", m.level)));
            }
            let texts = m.health.iter().chain(&m.advisory).chain(&m.mandatory);
            if let Some(t) = texts.into_iter().find(|t| t.zh.trim().is_empty() || t.en.trim().is_empty()) {
                return Err(err(format!("public_measures[{k}] ({}): a measure needs both zh and en: {t:?}", m.level)));
            }
        }
        Ok(p)
    }

    /// What the public is told at `level`, if the profile says.
    pub fn public_measures_at(&self, level: WarningLevel) -> Option<&PublicMeasures> {
        self.public_measures.iter().find(|m| m.level == level)
    }

    pub fn rule(&self, level: WarningLevel) -> Option<&LevelRule> {
        self.level.iter().find(|l| l.level == level)
    }
}
