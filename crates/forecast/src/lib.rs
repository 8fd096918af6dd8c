/*!
The PM2.5 forecaster: hourly PM2.5 for leads 1..=96 h with p10/p50/p90, and the built-in
baselines it must beat.

The flow follows linfa and augurs: [`ModelParams`] (checked) → [`ModelParams::fit`] →
[`FittedModel`] → [`FittedModel::predict`] → [`Forecast`]. Inputs are an [`Hourly`] table
built from the canonical observations, and optionally a met-forecast table on the same grid.

* **Baselines**, always computed beside the model: persistence (the last PM2.5 at issue,
  forward-filled up to 6 h), climatology (month × hour means of the training period,
  [`Climatology`]) and damped persistence (climatology plus a per-lead least-squares share of
  the current anomaly).
* **Model**: gradient-boosted trees (the project's own `gbdt.rs`; linfa's elastic net is the
  alternative) with a direct multi-horizon strategy: one model per lead band
  (1, 2, 3–4, 5–8, 9–18, 19–36, 37–60, 61–96 h), with lead as a feature within the band. The
  target is the departure from damped persistence, so the trees learn corrections to the
  strongest baseline. Each band's correction is shrunk towards damped persistence by a share
  chosen on held-out issues, so a city with little history or little signal falls back to it.
  With a met forecast, a second learner per band fits the log target `ln(1+pm) − ln(1+damped)`,
  so that multiplicative growth in episodes is learned; it is undone on output with a
  least-squares retransformation factor, and the two learners are averaged. Features are listed
  in [`features`].
* **Quantiles** ([`conformal`]) come from conformal calibration on two blocked folds: the last
  and the first 20 % of training issues, each verified by learners fitted only on issues at least
  96 h away, with a climatology and damping of their own hours ([`tuning::FOLD_GAP`]). Residuals
  normalised by `15 + 0.5·forecast` give q10/q90 per lead bucket and climatological tercile
  (Mondrian: a polluted season's errors are wider than a clean one's).
  The spread is then scaled by recent verification ([`recent`]): how the forecasts of the last
  two weeks verified up to the issue time.
* **Level correction** ([`bias`]): from D+2 on, p10/p50/p90 are scaled by a power (chosen on
  held-out issues, 0 when they show no drift) of the observed/forecast ratio over the days the
  last month's forecasts covered, so a year or season that sits away from the training years'
  level is followed; the trend past 96 h takes the same factor.
* **Nowcast** ([`nowcast`]): the 1-h forecast moves towards persistence by the share that
  scored best over the last two months' 1-h forecasts, since the anomaly's first-hour decay
  changes from year to year.
* **Daily outlook** ([`daily`]): a day's interval keeps, on each side of p50, a share of the
  mean of its hourly half-widths chosen on held-out days (a day's hourly errors do not move
  together, so its mean spreads less than its hours).
  `p50` is the squared-loss central estimate (the conditional mean), since that is what RMSE and
  the daily means are scored on; p10/p90 bracket it.
* **Daily level product** ([`level`]): for D+1..D+3, the probability of each AQI level under the
  day's p10–p90 stretched by the shape of held-out daily errors, and the most probable level,
  which is what is published (not the level of p50).
* **The pipeline** ([`pipeline`]): each stage after the learner is a type behind one trait
  ([`PostStage`]), fitted on rows its model did not fit and applied in a fixed order; a
  [`Forecast`] records what each did and carries none of their state. Every tuned number is in
  [`tuning`], with where it came from.
* **Stages** ([`stages`]): each step after the learner has a name and can be turned off. A model
  runs the ones that earned their place in its met mode ([`Stages::default_for`]): without met
  the shrinkage, the regimes, the daily spread, the recent spread, the nowcast and the level
  product; with met the log learner, the daily spread, the recent spread, the level correction
  and the level product.
* **Emissions**: without an emissions-history table the calendar proxy of [`calendar`]
  (heating season, Spring Festival, weekends) is the emission index.

No IO and no clock: issue times are indices into the table given, and nothing observed after
the issue index is read. Future meteorology enters only through the met table, and only when
the model was fitted with it.
*/

pub mod bias;
pub mod calendar;
pub mod conformal;
mod csv_table;
pub mod daily;
mod data;
pub mod features;
mod fit;
mod forecast;
mod gbdt;
pub mod level;
mod linear;
mod met;
mod model;
pub mod nowcast;
pub mod pipeline;
pub mod recent;
pub mod stages;
pub mod tuning;
pub mod verify;

pub use bias::{BIAS_DAYS, FIRST_CORRECTED_DAY, RecentBias};
pub use calendar::parse_emissions_csv;
pub use daily::{DailyOutlook, DailySpread, DailySpreads, Series, daily_outlook, pm25_daily_aqi};
pub use data::{Climatology, Hourly, rh_from, wind_components};
pub use features::Derived;
pub use forecast::{Forecast, LeadForecast, MAX_LEAD};
pub use gbdt::GbdtParams;
pub use level::{DailyLevel, ErrorShape, LEVELS, LevelProduct};
pub use met::{MetForecastHour, parse_met_forecast_csv};
pub use model::{BandModel, BucketSkill, Correction, FittedModel, MODEL_SCHEMA, ModelKind, ModelParams};
pub use nowcast::{NOWCAST_DAYS, RecentNowcast};
pub use pipeline::{Applied, PostStage};
pub use recent::{RECENT_DAYS, RecentSpread, RecentVerification, VerifiedIssuer};
pub use stages::{Stage, Stages};

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error("model parameters: {0}")]
    Params(String),
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    #[error("model: {0}")]
    Model(String),
    #[error("{0}")]
    Input(String),
}

#[cfg(test)]
mod tests;
