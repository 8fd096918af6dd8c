//! Recent nowcast: how much of persistence the first hour should lean on, from how the last
//! [`NOWCAST_DAYS`] days' 1-h forecasts verified against persistence's.
//!
//! At 1 h persistence is hard to beat, and the fitted decay of the anomaly that the model starts
//! from changes from year to year. So the 1-h p50 moves towards persistence by the share (from
//! [`SHARES`]) that would have scored best over the recent forecasts, and p10/p90 move with it.
//! Only the first hour moves: blending 2-h or 3-h leads as well helped some dev stations and hurt
//! others. What the stage is worth: `hazewarn evaluate --stages=-nowcast` against `--stages all`.

use serde::{Deserialize, Serialize};

use crate::data::Hourly;
use crate::forecast::Forecast;
use crate::pipeline::{Applied, PostStage};
use crate::stages::Stage;
use crate::verify::first_least;

pub use crate::tuning::NOWCAST_DAYS;
use crate::tuning::{NOWCAST_MIN_VERIFIED as MIN_VERIFIED, NOWCAST_SHARES as SHARES};

/// The share of persistence in the 1-h forecast, and the verified hours behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecentNowcast {
    /// Weight of persistence in the 1-h p50 (0 = the model as fitted).
    pub persistence_share: f64,
    /// Verified 1-h forecasts behind it.
    pub hours: usize,
}

impl RecentNowcast {
    /// Nothing verified: the model as fitted.
    pub const FITTED: RecentNowcast = RecentNowcast { persistence_share: 0.0, hours: 0 };

    /// One line for a forecaster.
    pub fn describe(&self) -> String {
        if self.hours < MIN_VERIFIED {
            return format!(
                "{} verified 1-h forecasts of the last {NOWCAST_DAYS} days: the first hour is as fitted",
                self.hours
            );
        }
        format!(
            "1 h leans {:.0} % on persistence (best over {} verified 1-h forecasts of the last {NOWCAST_DAYS} days)",
            100.0 * self.persistence_share,
            self.hours
        )
    }

    /// [`Self::describe`] in Chinese, for the forecaster's page.
    pub fn describe_zh(&self) -> String {
        if self.hours < MIN_VERIFIED {
            return format!("近{NOWCAST_DAYS}天内已检验{}个1小时预报：首小时维持拟合结果", self.hours);
        }
        format!(
            "首小时有 {:.0} % 取持续性预报（按近{NOWCAST_DAYS}天内{}个已检验的1小时预报择优）",
            100.0 * self.persistence_share,
            self.hours
        )
    }

    /// From past forecasts `(issue index, forecast)` as the model issued them and the
    /// observations of `h` up to and including index `i0`. Nothing after `i0` is read.
    pub fn measure<'a>(past: impl IntoIterator<Item = (usize, &'a Forecast)>, h: &Hourly, i0: usize) -> RecentNowcast {
        let mut sse = [0.0; SHARES.len()];
        let mut hours = 0;
        for (j, f) in past {
            let Some(l) = f.leads.first() else { continue };
            let iv = j + l.lead;
            if iv > i0 || h.pm25[iv].is_nan() || l.persistence.is_nan() {
                continue;
            }
            for (e, s) in sse.iter_mut().zip(SHARES) {
                *e += (blend(l.p50, l.persistence, s) - h.pm25[iv]).powi(2);
            }
            hours += 1;
        }
        if hours < MIN_VERIFIED {
            return RecentNowcast { hours, ..RecentNowcast::FITTED };
        }
        RecentNowcast { persistence_share: SHARES[first_least(&sse)], hours }
    }
}

fn blend(p50: f64, persistence: f64, share: f64) -> f64 {
    p50 + share * (persistence - p50)
}

impl PostStage for RecentNowcast {
    const STAGE: Option<Stage> = Some(Stage::Nowcast);
    type Target = Forecast;

    /// The 1-h p10/p50/p90 moved by the share of the way from p50 to persistence (the interval
    /// keeps its width; p10 stays at or above 0).
    fn apply(&self, f: &mut Forecast) {
        if let Some(l) = f.leads.first_mut().filter(|l| !l.persistence.is_nan()) {
            let shift = blend(l.p50, l.persistence, self.persistence_share) - l.p50;
            (l.p10, l.p50, l.p90) = ((l.p10 + shift).max(0.0), l.p50 + shift, l.p90 + shift);
        }
        f.applied.push(Applied { stage: Stage::Nowcast, value: self.persistence_share });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// Past forecasts a day apart, each 1-h p50 at 100 with persistence at 60.
    fn past(n: usize) -> Vec<(usize, Forecast)> {
        let t = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap();
        (0..n)
            .map(|k| {
                let mut f = crate::tests::flat_forecast(t + chrono::Duration::days(k as i64));
                f.leads[0].persistence = 60.0;
                (24 * k, f)
            })
            .collect()
    }

    fn observed(pm: impl Fn(usize) -> f64, hours: usize) -> Hourly {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap();
        crate::tests::pm_only(start, (0..hours).map(pm).collect())
    }

    #[test]
    fn the_share_that_scored_best_moves_the_first_hour() {
        let past = past(20);
        let i0 = 24 * 20;
        let refs = || past.iter().map(|(j, f)| (*j, f));
        // Observed 70 one hour after each issue: 75 % of the way from 100 to 60 is 70.
        let h = observed(|i| if i % 24 == 1 { 70.0 } else { 100.0 }, i0 + 1);
        let n = RecentNowcast::measure(refs(), &h, i0);
        assert_eq!(n, RecentNowcast { persistence_share: 0.75, hours: 20 });
        // p10/p50/p90 of 80/100/120 move by −30 at lead 1 and nowhere else.
        let mut g = past[0].1.clone();
        n.apply(&mut g);
        assert_eq!((g.leads[0].p10, g.leads[0].p50, g.leads[0].p90), (50.0, 70.0, 90.0));
        assert_eq!(&g.leads[1..], &past[0].1.leads[1..]);
        assert_eq!(g.applied(Stage::Nowcast), Some(0.75));
        // Observed 100: the model as fitted; 40: persistence fully, and p10 stops at 0.
        let at = |v: f64| RecentNowcast::measure(refs(), &observed(|_| v, i0 + 1), i0).persistence_share;
        assert_eq!((at(100.0), at(40.0)), (0.0, 1.0));
        let full = RecentNowcast { persistence_share: 1.0, hours: 20 };
        let mut low = past[0].1.clone();
        low.leads[0].persistence = 10.0;
        full.apply(&mut low);
        assert_eq!(low.leads[0].p10, 0.0);
    }

    #[test]
    fn nothing_observed_after_the_issue_and_too_few_hours_leave_the_fitted_forecast() {
        let past = past(20);
        let refs = || past.iter().map(|(j, f)| (*j, f));
        // Issued at index 24·13: only the 13 forecasts before it have verified their first hour
        // (their later hours, at 40, must not count), under the 14 needed.
        let h = observed(|i| if i <= 24 * 13 { 100.0 } else { 40.0 }, 24 * 20 + 1);
        assert_eq!(RecentNowcast::measure(refs(), &h, 24 * 13), RecentNowcast { persistence_share: 0.0, hours: 13 });
        // A missing observation is not a verified hour, nor is a forecast issued without one.
        let gaps = observed(|i| if i % 48 == 1 { f64::NAN } else { 40.0 }, 24 * 20 + 1);
        assert_eq!(RecentNowcast::measure(refs(), &gaps, 24 * 20).hours, 10);
        let mut blind = past.clone();
        blind[3].1.leads[0].persistence = f64::NAN;
        let n = RecentNowcast::measure(blind.iter().map(|(j, f)| (*j, f)), &observed(|_| 40.0, 24 * 20 + 1), 24 * 20);
        assert_eq!(n, RecentNowcast { persistence_share: 1.0, hours: 19 });
    }
}
