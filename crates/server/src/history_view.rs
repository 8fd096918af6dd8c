//! The office's records: every warning with each of its steps (who, when, why, on which
//! forecast), filtered by year, as a page and as `GET /api/v1/warnings`; and the audit log,
//! newest first, a page at a time, with the chain checked on request.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, FixedOffset};
use hazewarn_response::{TransitionKind, Warning, WarningLevel, WarningState};
use hazewarn_store::users::Role;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::pages::{Lang, city_frame, level_name, local_time, login_needed};
use crate::templates::{Frame, render_signed_in};
use crate::{ApiError, AppState};

use crate::audit_detail::detail_cell;

/// Audit entries on one page.
const AUDIT_PAGE: i64 = 50;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// Only warnings whose first step falls in this year (Beijing time).
    pub year: Option<i32>,
}

/// One step of a warning, as the office took it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StepRecord {
    pub step: u32,
    /// `draft`, `issue`, `upgrade`, `downgrade`, `extend` or `lift`.
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::DateTime<FixedOffset>,
    pub by: String,
    pub reason: String,
    pub forecast_id: String,
    /// `none`, `yellow`, `orange` or `red`.
    pub level: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: chrono::DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub end: chrono::DateTime<FixedOffset>,
}

/// A warning and every step it went through.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WarningRecord {
    pub id: String,
    /// `draft`, `issued` or `lifted`.
    pub state: String,
    pub level: String,
    pub steps: Vec<StepRecord>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WarningHistory {
    /// The years that have warnings, newest first, for a filter.
    pub years: Vec<i32>,
    pub warnings: Vec<WarningRecord>,
}

fn kebab<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn first_year(w: &Warning) -> Option<i32> {
    w.transitions.first().map(|t| hazewarn_scheduler::beijing(t.at.with_timezone(&chrono::Utc)).year())
}

fn record(w: &Warning) -> WarningRecord {
    WarningRecord {
        id: w.id.clone(),
        state: kebab(&w.state),
        level: kebab(&w.level()),
        steps: w
            .transitions
            .iter()
            .map(|t| StepRecord {
                step: t.step,
                kind: kebab(&t.kind),
                at: t.at,
                by: t.by.clone(),
                reason: t.reason.clone(),
                forecast_id: t.forecast_id.clone(),
                level: kebab(&t.level),
                start: t.start,
                end: t.end,
            })
            .collect(),
    }
}

async fn history(s: &AppState, year: Option<i32>) -> Result<(Vec<i32>, Vec<Warning>), ApiError> {
    let all = s.city.store.warnings_all().await?;
    let mut years: Vec<i32> = all.iter().filter_map(first_year).collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    let chosen = all.into_iter().filter(|w| year.is_none() || first_year(w) == year).collect();
    Ok((years, chosen))
}

/// Every warning with its steps, newest first; `year` keeps those that began in it.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "office", summary = "Warning history", security(("bearer" = [])),
    params(YearQuery), responses((status = 200, body = WarningHistory)))]
pub async fn warning_history(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<YearQuery>,
) -> Result<Json<WarningHistory>, ApiError> {
    caller.require(&[Role::Office, Role::Forecaster])?;
    let (years, warnings) = history(&s, q.year).await?;
    Ok(Json(WarningHistory { years, warnings: warnings.iter().map(record).collect() }))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/office/history", get(history_page)).route("/office/audit", get(audit_page))
}

/// The audit log's actions that people read by name; any other shows as written.
const ACTIONS: &[(&str, &str)] = &[
    ("warning-draft", "audit.warning-draft"),
    ("warning-issue", "audit.warning-issue"),
    ("warning-upgrade", "audit.warning-upgrade"),
    ("warning-downgrade", "audit.warning-downgrade"),
    ("warning-extend", "audit.warning-extend"),
    ("warning-lift", "audit.warning-lift"),
    ("notice-issue", "audit.notice-issue"),
    ("notice-acknowledge", "audit.notice-acknowledge"),
    ("notice-acknowledge-link", "audit.notice-acknowledge-link"),
    ("notice-acknowledge-phone", "audit.notice-acknowledge-phone"),
    ("notice-reminded", "audit.notice-reminded"),
    ("notice-escalated", "audit.notice-escalated"),
    ("dead-letter", "audit.dead-letter"),
    ("retry-dead-letter", "audit.retry-dead-letter"),
    ("route-fallback", "audit.route-fallback"),
    ("forecast-issue", "audit.forecast-issue"),
    ("recommendation", "audit.recommendation"),
    ("list-import", "audit.list-import"),
    ("rolled-back", "audit.rolled-back"),
    ("monitor-readings", "audit.monitor-readings"),
    ("power-readings", "audit.power-readings"),
    ("compliance-check", "audit.compliance-check"),
    ("alarm-open", "audit.alarm-open"),
    ("alarm-notified", "audit.alarm-notified"),
    ("alarm-notified-by-phone", "audit.alarm-notified-by-phone"),
    ("alarm-explain", "audit.alarm-explain"),
    ("alarm-verify", "audit.alarm-verify"),
    ("alarm-close", "audit.alarm-close"),
    ("session-start", "audit.session-start"),
    ("session-end", "audit.session-end"),
    ("sign-in-code", "audit.sign-in-code"),
    ("sign-in-code-accepted", "audit.sign-in-code-accepted"),
    ("sign-in-locked", "audit.sign-in-locked"),
    ("user-add", "audit.user-add"),
    ("user-import", "audit.user-import"),
    ("user-disable", "audit.user-disable"),
    ("user-enable", "audit.user-enable"),
    ("user-rotate-token", "audit.user-rotate-token"),
    ("ack-link-spent", "audit.ack-link-spent"),
    ("demo-clock-start", "audit.demo-clock-start"),
    ("audit-baseline", "audit.audit-baseline"),
    ("advisory-received", "audit.advisory-received"),
    ("advisory-issue", "audit.advisory-issue"),
    ("advisory-change", "audit.advisory-change"),
    ("advisory-extend", "audit.advisory-extend"),
    ("advisory-lift", "audit.advisory-lift"),
    ("advisory-answer-followed", "audit.advisory-answer-followed"),
    ("advisory-answer-in_force", "audit.advisory-answer-in_force"),
    ("advisory-answer-justified", "audit.advisory-answer-justified"),
];

fn action_name<'a>(l: &Lang, action: &'a str) -> &'a str {
    ACTIONS.iter().find(|(a, _)| *a == action).map_or(action, |(_, key)| l.m(key))
}

pub(crate) fn kind_name(l: &Lang, kind: TransitionKind) -> &'static str {
    match kind {
        TransitionKind::Draft => l.m("history.kind-draft"),
        TransitionKind::Issue => l.m("history.kind-issue"),
        TransitionKind::Upgrade => l.m("history.kind-upgrade"),
        TransitionKind::Downgrade => l.m("history.kind-downgrade"),
        TransitionKind::Extend => l.m("history.kind-extend"),
        TransitionKind::Lift => l.m("history.kind-lift"),
    }
}

fn state_name(l: &Lang, state: WarningState) -> &'static str {
    match state {
        WarningState::Draft => l.m("history.state-draft"),
        WarningState::Issued => l.m("history.state-issued"),
        WarningState::Lifted => l.m("history.state-lifted"),
    }
}

/// The warning history page: the years to filter by, then each warning with its steps.
#[derive(Template)]
#[template(path = "history/history.html")]
struct HistoryPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    years: Vec<YearLink>,
    warnings: Vec<WarningRows>,
}

/// A year of the filter; `current` when the page shows it.
struct YearLink {
    year: i32,
    current: bool,
}

/// A warning's rows: its id and state head the first of its steps.
struct WarningRows {
    id: String,
    state: &'static str,
    steps: Vec<StepRow>,
}

/// One step as the table shows it, times in Beijing time and names in the page's language.
struct StepRow {
    kind: &'static str,
    at: String,
    by: String,
    level: String,
    start: String,
    end: String,
    reason: String,
    forecast_id: String,
}

fn warning_rows(l: &Lang, w: &Warning) -> WarningRows {
    let beijing = crate::pages::beijing_time;
    let steps = w
        .transitions
        .iter()
        .map(|t| StepRow {
            kind: kind_name(l, t.kind),
            at: beijing(t.at),
            by: t.by.clone(),
            level: if t.level == WarningLevel::None { "-".to_owned() } else { level_name(l, t.level) },
            start: beijing(t.start),
            end: beijing(t.end),
            reason: t.reason.clone(),
            forecast_id: t.forecast_id.clone(),
        })
        .collect();
    WarningRows { id: w.id.clone(), state: state_name(l, w.state), steps }
}

#[derive(Deserialize, Default)]
struct HistoryQuery {
    #[serde(default)]
    lang: String,
    year: Option<i32>,
}

async fn history_page(
    State(s): State<AppState>,
    Query(q): Query<HistoryQuery>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let l = Lang { lang: q.lang.clone(), ..Default::default() };
    let result: Result<Response, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Office])?;
        let (years, warnings) = history(&s, q.year).await?;
        let mut frame = city_frame(&s, &l, l.m("history.title"), false);
        frame.signed_in = true;
        let page = HistoryPage {
            frame,
            l: &l,
            years: years.into_iter().map(|year| YearLink { year, current: q.year == Some(year) }).collect(),
            warnings: warnings.iter().map(|w| warning_rows(&l, w)).collect(),
        };
        Ok(render_signed_in(&page, &caller.csrf))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

/// The audit log page: the chain's check (or the link that asks for it), a page of entries
/// newest first, and the link to the older ones.
#[derive(Template)]
#[template(path = "history/audit.html")]
struct AuditPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    /// What the check of the chain found, when it was asked for.
    verified: Option<String>,
    entries: Vec<AuditRow>,
    /// The entry before which the next page starts, when there may be older entries.
    older: Option<i64>,
}

/// An audit entry as the table shows it.
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    action_name: String,
    subject: String,
    /// The detail cell, composed by [`detail_cell`].
    detail: String,
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    lang: String,
    before: Option<i64>,
    #[serde(default)]
    verify: bool,
}

/// What checking the audit chain found, in the page's language.
async fn verification(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let report = s.city.store.verify_audit().await?;
    Ok(match &report.broken {
        None if report.ok() => format!(
            "{} {} · {} {}",
            l.m("history.chain-intact"),
            report.entries,
            l.m("history.rows-match"),
            report.rows_checked
        ),
        Some((seq, why)) => format!("{} {seq}: {why}", l.m("history.chain-broken")),
        None => format!("{} {}", l.m("history.rows-altered"), report.altered.len()),
    })
}

async fn audit_page(
    State(s): State<AppState>,
    Query(q): Query<AuditQuery>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let l = Lang { lang: q.lang.clone(), ..Default::default() };
    let result: Result<Response, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Office])?;
        let verified = if q.verify { Some(verification(&s, &l).await?) } else { None };
        let entries = s.city.store.audit_before(q.before.unwrap_or(i64::MAX), AUDIT_PAGE).await?;
        // A full page may have older entries behind it.
        let older = entries.last().filter(|_| entries.len() as i64 == AUDIT_PAGE).map(|e| e.seq);
        let entries: Vec<AuditRow> = entries
            .iter()
            .map(|e| AuditRow {
                seq: e.seq,
                at: local_time(&e.at),
                actor: e.actor.clone(),
                action: e.action.clone(),
                action_name: action_name(&l, &e.action).to_owned(),
                subject: e.subject.clone(),
                detail: detail_cell(&l, &e.detail),
            })
            .collect();
        let mut frame = city_frame(&s, &l, l.m("history.audit-title"), false);
        frame.signed_in = true;
        let page = AuditPage { frame, l: &l, verified, entries, older };
        Ok(render_signed_in(&page, &caller.csrf))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}
