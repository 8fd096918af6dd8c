//! Recent bias: how far the last [`BIAS_DAYS`] days' daily forecasts sat from what was observed,
//! and the level correction of D+2 onwards that follows from it.
//!
//! The climatology and the learners know the training years; a test year can be cleaner or
//! dirtier, and a season can sit away from its usual level. The ratio of observed to forecast
//! PM2.5 on the days the last month's forecasts covered, raised to a power chosen on held-out
//! issues at fit time ([`choose_bias_power`]), scales p10/p50/p90 from D+2 on, and the
//! climatological trend past 96 h with them. D+1 is left alone: there the state at issue time
//! dominates, and the ratio lags episodes. What the stage is worth:
//! `hazewarn evaluate --stages=-level-correction` against `--stages all`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::daily::{HeldOutHour, SKILFUL_DAYS};
use crate::data::Hourly;
use crate::forecast::Forecast;
use crate::pipeline::{Applied, PostStage};
use crate::stages::Stage;
use crate::verify::first_least;

use crate::tuning::MIN_VERIFIED_DAYS;
pub use crate::tuning::{BIAS_DAYS, FIRST_CORRECTED_DAY};
pub(crate) use crate::tuning::{POWERS, RATIO_RANGE};

/// Whether an hour of a past forecast verifies a new issue on `issue_day`: it lies in the past
/// forecast's D+1..D+3 and on a day that ended before `issue_day`.
fn verifies(day: NaiveDate, lead_day: i64, issue_day: NaiveDate) -> bool {
    day < issue_day && (1..=SKILFUL_DAYS as i64).contains(&lead_day)
}

/// How the recent daily forecasts verified, and the factor applied from D+2 on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecentBias {
    /// Multiplies p10/p50/p90 from D+2 on (1 = unchanged).
    pub factor: f64,
    /// Observed over forecast PM2.5 on the verified days, when there were enough of them.
    pub ratio: Option<f64>,
    /// Verified (past forecast, day) pairs behind the ratio.
    pub days: usize,
}

impl RecentBias {
    /// Nothing verified, or a model that does not correct: the forecast as fitted.
    pub const NONE: RecentBias = RecentBias { factor: 1.0, ratio: None, days: 0 };

    /// One line for a forecaster.
    pub fn describe(&self) -> String {
        match self.ratio {
            Some(r) => format!(
                "observed/forecast PM2.5 {r:.2} over {} verified days of the last {BIAS_DAYS} days' forecasts; D+{FIRST_CORRECTED_DAY} on × {:.2}",
                self.days, self.factor
            ),
            None => format!("{} verified days of the last {BIAS_DAYS} days: the level is as fitted", self.days),
        }
    }

    /// [`Self::describe`] in Chinese, for the forecaster's page.
    pub fn describe_zh(&self) -> String {
        match self.ratio {
            Some(r) => format!(
                "近{BIAS_DAYS}天内{}个已检验日的实况/预报PM2.5为 {r:.2}；D+{FIRST_CORRECTED_DAY} 起乘以 {:.2}",
                self.days, self.factor
            ),
            None => format!("近{BIAS_DAYS}天内已检验{}天：量级维持拟合结果", self.days),
        }
    }

    /// From past forecasts `(issue index, forecast)` as the model issued them and the
    /// observations of `h`: only their D+1..D+3 days that ended before `issue_day` count, so
    /// nothing observed on or after the new issue's day is read.
    pub fn measure<'a>(
        past: impl IntoIterator<Item = (usize, &'a Forecast)>,
        h: &Hourly,
        issue_day: NaiveDate,
        power: f64,
    ) -> RecentBias {
        let mut sums = Sums::default();
        for (j, f) in past {
            for l in &f.leads {
                let day = l.valid.date();
                if let Some(&o) = h.pm25.get(j + l.lead)
                    && verifies(day, (day - f.issue.date()).num_days(), issue_day)
                    && !o.is_nan()
                {
                    sums.add((j, day), o, l.p50);
                }
            }
        }
        sums.bias(power)
    }
}

/// Observed and forecast sums over verified hours, and the (forecast, day) pairs they cover.
#[derive(Default)]
struct Sums {
    obs: f64,
    pred: f64,
    hours: usize,
    days: BTreeSet<(usize, NaiveDate)>,
}

impl Sums {
    fn add(&mut self, day: (usize, NaiveDate), obs: f64, pred: f64) {
        self.obs += obs;
        self.pred += pred;
        self.hours += 1;
        self.days.insert(day);
    }

    /// The clamped ratio (1 µg/m³ per hour added to both sides keeps a clean spell finite).
    fn ratio(&self) -> Option<f64> {
        (self.days.len() >= MIN_VERIFIED_DAYS).then(|| {
            let n = self.hours as f64;
            ((self.obs + n) / (self.pred + n)).clamp(RATIO_RANGE.0, RATIO_RANGE.1)
        })
    }

    fn bias(&self, power: f64) -> RecentBias {
        let ratio = self.ratio();
        RecentBias { factor: ratio.map_or(1.0, |r| r.powf(power)), ratio, days: self.days.len() }
    }
}

impl PostStage for RecentBias {
    const STAGE: Option<Stage> = Some(Stage::LevelCorrection);
    type Target = Forecast;

    /// p10/p50/p90 from D+[`FIRST_CORRECTED_DAY`] on scaled by the factor; the trend past the
    /// last lead follows it ([`Forecast::level_factor`]).
    fn apply(&self, f: &mut Forecast) {
        let issue_day = f.issue.date();
        for l in &mut f.leads {
            if (l.valid.date() - issue_day).num_days() >= FIRST_CORRECTED_DAY {
                (l.p10, l.p50, l.p90) = (l.p10 * self.factor, l.p50 * self.factor, l.p90 * self.factor);
            }
        }
        f.applied.push(Applied { stage: Stage::LevelCorrection, value: self.factor });
    }
}

/// The power (from [`POWERS`]) whose correction gave the smallest squared error of D+2 and D+3
/// daily means on held-out issues, each corrected by the verification of the held-out issues of
/// the same hour in the [`BIAS_DAYS`] days before it. Ties keep the smaller power, so a city
/// whose held-out years show no drift gets no correction.
pub(crate) fn choose_bias_power(rows: &[HeldOutHour]) -> f64 {
    let mut by_issue: BTreeMap<usize, Vec<&HeldOutHour>> = BTreeMap::new();
    for r in rows {
        by_issue.entry(r.day.0).or_default().push(r);
    }
    let mut loss = [0.0; POWERS.len()];
    for (&i0, hours) in &by_issue {
        let today = hours[0].day.1 - Duration::days(hours[0].lead_day as i64);
        let mut sums = Sums::default();
        for j in (1..=BIAS_DAYS).filter_map(|k| i0.checked_sub(24 * k)) {
            for r in by_issue.get(&j).into_iter().flatten() {
                if verifies(r.day.1, r.lead_day as i64, today) {
                    sums.add(r.day, r.obs, r.pred);
                }
            }
        }
        let Some(ratio) = sums.ratio() else { continue };
        let mut days: BTreeMap<NaiveDate, (f64, f64, f64)> = BTreeMap::new();
        for &&HeldOutHour { day: (_, day), lead_day, obs: o, pred: p, .. } in hours {
            if (FIRST_CORRECTED_DAY..=SKILFUL_DAYS as i64).contains(&(lead_day as i64)) {
                let e = days.entry(day).or_default();
                *e = (e.0 + o, e.1 + p, e.2 + 1.0);
            }
        }
        for (o, p, n) in days.into_values() {
            for (k, a) in POWERS.iter().enumerate() {
                loss[k] += (o / n - ratio.powf(*a) * p / n).powi(2);
            }
        }
    }
    POWERS[first_least(&loss)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn t0() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap()
    }

    fn held_out(i0: usize, lead: usize, obs: f64, pred: f64) -> HeldOutHour {
        let day = (t0() + Duration::hours((i0 + lead) as i64)).date();
        let lead_day = (day - issue_day(i0)).num_days() as usize;
        HeldOutHour { day: (i0, day), lead_day, obs, pred, cell: 0 }
    }

    fn issue_day(i0: usize) -> NaiveDate {
        (t0() + Duration::hours(i0 as i64)).date()
    }

    /// A flat forecast issued `k` days after `t0`, with p50 = 1000 on its D+0 and D+4 hours
    /// (which must not count) and 100 on D+1..D+3.
    fn past(k: usize) -> (usize, Forecast) {
        let mut f = crate::tests::flat_forecast(t0() + Duration::hours(24 * k as i64));
        for l in &mut f.leads {
            if !(1..=3).contains(&(l.valid.date() - f.issue.date()).num_days()) {
                l.p50 = 1000.0;
            }
        }
        (24 * k, f)
    }

    #[test]
    fn the_ratio_counts_only_d1_to_d3_days_that_ended_before_the_issue_day() {
        // Ten past forecasts issued at 16:00 on days 0..9; the new issue is on day 10. Observed
        // PM2.5 is 80 until day 10 and 1000 from then on (not yet complete or not yet observed).
        let mut pm = vec![80.0; 24 * 20];
        pm[24 * 10 - 16..].iter_mut().for_each(|x| *x = 1000.0);
        let h = hourly_from(pm);
        let past: Vec<(usize, Forecast)> = (0..10).map(past).collect();
        let today = issue_day(24 * 10);
        assert_eq!(h.time(24 * 10 - 16).date(), today, "index 0 is 16:00 on day 0");
        let b = RecentBias::measure(past.iter().map(|(j, f)| (*j, f)), &h, today, 0.5);
        // Forecast k covers D+1..D+3 = days k+1..k+3, of which those before day 10 count:
        // 3 each for k ≤ 6, then 2, 1 and 0 for k = 7, 8, 9.
        assert_eq!(b.days, 7 * 3 + 2 + 1);
        // Every counted hour has obs 80 and p50 100: (80n + n)/(100n + n).
        let r = 81.0 / 101.0;
        assert!((b.ratio.unwrap() - r).abs() < 1e-12, "{b:?}");
        assert!((b.factor - r.sqrt()).abs() < 1e-12);
        assert_eq!(RecentBias::measure(past.iter().map(|(j, f)| (*j, f)), &h, today, 0.0).factor, 1.0);
        assert_eq!(
            b.describe(),
            "observed/forecast PM2.5 0.80 over 24 verified days of the last 30 days' forecasts; D+2 on × 0.90"
        );
        // Under seven verified days, nothing is corrected.
        let few = RecentBias::measure(past[7..].iter().map(|(j, f)| (*j, f)), &h, today, 1.0);
        assert_eq!((few.factor, few.ratio, few.days), (1.0, None, 3));
        assert_eq!(few.describe(), "3 verified days of the last 30 days: the level is as fitted");
    }

    #[test]
    fn the_ratio_is_held_within_its_range() {
        // Observed 1000 against 100: the ratio stops at the top of its range.
        let h = hourly_from(vec![1000.0; 24 * 12]);
        let many: Vec<(usize, Forecast)> = (0..5).map(past).collect();
        let b = RecentBias::measure(many.iter().map(|(j, f)| (*j, f)), &h, issue_day(24 * 9), 1.0);
        assert_eq!((b.ratio, b.factor), (Some(RATIO_RANGE.1), RATIO_RANGE.1));
    }

    #[test]
    fn rescaling_starts_at_d2() {
        let f = crate::tests::flat_forecast(t0());
        let b = RecentBias { factor: 0.5, ratio: Some(0.25), days: 9 };
        let mut g = f.clone();
        b.apply(&mut g);
        for (a, c) in f.leads.iter().zip(&g.leads) {
            // From 16:00, leads 1–7 are D+0 and 8–31 D+1; D+2 begins at lead 32.
            let k = if a.lead >= 32 { 0.5 } else { 1.0 };
            assert_eq!((c.p10, c.p50, c.p90), (a.p10 * k, a.p50 * k, a.p90 * k), "lead {}", a.lead);
            assert_eq!((c.persistence, c.climatology, c.damped), (a.persistence, a.climatology, a.damped));
        }
        // The trend past 96 h is told the factor (crate::daily scales it).
        assert_eq!((f.level_factor(), g.level_factor()), (1.0, 0.5));
    }

    #[test]
    fn held_out_issues_choose_the_power_that_removes_a_steady_drift() {
        // Forty held-out issues a day apart, every hour of leads 1–80 forecast at 100.
        let rows = |obs: &dyn Fn(usize) -> f64| -> Vec<HeldOutHour> {
            (0..40)
                .flat_map(|k| (1..=80).map(move |lead| (24 * k, lead)))
                .map(|(i0, lead)| held_out(i0, lead, obs(i0 + lead), 100.0))
                .collect()
        };
        // Observed at 64 throughout: the ratio is (64n + n)/(100n + n) and the full power fits best.
        assert_eq!(choose_bias_power(&rows(&|_| 64.0)), 1.0);
        // No drift: every power ties at zero error and the smallest is kept.
        assert_eq!(choose_bias_power(&rows(&|_| 100.0)), 0.0);
        // Observed 64 on D+1 but 80 on D+2..D+3 (24 verified hours each): the ratio is
        // (64·24 + 80·48 + 72)/(100·72 + 72) = 0.7492, and 0.7492^0.75 = 0.805 is nearest the
        // 0.8 that D+2..D+3 need (0.7492^0.5 = 0.866, 0.7492^1 = 0.749).
        let by_lead = |lead: usize| if (8..32).contains(&lead) { 64.0 } else { 80.0 };
        let rows: Vec<HeldOutHour> = (0..40)
            .flat_map(|k| (1..=80).map(move |lead| (24 * k, lead)))
            .map(|(i0, lead)| held_out(i0, lead, by_lead(lead), 100.0))
            .collect();
        assert_eq!(choose_bias_power(&rows), 0.75);
    }

    fn hourly_from(pm: Vec<f64>) -> Hourly {
        crate::tests::pm_only(t0(), pm)
    }
}
