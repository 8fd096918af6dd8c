//! Compliance on the pages and the API: the office's board (each line of the warning in force,
//! its treatment against what was measured, and the alarms by age, each worked to closed), and
//! an enterprise's own alarms with the form it answers them by.

use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use hazewarn_compliance::LineVerdict;
use hazewarn_store::compliance::{Alarm, AlarmOutcome, AlarmState};
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::api::MAX_NOTE_CHARS;
use crate::auth::Caller;
use crate::openapi::ErrorBody;
use crate::pages::{Lang, after_post};
use crate::{ApiError, AppState, escape};

pub fn routes() -> Router<AppState> {
    Router::new().route("/office/alarm", post(office_step)).route("/enterprise/alarm", post(enterprise_answer))
}

/// Under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/alarms", get(alarms))
        .route("/alarms/{id}/phone-notification", post(phone_notification))
        .route("/alarms/{id}/explanation", post(explain))
        .route("/alarms/{id}/site-check", post(site_check))
        .route("/alarms/{id}/closure", post(close))
}

fn check_text(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::Invalid(format!("`{field}` is required")));
    }
    hazewarn_response::check_text(field, v, MAX_NOTE_CHARS).map_err(ApiError::Invalid)?;
    Ok(v.to_owned())
}

/// The office sees every alarm; an enterprise only its own.
#[utoipa::path(get, path = "/api/v1/alarms", tag = "compliance", security(("bearer" = [])), responses((status = 200, description = "alarms, oldest first: an enterprise's own, or every one for the office", body = Vec<Alarm>), (status = 403, body = ErrorBody)))]
pub(crate) async fn alarms(State(s): State<AppState>, caller: Caller) -> Result<Json<Vec<Alarm>>, ApiError> {
    let own = match caller.user.role {
        Role::Enterprise => Some(caller.user.credit_code.clone().ok_or(ApiError::Forbidden)?),
        Role::Office | Role::Admin => None,
        _ => return Err(ApiError::Forbidden),
    };
    Ok(Json(s.city.store.alarms(own.as_deref()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TextBody {
    text: String,
}

/// The office reached the enterprise itself where no channel did (who, how): open → notified.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/phone-notification", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = TextBody, responses((status = 200, body = Alarm), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn phone_notification(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<TextBody>,
) -> Result<Json<Alarm>, ApiError> {
    Ok(Json(phone(&s, &caller, &id, &b.text).await?))
}

async fn phone(s: &AppState, caller: &Caller, id: &str, text: &str) -> Result<Alarm, ApiError> {
    let user = caller.require(&[Role::Office])?;
    let text = check_text("text", text)?;
    Ok(s.city.store.notify_alarm_by_phone(id, &user.name, &text, s.city.now()).await?)
}

/// The enterprise's answer to its own alarm.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/explanation", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = TextBody, responses((status = 200, body = Alarm), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn explain(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<TextBody>,
) -> Result<Json<Alarm>, ApiError> {
    Ok(Json(answer(&s, &caller, &id, &b.text).await?))
}

/// Only the enterprise answers its own alarm; another's is not found.
async fn answer(s: &AppState, caller: &Caller, id: &str, text: &str) -> Result<Alarm, ApiError> {
    if caller.user.role != Role::Enterprise {
        return Err(ApiError::Forbidden);
    }
    let code = caller.user.credit_code.as_deref().ok_or(ApiError::Forbidden)?;
    let text = check_text("text", text)?;
    Ok(s.city.store.explain_alarm(id, code, &text, s.city.now()).await?)
}

/// The office's site check (现场核查), after the alarm reached the enterprise.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/site-check", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = TextBody, responses((status = 200, body = Alarm), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn site_check(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<TextBody>,
) -> Result<Json<Alarm>, ApiError> {
    Ok(Json(verify(&s, &caller, &id, &b.text).await?))
}

async fn verify(s: &AppState, caller: &Caller, id: &str, text: &str) -> Result<Alarm, ApiError> {
    let user = caller.require(&[Role::Office])?;
    let text = check_text("text", text)?;
    Ok(s.city.store.verify_alarm(id, &user.name, &text, s.city.now()).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Closure {
    /// `complied` or `violation`.
    outcome: String,
    note: String,
}

/// Closes a verified alarm as complied or a violation (办结).
#[utoipa::path(post, path = "/api/v1/alarms/{id}/closure", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = Closure, responses((status = 200, body = Alarm), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn close(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<Closure>,
) -> Result<Json<Alarm>, ApiError> {
    Ok(Json(close_alarm(&s, &caller, &id, &b.outcome, &b.note).await?))
}

async fn close_alarm(s: &AppState, caller: &Caller, id: &str, outcome: &str, note: &str) -> Result<Alarm, ApiError> {
    let user = caller.require(&[Role::Office])?;
    let outcome = AlarmOutcome::parse(outcome)
        .ok_or_else(|| ApiError::Invalid(format!("`outcome`: `{outcome}` is not complied or violation")))?;
    let note = check_text("note", note)?;
    Ok(s.city.store.close_alarm(id, &user.name, outcome, &note, s.city.now()).await?)
}

fn age(l: &Lang, opened: &str, now: DateTime<Utc>) -> String {
    let Ok(t) = hazewarn_store::parse_ts(opened) else { return "-".into() };
    let h = (now - t).num_hours().max(0);
    if h < 48 { format!("{h} {}", l.m("compliance.h")) } else { format!("{} {}", h / 24, l.m("compliance.d")) }
}

fn alarm_state(l: &Lang, state: hazewarn_store::compliance::AlarmState) -> &'static str {
    use hazewarn_store::compliance::AlarmState;
    match state {
        AlarmState::Open => l.m("compliance.state-open"),
        AlarmState::Notified => l.m("compliance.state-notified"),
        AlarmState::Explained => l.m("compliance.state-explained"),
        AlarmState::Verified => l.m("compliance.state-verified"),
        AlarmState::Closed => l.m("compliance.state-closed"),
    }
}

fn verdict_words<'a>(l: &Lang, kind: &str) -> &'a str {
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
    // The achievement table first: a table cannot open inside another's rows.
    let mut b = format!("<h2>{}</h2>", l.m("compliance.did-they-curtail"));
    b += &achievement_table(s, l, w.as_ref()).await?;
    // Lines the evidence could not judge (most have no monitor at all) are counted, not listed:
    // they would bury the ones measured.
    let unmonitored = checks.iter().filter(|c| c.verdict == "no-data").count();
    if unmonitored > 0 {
        b += &format!(
            "<p id=\"unmonitored\">{unmonitored} {}</p>",
            l.m("compliance.lines-without-enough-monitoring-data")
        );
    }
    b += &format!(
        "<table id=\"compliance\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("compliance.enterprise"),
        l.m("compliance.line"),
        l.m("compliance.required"),
        l.m("compliance.production-power-baseline"),
        l.m("compliance.emission-rate-baseline"),
        l.m("compliance.verdict"),
        l.m("compliance.hours"),
    );
    let names = plan_names(s, w.as_ref()).await?;
    for c in checks.iter().filter(|c| c.verdict != "not-required" && c.verdict != "no-data") {
        let v = parse_verdict(&c.body);
        let (required, p, e, why) = match &v {
            Some(v) => {
                (treatment_words(l, v), ratio(v.production_ratio), ratio(v.emission_ratio), verdict_detail(l, v))
            }
            None => ("-".into(), "-".into(), "-".into(), String::new()),
        };
        let name = names.iter().find(|(code, _)| code == &c.credit_code).map_or(c.credit_code.as_str(), |n| &n.1);
        b += &format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{p}</td><td>{e}</td><td>{}{}</td><td>{}</td></tr>",
            escape(&c.verdict),
            escape(name),
            escape(&c.line),
            escape(&required),
            verdict_words(l, &c.verdict),
            if why.is_empty() { String::new() } else { format!("<br><small>{}</small>", escape(&why)) },
            c.hours,
        );
    }
    b += "</table>";
    b += &alarm_table(s, l, &alarms);
    Ok(b)
}

/// A stored verdict; one that does not read shows dashes rather than failing the board.
fn parse_verdict(body: &str) -> Option<LineVerdict> {
    serde_json::from_str(body).ok()
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

/// The core's evidence sentences in the page's language.
pub(crate) fn evidence_words(l: &Lang, evidence: &[String]) -> String {
    let said: Vec<String> = evidence.iter().map(|e| sentence(l, e)).collect();
    said.join(l.m("compliance.text"))
}

/// One sentence of the compliance core (its three forms, see `hazewarn_compliance::verdict`)
/// in Chinese; in English, or when it has another form, as the core wrote it.
fn sentence(l: &Lang, e: &str) -> String {
    if l.en() {
        return e.to_owned();
    }
    let num = |t: &str| t.trim().trim_end_matches('%').trim().to_owned();
    for (what, zh) in [("production power", "生产设施用电"), ("emission rate", "排放速率")] {
        if let Some(rest) = e.strip_prefix(what).and_then(|r| r.strip_prefix(" at "))
            && let Some((at, allowed)) = rest.split_once(" of its baseline; ")
            && let Some(allowed) = allowed.strip_suffix(" allowed")
        {
            return format!("{zh}为基线的 {} %（允许 {} %）", num(at), num(allowed));
        }
    }
    if let Some(rest) = e.strip_prefix("abatement below ")
        && let Some((min, rest)) = rest.split_once(" of its baseline in ")
        && let Some((off, rest)) = rest.split_once(" of ")
        && let Some(ran) = rest.strip_suffix(" hours production ran")
    {
        return format!("生产运行的 {ran} 小时中，有 {off} 小时治污设施用电低于基线的 {} %", num(min));
    }
    if let Some(rest) = e.strip_prefix("no evidence covers ")
        && let Some((share, rest)) = rest.split_once(" of the ")
        && let Some(hours) = rest.strip_suffix(" hours")
    {
        return format!("{hours} 小时中没有任何一类证据覆盖 {} %", num(share));
    }
    e.to_owned()
}

/// Per pollutant: the target, the plan's reduction and what was achieved with the measured lines'
/// own cuts (the rest as planned).
async fn achievement_table(s: &AppState, l: &Lang, w: Option<&hazewarn_response::Warning>) -> Result<String, ApiError> {
    let Some(w) = w else { return Ok(String::new()) };
    let step = w.current().step;
    let Some(plan) = s.city.store.plan(&w.id, step).await? else { return Ok(String::new()) };
    let measured = s.city.measured_cuts(&w.id, step).await?;
    let achieved = plan.achieved(&measured);
    let mut b = format!(
        "<table id=\"achieved\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{} ({} {})</th></tr>",
        l.m("compliance.pollutant"),
        l.m("compliance.target"),
        l.m("compliance.planned"),
        l.m("compliance.measured"),
        achieved.measured_lines,
        l.m("compliance.lines-measured"),
    );
    for (p, a) in plan.totals.iter().zip(&achieved.totals) {
        let mark = |met: bool| if met { "" } else { " ✗" };
        b += &format!(
            "<tr><td>{}</td><td>{:.0} %</td><td>{:.1} %{}</td><td>{:.1} %{}</td></tr>",
            escape(&p.pollutant),
            p.target * 100.0,
            p.ratio * 100.0,
            mark(p.met),
            a.ratio * 100.0,
            mark(a.met),
        );
    }
    Ok(b + "</table>")
}

async fn plan_names(s: &AppState, w: Option<&hazewarn_response::Warning>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(w) = w else { return Ok(Vec::new()) };
    let plan = s.city.store.plan(&w.id, w.current().step).await?;
    Ok(plan.map_or(Vec::new(), |p| p.enterprises.into_iter().map(|e| (e.credit_code, e.name)).collect()))
}

fn alarm_table(s: &AppState, l: &Lang, alarms: &[Alarm]) -> String {
    let now = s.city.now();
    let mut b = format!(
        "<h3>{}</h3><table id=\"alarms\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        l.m("compliance.alarms"),
        l.m("compliance.alarm"),
        l.m("compliance.enterprise-line"),
        l.m("compliance.evidence"),
        l.m("accounts.state"),
        l.m("compliance.age"),
        l.m("compliance.answer-site-check"),
    );
    // Open cases first, oldest first: the ones waiting longest are at the top.
    let mut order: Vec<&Alarm> = alarms.iter().collect();
    order.sort_by_key(|a| (a.state == AlarmState::Closed, a.opened_at.clone()));
    for a in order {
        let form = match a.state {
            AlarmState::Notified | AlarmState::Explained => format!(
                "<form method=\"post\" action=\"/office/alarm{q}\">\
                 <input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"action\" value=\"verify\">\
                 <input name=\"text\" placeholder=\"{p}\" required> <button>{b}</button></form>",
                q = l.q(),
                id = escape(&a.id),
                p = l.m("compliance.what-the-site-check-found"),
                b = l.m("compliance.record-site-check"),
            ),
            AlarmState::Verified => format!(
                "<form method=\"post\" action=\"/office/alarm{q}\">\
                 <input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"action\" value=\"close\">\
                 <select name=\"outcome\"><option value=\"violation\">{v}</option><option value=\"complied\">{c}</option></select> \
                 <input name=\"text\" placeholder=\"{p}\" required> <button>{b}</button></form>",
                q = l.q(),
                id = escape(&a.id),
                v = l.m("compliance.violation"),
                c = l.m("compliance.complied"),
                p = l.m("compliance.closing-note"),
                b = l.m("compliance.close"),
            ),
            AlarmState::Closed => {
                let outcome = match a.outcome.as_deref() {
                    Some("violation") => l.m("compliance.violation"),
                    Some("complied") => l.m("compliance.complied"),
                    _ => "-",
                };
                format!("{} {outcome}", l.m("compliance.outcome"))
            }
            AlarmState::Open => format!(
                "{w}<form method=\"post\" action=\"/office/alarm{q}\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
                 <input type=\"hidden\" name=\"action\" value=\"phone\"><input name=\"text\" placeholder=\"{p}\" required> \
                 <button>{b}</button></form>",
                w = l.m("compliance.waiting-for-delivery-or-phone"),
                q = l.q(),
                id = escape(&a.id),
                p = l.m("compliance.whom-and-how"),
                b = l.m("compliance.notified-by-phone"),
            ),
        };
        let answers = [a.explanation.as_deref(), a.site_check.as_deref()]
            .iter()
            .flatten()
            .map(|t| escape(t))
            .collect::<Vec<_>>()
            .join("<br>");
        b += &format!(
            "<tr id=\"{}\"><td><code>{}</code></td><td>{} / {}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td class=\"text\">{answers}</td><td>{form}</td></tr>",
            escape(&a.id),
            escape(&a.id),
            escape(&a.enterprise),
            escape(&a.line),
            escape(&evidence_words(l, &a.evidence)),
            alarm_state(l, a.state),
            if a.state == AlarmState::Closed { "-".into() } else { age(l, &a.opened_at, now) },
        );
    }
    b + "</table>"
}

/// The enterprise's own alarms, each with the form it answers by while the case waits on it.
pub async fn enterprise_section(s: &AppState, l: &Lang, caller: &Caller) -> Result<String, ApiError> {
    let Some(code) = caller.user.credit_code.as_deref() else { return Ok(String::new()) };
    let mine = s.city.store.alarms(Some(code)).await?;
    if mine.is_empty() {
        return Ok(String::new());
    }
    let mut b = format!(
        "<h2>{}</h2><table id=\"my-alarms\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        l.m("compliance.compliance-alarms"),
        l.m("compliance.alarm"),
        l.m("compliance.line"),
        l.m("compliance.evidence"),
        l.m("accounts.state"),
    );
    for a in &mine {
        let may_answer = caller.user.role == Role::Enterprise
            && matches!(a.state, AlarmState::Open | AlarmState::Notified | AlarmState::Explained);
        let form = if may_answer {
            format!(
                "<form method=\"post\" action=\"/enterprise/alarm{q}\">\
                 <input type=\"hidden\" name=\"id\" value=\"{id}\"><textarea name=\"text\" rows=\"2\" cols=\"40\" required placeholder=\"{p}\">{t}</textarea> \
                 <button>{b}</button></form>",
                q = l.q(),
                id = escape(&a.id),
                p = l.m("compliance.how-the-line-curtailed-times"),
                t = escape(a.explanation.as_deref().unwrap_or("")),
                b = l.m("compliance.answer"),
            )
        } else {
            escape(a.explanation.as_deref().unwrap_or("-"))
        };
        b += &format!(
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{form}</td></tr>",
            escape(&a.id),
            escape(&a.line),
            escape(&evidence_words(l, &a.evidence)),
            alarm_state(l, a.state),
        );
    }
    Ok(b + "</table>")
}

#[derive(Deserialize)]
struct OfficeForm {
    id: String,
    action: String,
    text: String,
    #[serde(default)]
    outcome: String,
}

async fn office_step(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<OfficeForm>,
) -> Response {
    let r = async {
        let caller = caller?;
        match f.action.as_str() {
            "phone" => {
                phone(&s, &caller, &f.id, &f.text).await?;
                Ok(format!("{} {}", f.id, l.m("compliance.phone-notification-recorded")))
            }
            "verify" => {
                verify(&s, &caller, &f.id, &f.text).await?;
                Ok(format!("{} {}", f.id, l.m("compliance.site-check-recorded")))
            }
            "close" => {
                close_alarm(&s, &caller, &f.id, &f.outcome, &f.text).await?;
                Ok(format!("{} {}", f.id, l.m("compliance.closed")))
            }
            other => Err(ApiError::BadRequest(format!("`action`: `{other}` is not phone, verify or close"))),
        }
    }
    .await;
    after_post("/office", &l, r)
}

#[derive(Deserialize)]
struct AnswerForm {
    id: String,
    text: String,
}

async fn enterprise_answer(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let r = async {
        let caller = caller?;
        answer(&s, &caller, &f.id, &f.text).await?;
        Ok(l.m("compliance.answer-recorded").to_owned())
    }
    .await;
    after_post("/enterprise", &l, r)
}

#[cfg(test)]
mod sentences {
    use super::*;

    #[test]
    fn the_cores_sentences_read_in_chinese() {
        let zh = Lang::default();
        // The forms the core writes (hazewarn_compliance::verdict::judge), with its own numbers.
        assert_eq!(
            sentence(&zh, "production power at 98 % of its baseline; 10 % allowed"),
            "生产设施用电为基线的 98 %（允许 10 %）"
        );
        assert_eq!(
            sentence(&zh, "emission rate at 75 % of its baseline; 80 % allowed"),
            "排放速率为基线的 75 %（允许 80 %）"
        );
        assert_eq!(
            sentence(&zh, "abatement below 50 % of its baseline in 7 of 12 hours production ran"),
            "生产运行的 12 小时中，有 7 小时治污设施用电低于基线的 50 %"
        );
        assert_eq!(sentence(&zh, "no evidence covers 50 % of the 24 hours"), "24 小时中没有任何一类证据覆盖 50 %");
        let en = Lang { lang: "en".into(), ..Default::default() };
        assert_eq!(sentence(&en, "no evidence covers 50 % of the 24 hours"), "no evidence covers 50 % of the 24 hours");
    }

    /// What the core writes today, read through the page: a change of its wording that the
    /// page does not follow shows up here as English on a Chinese page.
    #[test]
    fn every_sentence_the_core_writes_reads_in_chinese() {
        use chrono::TimeZone;
        use hazewarn_compliance::{Baseline, LineEvidence, Reading, Series, Tolerances, Treatment, Verdict, evaluate};
        let at = |h| chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2024, 1, 22, h, 0, 0).unwrap();
        let series = |base: f64, v: f64| Series {
            during: (8..12).map(|h| Reading { at: at(h), value: v }).collect(),
            baseline: Baseline { hourly: [Some(base); 24], days: Vec::new() },
        };
        let t = Tolerances::builtin();
        // A stopped line that ran on with its dust collector off: all three kinds of evidence.
        let ran_on = LineEvidence {
            line: "1#".into(),
            treatment: Treatment::Stop,
            hours: 4,
            production: Some(series(1000.0, 990.0)),
            abatement: Some(series(100.0, 5.0)),
            emission: Some(series(50.0, 60.0)),
        };
        let silent = LineEvidence { production: None, abatement: None, emission: None, ..ran_on.clone() };
        let zh = Lang::default();
        let mut said = Vec::new();
        for e in [ran_on, silent] {
            match evaluate(&e, &t).verdict {
                Verdict::Suspected { evidence, .. } => said.extend(evidence),
                Verdict::NoData { why } => said.push(why),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(said.len(), 4, "{said:?}");
        for s in &said {
            let page = sentence(&zh, s);
            assert!(!page.chars().any(|c| c.is_ascii_alphabetic()), "{s:?} reads {page:?}");
        }
    }
}
