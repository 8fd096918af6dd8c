//! The office's compliance board: per pollutant, what the plan promised against what the measured
//! lines achieved; each line of the warning in force that the evidence could judge, its
//! treatment against what was measured; then the alarms (see `alarms_view`).

use askama::Template;
use hazewarn_compliance::LineVerdict;
use hazewarn_response::Warning;
use hazewarn_store::compliance::Check;

use crate::compliance_view::{evidence_words, sentence};
use crate::pages::Lang;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "compliance/board.html")]
struct Board<'a> {
    l: &'a Lang,
    achieved: Option<AchievementTable>,
    /// Lines the evidence could not judge, counted rather than listed.
    unmonitored: usize,
    lines: Vec<LineRow>,
    /// The alarm table, rendered by `alarms_view`.
    alarms: String,
}

/// Per pollutant, the plan's reduction and the one achieved with the measured lines' own cuts.
struct AchievementTable {
    measured_lines: usize,
    rows: Vec<AchievedRow>,
}

struct AchievedRow {
    pollutant: String,
    target: String,
    /// The plan's share, marked ✗ when it falls short of the target.
    planned: String,
    measured: String,
}

/// A judged line: what it had to do, what was measured and the verdict.
struct LineRow {
    /// The verdict's own name (`complied`, `suspected`), the row's class.
    verdict_class: String,
    enterprise: String,
    line: String,
    required: String,
    production: String,
    emission: String,
    verdict: &'static str,
    /// Why, when the verdict says more than its name.
    why: String,
    hours: i64,
}

/// The board: every line of the current step that has a verdict, then the alarms by age.
pub async fn section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let alarms = s.city.store.alarms(None).await?;
    let w = s.city.store.warning_in_force().await?;
    let checks = match &w {
        Some(w) => s.city.store.checks_of(&w.id, w.current().step).await?,
        None => Vec::new(),
    };
    if checks.is_empty() && alarms.is_empty() {
        return Ok(String::new());
    }
    // Lines the evidence could not judge (most have no monitor at all) are counted, not listed:
    // they would bury the ones measured.
    let unmonitored = checks.iter().filter(|c| c.verdict == "no-data").count();
    let names = plan_names(s, w.as_ref()).await?;
    let lines: Vec<LineRow> = checks
        .iter()
        .filter(|c| c.verdict != "not-required" && c.verdict != "no-data")
        .map(|c| line_row(l, c, &names))
        .collect();
    let achieved = achievement_table(s, w.as_ref()).await?;
    let alarms = crate::alarms_view::office_alarms(s, l, &alarms)?;
    let board = Board { l, achieved, unmonitored, lines, alarms };
    crate::templates::fragment(&board)
}

fn line_row(l: &Lang, c: &Check, names: &[(String, String)]) -> LineRow {
    let (required, production, emission, why) = match parse_verdict(&c.body) {
        Some(v) => (treatment_words(l, &v), ratio(v.production_ratio), ratio(v.emission_ratio), verdict_detail(l, &v)),
        None => ("-".into(), "-".into(), "-".into(), String::new()),
    };
    let enterprise = names.iter().find(|(code, _)| code == &c.credit_code).map_or(c.credit_code.as_str(), |n| &n.1);
    LineRow {
        verdict_class: c.verdict.clone(),
        enterprise: enterprise.to_owned(),
        line: c.line.clone(),
        required,
        production,
        emission,
        verdict: verdict_words(l, &c.verdict),
        why,
        hours: c.hours,
    }
}

/// A stored verdict; one that does not read shows dashes rather than failing the board.
fn parse_verdict(body: &str) -> Option<LineVerdict> {
    serde_json::from_str(body).ok()
}

fn verdict_words(l: &Lang, kind: &str) -> &'static str {
    match kind {
        "complied" => l.m("compliance.complied"),
        "suspected" => l.m("compliance.suspected"),
        "not-required" => l.m("compliance.not-required"),
        _ => l.m("compliance.no-data"),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.0} %", r * 100.0))
}

fn treatment_words(l: &Lang, v: &LineVerdict) -> String {
    use hazewarn_compliance::Treatment;
    match v.treatment {
        Treatment::Stop => l.m("compliance.stop").into(),
        Treatment::Cut(n) => format!("{} {n}\u{a0}%", l.m("compliance.cut")),
        Treatment::SelfDirected => l.m("compliance.self-directed").into(),
        Treatment::None => l.m("compliance.none").into(),
    }
}

fn verdict_detail(l: &Lang, v: &LineVerdict) -> String {
    match &v.verdict {
        hazewarn_compliance::Verdict::Suspected { evidence, confidence } => {
            format!("{} ({}{:.0} %)", evidence_words(l, evidence), l.m("compliance.confidence"), confidence * 100.0)
        }
        hazewarn_compliance::Verdict::NoData { why } => sentence(l, why),
        _ => String::new(),
    }
}

/// Per pollutant: the target, the plan's reduction and what was achieved with the measured lines'
/// own cuts (the rest as planned). None without a warning in force or its plan.
async fn achievement_table(s: &AppState, w: Option<&Warning>) -> Result<Option<AchievementTable>, ApiError> {
    let Some(w) = w else { return Ok(None) };
    let step = w.current().step;
    let Some(plan) = s.city.store.plan(&w.id, step).await? else { return Ok(None) };
    let measured = s.city.measured_cuts(&w.id, step).await?;
    let achieved = plan.achieved(&measured);
    let mark = |met: bool| if met { "" } else { " ✗" };
    let rows = plan
        .totals
        .iter()
        .zip(&achieved.totals)
        .map(|(p, a)| AchievedRow {
            pollutant: p.pollutant.clone(),
            target: format!("{:.0} %", p.target * 100.0),
            planned: format!("{:.1} %{}", p.ratio * 100.0, mark(p.met)),
            measured: format!("{:.1} %{}", a.ratio * 100.0, mark(a.met)),
        })
        .collect();
    Ok(Some(AchievementTable { measured_lines: achieved.measured_lines, rows }))
}

/// The plan's enterprises by credit code: (credit code, name).
async fn plan_names(s: &AppState, w: Option<&Warning>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(w) = w else { return Ok(Vec::new()) };
    let plan = s.city.store.plan(&w.id, w.current().step).await?;
    Ok(plan.map_or(Vec::new(), |p| p.enterprises.into_iter().map(|e| (e.credit_code, e.name)).collect()))
}
