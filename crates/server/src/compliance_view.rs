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
use crate::openapi::{ErrorBody, Opaque};
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
#[utoipa::path(get, path = "/api/v1/alarms", tag = "compliance", security(("bearer" = [])), responses((status = 200, description = "alarms, oldest first: an enterprise's own, or every one for the office", body = [Opaque]), (status = 403, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/alarms/{id}/phone-notification", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = TextBody, responses((status = 200, body = Opaque), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/alarms/{id}/explanation", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = TextBody, responses((status = 200, body = Opaque), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/alarms/{id}/site-check", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = TextBody, responses((status = 200, body = Opaque), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/alarms/{id}/closure", tag = "compliance", security(("bearer" = [])), params(("id" = String, Path)), request_body = Closure, responses((status = 200, body = Opaque), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
    if h < 48 { format!("{h} {}", l.t("小时", "h")) } else { format!("{} {}", h / 24, l.t("天", "d")) }
}

fn verdict_words<'a>(l: &Lang, kind: &str) -> &'a str {
    match kind {
        "complied" => l.t("已落实", "complied"),
        "suspected" => l.t("疑似未落实", "suspected"),
        "not-required" => l.t("无需核查", "not required"),
        _ => l.t("无数据", "no data"),
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
    let mut b = format!("<h2>{}</h2>", l.t("减排落实核查", "Did they curtail?"));
    b += &achievement_table(s, l, w.as_ref()).await?;
    // Lines the evidence could not judge (most have no monitor at all) are counted, not listed:
    // they would bury the ones measured.
    let unmonitored = checks.iter().filter(|c| c.verdict == "no-data").count();
    if unmonitored > 0 {
        b += &format!(
            "<p id=\"unmonitored\">{unmonitored} {}</p>",
            l.t("条生产线无足够监测数据，未能核查", "lines without enough monitoring data to judge")
        );
    }
    b += &format!(
        "<table id=\"compliance\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.t("企业", "Enterprise"),
        l.t("生产线", "Line"),
        l.t("要求", "Required"),
        l.t("生产用电 / 基准", "Production power / baseline"),
        l.t("排放速率 / 基准", "Emission rate / baseline"),
        l.t("核查结论", "Verdict"),
        l.t("核查小时", "Hours"),
    );
    let names = plan_names(s, w.as_ref()).await?;
    for c in checks.iter().filter(|c| c.verdict != "not-required" && c.verdict != "no-data") {
        let v = parse_verdict(&c.body);
        let (required, p, e, why) = match &v {
            Some(v) => (treatment_words(l, v), ratio(v.production_ratio), ratio(v.emission_ratio), verdict_detail(v)),
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
        Treatment::Stop => l.t("停产", "stop").into(),
        Treatment::Cut(n) => format!("{} {n} %", l.t("限产", "cut")),
        Treatment::SelfDirected => l.t("自主减排", "self-directed").into(),
        Treatment::None => l.t("无", "none").into(),
    }
}

fn verdict_detail(v: &LineVerdict) -> String {
    match &v.verdict {
        hazewarn_compliance::Verdict::Suspected { evidence, confidence } => {
            format!("{} ({:.0} %)", evidence.join("; "), confidence * 100.0)
        }
        hazewarn_compliance::Verdict::NoData { why } => why.clone(),
        _ => String::new(),
    }
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
        l.t("污染物", "Pollutant"),
        l.t("目标", "Target"),
        l.t("方案减排", "Planned"),
        l.t("实测落实", "Measured"),
        achieved.measured_lines,
        l.t("条生产线实测", "lines measured"),
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
        l.t("核查告警", "Alarms"),
        l.t("告警编号", "Alarm"),
        l.t("企业 / 生产线", "Enterprise / line"),
        l.t("监测发现", "Evidence"),
        l.t("状态", "State"),
        l.t("已持续", "Age"),
        l.t("企业反馈 / 现场核查", "Answer / site check"),
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
                p = l.t("现场核查情况", "What the site check found"),
                b = l.t("记录核查", "Record site check"),
            ),
            AlarmState::Verified => format!(
                "<form method=\"post\" action=\"/office/alarm{q}\">\
                 <input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"action\" value=\"close\">\
                 <select name=\"outcome\"><option value=\"violation\">{v}</option><option value=\"complied\">{c}</option></select> \
                 <input name=\"text\" placeholder=\"{p}\" required> <button>{b}</button></form>",
                q = l.q(),
                id = escape(&a.id),
                v = l.t("违规", "violation"),
                c = l.t("已落实", "complied"),
                p = l.t("办结意见", "Closing note"),
                b = l.t("办结", "Close"),
            ),
            AlarmState::Closed => {
                let outcome = match a.outcome.as_deref() {
                    Some("violation") => l.t("违规", "violation"),
                    Some("complied") => l.t("已落实", "complied"),
                    _ => "-",
                };
                format!("{} {outcome}", l.t("结论：", "Outcome:"))
            }
            AlarmState::Open => format!(
                "{w}<form method=\"post\" action=\"/office/alarm{q}\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
                 <input type=\"hidden\" name=\"action\" value=\"phone\"><input name=\"text\" placeholder=\"{p}\" required> \
                 <button>{b}</button></form>",
                w = l.t(
                    "等待推送送达；或电话通知后登记：",
                    "waiting for delivery; or phone the enterprise and record it:"
                ),
                q = l.q(),
                id = escape(&a.id),
                p = l.t("通知了谁、如何通知", "whom and how"),
                b = l.t("已电话通知", "Notified by phone"),
            ),
        };
        let answers = [a.explanation.as_deref(), a.site_check.as_deref()]
            .iter()
            .flatten()
            .map(|t| escape(t))
            .collect::<Vec<_>>()
            .join("<br>");
        b += &format!(
            "<tr id=\"{}\"><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{answers}</td><td>{form}</td></tr>",
            escape(&a.id),
            escape(&a.id),
            escape(&a.enterprise),
            escape(&a.line),
            escape(&a.evidence.join("; ")),
            l.t(a.state.zh(), a.state.as_str()),
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
        l.t("减排核查告警", "Compliance alarms"),
        l.t("告警编号", "Alarm"),
        l.t("生产线", "Line"),
        l.t("监测发现", "Evidence"),
        l.t("状态", "State"),
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
                p = l.t("说明落实情况（如停产时间、检修记录）", "How the line curtailed (times, maintenance records)"),
                t = escape(a.explanation.as_deref().unwrap_or("")),
                b = l.t("提交反馈", "Answer"),
            )
        } else {
            escape(a.explanation.as_deref().unwrap_or("-"))
        };
        b += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{form}</td></tr>",
            escape(&a.id),
            escape(&a.line),
            escape(&a.evidence.join("; ")),
            l.t(a.state.zh(), a.state.as_str()),
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
                Ok(format!("{} {}", f.id, l.t("已登记电话通知", "phone notification recorded")))
            }
            "verify" => {
                verify(&s, &caller, &f.id, &f.text).await?;
                Ok(format!("{} {}", f.id, l.t("已记录现场核查", "site check recorded")))
            }
            "close" => {
                close_alarm(&s, &caller, &f.id, &f.outcome, &f.text).await?;
                Ok(format!("{} {}", f.id, l.t("已办结", "closed")))
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
        Ok(l.t("反馈已提交", "answer recorded").to_owned())
    }
    .await;
    after_post("/enterprise", &l, r)
}
