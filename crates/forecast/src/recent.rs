//! Recent verification: how the forecasts of the last [`RECENT_DAYS`] days verified against what
//! has been observed by the issue time, and the p10–p90 spread that follows from it (adaptive
//! conformal).
//!
//! Conformal quantiles assume the calibration issues and the forecast issues are alike, but one
//! year is not another and a volatile fortnight is not a calm one. What the stage does to
//! coverage: `hazewarn evaluate --stages=-recent-spread` against `--stages all`.

use serde::{Deserialize, Serialize};

use crate::bias::{BIAS_DAYS, RecentBias};
use crate::data::Hourly;
use crate::forecast::Forecast;
use crate::model::FittedModel;
use crate::nowcast::{NOWCAST_DAYS, RecentNowcast};
use crate::pipeline::{Applied, PostStage, run};
use crate::stages::Stage;
use crate::{ForecastError, MAX_LEAD, features::Derived};

pub(crate) use crate::tuning::FACTOR_RANGE;
pub use crate::tuning::RECENT_DAYS;
/// Fewer verified hours than one whole forecast's leave the spread as calibrated.
const MIN_PAIRS: usize = crate::MAX_LEAD;

/// How recent forecasts verified, and the factor applied to p10–p90 as a result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecentSpread {
    /// Multiplies each side of the interval around p50 (1 = as calibrated).
    pub factor: f64,
    /// Verified (forecast hour, observation) pairs behind it.
    pub pairs: usize,
    /// Share of those observations that fell inside the forecasts' own p10–p90.
    pub coverage: Option<f64>,
}

impl RecentSpread {
    /// Nothing verified yet: the spread as calibrated.
    pub const CALIBRATED: RecentSpread = RecentSpread { factor: 1.0, pairs: 0, coverage: None };

    /// Whether enough hours verified for the spread to follow them.
    pub fn adapted(&self) -> bool {
        self.pairs >= MIN_PAIRS
    }

    /// One line for a forecaster: what verified and what was done about it.
    pub fn describe(&self) -> String {
        match self.coverage {
            Some(c) if self.adapted() => format!(
                "p10–p90 held {:.0} % of {} verified hours of the last {RECENT_DAYS} days' forecasts; interval × {:.2}",
                100.0 * c,
                self.pairs,
                self.factor
            ),
            _ => format!("{} verified hours of the last {RECENT_DAYS} days: the interval is as calibrated", self.pairs),
        }
    }

    /// [`Self::describe`] in Chinese, for the forecaster's page.
    pub fn describe_zh(&self) -> String {
        match self.coverage {
            Some(c) if self.adapted() => format!(
                "近{RECENT_DAYS}天预报的{}个已检验小时中，p10–p90 覆盖 {:.0} %；区间乘以 {:.2}",
                self.pairs,
                100.0 * c,
                self.factor
            ),
            _ => format!("近{RECENT_DAYS}天内已检验{}小时：区间维持校准结果", self.pairs),
        }
    }

    /// From past forecasts `(issue index, forecast)`, as the model issued them (not widened),
    /// and the observations of `h` up to and including index `i0`. Nothing after `i0` is read.
    pub fn measure<'a>(past: impl IntoIterator<Item = (usize, &'a Forecast)>, h: &Hourly, i0: usize) -> RecentSpread {
        // r ≤ 1 exactly when the observation is inside p10–p90; r's 80th percentile is the
        // factor that would have held 80 % of them.
        let mut r = Vec::new();
        for (j, f) in past {
            for l in &f.leads {
                let iv = j + l.lead;
                if iv > i0 || h.pm25[iv].is_nan() {
                    continue;
                }
                let o = h.pm25[iv];
                let side = if o < l.p50 { (l.p50 - o) / (l.p50 - l.p10) } else { (o - l.p50) / (l.p90 - l.p50) };
                r.push(if side.is_nan() { 0.0 } else { side });
            }
        }
        if r.is_empty() {
            return RecentSpread::CALIBRATED;
        }
        let coverage = Some(r.iter().filter(|x| **x <= 1.0).count() as f64 / r.len() as f64);
        if r.len() < MIN_PAIRS {
            return RecentSpread { factor: 1.0, pairs: r.len(), coverage };
        }
        r.sort_by(f64::total_cmp);
        let q80 = r[((r.len() - 1) as f64 * 0.8).round() as usize];
        RecentSpread { factor: q80.clamp(FACTOR_RANGE.0, FACTOR_RANGE.1), pairs: r.len(), coverage }
    }
}

impl PostStage for RecentSpread {
    const STAGE: Option<Stage> = Some(Stage::RecentSpread);
    type Target = Forecast;

    /// Each side of p10–p90 scaled by the factor around p50 (p10 stays at or above 0).
    fn apply(&self, f: &mut Forecast) {
        for l in &mut f.leads {
            l.p10 = (l.p50 - self.factor * (l.p50 - l.p10)).max(0.0);
            l.p90 = l.p50 + self.factor * (l.p90 - l.p50);
        }
        f.applied.push(Applied { stage: Stage::RecentSpread, value: self.factor });
    }
}

/// The issue indices whose forecasts verify one issued at `i0`: the same hour on each of the
/// `days` days before.
fn recent_issues(i0: usize, days: usize) -> impl Iterator<Item = usize> {
    (1..=days).filter_map(move |k| i0.checked_sub(24 * k))
}

/// What the recent forecasts said about a new one: its spread ([`RecentSpread`], last
/// [`RECENT_DAYS`] days), its level from D+2 on ([`RecentBias`], last [`BIAS_DAYS`] days) and
/// its first hour ([`RecentNowcast`], last [`NOWCAST_DAYS`] days).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecentVerification {
    pub spread: RecentSpread,
    pub bias: RecentBias,
    pub nowcast: RecentNowcast,
}

impl RecentVerification {
    /// Whether enough verified for the forecast to follow it.
    pub fn adapted(&self) -> bool {
        self.spread.adapted()
    }

    /// One line for a forecaster: the spread, the level, then the first hour.
    pub fn describe(&self) -> String {
        format!("{}; {}; {}", self.spread.describe(), self.bias.describe(), self.nowcast.describe())
    }

    /// [`Self::describe`] in Chinese.
    pub fn describe_zh(&self) -> String {
        format!("{}；{}；{}", self.spread.describe_zh(), self.bias.describe_zh(), self.nowcast.describe_zh())
    }
}

impl FittedModel {
    /// [`FittedModel::predict`], with the spread, the level from D+2 on and the first hour set by
    /// how the model's recent forecasts verified up to `i0` (see [`VerifiedIssuer`]: only
    /// forecasts out of the model's training period count).
    pub fn predict_verified(
        &self,
        d: &Derived,
        i0: usize,
        met: Option<&Derived>,
    ) -> Result<(Forecast, RecentVerification), ForecastError> {
        VerifiedIssuer::new(self, d, met).issue(i0)
    }
}

/// Issues forecasts with their recent verification, in time order.
///
/// Recent verification must read forecasts the model did not fit: a forecast re-created for a
/// day inside the training period verifies in-sample, so the interval narrows and the level
/// correction sees no drift exactly when it should. So the past forecasts are, by issue index,
/// the ones given as issued ([`VerifiedIssuer::with_issued`]: in operation, the store's runs as
/// the model issued them), then the ones this issuer issued itself, and otherwise only forecasts
/// re-created for issues after the model's training period ended (a backtest's earlier issues,
/// or days a saved model has not seen). Each past forecast is created once.
pub struct VerifiedIssuer<'m, 'd> {
    model: &'m FittedModel,
    d: &'d Derived<'d>,
    met: Option<&'d Derived<'d>>,
    raw: std::collections::BTreeMap<usize, Forecast>,
}

impl<'m, 'd> VerifiedIssuer<'m, 'd> {
    pub fn new(model: &'m FittedModel, d: &'d Derived<'d>, met: Option<&'d Derived<'d>>) -> Self {
        VerifiedIssuer { model, d, met, raw: Default::default() }
    }

    /// With forecasts issued before, by issue index into `d`'s table, as the model issued them
    /// (before the recent spread, level correction and nowcast were applied).
    pub fn with_issued(mut self, issued: impl IntoIterator<Item = (usize, Forecast)>) -> Self {
        self.raw.extend(issued);
        self
    }

    /// The forecast at `j` as the model issued it, before recent verification adjusted it: what
    /// a later issue's recent verification reads (and what the store keeps beside the issued one).
    pub fn model_forecast(&self, j: usize) -> Option<&Forecast> {
        self.raw.get(&j)
    }

    /// Whether a forecast issued at `j` may be created now: its issue lies after the training
    /// period, so neither it nor what verifies it was fitted.
    fn out_of_sample(&self, j: usize) -> bool {
        self.d.h.time(j) > self.model.train_end
    }

    /// The forecast at `i0`; issue indices must not decrease from one call to the next.
    pub fn issue(&mut self, i0: usize) -> Result<(Forecast, RecentVerification), ForecastError> {
        // Whole past forecasts verify the spread and, when it is on, the level; older ones only
        // their first hour, for the nowcast.
        let whole_days = if self.model.bias_power > 0.0 { RECENT_DAYS.max(BIAS_DAYS) } else { RECENT_DAYS };
        let days = whole_days.max(NOWCAST_DAYS);
        let past_issues: Vec<usize> =
            recent_issues(i0, days).filter(|j| !self.d.pm_now(*j).is_nan() && self.out_of_sample(*j)).collect();
        for j in past_issues.into_iter().chain([i0]) {
            let n_leads = if j + 24 * whole_days >= i0 { MAX_LEAD } else { 1 };
            if j == i0 || self.raw.get(&j).is_none_or(|f| f.leads.len() < n_leads) {
                self.raw.insert(j, self.model.predict_leads(self.d, j, self.met, n_leads)?);
            }
        }
        let past = |days| recent_issues(i0, days).filter_map(|j| self.raw.get(&j).map(|f| (j, f)));
        let stages = self.model.params.stages;
        let spread = if stages.has(Stage::RecentSpread) {
            RecentSpread::measure(past(RECENT_DAYS), self.d.h, i0)
        } else {
            RecentSpread::CALIBRATED
        };
        let bias = if self.model.bias_power > 0.0 {
            RecentBias::measure(past(BIAS_DAYS), self.d.h, self.d.h.time(i0).date(), self.model.bias_power)
        } else {
            RecentBias::NONE
        };
        let nowcast = if stages.has(Stage::Nowcast) {
            RecentNowcast::measure(past(NOWCAST_DAYS), self.d.h, i0)
        } else {
            RecentNowcast::FITTED
        };
        let mut f = self.raw[&i0].clone();
        run(stages, &spread, &mut f);
        run(stages, &bias, &mut f);
        run(stages, &nowcast, &mut f);
        // Older forecasts verify no later issue.
        self.raw.retain(|j, _| j + 24 * days >= i0);
        Ok((f, RecentVerification { spread, bias, nowcast }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// A forecast at issue index `j` with p10/p50/p90 = 80/100/120 at every lead.
    fn flat(j: usize) -> Forecast {
        let t = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        crate::tests::flat_forecast(t + chrono::Duration::hours(j as i64))
    }

    fn hourly(pm: Vec<f64>) -> Hourly {
        crate::tests::pm_only(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap(), pm)
    }

    #[test]
    fn the_spread_is_the_factor_that_held_80_percent_of_recent_hours() {
        // One past forecast at index 0, verified at i0 = 96 (all 96 leads). Observations sit at
        // 100 ± 20·r with r = 0.02, 0.04, …, 1.92 alternating sides: 50 of 96 inside (r ≤ 1),
        // and the 80th percentile of r is the 77th smallest (index round(95·0.8) = 76): 1.54.
        let mut pm = vec![f64::NAN; 200];
        for (k, x) in pm.iter_mut().enumerate().take(97).skip(1) {
            let r = 0.02 * k as f64;
            *x = if k % 2 == 0 { 100.0 + 20.0 * r } else { 100.0 - 20.0 * r };
        }
        let h = hourly(pm.clone());
        let f = flat(0);
        let s = RecentSpread::measure([(0, &f)], &h, 96);
        assert_eq!(s.pairs, 96);
        assert!((s.coverage.unwrap() - 50.0 / 96.0).abs() < 1e-12);
        assert!((s.factor - 1.54).abs() < 1e-9, "{s:?}");
        // Observations after the issue index are not read; before it, only verified leads count.
        pm[100..].iter_mut().for_each(|x| *x = 1e6);
        assert_eq!(RecentSpread::measure([(0, &f)], &hourly(pm), 96), s);
        let early = RecentSpread::measure([(0, &f)], &h, 48);
        assert_eq!((early.pairs, early.factor), (48, 1.0), "under 96 pairs: as calibrated");
        assert!(s.adapted() && !early.adapted());
        assert_eq!(
            s.describe(),
            "p10–p90 held 52 % of 96 verified hours of the last 14 days' forecasts; interval × 1.54"
        );
        // Widening scales each side around p50, and never below zero.
        let widened = |s: &RecentSpread| {
            let mut g = f.clone();
            s.apply(&mut g);
            g
        };
        let w = widened(&s).leads[0];
        assert!((w.p10 - (100.0 - 1.54 * 20.0)).abs() < 1e-9 && (w.p90 - (100.0 + 1.54 * 20.0)).abs() < 1e-9);
        assert_eq!(w.p50, 100.0);
        let wide = RecentSpread { factor: 6.0, ..s };
        assert_eq!(widened(&wide).leads[0].p10, 0.0);
        assert_eq!(widened(&s).applied(Stage::RecentSpread), Some(s.factor));
    }

    #[test]
    fn the_factor_stays_within_its_range() {
        // Every observation far outside: the factor stops at the top of its range.
        let mut pm = vec![f64::NAN; 200];
        pm[1..=96].iter_mut().for_each(|x| *x = 500.0);
        let s = RecentSpread::measure([(0, &flat(0))], &hourly(pm), 150);
        assert_eq!((s.factor, s.coverage), (FACTOR_RANGE.1, Some(0.0)));
        // Every observation on p50: the bottom of the range.
        let pm = vec![100.0; 200];
        assert_eq!(RecentSpread::measure([(0, &flat(0))], &hourly(pm), 150).factor, FACTOR_RANGE.0);
    }
}
