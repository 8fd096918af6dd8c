//! The emergency office page's own sections: the latest recommendation and the button that
//! carries it out, the reduction plan at the level in force (or recommended), and the delivery
//! of the warning's notices with the dead letters to retry. Each is a template of
//! `templates/office/` rendered into the page (see [`crate::office_view`]).

use askama::Template;
use hazewarn_response::WarningLevel;

use crate::office_view::StepForm;
use crate::pages::{Lang, delivery_status, grade_name, level_name, local_time, treatment_name};
use crate::{ApiError, AppState, api};

/// Dead letters listed on the office page, and retried at once.
pub(crate) const DEAD_SHOWN: i64 = 500;

#[derive(Template)]
#[template(path = "office/recommendation.html")]
struct RecommendationSection<'a> {
    l: &'a Lang,
    /// No forecast run at all yet.
    no_forecast: bool,
    /// A newer run than the graded one, still awaiting the forecaster.
    awaiting: Option<String>,
    graded: Option<GradedRecommendation>,
}

/// The latest graded run's recommendation.
struct GradedRecommendation {
    run_id: String,
    action: &'static str,
    level: String,
    reasons: Vec<String>,
    /// Why it may no longer be carried out, or that it was.
    stale: Option<String>,
    /// The form that carries it out while it stands.
    approve: Option<String>,
}

/// The latest run's recommendation with its reasons, and the button that carries it out while
/// it still stands (a stale one says why it may no longer be carried out). Also the level it
/// recommends.
pub(crate) async fn recommendation_section(
    s: &AppState,
    l: &Lang,
    in_force: Option<&hazewarn_response::Warning>,
) -> Result<(String, Option<WarningLevel>), ApiError> {
    let mut section = RecommendationSection { l, no_forecast: false, awaiting: None, graded: None };
    let Some(latest) = s.city.store.latest_forecast_run(s.city.now(), false).await? else {
        section.no_forecast = true;
        return Ok((crate::templates::fragment(&section)?, None));
    };
    // The latest graded run's recommendation; a newer run awaiting approval is said apart.
    let graded = s.city.store.latest_graded_run().await?;
    if graded.as_deref() != Some(latest.id.as_str()) {
        section.awaiting = Some(latest.id.clone());
    }
    let Some(run_id) = graded else { return Ok((crate::templates::fragment(&section)?, None)) };
    let Some(rec) = s.city.store.recommendation(&run_id).await? else {
        return Ok((crate::templates::fragment(&section)?, None));
    };
    let mut shown = GradedRecommendation {
        run_id: run_id.clone(),
        action: action_name(l, rec.action),
        level: level_name(l, rec.level),
        reasons: rec.reasons.iter().map(|r| if l.en() { r.en.clone() } else { r.zh.clone() }).collect(),
        stale: None,
        approve: None,
    };
    if hazewarn_scheduler::Step::recommended(&rec).is_some() {
        match s.city.recommendation_stale(&run_id).await? {
            Some(why) => {
                // A step taken on this very forecast carried the recommendation out; any other
                // step, or a newer grading, left it behind.
                let carried_out = matches!(why, hazewarn_scheduler::cycle::Stale::StepTaken(_))
                    && in_force.is_some_and(|w| w.current().forecast_id == run_id);
                shown.stale = Some(if carried_out {
                    l.m("pages.recommendation-carried-out").to_owned()
                } else {
                    let why = if l.en() { why.to_string() } else { why.zh() };
                    format!("{}{why}", l.m("pages.this-recommendation-is-stale"))
                });
            }
            None => {
                let form = StepForm::approve(l, &run_id, l.m("pages.carry-out-the-recommendation"));
                shown.approve = Some(crate::templates::fragment(&form)?);
            }
        }
    }
    section.graded = Some(shown);
    Ok((crate::templates::fragment(&section)?, Some(rec.level)))
}

/// What a grading recommends, in the page's language.
fn action_name(l: &Lang, action: hazewarn_response::Action) -> &'static str {
    use hazewarn_response::Action;
    match action {
        Action::None => l.m("pages.action-none"),
        Action::Issue => l.m("pages.action-issue"),
        Action::Upgrade => l.m("pages.action-upgrade"),
        Action::Downgrade => l.m("pages.action-downgrade"),
        Action::Extend => l.m("pages.action-extend"),
        Action::Lift => l.m("pages.action-lift"),
    }
}

#[derive(Template)]
#[template(path = "office/plan.html")]
struct PlanSection<'a> {
    l: &'a Lang,
    level: String,
    /// The warning in force's plan, or the recommended level's.
    whose: &'static str,
    totals: Vec<PlanTotal>,
    suggestions: Vec<ShortfallSuggestion>,
    /// The pollutants no suggestion closes, joined; empty when none.
    unresolved: String,
    enterprises: Vec<PlanEnterprise>,
}

/// A pollutant's cut against its target.
struct PlanTotal {
    pollutant: String,
    cut_kg_d: String,
    share: String,
    target: String,
    met: bool,
}

/// A stricter measure that would close a shortfall.
struct ShortfallSuggestion {
    enterprise: String,
    grade: &'static str,
    line: String,
    now: String,
    proposed: String,
}

/// An enterprise of the plan with its treatment and its lines' measures.
struct PlanEnterprise {
    name: String,
    county: String,
    industry: String,
    grade: &'static str,
    treatment: &'static str,
    measures: String,
}

/// The plan at `level`: totals against the targets, the shortfall suggestions, and the
/// enterprises with their treatment (保障类 and 白名单 marked) and measures, filtered by the
/// page's county, industry and grade.
pub(crate) async fn plan_section(
    s: &AppState,
    l: &Lang,
    level: WarningLevel,
    in_force: bool,
) -> Result<String, ApiError> {
    let (_, list) = s.city.list().await?;
    let c = &s.city;
    let p = hazewarn_response::plan(&list, &c.rules, level, &c.inventory, &c.profile.targets, c.guarantee())?;
    let totals = p
        .totals
        .iter()
        .map(|t| PlanTotal {
            pollutant: t.pollutant.clone(),
            cut_kg_d: format!("{:.0}", t.reduction_kg_d),
            share: format!("{:.1}%", t.ratio * 100.0),
            target: format!("{:.0}%", t.target * 100.0),
            met: t.met,
        })
        .collect();
    let suggestions = p
        .suggestions
        .iter()
        .map(|g| ShortfallSuggestion {
            enterprise: g.name.clone(),
            grade: grade_name(l, g.grade),
            line: g.line.clone(),
            now: measure_words(l, &g.current),
            proposed: measure_words(l, &g.proposed),
        })
        .collect();
    let enterprises = p
        .enterprises
        .iter()
        .filter(|e| {
            let grade = grade_name(l, e.grade);
            (l.county.is_empty() || e.county == l.county)
                && (l.industry.is_empty() || e.industry == l.industry)
                && (l.grade.is_empty() || grade == l.grade)
        })
        .map(|e| {
            let measures: Vec<String> = e
                .lines
                .iter()
                .map(|x| {
                    let measure = if l.en() { &x.measure_en } else { &x.measure_zh };
                    format!("{}{}{measure}", x.line, l.m("pages.colon"))
                })
                .collect();
            PlanEnterprise {
                name: e.name.clone(),
                county: e.county.clone(),
                industry: e.industry.clone(),
                grade: grade_name(l, e.grade),
                treatment: treatment_name(l, e.treatment),
                measures: measures.join(l.m("pages.list-semicolon")),
            }
        })
        .collect();
    let section = PlanSection {
        l,
        level: level_name(l, level),
        whose: if in_force { l.m("pages.warning-in-force-2") } else { l.m("pages.recommended-level") },
        totals,
        suggestions,
        unresolved: p.unresolved.join(", "),
        enterprises,
    };
    crate::templates::fragment(&section)
}

/// A plan's measure code (`stop`, `cut:30`, …) in plain words.
fn measure_words(l: &Lang, code: &str) -> String {
    match hazewarn_response::Measure::parse(code) {
        Ok(m) if l.en() => m.en(),
        Ok(m) => m.zh(),
        Err(_) => code.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "office/deliveries.html")]
struct DeliveriesSection<'a> {
    l: &'a Lang,
    totals: Vec<DeliveryTotal>,
    rows: Vec<NoticeDelivery>,
    dead: Vec<DeadLetter>,
}

/// A count the office asks for before it reads the rows.
struct DeliveryTotal {
    label: &'static str,
    count: usize,
}

/// A notice of the warning in force: its step and level, each channel's status.
struct NoticeDelivery {
    enterprise: String,
    step: u32,
    level: String,
    channels: String,
    acknowledged: String,
    /// Empty when not overdue.
    overdue: &'static str,
}

/// A message that failed for good, with why.
struct DeadLetter {
    id: String,
    error: String,
}

/// Each notice of the warning in force with its step and level, per channel, the totals first,
/// and the dead letters with a retry button.
pub(crate) async fn deliveries_section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let rows = api::delivery_rows(s).await?;
    let any = |r: &api::DeliveryRow, status: &str| r.deliveries.iter().any(|(_, st)| st == status);
    let totals = [
        ("pages.total-notices", rows.len()),
        ("pages.total-delivered", rows.iter().filter(|r| any(r, "sent")).count()),
        ("pages.total-pending", rows.iter().filter(|r| !any(r, "sent") && any(r, "pending")).count()),
        ("pages.total-dead", rows.iter().filter(|r| !any(r, "sent") && any(r, "dead")).count()),
        ("pages.total-acknowledged", rows.iter().filter(|r| r.acknowledged_at.is_some()).count()),
        ("pages.total-overdue", rows.iter().filter(|r| r.overdue).count()),
    ]
    .into_iter()
    .map(|(key, count)| DeliveryTotal { label: l.m(key), count })
    .collect();
    let shown = rows
        .iter()
        .map(|r| {
            let channels: Vec<String> =
                r.deliveries.iter().map(|(c, st)| format!("{c}: {}", delivery_status(l, st))).collect();
            NoticeDelivery {
                enterprise: r.enterprise.clone(),
                step: r.step,
                level: level_name(l, r.level),
                channels: channels.join(", "),
                acknowledged: r.acknowledged_at.as_deref().map_or_else(|| "-".to_owned(), local_time),
                overdue: match (r.overdue, r.escalated) {
                    (false, _) => "",
                    (true, true) => l.m("pages.overdue-escalated"),
                    (true, false) => l.m("pages.overdue-2"),
                },
            }
        })
        .collect();
    let dead = s.city.store.outbox_in(hazewarn_store::OutboxStatus::Dead, DEAD_SHOWN).await?;
    let dead = dead.into_iter().map(|d| DeadLetter { error: d.last_error.unwrap_or_default(), id: d.id }).collect();
    crate::templates::fragment(&DeliveriesSection { l, totals, rows: shown, dead })
}
