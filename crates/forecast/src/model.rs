//! Baselines and the gradient-boosted forecaster: checked parameters → `fit` → `FittedModel`
//! → `predict` → `Forecast` with p10/p50/p90 per lead.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::ForecastError;
use crate::conformal::Conformal;
use crate::daily::{DailySpreads, SKILFUL_DAYS};
use crate::data::Climatology;
use crate::features::Derived;
use crate::gbdt::{Gbdt, GbdtParams};
use crate::level::{DailyLevel, ErrorShape, LevelProduct, daily_levels};
use crate::linear::LinearBand;
use crate::pipeline::run;
use crate::stages::{Stage, Stages};

use crate::forecast::{Forecast, LeadForecast, MAX_LEAD};
pub(crate) use crate::tuning::{BANDS, SHRINKAGE};

pub(crate) fn band(lead: usize) -> usize {
    BANDS.iter().position(|(a, b)| (*a..=*b).contains(&lead)).unwrap_or(BANDS.len() - 1)
}

/// Where the `damped` and `clim_valid` features sit in a row.
pub(crate) const DAMPED: usize = crate::features::ISSUE_FEATURES.len() + 8;
pub(crate) const CLIM_VALID: usize = crate::features::ISSUE_FEATURES.len() + 7;

/// Which learner corrects the damped-persistence baseline in each lead band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Elastic net (linfa) on standardised features.
    Linear,
    /// The project's regularised histogram gradient boosting (`gbdt.rs`).
    Gbdt,
}

impl ModelKind {
    pub const ALL: [ModelKind; 2] = [ModelKind::Gbdt, ModelKind::Linear];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Gbdt => "gbdt",
        }
    }

    pub fn from_name(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A band's fitted learner.
#[derive(Serialize, Deserialize)]
pub enum BandModel {
    Linear(LinearBand),
    Gbdt(Gbdt),
}

impl BandModel {
    pub(crate) fn predict(&self, rows: &[f64], p: usize) -> Vec<f64> {
        match self {
            BandModel::Linear(m) => m.predict(rows, p),
            BandModel::Gbdt(g) => g.predict(rows, p),
        }
    }
}

/// What to fit. `check` refuses nonsense before any work is done.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelParams {
    pub kind: ModelKind,
    /// Elastic-net penalty (on standardised features).
    pub penalty: f64,
    /// Train with meteorology after the issue time (an NWP forecast in operation).
    pub future_met: bool,
    /// Issue hours used for training rows (more hours, more rows; the model takes any hour).
    pub issue_hours: Vec<u32>,
    /// Leads used for training rows; lead is a feature, so the model fills the others.
    pub train_leads: Vec<usize>,
    pub gbdt: GbdtParams,
    /// Share of the training issues held out at each end to calibrate the quantiles and shares.
    pub calibration_share: f64,
    /// Weight of a second learner fitted on the log target (`ln(1+pm) − ln(1+damped)`), averaged
    /// with the anomaly learner; 0 fits the anomaly learner only.
    pub log_share: f64,
    /// The stages after the learner that are on ([`crate::stages`]).
    #[serde(default)]
    pub stages: Stages,
}

impl ModelParams {
    pub fn new(future_met: bool, issue_hour: u32) -> ModelParams {
        use crate::tuning::{CALIBRATION_SHARE, LOG_SHARE, PENALTY, TRAIN_LEADS};
        let issue_hours = (0..2).map(|k| (issue_hour + 12 * k) % 24).collect();
        ModelParams {
            kind: ModelKind::Gbdt,
            penalty: PENALTY,
            future_met,
            issue_hours,
            train_leads: TRAIN_LEADS.to_vec(),
            gbdt: GbdtParams::default(),
            calibration_share: CALIBRATION_SHARE,
            log_share: if future_met { LOG_SHARE } else { 0.0 },
            stages: Stages::default_for(future_met),
        }
    }

    pub fn check(&self) -> Result<(), ForecastError> {
        let bad = |m: &str| Err(ForecastError::Params(m.to_owned()));
        if self.issue_hours.is_empty() || self.issue_hours.iter().any(|h| *h > 23) {
            return bad("issue hours must be 0..=23");
        }
        if self.train_leads.is_empty() || self.train_leads.iter().any(|l| *l == 0 || *l > MAX_LEAD) {
            return bad("training leads must be 1..=96");
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return bad("penalty must be ≥ 0");
        }
        if !(0.0..=1.0).contains(&self.log_share) {
            return bad("log share must be in [0, 1]");
        }
        if !(0.05..=0.5).contains(&self.calibration_share) {
            return bad("calibration share must be in [0.05, 0.5]");
        }
        Ok(())
    }

    /// The weight of the log-target learner: 0 when its stage is off.
    pub(crate) fn log_weight(&self) -> f64 {
        if self.stages.has(Stage::LogLearner) { self.log_share } else { 0.0 }
    }
}

/// What a band's learner predicts: the departure from damped persistence, or that departure in
/// log space (which lets multiplicative growth in episodes be learned; undone on output).
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Anomaly,
    Log,
}

/// How a learner's output becomes PM2.5: the share of it applied and, for the log target, the
/// factor that undoes the log's retransformation bias (a smearing estimate), both chosen on
/// held-out issues.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Correction {
    pub alpha: f64,
    pub smear: f64,
}

impl Correction {
    pub(crate) fn apply(self, target: Target, pred: f64, damped: f64) -> f64 {
        match target {
            Target::Anomaly => (self.alpha * pred + damped).max(0.0),
            Target::Log => ((damped.max(0.0).ln_1p() + self.alpha * pred).exp() * self.smear - 1.0).max(0.0),
        }
    }

    /// The share among `shares` (and smearing factor) with the least squared error on held-out rows.
    pub(crate) fn choose(target: Target, shares: &[f64], pred: &[f64], damped: &[f64], obs: &[f64]) -> Correction {
        if pred.is_empty() {
            return Correction { alpha: 1.0, smear: 1.0 };
        }
        let candidate = |alpha: f64| {
            let smear = match target {
                Target::Anomaly => 1.0,
                Target::Log => {
                    // The least-squares factor on the back-transformed scale: Duan's mean of
                    // exp(residual) overcorrects where log errors are wide (long leads).
                    let e: Vec<f64> =
                        pred.iter().zip(damped).map(|(p, d)| (d.max(0.0).ln_1p() + alpha * p).exp()).collect();
                    let num: f64 = e.iter().zip(obs).map(|(e, o)| e * (o.max(0.0) + 1.0)).sum();
                    let den: f64 = e.iter().map(|e| e * e).sum();
                    if den > 0.0 { (num / den).clamp(0.8, 1.25) } else { 1.0 }
                }
            };
            let c = Correction { alpha, smear };
            let sse: f64 = (0..pred.len()).map(|k| (obs[k] - c.apply(target, pred[k], damped[k])).powi(2)).sum();
            (c, sse)
        };
        shares
            .iter()
            .map(|a| candidate(*a))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(Correction { alpha: 1.0, smear: 1.0 }, |(c, _)| c)
    }
}

pub(crate) fn damped_value(d: &Derived, clim: &Climatology, phi: &[f64], i0: usize, lead: usize) -> f64 {
    let t0 = d.h.time(i0);
    let tv = t0 + chrono::Duration::hours(lead as i64);
    let a = d.pm_now(i0) - clim.at(t0);
    (clim.at(tv) + phi[lead.min(MAX_LEAD)] * a).max(0.0)
}

/// Held-out skill of one lead bucket, measured while calibrating (for the model card).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketSkill {
    pub leads: (usize, usize),
    pub n: usize,
    pub rmse_model: f64,
    pub rmse_damped: f64,
}

/// The schema of a saved model; bump it when the saved fields or the features change.
pub const MODEL_SCHEMA: &str = "hazewarn-forecast/4";
/// Schema 4 added two future-met features; a schema-3 model fitted without future met reads the
/// same rows and still loads.
const MODEL_SCHEMA_WITHOUT_MET: &str = "hazewarn-forecast/3";

/// A fitted forecaster.
#[derive(Serialize, Deserialize)]
pub struct FittedModel {
    pub schema: String,
    pub params: ModelParams,
    pub clim: Climatology,
    pub phi: Vec<f64>,
    /// The conformal quantiles ([`crate::conformal`]), from held-out issues.
    #[serde(flatten)]
    pub conformal: Conformal,
    /// One learner per lead band.
    pub bands: Vec<BandModel>,
    /// The share of each band's correction applied, chosen on held-out issues.
    pub shrinkage: Vec<f64>,
    /// The log-target learners (empty when `params.log_share` is 0) and their corrections.
    pub log_bands: Vec<BandModel>,
    pub log_corrections: Vec<Correction>,
    pub train_rows: usize,
    /// The shares of the hourly half-widths below and above p50 a daily mean keeps, D+1..D+3
    /// (chosen on held-out days: [`crate::daily`]).
    #[serde(default)]
    pub daily_spread: DailySpreads,
    /// The shape of held-out daily errors per lead day D+1..D+3, for the level product
    /// ([`crate::level`]); a model saved without it has the default shape.
    #[serde(default)]
    pub error_shapes: [ErrorShape; SKILFUL_DAYS],
    /// The power of the recent observed/forecast ratio that scales D+2 onwards (0 = none; chosen
    /// on held-out issues: [`crate::bias`]).
    #[serde(default)]
    pub bias_power: f64,
    pub train_start: NaiveDateTime,
    pub train_end: NaiveDateTime,
    pub skill: Vec<BucketSkill>,
}

impl FittedModel {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a fitted model serialises")
    }

    /// Load a saved model, refusing another schema.
    pub fn from_json(text: &str) -> Result<FittedModel, ForecastError> {
        let m: FittedModel =
            serde_json::from_str(text).map_err(|e| ForecastError::Model(format!("saved model: {e}")))?;
        let readable = m.schema == MODEL_SCHEMA || (m.schema == MODEL_SCHEMA_WITHOUT_MET && !m.params.future_met);
        if !readable {
            return Err(ForecastError::Model(format!("saved model has schema {}, expected {MODEL_SCHEMA}", m.schema)));
        }
        Ok(m)
    }

    /// A markdown model card: data period, features, held-out skill against damped persistence.
    pub fn model_card(&self, name: &str, data: &str) -> String {
        let mut s = format!(
            "# Model card: {name}\n\n- schema: `{}`\n- learner: {:?} per lead band, correcting damped persistence\n\
             - log-target learner: {}\n- shares of each band's correction applied: {:?}\n\
             - data: {data}\n- training period: {} to {} ({} rows)\n- future meteorology: {}\n\
             - quantiles: conformal, on the first and the last {:.0} % of training issues, each verified by learners fitted on issues at least {} h away with their own climatology and damping, per lead bucket and climatological tercile; at each issue both sides are scaled by how the forecasts of the last {} days verified (factor {}–{})\n\
             - daily intervals: {} of the mean hourly half-widths below and above p50 for D+1..D+3 (each side chosen on held-out days)\n\
             - level correction: from D+{} on, p10/p50/p90 × (observed/forecast PM2.5 over the last {} days' verified D+1..D+3 days)^{} (power chosen on held-out issues; 0 = none)\n\
             - daily level product: {} (error shapes from {} held-out days for D+1..D+3)\n\
             - stages: {}\n\n## Features\n\n{}\n\n\
             ## Held-out skill (calibration issues)\n\n| leads (h) | n | RMSE model | RMSE damped persistence |\n|---|---|---|---|\n",
            self.schema,
            self.params.kind,
            if self.log_bands.is_empty() {
                "not used".to_owned()
            } else {
                format!("averaged in with weight {}", self.params.log_share)
            },
            self.shrinkage,
            self.train_start,
            self.train_end,
            self.train_rows,
            if self.params.future_met { "used (from a met forecast table)" } else { "not used" },
            100.0 * self.params.calibration_share,
            crate::tuning::FOLD_GAP,
            crate::tuning::RECENT_DAYS,
            crate::tuning::FACTOR_RANGE.0,
            crate::tuning::FACTOR_RANGE.1,
            self.daily_spread.0.iter().map(|d| format!("{}/{}", d.below, d.above)).collect::<Vec<_>>().join(", "),
            crate::tuning::FIRST_CORRECTED_DAY,
            crate::tuning::BIAS_DAYS,
            self.bias_power,
            if self.params.stages.has(Stage::LevelProduct) {
                "the most probable AQI level is published"
            } else {
                "the level of p50 is published, beside each level's probability"
            },
            self.error_shapes.iter().map(|e| e.days.to_string()).collect::<Vec<_>>().join("/"),
            self.params.stages,
            Derived::feature_names(self.params.future_met).join(", "),
        );
        for b in &self.skill {
            let leads =
                if b.leads.0 == b.leads.1 { b.leads.0.to_string() } else { format!("{}–{}", b.leads.0, b.leads.1) };
            s += &format!("| {leads} | {} | {:.1} | {:.1} |\n", b.n, b.rmse_model, b.rmse_damped);
        }
        s
    }

    /// The daily outlook of one series of a forecast this model issued: the model's with its
    /// daily spread ([`crate::daily`]); a baseline's as it is.
    pub fn daily_outlook(&self, f: &Forecast, series: crate::Series) -> Vec<crate::DailyOutlook> {
        let mut days = crate::daily_outlook(f, series, &self.clim);
        if series == crate::Series::Model {
            run(self.params.stages, &self.daily_spread, &mut days[..]);
        }
        days
    }

    /// The level product of D+1..D+3 of a forecast this model issued ([`crate::level`]).
    /// With its stage off, the level of p50 is published beside the same probabilities.
    pub fn daily_levels(&self, f: &Forecast) -> Vec<DailyLevel> {
        let mut days = daily_levels(&self.daily_outlook(f, crate::Series::Model), &self.error_shapes);
        run(self.params.stages, &LevelProduct, &mut days[..]);
        days
    }

    /// Forecast from issue index `i0` of `d`'s table. Observations after `i0` are not read; met
    /// after it comes from `met` when the model was fitted with future met.
    pub fn predict(&self, d: &Derived, i0: usize, met: Option<&Derived>) -> Result<Forecast, ForecastError> {
        self.predict_leads(d, i0, met, MAX_LEAD)
    }

    /// [`FittedModel::predict`] for the first `n_leads` hours only (clamped to 1..=96): verifying
    /// an old issue's first hour needs no more.
    pub fn predict_leads(
        &self,
        d: &Derived,
        i0: usize,
        met: Option<&Derived>,
        n_leads: usize,
    ) -> Result<Forecast, ForecastError> {
        let n_leads = n_leads.clamp(1, MAX_LEAD);
        if self.params.future_met && met.is_none() {
            return Err(ForecastError::Params("this model needs a met forecast".into()));
        }
        let met = if self.params.future_met { met } else { None };
        let p = Derived::n_features(self.params.future_met);
        let mut x = Vec::with_capacity(n_leads * p);
        let mut damped = Vec::with_capacity(n_leads);
        for lead in 1..=n_leads {
            let dv = damped_value(d, &self.clim, &self.phi, i0, lead);
            damped.push(dv);
            d.row(i0, lead, &self.clim, dv, met, &mut x);
        }
        let mut central = Vec::with_capacity(n_leads);
        let w = if self.log_bands.is_empty() { 0.0 } else { self.params.log_share };
        for (b, &(first, last)) in BANDS.iter().enumerate().take_while(|(_, (first, _))| *first <= n_leads) {
            let rows = &x[(first - 1) * p..last.min(n_leads) * p];
            let anom = Correction { alpha: self.shrinkage[b], smear: 1.0 };
            let log = self.log_bands.get(b).map(|m| (m.predict(rows, p), self.log_corrections[b]));
            for (k, c) in self.bands[b].predict(rows, p).into_iter().enumerate() {
                let dv = damped[first - 1 + k];
                let mut v = anom.apply(Target::Anomaly, c, dv);
                if let Some((lp, lc)) = &log {
                    v = (1.0 - w) * v + w * lc.apply(Target::Log, lp[k], dv);
                }
                central.push(v);
            }
        }
        let t0 = d.h.time(i0);
        let persistence = d.pm_now(i0);
        let leads = (1..=n_leads)
            .map(|lead| {
                let tv = t0 + chrono::Duration::hours(lead as i64);
                let p50 = central[lead - 1];
                LeadForecast {
                    lead,
                    valid: tv,
                    p10: p50,
                    p50,
                    p90: p50,
                    persistence,
                    climatology: self.clim.at(tv),
                    damped: damped[lead - 1],
                }
            })
            .collect();
        let mut f = Forecast::from_leads(t0, leads);
        run(self.params.stages, &self.conformal, &mut f);
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_target_is_undone_on_output() {
        // One row whose damped value sits at DAMPED; the log target of pm = 150 over damped = 60.
        let p = DAMPED + 1;
        let mut row = vec![0.0; p];
        row[DAMPED] = 60.0;
        let y = crate::fit::log_target(&row, &[150.0 - 60.0], p);
        assert!((y[0] - (151.0f64 / 61.0).ln()).abs() < 1e-12);
        let full = Correction { alpha: 1.0, smear: 1.0 };
        assert!((full.apply(Target::Log, y[0], 60.0) - 150.0).abs() < 1e-9);
        // No correction applied: damped persistence itself, on both targets.
        let none = Correction { alpha: 0.0, smear: 1.0 };
        assert!((none.apply(Target::Log, y[0], 60.0) - 60.0).abs() < 1e-9);
        assert_eq!(none.apply(Target::Anomaly, 90.0, 60.0), 60.0);
    }

    #[test]
    fn the_held_out_choice_finds_a_known_share_and_scale() {
        // Observations are exactly damped + 0.6 × the learner's output (anomaly target)...
        let pred: Vec<f64> = (0..200).map(|k| (k as f64 * 0.37).sin() * 40.0).collect();
        let damped: Vec<f64> = (0..200).map(|k| 50.0 + (k % 7) as f64 * 10.0).collect();
        let obs: Vec<f64> = pred.iter().zip(&damped).map(|(p, d)| (d + 0.6 * p).max(0.0)).collect();
        let c = Correction::choose(Target::Anomaly, &SHRINKAGE, &pred, &damped, &obs);
        assert_eq!((c.alpha, c.smear), (0.6, 1.0));
        // ...and for the log target, (1 + damped)·e^(0.8·pred)·1.1 − 1: share 0.8, factor 1.1.
        let lp: Vec<f64> = pred.iter().map(|p| p / 100.0).collect();
        let obs: Vec<f64> = lp.iter().zip(&damped).map(|(p, d)| (d + 1.0) * (0.8 * p).exp() * 1.1 - 1.0).collect();
        let c = Correction::choose(Target::Log, &SHRINKAGE, &lp, &damped, &obs);
        assert_eq!(c.alpha, 0.8);
        assert!((c.smear - 1.1).abs() < 1e-9, "{c:?}");
    }
}
