//! The curtailment plan: the list's measures at a level, summed against the city's emissions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;
use crate::list::{Emissions, Grade, ReductionList};
use crate::measure::Measure;
use crate::profile::Targets;
use crate::rules::GradeRuleTable;

/// How 保障类 enterprises are treated during a warning [U: set by the city plan].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuaranteePolicy {
    /// No curtailment.
    #[default]
    Exempt,
    /// 以热定产: production follows heat demand; notified, but no reduction is counted.
    HeatLed,
}

/// City-wide total emissions (全社会排放总量), kg/day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub totals: Emissions,
}

impl Inventory {
    /// CSV with columns `pollutant,total_kg_d` and one row each for SO2, NOx, PM and VOCs.
    pub fn from_csv(bytes: &[u8]) -> Result<Inventory, ResponseError> {
        let mut reader = csv::Reader::from_reader(bytes);
        let mut seen = [None; 4];
        for (k, r) in reader.records().enumerate() {
            let line = k + 2;
            let r = r.map_err(|e| ResponseError::Inventory(format!("line {line}: {e}")))?;
            let name = r.get(0).unwrap_or("").trim();
            let i = Emissions::NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)).ok_or_else(|| {
                ResponseError::Inventory(format!(
                    "line {line}, column `pollutant`: `{name}` is not SO2, NOx, PM or VOCs"
                ))
            })?;
            let v: f64 = r.get(1).unwrap_or("").trim().parse().ok().filter(|v: &f64| *v > 0.0).ok_or_else(|| {
                ResponseError::Inventory(format!("line {line}, column `total_kg_d`: not a positive number"))
            })?;
            seen[i] = Some(v);
        }
        match seen {
            [Some(so2), Some(nox), Some(pm), Some(vocs)] => Ok(Inventory { totals: Emissions { so2, nox, pm, vocs } }),
            _ => Err(ResponseError::Inventory("the inventory needs SO2, NOx, PM and VOCs".into())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Treatment {
    /// The line measures apply.
    Measures,
    /// A, 引领性 or 白名单: self-directed reductions.
    SelfDirected,
    /// 保障类, exempt.
    Exempt,
    /// 保障类, 以热定产.
    HeatLed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinePlan {
    pub line: String,
    pub measure: String,
    pub measure_zh: String,
    pub measure_en: String,
    /// `list` when the line's own measure applies, else the grade rule's source.
    pub source: String,
    pub verified: bool,
    pub production_cut: f64,
    pub baseline_capacity: f64,
    pub reduction_kg_d: Emissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterprisePlan {
    pub credit_code: String,
    pub name: String,
    pub county: String,
    pub industry: String,
    pub grade: Grade,
    pub treatment: Treatment,
    pub contact: String,
    pub endpoint: String,
    pub lines: Vec<LinePlan>,
    pub reduction_kg_d: Emissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PollutantTotal {
    pub pollutant: String,
    pub reduction_kg_d: f64,
    pub total_kg_d: f64,
    pub ratio: f64,
    pub target: f64,
    pub met: bool,
}

/// An extra measure the office could add to close a shortfall. Never applied by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    pub credit_code: String,
    pub name: String,
    pub grade: Grade,
    pub line: String,
    pub current: String,
    pub proposed: String,
    pub extra_kg_d: Emissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurtailmentPlan {
    pub level: WarningLevel,
    pub enterprises: Vec<EnterprisePlan>,
    pub totals: Vec<PollutantTotal>,
    pub by_industry: BTreeMap<String, Emissions>,
    pub by_county: BTreeMap<String, Emissions>,
    /// Suggestions to close any shortfall, cheapest first: D and C lines not yet stopped, then B cuts.
    pub suggestions: Vec<Suggestion>,
    /// Pollutants still short after every suggestion.
    pub unresolved: Vec<String>,
}

/// Apply the list at a level and compare the reductions with the targets.
pub fn plan(
    list: &ReductionList,
    rules: &GradeRuleTable,
    level: WarningLevel,
    inventory: &Inventory,
    targets: &Targets,
    guarantee: GuaranteePolicy,
) -> Result<CurtailmentPlan, ResponseError> {
    if level == WarningLevel::None {
        return Err(ResponseError::Plan("a plan needs a warning level".into()));
    }
    let mut enterprises = Vec::with_capacity(list.enterprises.len());
    let mut total = Emissions::default();
    let (mut by_industry, mut by_county) = (BTreeMap::new(), BTreeMap::new());
    for e in &list.enterprises {
        let treatment = match (&e.guarantee, guarantee) {
            (Some(_), GuaranteePolicy::Exempt) => Treatment::Exempt,
            (Some(_), GuaranteePolicy::HeatLed) => Treatment::HeatLed,
            _ if e.grade.self_directed() || e.whitelist.is_some() => Treatment::SelfDirected,
            _ => Treatment::Measures,
        };
        let mut lines = Vec::with_capacity(e.lines.len());
        let mut reduction = Emissions::default();
        for l in &e.lines {
            let (measure, source, verified) = match treatment {
                Treatment::Exempt => (Measure::default(), "保障类（豁免）".to_owned(), true),
                Treatment::HeatLed => (Measure::default(), "保障类（以热定产）".to_owned(), true),
                Treatment::SelfDirected => {
                    (Measure { self_directed: true, ..Default::default() }, "自主减排".to_owned(), true)
                }
                Treatment::Measures => match l.measure(level) {
                    Some(m) => (m, "list".to_owned(), true),
                    None => {
                        let (m, r) = rules.lookup(&e.industry, e.grade, level).ok_or_else(|| {
                            ResponseError::Plan(format!(
                                "{} {} line {}: no {level} measure and no grade rule for {} {}",
                                e.credit_code,
                                e.name,
                                l.name,
                                e.industry,
                                e.grade.name()
                            ))
                        })?;
                        (m, r.source.clone(), r.verified)
                    }
                },
            };
            let cut = measure.production_fraction();
            let r = l.emissions.scaled(cut);
            reduction.add(&r);
            lines.push(LinePlan {
                line: l.name.clone(),
                measure: measure.code(),
                measure_zh: match treatment {
                    Treatment::HeatLed => "以热定产（按供热需求确定生产负荷）".to_owned(),
                    Treatment::Exempt => "保障类，豁免减排".to_owned(),
                    _ => measure.zh(),
                },
                measure_en: measure.en(),
                source,
                verified,
                production_cut: cut,
                baseline_capacity: l.baseline_capacity(),
                reduction_kg_d: r,
            });
        }
        total.add(&reduction);
        by_industry.entry(e.industry.clone()).or_insert_with(Emissions::default).add(&reduction);
        by_county.entry(e.county.clone()).or_insert_with(Emissions::default).add(&reduction);
        enterprises.push(EnterprisePlan {
            credit_code: e.credit_code.to_string(),
            name: e.name.clone(),
            county: e.county.clone(),
            industry: e.industry.clone(),
            grade: e.grade,
            treatment,
            contact: e.contact.clone(),
            endpoint: e.endpoint.clone(),
            lines,
            reduction_kg_d: reduction,
        });
    }
    let target = targets.for_level(level);
    let totals: Vec<PollutantTotal> = (0..4)
        .map(|i| {
            let (r, t) = (total.get(i), inventory.totals.get(i));
            PollutantTotal {
                pollutant: Emissions::NAMES[i].to_owned(),
                reduction_kg_d: r,
                total_kg_d: t,
                ratio: r / t,
                target,
                met: r / t >= target - 1e-12,
            }
        })
        .collect();
    let (suggestions, unresolved) = suggest(list, &enterprises, &totals, target, inventory);
    Ok(CurtailmentPlan { level, enterprises, totals, by_industry, by_county, suggestions, unresolved })
}

/// Cheapest first: stop D lines, then C lines, then deepen B cuts by 20 points, until each
/// short pollutant reaches its target.
fn suggest(
    list: &ReductionList,
    plans: &[EnterprisePlan],
    totals: &[PollutantTotal],
    target: f64,
    inventory: &Inventory,
) -> (Vec<Suggestion>, Vec<String>) {
    let mut short: Vec<f64> = totals.iter().map(|t| (target * t.total_kg_d - t.reduction_kg_d).max(0.0)).collect();
    let mut candidates = Vec::new();
    for (e, p) in list.enterprises.iter().zip(plans) {
        if p.treatment != Treatment::Measures {
            continue;
        }
        let rank = match e.grade {
            Grade::D => 0,
            Grade::C => 1,
            Grade::B | Grade::BMinus => 2,
            _ => continue,
        };
        for (l, lp) in e.lines.iter().zip(&p.lines) {
            if lp.production_cut >= 1.0 {
                continue;
            }
            let new_cut = if rank < 2 { 1.0 } else { (lp.production_cut + 0.2).min(1.0) };
            let current = Measure::parse(&lp.measure).unwrap_or_default();
            let proposed = if new_cut >= 1.0 {
                Measure { stop: true, cut_percent: None, self_directed: false, ..current }
            } else {
                Measure { cut_percent: Some((new_cut * 100.0).round()), stop: false, self_directed: false, ..current }
            };
            let extra = l.emissions.scaled(new_cut - lp.production_cut);
            candidates.push((rank, e, l, lp, proposed, extra));
        }
    }
    // Within a rank, the largest contribution to the pollutants that are short comes first.
    let was_short = short.clone();
    let weight = |x: &Emissions| {
        (0..4).filter(|i| was_short[*i] > 0.0).map(|i| x.get(i) / inventory.totals.get(i).max(1e-9)).sum::<f64>()
    };
    candidates.sort_by(|a, b| a.0.cmp(&b.0).then(weight(&b.5).total_cmp(&weight(&a.5))));
    let mut out = Vec::new();
    for (_, e, l, lp, proposed, extra) in candidates {
        if short.iter().all(|s| *s <= 1e-9) {
            break;
        }
        if !(0..4).any(|i| short[i] > 1e-9 && extra.get(i) > 0.0) {
            continue;
        }
        for (i, s) in short.iter_mut().enumerate() {
            *s = (*s - extra.get(i)).max(0.0);
        }
        out.push(Suggestion {
            credit_code: e.credit_code.to_string(),
            name: e.name.clone(),
            grade: e.grade,
            line: l.name.clone(),
            current: lp.measure.clone(),
            proposed: proposed.code(),
            extra_kg_d: extra,
        });
    }
    let unresolved = (0..4).filter(|i| short[*i] > 1e-9).map(|i| Emissions::NAMES[i].to_owned()).collect();
    (out, unresolved)
}
