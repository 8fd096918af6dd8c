//! Every tuned number of the forecaster, in one place, each with where it came from.
//!
//! "Chosen on PRSA 2014" means it was picked while the forecaster was developed on that one test
//! year and has not been re-tuned since; the stage it belongs to was then judged across the
//! declared station-years (`hazewarn evaluate`, `data/evaluate/dev.toml`), which is how it is
//! kept or dropped. A grid is not a tuned value: fitting chooses from it on held-out issues. The
//! learner's own settings are [`crate::GbdtParams::default`] and [`crate::ModelParams::new`].

// The learner.

/// Leads that give training rows (lead is a feature, so the learner fills the others). Chosen on
/// PRSA 2014: dense where errors change fast, sparse later.
pub const TRAIN_LEADS: [usize; 28] =
    [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 21, 24, 27, 30, 33, 36, 40, 44, 48, 54, 60, 66, 72, 78, 84, 90, 96];
/// The elastic-net penalty of the linear bands (on standardised features). Chosen on PRSA 2014.
pub const PENALTY: f64 = 0.05;
/// The weight of the log-target learner averaged in with met (`log-learner`). Chosen on PRSA 2014.
pub const LOG_SHARE: f64 = 0.5;
/// The share of training issues held out at each end to calibrate the stages. Chosen on PRSA 2014.
pub const CALIBRATION_SHARE: f64 = 0.2;

/// Lead bands, one learner each. Chosen on PRSA 2014: one learner over all leads let long-lead
/// corrections leak into short leads.
pub const BANDS: [(usize, usize); 8] = [(1, 1), (2, 2), (3, 4), (5, 8), (9, 18), (19, 36), (37, 60), (61, 96)];
/// Bands up to this lead are linear: at 1–2 h trees only added noise on PRSA 2014.
pub const LINEAR_UP_TO: usize = 2;
/// The grid of shares of a band's correction the `shrinkage` stage chooses from on held-out issues.
pub const SHRINKAGE: [f64; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
/// Hours between the issues a calibration block is verified on and the issues its learners were
/// fitted on: one whole forecast, so no fitted target is a held-out hour (issue 22's rule).
pub const FOLD_GAP: usize = crate::MAX_LEAD;

// Conformal quantiles.

/// Lead buckets of the quantiles. Chosen on PRSA 2014; 1 h stands alone because its errors are a
/// fraction of 3 h's.
pub const BUCKETS: [(usize, usize); 9] =
    [(1, 1), (2, 3), (4, 6), (7, 12), (13, 24), (25, 36), (37, 48), (49, 72), (73, 96)];
/// Climatological regimes (terciles) per bucket with the `regimes` stage on.
pub const REGIMES: usize = 3;
/// The residual scale `SCALE.0 + SCALE.1 · forecast`: errors grow with the level. Chosen on PRSA 2014.
pub const SCALE: (f64, f64) = (15.0, 0.5);
/// Fewer held-out residuals in a cell keep the default (−1, 1). A floor, not fitted.
pub const MIN_CELL: usize = 20;

// Recent verification (read from forecasts actually issued).

/// Days of past forecasts that verify the `recent-spread`. Chosen on four dev station-years.
pub const RECENT_DAYS: usize = 14;
/// The `recent-spread` factor stays within this range of the calibrated spread. Chosen on PRSA 2014.
pub const FACTOR_RANGE: (f64, f64) = (0.7, 1.6);
/// Days of past forecasts whose verified days set the `level-correction` ratio. Chosen on PRSA 2014.
pub const BIAS_DAYS: usize = 30;
/// The first lead day the `level-correction` scales: D+1 is left to the state at issue time.
pub const FIRST_CORRECTED_DAY: i64 = 2;
/// Fewer verified (forecast, day) pairs leave the level as fitted. A floor, not fitted.
pub const MIN_VERIFIED_DAYS: usize = 7;
/// The observed/forecast ratio is held within this range. Chosen on PRSA 2014.
pub const RATIO_RANGE: (f64, f64) = (0.5, 2.0);
/// The grid of powers of the ratio that held-out issues choose from (0 = no correction).
pub const POWERS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Days of past 1-h forecasts the `nowcast` reads. Chosen on eight dev station-years: thirty
/// left two of them above persistence at 1 h.
pub const NOWCAST_DAYS: usize = 60;
/// The grid of persistence shares the `nowcast` chooses from (0 = the model as fitted).
pub const NOWCAST_SHARES: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Fewer verified 1-h forecasts leave the first hour as fitted. A floor, not fitted.
pub const NOWCAST_MIN_VERIFIED: usize = 14;

// The daily product.

/// Days whose hours lie within this lead inform the `daily-spread` (D+1..D+3 from any issue hour).
pub const DAILY_SPREAD_MAX_LEAD: usize = 84;
/// The grid of shares of the hourly half-widths a side of the `daily-spread` chooses from.
pub const DAILY_SPREADS: [f64; 25] = [
    0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3,
    1.35, 1.4, 1.45, 1.5,
];
/// Percentiles kept of held-out daily errors for the level probabilities (1 % … 99 %).
pub const ERROR_PERCENTILES: usize = 99;
/// Fewer held-out days keep the default (logistic) error shape. A floor, not fitted.
pub const MIN_SHAPE_DAYS: usize = 50;
