//! Fitting: the band learners on every training issue, and the stages after them on blocked,
//! out-of-fold calibration issues.
//!
//! Calibration issues come from two blocks, the last and the first share of the training issues.
//! Each block is verified by learners fitted only on issues at least [`FOLD_GAP`] hours away from
//! it, with a climatology and a damping fitted on those issues' hours alone, so nothing a
//! calibration issue verifies on was seen by the learner that forecast it. The stages are then
//! fitted one after another on those held-out rows, each on the output of the ones before it:
//! shrinkage and the log learner's correction give the central estimate, the conformal quantiles its
//! residuals, the daily spread the quantiles' daily means, and the level product and level
//! correction what the daily spread left.

use std::ops::Range;

use chrono::Timelike;

use crate::bias::choose_bias_power;
use crate::conformal::{BUCKETS, Conformal, REGIMES, Regimes, bucket, scale};
use crate::daily::{DAILY_SPREAD_MAX_LEAD, DailySpreads, HeldOutHour, daily_spreads};
use crate::data::{Climatology, Hourly};
use crate::features::Derived;
use crate::gbdt::Gbdt;
use crate::level::fit_shapes;
use crate::linear::LinearBand;
use crate::model::{
    BANDS, BandModel, BucketSkill, CLIM_VALID, Correction, DAMPED, FittedModel, MODEL_SCHEMA, ModelKind, ModelParams,
    SHRINKAGE, Target, band, damped_value,
};
use crate::stages::Stage;
use crate::tuning::LINEAR_UP_TO;
use crate::{ForecastError, MAX_LEAD};

pub(crate) use crate::tuning::FOLD_GAP;

/// A band's rows: features (row-major), targets and (issue index, lead).
type BandRows = (Vec<f64>, Vec<f64>, Vec<(usize, usize)>);

/// One calibration block and what verifies it: the issues fitted on, with the climatology and the
/// damping of their hours only.
pub(crate) struct Fold<'a> {
    pub fit: Vec<usize>,
    pub cal: &'a [usize],
    pub clim: Climatology,
    pub phi: Vec<f64>,
}

/// The two blocked folds of `issues` (time-ordered), each holding out `held` issues at one end.
/// Hours `[0, until)` may be read.
pub(crate) fn blocked_folds<'a>(
    h: &Hourly,
    d: &Derived,
    issues: &'a [usize],
    held: usize,
    until: usize,
) -> Vec<Fold<'a>> {
    let (first, last) = (&issues[..held], &issues[issues.len() - held..]);
    let blocks: [(&[usize], Range<usize>); 2] =
        [(last, 0..last[0]), (first, (first[held - 1] + FOLD_GAP + 1).min(until)..until)];
    blocks
        .into_iter()
        .map(|(cal, hours)| {
            let fit: Vec<usize> = issues
                .iter()
                .copied()
                .filter(|i| *i + FOLD_GAP < cal[0] || *i > cal[cal.len() - 1] + FOLD_GAP)
                .collect();
            let clim = Climatology::fit_hours(h, hours.clone());
            let phi = fit_damping(h, d, &clim, &fit, hours.end);
            Fold { fit, cal, clim, phi }
        })
        .filter(|f| !f.fit.is_empty())
        .collect()
}

/// What fitting reads.
struct Trainer<'a> {
    params: &'a ModelParams,
    h: &'a Hourly,
    d: Derived<'a>,
    dm: Option<Derived<'a>>,
    until: usize,
    /// Features per row.
    p: usize,
}

/// What the held-out issues said, gathered band by band.
#[derive(Default)]
struct HeldOut {
    /// Normalised residuals per quantile cell (bucket × regime).
    resid: Vec<Vec<f64>>,
    days: Vec<HeldOutHour>,
    /// Per lead bucket: (rows, model squared error, damped persistence's squared error).
    sq: Vec<(usize, f64, f64)>,
}

impl Trainer<'_> {
    fn rows(&self, issues: &[usize], band_no: usize, clim: &Climatology, phi: &[f64]) -> BandRows {
        let mut x = Vec::new();
        let (mut y, mut leads) = (Vec::new(), Vec::new());
        for &i0 in issues {
            for &lead in self.params.train_leads.iter().filter(|l| band(**l) == band_no) {
                let iv = i0 + lead;
                if iv >= self.until || self.h.pm25[iv].is_nan() {
                    continue;
                }
                let damped = damped_value(&self.d, clim, phi, i0, lead);
                self.d.row(i0, lead, clim, damped, self.dm.as_ref(), &mut x);
                y.push(self.h.pm25[iv] - damped);
                leads.push((i0, lead));
            }
        }
        (x, y, leads)
    }

    /// Band `b` on the held-out blocks: chooses its corrections and adds its residuals to `held`.
    fn calibrate_band(
        &self,
        b: usize,
        folds: &[Fold],
        regimes: &Regimes,
        held: &mut HeldOut,
    ) -> Result<(Correction, Option<Correction>), ForecastError> {
        let p = self.p;
        let (mut xc, mut yc, mut lc) = (Vec::new(), Vec::new(), Vec::new());
        let (mut anom_c, mut log_c) = (Vec::new(), Vec::new());
        for fold in folds {
            let (xa, ya, _) = self.rows(&fold.fit, b, &fold.clim, &fold.phi);
            let (x, y, l) = self.rows(fold.cal, b, &fold.clim, &fold.phi);
            let (anom_a, log_a) = self.params.band_learners(b, &xa, &ya, p)?;
            anom_c.extend(anom_a.predict(&x, p));
            log_c.extend(log_a.map(|m| m.predict(&x, p)).unwrap_or_default());
            xc.extend(x);
            yc.extend(y);
            lc.extend(l);
        }
        let shares: &[f64] = if self.params.stages.has(Stage::Shrinkage) { &SHRINKAGE } else { &[1.0] };
        let damped_c: Vec<f64> = (0..yc.len()).map(|k| xc[k * p + DAMPED]).collect();
        let obs_c: Vec<f64> = yc.iter().zip(&damped_c).map(|(y, d)| y + d).collect();
        let anom = Correction::choose(Target::Anomaly, shares, &anom_c, &damped_c, &obs_c);
        let mut central: Vec<f64> =
            anom_c.iter().zip(&damped_c).map(|(c, d)| anom.apply(Target::Anomaly, *c, *d)).collect();
        let mut log = None;
        // One correction per band whenever the log learner is on, even for a band no held-out
        // row reached (it keeps the whole correction), so corrections and learners stay aligned.
        if self.params.log_weight() > 0.0 {
            let w = self.params.log_weight();
            let c = Correction::choose(Target::Log, shares, &log_c, &damped_c, &obs_c);
            for (k, v) in central.iter_mut().enumerate() {
                *v = (1.0 - w) * *v + w * c.apply(Target::Log, log_c[k], damped_c[k]);
            }
            log = Some(c);
        }
        for k in 0..yc.len() {
            let pred = central[k];
            let (i0, lead) = lc[k];
            let cell = bucket(lead) * REGIMES + regimes.of_clim(xc[k * p + CLIM_VALID]);
            held.resid[cell].push((obs_c[k] - pred) / scale(pred));
            if lead <= DAILY_SPREAD_MAX_LEAD {
                let (issue_day, day) = (self.h.time(i0).date(), self.h.time(i0 + lead).date());
                let lead_day = (day - issue_day).num_days() as usize;
                held.days.push(HeldOutHour { day: (i0, day), lead_day, obs: obs_c[k], pred, cell });
            }
            let e = &mut held.sq[bucket(lead)];
            *e = (e.0 + 1, e.1 + (obs_c[k] - pred).powi(2), e.2 + yc[k].powi(2));
        }
        Ok((anom, log))
    }
}

impl ModelParams {
    /// Fit on hours `[0, until)` of `h`. `met` is the future-met table (needed when `future_met`).
    pub fn fit(&self, h: &Hourly, until: usize, met: Option<&Hourly>) -> Result<FittedModel, ForecastError> {
        self.check()?;
        if self.future_met && met.is_none() {
            return Err(ForecastError::Params("future_met needs a met table".into()));
        }
        let until = until.min(h.len());
        let clim = Climatology::fit(h, until);
        let t = Trainer {
            params: self,
            h,
            d: Derived::new(h),
            dm: met.map(Derived::new),
            until,
            p: Derived::n_features(self.future_met),
        };
        let issues: Vec<usize> =
            (72..until).filter(|i| self.issue_hours.contains(&h.time(*i).hour()) && !t.d.pm_now(*i).is_nan()).collect();
        if issues.len() < 60 {
            return Err(ForecastError::NotEnoughData(format!(
                "{} training issues; at least 60 are needed",
                issues.len()
            )));
        }
        let phi = fit_damping(h, &t.d, &clim, &issues, until);
        // Two blocks, since one alone holds only the seasons of its months.
        let held_n = (issues.len() as f64 * self.calibration_share) as usize;
        let folds = blocked_folds(h, &t.d, &issues, held_n, until);
        let regimes = if self.stages.has(Stage::Regimes) { Regimes::of(&clim) } else { Regimes::ONE };
        let mut held = HeldOut {
            resid: vec![Vec::new(); BUCKETS.len() * REGIMES],
            days: Vec::new(),
            sq: vec![(0, 0.0, 0.0); BUCKETS.len()],
        };
        let (mut bands, mut shrinkage, mut log_bands, mut log_corrections) = (vec![], vec![], vec![], vec![]);
        let mut train_rows = 0;
        for b in 0..BANDS.len() {
            let (anom, log) = t.calibrate_band(b, &folds, &regimes, &mut held)?;
            shrinkage.push(anom.alpha);
            log_corrections.extend(log);
            // The band's model itself, on every training issue.
            let (x, y, _) = t.rows(&issues, b, &clim, &phi);
            train_rows += y.len();
            let (anom_model, log_model) = self.band_learners(b, &x, &y, t.p)?;
            bands.push(anom_model);
            log_bands.extend(log_model);
        }
        // The stages after the learner, each fitted on what the ones before it left.
        let conformal = Conformal::fit(held.resid, regimes);
        let bounds = |cell: usize, pred: f64| conformal.bounds(cell, pred);
        let daily_spread = if self.stages.has(Stage::DailySpread) {
            daily_spreads(&held.days, bounds)
        } else {
            DailySpreads::default()
        };
        Ok(FittedModel {
            error_shapes: fit_shapes(&held.days, bounds, &daily_spread),
            daily_spread,
            bias_power: if self.stages.has(Stage::LevelCorrection) { choose_bias_power(&held.days) } else { 0.0 },
            schema: MODEL_SCHEMA.to_owned(),
            skill: bucket_skill(&held.sq),
            params: self.clone(),
            clim,
            phi,
            conformal,
            bands,
            shrinkage,
            log_bands,
            log_corrections,
            train_rows,
            train_start: h.time(0),
            train_end: h.time(until - 1),
        })
    }

    /// A band's anomaly learner and, when the log learner is on, its log-target learner, fitted
    /// on the two cores at once.
    pub(crate) fn band_learners(
        &self,
        band_no: usize,
        rows: &[f64],
        y: &[f64],
        p: usize,
    ) -> Result<(BandModel, Option<BandModel>), ForecastError> {
        std::thread::scope(|s| {
            let log = (self.log_weight() > 0.0)
                .then(|| s.spawn(|| self.band_model(band_no, rows, &log_target(rows, y, p), p)));
            let anom = self.band_model(band_no, rows, y, p)?;
            let log = log.map(|j| j.join().expect("a learner thread does not panic")).transpose()?;
            Ok((anom, log))
        })
    }

    fn band_model(&self, band_no: usize, rows: &[f64], y: &[f64], p: usize) -> Result<BandModel, ForecastError> {
        // At the first leads the correction to persistence is tiny and trees only add noise.
        let kind = if BANDS[band_no].1 <= LINEAR_UP_TO { ModelKind::Linear } else { self.kind };
        Ok(match kind {
            ModelKind::Linear => BandModel::Linear(LinearBand::fit(rows, y, p, self.penalty)?),
            ModelKind::Gbdt => BandModel::Gbdt(Gbdt::fit(rows, y, None, p, &self.gbdt)),
        })
    }
}

fn bucket_skill(sq: &[(usize, f64, f64)]) -> Vec<BucketSkill> {
    BUCKETS
        .iter()
        .zip(sq)
        .filter(|(_, (n, _, _))| *n > 0)
        .map(|(leads, (n, m, d))| BucketSkill {
            leads: *leads,
            n: *n,
            rmse_model: (m / *n as f64).sqrt(),
            rmse_damped: (d / *n as f64).sqrt(),
        })
        .collect()
}

/// The log target of rows whose anomaly target is `y`: `ln(1+pm) − ln(1+damped)`.
pub(crate) fn log_target(rows: &[f64], y: &[f64], p: usize) -> Vec<f64> {
    y.iter()
        .enumerate()
        .map(|(k, y)| {
            let d = rows[k * p + DAMPED].max(0.0);
            (y + d).max(0.0).ln_1p() - d.ln_1p()
        })
        .collect()
}

/// Per-lead share of the current anomaly that persists (least squares over `issues`, reading
/// hours before `until`).
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn no_fitted_issue_lies_within_a_whole_forecast_of_its_held_out_block() {
        // Issues every 12 h over 100 days; 20 held out at each end.
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let hours = 24 * 100;
        let h = crate::tests::pm_only(start, (0..hours).map(|k| 50.0 + (k % 24) as f64).collect());
        let d = Derived::new(&h);
        let issues: Vec<usize> = (72..hours).step_by(12).collect();
        let folds = blocked_folds(&h, &d, &issues, 20, hours);
        assert_eq!(folds.len(), 2);
        for f in &folds {
            assert_eq!(f.cal.len(), 20);
            for i in &f.fit {
                assert!(f.cal.iter().all(|c| i.abs_diff(*c) > 96), "issue {i} is within 96 h of its block");
            }
            // Every issue is either held out, fitted on, or in the gap: 96 h at 12 h apart is
            // eight issues on the inner side of the block.
            assert_eq!(f.fit.len() + f.cal.len() + 8, issues.len());
        }
        // The last block's learners read only hours before it; the first block's only hours after
        // its gap.
        assert_eq!(folds[0].fit.last().copied(), Some(folds[0].cal[0] - 108));
        assert_eq!(folds[1].fit[0], folds[1].cal[19] + 108);
    }

    #[test]
    fn a_folds_climatology_reads_only_its_own_hours() {
        // PM2.5 is 10 before hour 1000 and 90 from it: a climatology of hours 1000.. sees only 90.
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let h = crate::tests::pm_only(start, (0..2000).map(|k| if k < 1000 { 10.0 } else { 90.0 }).collect());
        let late = Climatology::fit_hours(&h, 1000..2000);
        assert!(late.mean.iter().flatten().all(|x| *x == 90.0), "{:?}", late.mean[0]);
        let early = Climatology::fit_hours(&h, 0..1000);
        assert!(early.mean.iter().flatten().all(|x| *x == 10.0));
    }
}
