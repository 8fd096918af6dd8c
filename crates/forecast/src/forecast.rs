//! A forecast as plain data: p10/p50/p90 per lead with the baselines beside it, and what each
//! stage after the learner did to it. It carries no model and no stage's fitted state.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::pipeline::Applied;
use crate::stages::Stage;

/// The longest lead, in hours.
pub const MAX_LEAD: usize = 96;

/// One lead of a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadForecast {
    pub lead: usize,
    pub valid: NaiveDateTime,
    pub p10: f64,
    /// The squared-loss central estimate; see the crate docs.
    pub p50: f64,
    pub p90: f64,
    pub persistence: f64,
    pub climatology: f64,
    pub damped: f64,
}

/// A forecast issued at one time: hourly PM2.5 for leads 1..=96 with the baselines beside it,
/// and what each stage after the learner did to it. Plain data: no stage's fitted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub issue: NaiveDateTime,
    pub leads: Vec<LeadForecast>,
    /// The stages applied at issue time, in order, with the factor or share each applied.
    #[serde(default)]
    pub applied: Vec<Applied>,
}

impl Forecast {
    /// A forecast read back from its hourly leads (as stored), with no stage recorded.
    pub fn from_leads(issue: NaiveDateTime, leads: Vec<LeadForecast>) -> Forecast {
        Forecast { issue, leads, applied: Vec::new() }
    }

    /// The factor or share `stage` applied to this forecast, if it did.
    pub fn applied(&self, stage: Stage) -> Option<f64> {
        self.applied.iter().find(|a| a.stage == stage).map(|a| a.value)
    }

    /// The recent level correction's factor (1 when none was applied).
    pub fn level_factor(&self) -> f64 {
        self.applied(Stage::LevelCorrection).unwrap_or(1.0)
    }
}
