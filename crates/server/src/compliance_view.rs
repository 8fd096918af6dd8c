//! Compliance on the pages and the API: the alarms worked to closed (the office's phone record,
//! site check and closing; the enterprise's answer), by the API and by the pages' forms, and the
//! compliance core's sentences in the page's language. The office's board is drawn by
//! `compliance_board`, the alarms' tables by `alarms_view`.

use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use hazewarn_store::compliance::{Alarm, AlarmOutcome};
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::api::MAX_NOTE_CHARS;
use crate::auth::Caller;
use crate::openapi::ErrorBody;
use crate::pages::{Lang, after_post};
use crate::{ApiError, AppState};

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

/// The core's evidence sentences in the page's language.
pub(crate) fn evidence_words(l: &Lang, evidence: &[String]) -> String {
    let said: Vec<String> = evidence.iter().map(|e| sentence(l, e)).collect();
    said.join(l.m("compliance.text"))
}

/// One sentence of the compliance core (its three forms, see `hazewarn_compliance::verdict`)
/// in Chinese; in English, or when it has another form, as the core wrote it.
pub(crate) fn sentence(l: &Lang, e: &str) -> String {
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
