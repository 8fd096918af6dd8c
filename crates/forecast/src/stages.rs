//! The forecaster's stages after the learner, by name, so that each can be turned off and its
//! worth measured across station-years (`hazewarn evaluate --stages`).
//!
//! A stage is kept only if, over the declared station-years, it lowers the mean of what it aims
//! at and makes no station-year worse by more than 2 %. ARCHITECTURE.md holds the table.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One stage that can be turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Each band's correction shrunk towards damped persistence by a share chosen on held-out issues.
    Shrinkage,
    /// With met, a log-target learner averaged with the anomaly learner.
    LogLearner,
    /// Conformal quantiles per climatological tercile (Mondrian), not one set for the year.
    Regimes,
    /// Daily intervals narrowed from the mean of their hourly half-widths.
    DailySpread,
    /// p10–p90 scaled by how the last 14 days' issued forecasts verified.
    RecentSpread,
    /// D+2 onwards scaled by the last 30 days' observed/forecast ratio.
    LevelCorrection,
    /// The 1-h forecast moved towards persistence by the share that scored best lately.
    Nowcast,
    /// The published daily level is the most probable one, not the level of p50.
    LevelProduct,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Shrinkage,
        Stage::LogLearner,
        Stage::Regimes,
        Stage::DailySpread,
        Stage::RecentSpread,
        Stage::LevelCorrection,
        Stage::Nowcast,
        Stage::LevelProduct,
    ];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Shrinkage => "shrinkage",
            Stage::LogLearner => "log-learner",
            Stage::Regimes => "regimes",
            Stage::DailySpread => "daily-spread",
            Stage::RecentSpread => "recent-spread",
            Stage::LevelCorrection => "level-correction",
            Stage::Nowcast => "nowcast",
            Stage::LevelProduct => "level-product",
        }
    }

    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Which stages are on. Every stage is on unless turned off.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<Stage>", from = "Vec<Stage>")]
pub struct Stages(u16);

impl Stages {
    pub const ALL: Stages = Stages((1 << Stage::ALL.len()) - 1);

    /// The stages a model uses unless told otherwise: in its met mode, those that earned their
    /// place over the declared station-years. A stage earns it when
    /// `hazewarn evaluate --future-met MODE --stages=-NAME`, against `--stages all`, shows it
    /// improving the mean of what it aims at with no station-year worse by more than 2 % (2
    /// points of coverage for the interval stages): RMSE for the learner stages, 1-h RMSE for the
    /// nowcast, 48–72 h RMSE for the level correction, p10–p90 coverage for the regimes and the
    /// recent spread, D+1..D+3 level accuracy for the level product. ARCHITECTURE.md holds the
    /// table. The log learner needs met; without it the stage changes nothing.
    pub fn default_for(future_met: bool) -> Stages {
        let off: &[Stage] =
            if future_met { &[Stage::Shrinkage, Stage::Regimes, Stage::Nowcast] } else { &[Stage::LevelCorrection] };
        off.iter().fold(Stages::ALL, |s, x| s.without(*x))
    }

    pub fn has(self, s: Stage) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn without(self, s: Stage) -> Stages {
        Stages(self.0 & !s.bit())
    }

    /// From the command line: `all`, `none`, a list of stages (only those on), or a list of
    /// `-stage` (all but those). Names are checked.
    pub fn parse(text: &str) -> Result<Stages, String> {
        let items: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        match items.as_slice() {
            ["all"] => return Ok(Stages::ALL),
            ["none"] => return Ok(Stages(0)),
            [] => return Err("no stages named; say `all`, `none` or list them".into()),
            _ => {}
        }
        let off = items.iter().filter(|s| s.starts_with('-')).count();
        if off != 0 && off != items.len() {
            return Err("list the stages to keep, or the stages to drop with `-`, not both".into());
        }
        let stage = |name: &str| {
            Stage::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
                format!("unknown stage `{name}`; the stages are {}", known.join(", "))
            })
        };
        if off > 0 {
            items.iter().try_fold(Stages::ALL, |acc, s| Ok(acc.without(stage(&s[1..])?)))
        } else {
            items.iter().try_fold(Stages(0), |acc, s| Ok(Stages(acc.0 | stage(s)?.bit())))
        }
    }
}

impl Default for Stages {
    fn default() -> Stages {
        Stages::ALL
    }
}

impl From<Stages> for Vec<Stage> {
    fn from(s: Stages) -> Vec<Stage> {
        Stage::ALL.into_iter().filter(|x| s.has(*x)).collect()
    }
}

impl From<Vec<Stage>> for Stages {
    fn from(v: Vec<Stage>) -> Stages {
        Stages(v.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

impl fmt::Debug for Stages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Stages {
    /// `all`, or the stages that are off as `-name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Stages::ALL {
            return f.write_str("all");
        }
        let off: Vec<String> = Stage::ALL.iter().filter(|s| !self.has(**s)).map(|s| format!("-{}", s.name())).collect();
        f.write_str(&off.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_as_a_list_to_keep_or_to_drop() {
        assert_eq!(Stages::parse("all"), Ok(Stages::ALL));
        let kept = Stages::parse("nowcast, level-product").unwrap();
        assert!(kept.has(Stage::Nowcast) && kept.has(Stage::LevelProduct) && !kept.has(Stage::Shrinkage));
        let dropped = Stages::parse("-nowcast,-regimes").unwrap();
        assert!(!dropped.has(Stage::Nowcast) && !dropped.has(Stage::Regimes) && dropped.has(Stage::Shrinkage));
        assert_eq!(dropped.to_string(), "-regimes,-nowcast");
        assert!(Stages::parse("none").unwrap() == Stages::parse("-shrinkage,-log-learner,-regimes,-daily-spread,-recent-spread,-level-correction,-nowcast,-level-product").unwrap());
        let e = Stages::parse("nowcast,-regimes").unwrap_err();
        assert!(e.contains("not both"), "{e}");
        let e = Stages::parse("-bias").unwrap_err();
        assert!(e.contains("unknown stage `bias`") && e.contains("level-correction"), "{e}");
        assert!(Stages::parse(" , ").is_err());
    }

    #[test]
    fn stages_round_trip_as_their_names() {
        let s = Stages::ALL.without(Stage::LogLearner);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.starts_with("[\"shrinkage\",\"regimes\""), "{json}");
        assert_eq!(serde_json::from_str::<Stages>(&json).unwrap(), s);
    }
}
