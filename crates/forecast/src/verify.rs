//! Verification scores: errors by lead and event contingency tables.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ErrorStats {
    pub n: usize,
    pub rmse: Option<f64>,
    pub mae: Option<f64>,
    /// Mean of forecast − observed.
    pub bias: Option<f64>,
}

/// The index of the smallest loss, the first of equal ones: candidates listed from the least
/// correction up keep the least when nothing tells them apart.
pub(crate) fn first_least(losses: &[f64]) -> usize {
    (0..losses.len()).fold(0, |best, k| if losses[k] < losses[best] { k } else { best })
}

/// Errors of (forecast, observed) pairs; pairs with a missing side are skipped.
pub fn error_stats(pairs: impl IntoIterator<Item = (f64, f64)>) -> ErrorStats {
    let (mut n, mut se, mut ae, mut e) = (0usize, 0.0, 0.0, 0.0);
    for (f, o) in pairs {
        if f.is_nan() || o.is_nan() {
            continue;
        }
        n += 1;
        se += (f - o).powi(2);
        ae += (f - o).abs();
        e += f - o;
    }
    let k = n as f64;
    let some = |x: f64| (n > 0).then_some(x);
    ErrorStats { n, rmse: some((se / k).sqrt()), mae: some(ae / k), bias: some(e / k) }
}

/// Hits, false alarms and misses of a yes/no event, with POD, FAR and CSI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Contingency {
    pub hits: usize,
    pub false_alarms: usize,
    pub misses: usize,
    pub pod: Option<f64>,
    pub far: Option<f64>,
    pub csi: Option<f64>,
}

pub fn contingency(pairs: impl IntoIterator<Item = (bool, bool)>) -> Contingency {
    let (mut a, mut b, mut c) = (0, 0, 0);
    for (f, o) in pairs {
        match (f, o) {
            (true, true) => a += 1,
            (true, false) => b += 1,
            (false, true) => c += 1,
            _ => {}
        }
    }
    let ratio = |x: usize, y: usize| (y > 0).then(|| x as f64 / y as f64);
    Contingency {
        hits: a,
        false_alarms: b,
        misses: c,
        pod: ratio(a, a + c),
        far: ratio(b, a + b),
        csi: ratio(a, a + b + c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_computation() {
        let s = error_stats([(10.0, 7.0), (5.0, 9.0), (f64::NAN, 1.0)]);
        assert_eq!((s.n, s.mae, s.bias), (2, Some(3.5), Some(-0.5)));
        assert!((s.rmse.unwrap() - 12.5f64.sqrt()).abs() < 1e-12);
        let c = contingency([(true, true), (true, false), (false, true), (false, true), (false, false)]);
        assert_eq!((c.pod, c.far, c.csi), (Some(1.0 / 3.0), Some(0.5), Some(0.25)));
        assert_eq!(error_stats([]).rmse, None);
    }
}
