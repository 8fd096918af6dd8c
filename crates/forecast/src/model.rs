//! Baselines and the gradient-boosted forecaster: checked parameters → `fit` → `FittedModel`
//! → `predict` → `Forecast` with p10/p50/p90 per lead.

use chrono::{NaiveDateTime, Timelike};
use perpetual::objective::Objective;
use perpetual::{Matrix, PerpetualBooster};
use serde::{Deserialize, Serialize};

use crate::ForecastError;
use crate::data::{Climatology, Hourly};
use crate::features::Derived;
use crate::gbdt::{Gbdt, GbdtParams};
use crate::linear::LinearBand;

pub const MAX_LEAD: usize = 96;
/// Lead bands, one booster each: a single model over all leads let long-lead corrections leak
/// into short leads (measured: RMSE at 1 h 28 against persistence's 16).
const BANDS: [(usize, usize); 8] = [(1, 1), (2, 2), (3, 4), (5, 8), (9, 18), (19, 36), (37, 60), (61, 96)];

fn band(lead: usize) -> usize {
    BANDS.iter().position(|(a, b)| (*a..=*b).contains(&lead)).unwrap_or(BANDS.len() - 1)
}

/// Lead buckets for the conformal quantiles: (first, last) lead hour.
const BUCKETS: [(usize, usize); 8] = [(1, 3), (4, 6), (7, 12), (13, 24), (25, 36), (37, 48), (49, 72), (73, 96)];

/// Where the `damped` feature sits in a row.
const DAMPED: usize = crate::features::ISSUE_FEATURES.len() + 8;
/// The shares of a band's correction that held-out issues may choose from.
const SHRINKAGE: [f64; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];

fn bucket(lead: usize) -> usize {
    BUCKETS.iter().position(|(a, b)| (*a..=*b).contains(&lead)).unwrap_or(BUCKETS.len() - 1)
}

/// The scale that normalises residuals: errors grow with the level of pollution.
fn scale(pred: f64) -> f64 {
    15.0 + 0.5 * pred.max(0.0)
}

/// Which learner corrects the damped-persistence baseline in each lead band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Elastic net (linfa) on standardised features.
    Linear,
    /// The project's regularised histogram gradient boosting (`gbdt.rs`).
    Gbdt,
    /// perpetual's self-tuning gradient boosting, kept for comparison.
    Perpetual,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [ModelKind::Gbdt, ModelKind::Linear, ModelKind::Perpetual];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Gbdt => "gbdt",
            ModelKind::Perpetual => "perpetual",
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
    Perpetual(Box<PerpetualBooster>),
}

impl BandModel {
    fn predict(&self, rows: &[f64], p: usize) -> Vec<f64> {
        match self {
            BandModel::Linear(m) => m.predict(rows, p),
            BandModel::Gbdt(g) => g.predict(rows, p),
            BandModel::Perpetual(b) => predict_rows(b, rows, p),
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
    /// perpetual's generalisation budget (for `ModelKind::Perpetual`).
    pub budget: f32,
    pub gbdt: GbdtParams,
    /// Extra weight per 75 µg/m³ above 75 µg/m³ in the tree models (0 = unweighted).
    pub event_weight: f64,
    /// Share of the training issues, at the end, held out to calibrate the quantiles.
    pub calibration_share: f64,
}

impl ModelParams {
    pub fn new(future_met: bool, issue_hour: u32) -> ModelParams {
        let issue_hours = (0..2).map(|k| (issue_hour + 12 * k) % 24).collect();
        let train_leads = vec![
            1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 21, 24, 27, 30, 33, 36, 40, 44, 48, 54, 60, 66, 72, 78, 84, 90, 96,
        ];
        ModelParams {
            kind: ModelKind::Gbdt,
            penalty: 0.05,
            future_met,
            issue_hours,
            train_leads,
            budget: 0.5,
            gbdt: GbdtParams::default(),
            // Measured on PRSA 2014 (observed met): weight 0.5 raised RMSE at 24 h from 44.8 to 47.8
            // and lowered the D+1 CSI for AQI > 200 from 0.575 to 0.535, so it is off by default.
            event_weight: 0.0,
            calibration_share: 0.2,
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
        if !(self.budget > 0.0 && self.budget <= 2.0) {
            return bad("budget must be in (0, 2]");
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return bad("penalty must be ≥ 0");
        }
        if !(0.05..=0.5).contains(&self.calibration_share) {
            return bad("calibration share must be in [0.05, 0.5]");
        }
        Ok(())
    }

    /// Fit on hours `[0, until)` of `h`. `met` is the future-met table (needed when `future_met`).
    pub fn fit(&self, h: &Hourly, until: usize, met: Option<&Hourly>) -> Result<FittedModel, ForecastError> {
        self.check()?;
        if self.future_met && met.is_none() {
            return Err(ForecastError::Params("future_met needs a met table".into()));
        }
        let until = until.min(h.len());
        let clim = Climatology::fit(h, until);
        let d = Derived::new(h);
        let dm = met.map(Derived::new);
        let issues: Vec<usize> =
            (72..until).filter(|i| self.issue_hours.contains(&h.time(*i).hour()) && !d.pm_now(*i).is_nan()).collect();
        if issues.len() < 60 {
            return Err(ForecastError::NotEnoughData(format!(
                "{} training issues; at least 60 are needed",
                issues.len()
            )));
        }
        let phi = fit_damping(h, &d, &clim, &issues, until);
        let rows = |issues: &[usize], band_no: usize| -> (Vec<f64>, Vec<f64>, Vec<usize>, Vec<f64>) {
            let mut x = Vec::new();
            let (mut y, mut leads, mut w) = (Vec::new(), Vec::new(), Vec::new());
            for &i0 in issues {
                for &lead in self.train_leads.iter().filter(|l| band(**l) == band_no) {
                    let iv = i0 + lead;
                    if iv >= until || h.pm25[iv].is_nan() {
                        continue;
                    }
                    let damped = damped_value(&d, &clim, &phi, i0, lead);
                    d.row(i0, lead, &clim, damped, dm.as_ref(), &mut x);
                    y.push(h.pm25[iv] - damped);
                    leads.push(lead);
                    w.push(self.event_weight(h.pm25[iv]));
                }
            }
            (x, y, leads, w)
        };
        let p = Derived::n_features(self.future_met);
        let split = issues.len() - (issues.len() as f64 * self.calibration_share) as usize;
        let mut resid: Vec<Vec<f64>> = vec![Vec::new(); BUCKETS.len()];
        let mut sq: Vec<(usize, f64, f64)> = vec![(0, 0.0, 0.0); BUCKETS.len()];
        let mut boosters = Vec::with_capacity(BANDS.len());
        let mut shrinkage = Vec::with_capacity(BANDS.len());
        let mut train_rows = 0;
        for b in 0..BANDS.len() {
            // 1. Calibrate the quantiles on issues the band's model has not seen.
            let (xa, ya, _, wa) = rows(&issues[..split], b);
            let (xc, yc, lc, _) = rows(&issues[split..], b);
            let model_a = self.band_model(b, &xa, &ya, &wa, p)?;
            let pred_c = model_a.predict(&xc, p);
            // How much of the learner's correction to trust, chosen on the held-out issues: with
            // little data or little signal the learner is shrunk towards damped persistence.
            let sse = |a: f64| {
                (0..yc.len())
                    .map(|k| {
                        let damped = xc[k * p + DAMPED];
                        (yc[k] + damped - (a * pred_c[k] + damped).max(0.0)).powi(2)
                    })
                    .sum::<f64>()
            };
            let alpha = if yc.is_empty() {
                1.0
            } else {
                SHRINKAGE.into_iter().min_by(|a, b| sse(*a).total_cmp(&sse(*b))).unwrap_or(1.0)
            };
            shrinkage.push(alpha);
            for k in 0..yc.len() {
                let damped = xc[k * p + DAMPED];
                let pred = (alpha * pred_c[k] + damped).max(0.0);
                resid[bucket(lc[k])].push((yc[k] + damped - pred) / scale(pred));
                let e = &mut sq[bucket(lc[k])];
                *e = (e.0 + 1, e.1 + (yc[k] + damped - pred).powi(2), e.2 + yc[k].powi(2));
            }
            // 2. The band's model itself, on every training issue.
            let (x, y, _, w) = rows(&issues, b);
            train_rows += y.len();
            let bst = self.band_model(b, &x, &y, &w, p)?;
            boosters.push(bst);
        }
        let quantiles = resid
            .into_iter()
            .map(|mut r| {
                if r.len() < 20 {
                    return (-1.0, 1.0);
                }
                r.sort_by(f64::total_cmp);
                let q = |p: f64| r[((r.len() - 1) as f64 * p).round() as usize];
                (q(0.1), q(0.9))
            })
            .collect();
        let skill = BUCKETS
            .iter()
            .zip(&sq)
            .filter(|(_, (n, _, _))| *n > 0)
            .map(|(leads, (n, m, d))| BucketSkill {
                leads: *leads,
                n: *n,
                rmse_model: (m / *n as f64).sqrt(),
                rmse_damped: (d / *n as f64).sqrt(),
            })
            .collect();
        Ok(FittedModel {
            schema: MODEL_SCHEMA.to_owned(),
            skill,
            params: self.clone(),
            clim,
            phi,
            quantiles,
            bands: boosters,
            shrinkage,
            train_rows,
            train_start: h.time(0),
            train_end: h.time(until - 1),
        })
    }

    /// Heavy hours count more in the trees, so that squared loss flattens peaks less.
    fn event_weight(&self, pm: f64) -> f64 {
        1.0 + self.event_weight * ((pm - 75.0) / 75.0).max(0.0)
    }

    fn band_model(
        &self,
        band_no: usize,
        rows: &[f64],
        y: &[f64],
        w: &[f64],
        p: usize,
    ) -> Result<BandModel, ForecastError> {
        // At 1–2 h the correction to persistence is tiny and trees only add noise (measured: RMSE
        // at 1 h 16.2 against 15.9 for the linear model), so those bands stay linear.
        let kind = if BANDS[band_no].1 <= 2 { ModelKind::Linear } else { self.kind };
        Ok(match kind {
            ModelKind::Linear => BandModel::Linear(LinearBand::fit(rows, y, p, self.penalty)?),
            ModelKind::Gbdt => BandModel::Gbdt(Gbdt::fit(rows, y, Some(w), p, &self.gbdt)),
            ModelKind::Perpetual => BandModel::Perpetual(Box::new(self.booster(rows, y, p)?)),
        })
    }

    fn booster(&self, rows: &[f64], y: &[f64], p: usize) -> Result<PerpetualBooster, ForecastError> {
        let n = y.len();
        let cols = to_col_major(rows, n, p);
        let m = Matrix::new(&cols, n, p);
        let mut b = PerpetualBooster::default().set_objective(Objective::SquaredLoss).set_budget(self.budget);
        b.fit(&m, y, None, None).map_err(|e| ForecastError::Model(e.to_string()))?;
        Ok(b)
    }
}

fn to_col_major(rows: &[f64], n: usize, p: usize) -> Vec<f64> {
    let mut cols = vec![0.0; n * p];
    for i in 0..n {
        for j in 0..p {
            cols[j * n + i] = rows[i * p + j];
        }
    }
    cols
}

fn predict_rows(b: &PerpetualBooster, rows: &[f64], p: usize) -> Vec<f64> {
    let n = rows.len() / p;
    if n == 0 {
        return Vec::new();
    }
    let cols = to_col_major(rows, n, p);
    b.predict(&Matrix::new(&cols, n, p), true)
}

/// Per-lead share of the current anomaly that persists (least squares over training issues).
fn fit_damping(h: &Hourly, d: &Derived, clim: &Climatology, issues: &[usize], until: usize) -> Vec<f64> {
    let mut phi = vec![0.0; MAX_LEAD + 1];
    for (lead, slot) in phi.iter_mut().enumerate().skip(1) {
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for &i0 in issues {
            let iv = i0 + lead;
            if iv >= until || h.pm25[iv].is_nan() {
                continue;
            }
            let a = d.pm_now(i0) - clim.at(h.time(i0));
            let b = h.pm25[iv] - clim.at(h.time(iv));
            sxy += a * b;
            sxx += a * a;
        }
        *slot = if sxx > 0.0 { (sxy / sxx).clamp(0.0, 1.0) } else { 0.0 };
    }
    phi
}

fn damped_value(d: &Derived, clim: &Climatology, phi: &[f64], i0: usize, lead: usize) -> f64 {
    let t0 = d.h.time(i0);
    let tv = t0 + chrono::Duration::hours(lead as i64);
    let a = d.pm_now(i0) - clim.at(t0);
    (clim.at(tv) + phi[lead.min(MAX_LEAD)] * a).max(0.0)
}

/// One lead of a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

/// A forecast issued at one time: hourly PM2.5 for leads 1..=96 with the baselines beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub issue: NaiveDateTime,
    pub leads: Vec<LeadForecast>,
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
pub const MODEL_SCHEMA: &str = "hazewarn-forecast/1";

/// A fitted forecaster.
#[derive(Serialize, Deserialize)]
pub struct FittedModel {
    pub schema: String,
    pub params: ModelParams,
    pub clim: Climatology,
    pub phi: Vec<f64>,
    /// Normalised residual quantiles (q10, q90) per lead bucket, from held-out issues.
    pub quantiles: Vec<(f64, f64)>,
    /// One learner per lead band.
    pub bands: Vec<BandModel>,
    /// The share of each band's correction applied, chosen on held-out issues.
    pub shrinkage: Vec<f64>,
    pub train_rows: usize,
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
        if m.schema != MODEL_SCHEMA {
            return Err(ForecastError::Model(format!("saved model has schema {}, expected {MODEL_SCHEMA}", m.schema)));
        }
        Ok(m)
    }

    /// A markdown model card: data period, features, held-out skill against damped persistence.
    pub fn model_card(&self, name: &str, data: &str) -> String {
        let mut s = format!(
            "# Model card: {name}\n\n- schema: `{}`\n- learner: {:?} per lead band, correcting damped persistence\n\
             - data: {data}\n- training period: {} to {} ({} rows)\n- future meteorology: {}\n\
             - quantiles: split-conformal on the last {:.0} % of training issues\n\n## Features\n\n{}\n\n\
             ## Held-out skill (calibration issues)\n\n| leads (h) | n | RMSE model | RMSE damped persistence |\n|---|---|---|---|\n",
            self.schema,
            self.params.kind,
            self.train_start,
            self.train_end,
            self.train_rows,
            if self.params.future_met { "used (from a met forecast table)" } else { "not used" },
            100.0 * self.params.calibration_share,
            Derived::feature_names(self.params.future_met).join(", "),
        );
        for b in &self.skill {
            s += &format!("| {}–{} | {} | {:.1} | {:.1} |\n", b.leads.0, b.leads.1, b.n, b.rmse_model, b.rmse_damped);
        }
        s
    }

    /// Forecast from issue index `i0` of `d`'s table. Observations after `i0` are not read; met
    /// after it comes from `met` when the model was fitted with future met.
    pub fn predict(&self, d: &Derived, i0: usize, met: Option<&Derived>) -> Result<Forecast, ForecastError> {
        if self.params.future_met && met.is_none() {
            return Err(ForecastError::Params("this model needs a met forecast".into()));
        }
        let met = if self.params.future_met { met } else { None };
        let p = Derived::n_features(self.params.future_met);
        let mut x = Vec::with_capacity(MAX_LEAD * p);
        let mut damped = Vec::with_capacity(MAX_LEAD);
        for lead in 1..=MAX_LEAD {
            let dv = damped_value(d, &self.clim, &self.phi, i0, lead);
            damped.push(dv);
            d.row(i0, lead, &self.clim, dv, met, &mut x);
        }
        let mut pred = Vec::with_capacity(MAX_LEAD);
        for (b, (first, last)) in BANDS.iter().enumerate() {
            let alpha = self.shrinkage[b];
            pred.extend(self.bands[b].predict(&x[(first - 1) * p..last * p], p).into_iter().map(|c| alpha * c));
        }
        let t0 = d.h.time(i0);
        let persistence = d.pm_now(i0);
        let leads = (1..=MAX_LEAD)
            .map(|lead| {
                let tv = t0 + chrono::Duration::hours(lead as i64);
                let clim = self.clim.at(tv);
                let central = (pred[lead - 1] + damped[lead - 1]).max(0.0);
                let (q10, q90) = self.quantiles[bucket(lead)];
                let s = scale(central);
                LeadForecast {
                    lead,
                    valid: tv,
                    p10: (central + q10 * s).clamp(0.0, central),
                    p50: central,
                    p90: (central + q90 * s).max(central),
                    persistence,
                    climatology: clim,
                    damped: damped[lead - 1],
                }
            })
            .collect();
        Ok(Forecast { issue: t0, leads })
    }
}
