//! Planned against achieved. Where a line's production was measured during a warning step, its
//! achieved cut (1 − measured over baseline, within 0..1) replaces the planned one in the
//! plan's totals; a line not measured keeps its plan, and a line the plan does not cut (nothing
//! to scale its reduction by) keeps its plan too.

use std::collections::HashMap;

use serde::Serialize;

use crate::list::Emissions;
use crate::plan::{CurtailmentPlan, PollutantTotal};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Achievement {
    /// Lines whose measured cut replaced the planned one.
    pub measured_lines: usize,
    /// Per pollutant, as the plan's totals: the achieved reduction against the same target.
    pub totals: Vec<PollutantTotal>,
}

impl CurtailmentPlan {
    /// The totals with each measured line's achieved cut: `measured` maps (credit code, line)
    /// to the share of its baseline production it removed.
    pub fn achieved(&self, measured: &HashMap<(String, String), f64>) -> Achievement {
        let mut reduction = Emissions::default();
        let mut measured_lines = 0;
        for e in &self.enterprises {
            let mut own = e.reduction_kg_d;
            for l in &e.lines {
                let Some(cut) = measured.get(&(e.credit_code.clone(), l.line.clone())) else { continue };
                if l.production_cut <= 0.0 {
                    continue;
                }
                let k = cut.clamp(0.0, 1.0) / l.production_cut;
                own.add(&l.reduction_kg_d.scaled(-1.0));
                own.add(&l.reduction_kg_d.scaled(k));
                measured_lines += 1;
            }
            reduction.add(&own);
        }
        let totals = self
            .totals
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let r = reduction.get(i);
                let ratio = if t.total_kg_d > 0.0 { r / t.total_kg_d } else { 0.0 };
                PollutantTotal {
                    pollutant: t.pollutant.clone(),
                    reduction_kg_d: r,
                    total_kg_d: t.total_kg_d,
                    ratio,
                    target: t.target,
                    met: ratio >= t.target - 1e-12,
                }
            })
            .collect();
        Achievement { measured_lines, totals }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use crate::WarningLevel;
    use crate::list::{Emissions, Grade};
    use crate::plan::{CurtailmentPlan, EnterprisePlan, LinePlan, PollutantTotal, Treatment};

    fn line(name: &str, cut: f64, pm: f64) -> LinePlan {
        LinePlan {
            line: name.into(),
            measure: String::new(),
            measure_zh: String::new(),
            measure_en: String::new(),
            source: "list".into(),
            verified: true,
            production_cut: cut,
            baseline_capacity: 1.0,
            reduction_kg_d: Emissions { pm, ..Default::default() },
        }
    }

    /// One enterprise: line A planned to stop (100 kg/d of PM), B to cut 30 % (30 kg/d); the
    /// city emits 1,000 kg/d of PM; the target is 20 %.
    fn plan() -> CurtailmentPlan {
        let total = |pollutant: &str, r: f64, t: f64| PollutantTotal {
            pollutant: pollutant.into(),
            reduction_kg_d: r,
            total_kg_d: t,
            ratio: if t > 0.0 { r / t } else { 0.0 },
            target: 0.2,
            met: false,
        };
        CurtailmentPlan {
            level: WarningLevel::Orange,
            enterprises: vec![EnterprisePlan {
                credit_code: "X".into(),
                name: "甲".into(),
                county: String::new(),
                industry: String::new(),
                grade: Grade::D,
                treatment: Treatment::Measures,
                contact: String::new(),
                endpoint: String::new(),
                lines: vec![line("A", 1.0, 100.0), line("B", 0.3, 30.0)],
                reduction_kg_d: Emissions { pm: 130.0, ..Default::default() },
            }],
            totals: vec![
                total("SO2", 0.0, 0.0),
                total("NOx", 0.0, 0.0),
                total("PM", 130.0, 1000.0),
                total("VOCs", 0.0, 0.0),
            ],
            by_industry: BTreeMap::new(),
            by_county: BTreeMap::new(),
            suggestions: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    #[test]
    fn a_measured_line_replaces_its_plan_and_the_others_keep_theirs() {
        let p = plan();
        // A removed only half its production: 50 kg/d instead of 100; B is not measured.
        let measured = HashMap::from([(("X".to_owned(), "A".to_owned()), 0.5)]);
        let a = p.achieved(&measured);
        assert_eq!(a.measured_lines, 1);
        let pm = &a.totals[2];
        assert_eq!((pm.reduction_kg_d, pm.ratio, pm.met), (80.0, 0.08, false));
        // B cut 60 % instead of 30 %: twice its planned 30 kg/d; with A as planned, 160 kg/d.
        let measured = HashMap::from([(("X".to_owned(), "B".to_owned()), 0.6)]);
        assert_eq!(p.achieved(&measured).totals[2].reduction_kg_d, 160.0);
        // A measured cut beyond the whole line is the whole line; below nothing is nothing.
        let measured =
            HashMap::from([(("X".to_owned(), "A".to_owned()), 1.7), (("X".to_owned(), "B".to_owned()), -0.2)]);
        assert_eq!(p.achieved(&measured).totals[2].reduction_kg_d, 100.0);
        assert_eq!(p.achieved(&HashMap::new()).totals[2].reduction_kg_d, 130.0, "nothing measured: the plan");
    }
}
