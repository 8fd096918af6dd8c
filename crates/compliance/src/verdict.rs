//! One line's verdict for one warning step, from up to three kinds of evidence.

use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Reading};
use crate::tolerance::Tolerances;

/// What the plan requires of a line at the level in force.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "percent")]
pub enum Treatment {
    Stop,
    /// Cut production by this many percent.
    Cut(u8),
    /// A-grade and 引领性: the enterprise reduces on its own; nothing to verify.
    SelfDirected,
    /// Exempt (保障类 heat-led, 白名单) or no measure at this level.
    None,
}

/// The measured hours of the step so far beside their baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub during: Vec<Reading>,
    pub baseline: Baseline,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineEvidence {
    pub line: String,
    pub treatment: Treatment,
    /// Hours of the step evaluated (readings are expected for each).
    pub hours: usize,
    /// Production equipment's power.
    pub production: Option<Series>,
    /// Abatement equipment's power (dust collector, desulphurisation, …).
    pub abatement: Option<Series>,
    /// Emission rate: concentration × flue-gas flow.
    pub emission: Option<Series>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum Verdict {
    Complied,
    /// With each piece of evidence and how sure: the share of the usable evidence that points
    /// this way, times the share of hours it covers.
    Suspected {
        evidence: Vec<String>,
        confidence: f64,
    },
    NotRequired,
    NoData {
        why: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineVerdict {
    pub line: String,
    pub treatment: Treatment,
    /// Measured over baseline, over the hours both have.
    pub production_ratio: Option<f64>,
    pub emission_ratio: Option<f64>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// (measured sum / baseline sum, hours with both) of a series.
fn ratio(s: &Series) -> (Option<f64>, usize) {
    let pairs: Vec<(f64, f64)> = s
        .during
        .iter()
        .filter_map(|r| Some((r.value, s.baseline.at(r.at)?)))
        .filter(|(v, b)| v.is_finite() && *b > 0.0)
        .collect();
    let base: f64 = pairs.iter().map(|p| p.1).sum();
    let ratio = (base > 0.0).then(|| pairs.iter().map(|p| p.0).sum::<f64>() / base);
    (ratio, pairs.len())
}

/// The share of its baseline a line may run at under `treatment`.
fn allowed(treatment: Treatment, t: &Tolerances) -> Option<f64> {
    match treatment {
        Treatment::Stop => Some(t.stop_max_ratio),
        Treatment::Cut(n) => Some((1.0 - f64::from(n.min(100)) / 100.0 + t.cut_slack).min(1.0)),
        Treatment::SelfDirected | Treatment::None => None,
    }
}

/// Hours production ran (above `running_ratio` of its baseline) with the abatement equipment
/// below `abatement_min_ratio` of its own: (such hours, running hours compared).
fn abatement_off(production: &Series, abatement: &Series, t: &Tolerances) -> (usize, usize) {
    let (mut off, mut running) = (0, 0);
    for p in &production.during {
        let Some(pb) = production.baseline.at(p.at).filter(|b| *b > 0.0) else { continue };
        if p.value / pb <= t.running_ratio {
            continue;
        }
        let Some(a) = abatement.during.iter().find(|a| a.at == p.at) else { continue };
        let Some(ab) = abatement.baseline.at(a.at).filter(|b| *b > 0.0) else { continue };
        running += 1;
        if a.value / ab < t.abatement_min_ratio {
            off += 1;
        }
    }
    (off, running)
}

pub fn evaluate(e: &LineEvidence, t: &Tolerances) -> LineVerdict {
    let (production_ratio, p_hours) = e.production.as_ref().map_or((None, 0), ratio);
    let (emission_ratio, e_hours) = e.emission.as_ref().map_or((None, 0), ratio);
    let verdict = match allowed(e.treatment, t) {
        None => Verdict::NotRequired,
        Some(max) => judge(e, t, max, [(production_ratio, p_hours), (emission_ratio, e_hours)]),
    };
    LineVerdict { line: e.line.clone(), treatment: e.treatment, production_ratio, emission_ratio, verdict }
}

/// The verdict from the evidence that covers enough hours.
fn judge(e: &LineEvidence, t: &Tolerances, max: f64, ratios: [(Option<f64>, usize); 2]) -> Verdict {
    let hours = e.hours.max(1) as f64;
    let covered = |n: usize| n as f64 / hours >= t.min_coverage;
    // (points to non-compliance, coverage, what it says)
    let mut usable: Vec<(bool, f64, String)> = Vec::new();
    for ((r, n), what) in ratios.into_iter().zip(["production power", "emission rate"]) {
        if let Some(r) = r.filter(|_| covered(n)) {
            let say = format!("{what} at {:.0} % of its baseline; {:.0} % allowed", r * 100.0, max * 100.0);
            usable.push((r > max, n as f64 / hours, say));
        }
    }
    if let (Some(p), Some(a)) = (&e.production, &e.abatement) {
        // Usable when abatement readings exist for enough of the hours production ran.
        let (off, compared) = abatement_off(p, a, t);
        let ran = p_running_hours(p, t);
        let share = if ran == 0 { 0.0 } else { compared as f64 / ran as f64 };
        if ran > 0 && share >= t.min_coverage {
            let say = format!(
                "abatement below {:.0} % of its baseline in {off} of {compared} hours production ran",
                t.abatement_min_ratio * 100.0
            );
            usable.push((off > 0, share, say));
        }
    }
    if usable.is_empty() {
        return Verdict::NoData {
            why: format!("no evidence covers {:.0} % of the {} hours", t.min_coverage * 100.0, e.hours),
        };
    }
    let against: Vec<&(bool, f64, String)> = usable.iter().filter(|u| u.0).collect();
    if against.is_empty() {
        return Verdict::Complied;
    }
    let coverage = against.iter().map(|u| u.1.min(1.0)).sum::<f64>() / against.len() as f64;
    let confidence = against.len() as f64 / usable.len() as f64 * coverage;
    Verdict::Suspected { evidence: against.iter().map(|u| u.2.clone()).collect(), confidence }
}

/// Hours production ran, for the abatement evidence's coverage.
fn p_running_hours(p: &Series, t: &Tolerances) -> usize {
    p.during.iter().filter(|r| p.baseline.at(r.at).is_some_and(|b| b > 0.0 && r.value / b > t.running_ratio)).count()
}
