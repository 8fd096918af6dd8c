//! The forecaster as one pipeline: the learner, then the stages after it, in order.
//!
//! | # | stage | type (module) | fitted on | applied to |
//! |---|---|---|---|---|
//! | 1 | conformal quantiles (with `regimes`) | [`crate::conformal::Conformal`] | held-out residuals | each lead's p10/p90 |
//! | 2 | `recent-spread` | [`crate::RecentSpread`] | the last issued forecasts' verification | each lead's p10/p90 |
//! | 3 | `level-correction` | [`crate::RecentBias`] | the power on held-out days, the ratio on issued forecasts | D+2 on |
//! | 4 | `nowcast` | [`crate::RecentNowcast`] | the last issued 1-h forecasts | the first lead |
//! | 5 | `daily-spread` | [`crate::daily::DailySpreads`] | held-out days | each day's p10/p90 |
//! | 6 | `level-product` | [`crate::level::LevelProduct`] | held-out days (the error shapes) | each day's published level |
//!
//! `shrinkage` and `log-learner` are choices inside the learner (`fit.rs`), made on the same
//! held-out rows before any stage. Each stage is fitted on the output of those before it: the
//! quantiles on the learner's held-out residuals, the daily spread on the quantiles' daily means,
//! the error shapes and the level-correction power on what the daily spread left. At issue time
//! the stages that read recent verification read the forecasts that were actually issued
//! ([`crate::VerifiedIssuer`]).
//!
//! A [`Forecast`](crate::Forecast) is plain data: what each stage did to it is recorded in
//! [`Applied`], and nothing of a stage's fitted state travels with it.

use serde::{Deserialize, Serialize};

use crate::stages::{Stage, Stages};

/// A stage after the learner: fitted on rows its model did not fit (by the stage's own `fit` or
/// `measure`), then applied.
pub trait PostStage {
    /// The switch that turns it off (`--stages`); `None` for a stage that is always on.
    const STAGE: Option<Stage>;
    /// What it corrects: the hourly forecast, a daily outlook or a level product.
    type Target: ?Sized;
    /// Applies the fitted stage.
    fn apply(&self, target: &mut Self::Target);
}

/// Applies `stage` to `target` when it is on in `on`.
pub fn run<S: PostStage>(on: Stages, stage: &S, target: &mut S::Target) {
    if S::STAGE.is_none_or(|s| on.has(s)) {
        stage.apply(target);
    }
}

/// What one stage did to a forecast: the factor or share it applied, for the card and the page.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub stage: Stage,
    pub value: f64,
}
