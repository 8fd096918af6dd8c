//! Conformal quantiles: p10/p90 around the learner's p50 from the normalised residuals of
//! held-out issues, per lead bucket and, with the `regimes` stage, per climatological tercile
//! (Mondrian: a polluted season's errors are wider than a clean one's at the same level).

use serde::{Deserialize, Serialize};

use crate::data::Climatology;
use crate::forecast::Forecast;
use crate::pipeline::PostStage;

pub(crate) use crate::tuning::{BUCKETS, REGIMES};
use crate::tuning::{MIN_CELL, SCALE};

pub(crate) fn bucket(lead: usize) -> usize {
    BUCKETS.iter().position(|(a, b)| (*a..=*b).contains(&lead)).unwrap_or(BUCKETS.len() - 1)
}

/// The scale that normalises residuals: errors grow with the level of pollution.
pub(crate) fn scale(pred: f64) -> f64 {
    SCALE.0 + SCALE.1 * pred.max(0.0)
}

/// (p10, p90) around a central estimate from normalised residual quantiles (q10, q90).
pub(crate) fn interval(central: f64, (q10, q90): (f64, f64)) -> (f64, f64) {
    let s = scale(central);
    ((central + q10 * s).clamp(0.0, central), (central + q90 * s).max(central))
}

/// Terciles of the month × hour climatology; a valid hour's regime is where its climatology falls.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Regimes {
    cuts: [f64; REGIMES - 1],
}

impl Regimes {
    /// One regime for the whole year (the stage turned off). The cuts are finite so that a saved
    /// model's JSON holds them (JSON has no infinity).
    pub(crate) const ONE: Regimes = Regimes { cuts: [f64::MAX; REGIMES - 1] };

    pub(crate) fn of(clim: &Climatology) -> Regimes {
        let mut v: Vec<f64> = clim.mean.iter().flatten().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let at = |q: usize| v.get(v.len() * q / REGIMES).copied().unwrap_or(f64::INFINITY);
        Regimes { cuts: [at(1), at(2)] }
    }

    pub(crate) fn of_clim(&self, clim: f64) -> usize {
        self.cuts.iter().filter(|c| clim >= **c).count()
    }
}

/// The fitted quantiles. Saved flattened into the model (its fields keep their names there).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conformal {
    /// Normalised residual quantiles (q10, q90) per lead bucket and regime (bucket-major).
    pub quantiles: Vec<(f64, f64)>,
    pub regimes: Regimes,
}

impl Conformal {
    /// The quantile cell of a lead whose valid hour has climatology `clim`.
    pub(crate) fn cell(&self, lead: usize, clim: f64) -> usize {
        bucket(lead) * REGIMES + self.regimes.of_clim(clim)
    }

    /// From the held-out residuals of each cell, normalised by [`scale`].
    pub(crate) fn fit(resid: Vec<Vec<f64>>, regimes: Regimes) -> Conformal {
        let quantiles = resid
            .into_iter()
            .map(|mut r| {
                if r.len() < MIN_CELL {
                    return (-1.0, 1.0);
                }
                r.sort_by(f64::total_cmp);
                let q = |p: f64| r[((r.len() - 1) as f64 * p).round() as usize];
                (q(0.1), q(0.9))
            })
            .collect();
        Conformal { quantiles, regimes }
    }

    /// (p10, p90) of a held-out hour in `cell` whose central estimate is `pred`.
    pub(crate) fn bounds(&self, cell: usize, pred: f64) -> (f64, f64) {
        interval(pred, self.quantiles[cell])
    }
}

impl PostStage for Conformal {
    const STAGE: Option<crate::Stage> = None;
    type Target = Forecast;

    /// p10/p90 of every lead around its p50.
    fn apply(&self, f: &mut Forecast) {
        for l in &mut f.leads {
            (l.p10, l.p90) = self.bounds(self.cell(l.lead, l.climatology), l.p50);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regimes_are_the_terciles_of_the_climatology() {
        // Months 1..12 at levels 10..120 (flat over the day): cuts at the 5th and 9th months' level.
        let clim = Climatology {
            mean: (1..=12).map(|m| [10.0 * m as f64; 24]).collect(),
            daily_quantiles: vec![(0.0, 0.0, 0.0); 12],
        };
        let r = Regimes::of(&clim);
        assert_eq!(r.cuts, [50.0, 90.0]);
        assert_eq!(
            [r.of_clim(10.0), r.of_clim(49.9), r.of_clim(50.0), r.of_clim(89.0), r.of_clim(120.0)],
            [0, 0, 1, 1, 2]
        );
    }

    #[test]
    fn the_quantiles_are_the_tenth_and_ninetieth_percentile_of_each_cell() {
        // Cell 0: residuals −1.0, −0.9, …, 1.0 (21 values): q10 is the 3rd (index round(20·0.1) =
        // 2) = −0.8, q90 index 18 = 0.8. Cell 1 has too few and keeps (−1, 1).
        let r0: Vec<f64> = (0..=20).rev().map(|k| 1.0 - 0.1 * k as f64).collect();
        let c = Conformal::fit(vec![r0, vec![0.5; 5]], Regimes::ONE);
        assert!((c.quantiles[0].0 + 0.8).abs() < 1e-12 && (c.quantiles[0].1 - 0.8).abs() < 1e-12);
        assert_eq!(c.quantiles[1], (-1.0, 1.0));
        // At p50 = 100 the scale is 15 + 50 = 65: p10 = 100 − 0.8·65 = 48, p90 = 152.
        let (lo, hi) = c.bounds(0, 100.0);
        assert!((lo - 48.0).abs() < 1e-9 && (hi - 152.0).abs() < 1e-9);
    }
}
