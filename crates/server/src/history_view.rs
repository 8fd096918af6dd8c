//! The office's records: every warning with each of its steps (who, when, why, on which
//! forecast), filtered by year, as a page and as `GET /api/v1/warnings`; and the audit log,
//! newest first, a page at a time, with the chain checked on request.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, FixedOffset};
use hazewarn_response::{TransitionKind, Warning, WarningLevel, WarningState};
use hazewarn_store::users::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Caller;
use crate::pages::{Lang, city_page, level_name, local_time, login_needed, signed_in};
use crate::{ApiError, AppState, escape};

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

/// The keys of the audit details (JSON objects) that people read by name, in the order a cell
/// shows them; any other key shows as written, after these. They are the fields of a warning's
/// step, an advisory's step and its terms, a city's answer, a recommendation and a received
/// advisory; the last ones are those of list items (a recommendation's reasons, a forecast's
/// inputs), which a cell counts rather than shows.
const DETAIL_FIELDS: &[(&str, &str)] = &[
    ("level", "audit.field-level"),
    ("kind", "audit.field-kind"),
    ("action", "audit.field-action"),
    ("answer", "audit.field-answer"),
    ("reason", "audit.field-reason"),
    ("reasons", "audit.field-reasons"),
    ("start", "audit.field-start"),
    ("end", "audit.field-end"),
    ("deadline", "audit.field-deadline"),
    ("cities", "audit.field-cities"),
    ("terms", "audit.field-terms"),
    ("response_level", "audit.field-response-level"),
    ("health_advisory", "audit.field-health-advisory"),
    ("temporary_control", "audit.field-temporary-control"),
    ("warning", "audit.field-warning"),
    ("advisory", "audit.field-advisory"),
    ("province", "audit.field-province"),
    ("step", "audit.field-step"),
    ("forecast_id", "audit.field-forecast-id"),
    ("profile", "audit.field-profile"),
    ("at", "audit.field-at"),
    ("by", "audit.field-by"),
    ("rule", "audit.field-rule"),
    ("days", "audit.field-days"),
    ("zh", "audit.field-zh"),
    ("en", "audit.field-en"),
    ("name", "audit.field-name"),
    ("ok", "audit.field-ok"),
    ("detail", "audit.field-detail"),
    ("detail_zh", "audit.field-detail-zh"),
];

/// The detail keys whose strings are people's words, shown as text; other strings (ids, names,
/// codes) are shown as code.
const TEXT_FIELDS: &[&str] = &["reason", "zh", "en", "detail", "detail_zh"];

/// Characters of a value a cell shows; the whole value is then its title.
const LONG_VALUE: usize = 80;

/// A detail key by name, or as written.
fn field_name(l: &Lang, key: &str) -> String {
    DETAIL_FIELDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| format!("<code>{}</code>", escape(key)), |(_, m)| l.m(m).to_owned())
}

/// An object's fields in the order of [`DETAIL_FIELDS`], unknown keys last as they came.
fn ordered(fields: &serde_json::Map<String, Value>) -> Vec<(&str, &Value)> {
    let rank = |k: &str| DETAIL_FIELDS.iter().position(|(f, _)| *f == k).unwrap_or(DETAIL_FIELDS.len());
    let mut v: Vec<(&str, &Value)> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
    v.sort_by_key(|&(k, _)| rank(k));
    v
}

/// The audit entry's detail as its table cell: a JSON object as its fields by name, with the
/// values in the page's language; anything else as written, cut. The cell's title holds the
/// detail as recorded, so an auditor misses nothing.
pub(crate) fn detail_cell(l: &Lang, raw: &str) -> String {
    let fields = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(fields)) if !fields.is_empty() => fields,
        _ => {
            let detail: String = raw.chars().take(160).collect();
            let more = if detail.len() < raw.len() { "…" } else { "" };
            return format!("<td class=\"text\"><code title=\"{}\">{}{more}</code></td>", escape(raw), escape(&detail));
        }
    };
    let shown: Vec<String> = ordered(&fields)
        .into_iter()
        .map(|(k, v)| {
            format!("<span>{}{}{}</span>", field_name(l, k), l.m("pages.colon"), detail_value(l, k, v, false))
        })
        .collect();
    format!("<td class=\"text\" title=\"{}\">{}</td>", escape(raw), shown.join(" · "))
}

/// One field's value: a scalar or a list of scalars as text, an object (at the top) as its own
/// fields key=value, and a deeper object or a list of objects by its number of items.
fn detail_value(l: &Lang, key: &str, v: &Value, nested: bool) -> String {
    match v {
        Value::Object(m) if !nested && !m.is_empty() => {
            let parts: Vec<String> = ordered(m)
                .into_iter()
                .map(|(k, v)| format!("{}={}", field_name(l, k), detail_value(l, k, v, true)))
                .collect();
            parts.join(if l.en() { "; " } else { "；" })
        }
        Value::Object(m) => items(l, m.len()),
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => items(l, a.len()),
        _ => {
            let (text, code) = scalar_text(l, key, v);
            cut(&text, code)
        }
    }
}

/// "3 项", "3 items".
fn items(l: &Lang, n: usize) -> String {
    format!("{n} {}", l.m(if n == 1 { "audit.item" } else { "audit.items" }))
}

/// A scalar, or a list of them joined, as text; and whether it is an id, shown as code.
fn scalar_text(l: &Lang, key: &str, v: &Value) -> (String, bool) {
    match v {
        Value::Null => ("-".to_owned(), false),
        Value::Bool(b) => (l.m(if *b { "audit.yes" } else { "audit.no" }).to_owned(), false),
        Value::Number(n) => (n.to_string(), false),
        Value::String(s) => string_text(l, key, s),
        Value::Array(a) if a.is_empty() => ("-".to_owned(), false),
        Value::Array(a) => {
            let each: Vec<(String, bool)> = a.iter().map(|x| scalar_text(l, key, x)).collect();
            let code = each.iter().any(|(_, c)| *c);
            let texts: Vec<String> = each.into_iter().map(|(t, _)| t).collect();
            (texts.join(if l.en() { ", " } else { "、" }), code)
        }
        Value::Object(_) => (v.to_string(), true),
    }
}

/// A string: a warning level by its name, a time in Beijing time, a step's kind by name,
/// people's words as text, and anything else as an id.
fn string_text(l: &Lang, key: &str, s: &str) -> (String, bool) {
    if (matches!(s, "yellow" | "orange" | "red") || (key == "level" && s == "none"))
        && let Ok(level) = s.parse::<WarningLevel>()
    {
        return (level_name(l, level), false);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return (crate::pages::beijing_time(t), false);
    }
    if matches!(key, "kind" | "action")
        && let Ok(kind) = serde_json::from_value::<TransitionKind>(Value::String(s.to_owned()))
    {
        return (kind_name(l, kind).to_owned(), false);
    }
    (s.to_owned(), !TEXT_FIELDS.contains(&key))
}

/// Escaped text, cut to [`LONG_VALUE`] characters with the whole of it as the title; an id as code.
fn cut(text: &str, code: bool) -> String {
    let short: String = text.chars().take(LONG_VALUE).collect();
    let (body, title) = if short.len() < text.len() {
        (format!("{}…", escape(&short)), format!(" title=\"{}\"", escape(text)))
    } else {
        (escape(text), String::new())
    };
    match (code, title.is_empty()) {
        (true, _) => format!("<code{title}>{body}</code>"),
        (false, true) => body,
        (false, false) => format!("<span{title}>{body}</span>"),
    }
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
    let result: Result<Html<String>, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Office])?;
        let (years, warnings) = history(&s, q.year).await?;
        let amp = if l.en() { "&amp;lang=en" } else { "" };
        let mut b = format!("<p><a href=\"/office{}\">{}</a></p><p id=\"years\">", l.q(), l.m("history.back-to-office"));
        b += &format!("<a href=\"/office/history{}\">{}</a>", l.q(), l.m("history.all-years"));
        for y in &years {
            let current = if q.year == Some(*y) { " aria-current=\"page\"" } else { "" };
            b += &format!(" · <a href=\"/office/history?year={y}{amp}\"{current}>{y}</a>");
        }
        b += "</p>";
        if warnings.is_empty() {
            b += &format!("<p>{}</p>", l.m("history.none"));
        }
        b += &format!(
            "<table id=\"history\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            l.m("history.warning"),
            l.m("history.step"),
            l.m("history.when"),
            l.m("history.by"),
            l.m("history.level"),
            l.m("history.window"),
            l.m("history.reason"),
            l.m("history.forecast"),
        );
        for w in &warnings {
            for (k, t) in w.transitions.iter().enumerate() {
                let head = if k == 0 {
                    format!(
                        "<td rowspan=\"{}\"><code>{}</code><br>{}</td>",
                        w.transitions.len(),
                        escape(&w.id),
                        state_name(&l, w.state)
                    )
                } else {
                    String::new()
                };
                b += &format!(
                    "<tr>{head}<td>{}</td><td class=\"time\">{}</td><td><code>{}</code></td><td>{}</td><td class=\"time\">{} – {}</td><td class=\"text\">{}</td><td><code>{}</code></td></tr>",
                    kind_name(&l, t.kind),
                    crate::pages::beijing_time(t.at),
                    escape(&t.by),
                    if t.level == WarningLevel::None { "-".to_owned() } else { level_name(&l, t.level) },
                    crate::pages::beijing_time(t.start),
                    crate::pages::beijing_time(t.end),
                    escape(&t.reason),
                    escape(&t.forecast_id),
                );
            }
        }
        b += "</table>";
        Ok(city_page(&s, &l, l.m("history.title"), &signed_in(&l, &b, &caller.csrf)))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    lang: String,
    before: Option<i64>,
    #[serde(default)]
    verify: bool,
}

async fn audit_page(
    State(s): State<AppState>,
    Query(q): Query<AuditQuery>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let l = Lang { lang: q.lang.clone(), ..Default::default() };
    let result: Result<Html<String>, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Office])?;
        let amp = if l.en() { "&amp;lang=en" } else { "" };
        let mut b = format!("<p><a href=\"/office{}\">{}</a></p>", l.q(), l.m("history.back-to-office"));
        if q.verify {
            let report = s.city.store.verify_audit().await?;
            b += &match &report.broken {
                None if report.ok() => format!(
                    "<p class=\"msg\" id=\"verified\">{} {} · {} {}</p>",
                    l.m("history.chain-intact"),
                    report.entries,
                    l.m("history.rows-match"),
                    report.rows_checked
                ),
                Some((seq, why)) => format!("<p class=\"msg\" id=\"verified\">{} {seq}: {}</p>", l.m("history.chain-broken"), escape(why)),
                None => format!("<p class=\"msg\" id=\"verified\">{} {}</p>", l.m("history.rows-altered"), report.altered.len()),
            };
        } else {
            b += &format!("<p><a href=\"/office/audit?verify=true{amp}\" id=\"verify\">{}</a></p>", l.m("history.verify-chain"));
        }
        let entries = s.city.store.audit_before(q.before.unwrap_or(i64::MAX), AUDIT_PAGE).await?;
        b += &format!(
            "<table id=\"audit\"><tr><th class=\"num\">#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            l.m("history.when"),
            l.m("history.by"),
            l.m("history.action"),
            l.m("history.subject"),
            l.m("history.detail"),
        );
        for e in &entries {
            b += &format!(
                "<tr><td class=\"num\">{}</td><td class=\"time\">{}</td><td><code>{}</code></td><td title=\"{}\">{}</td><td><code>{}</code></td>{}</tr>",
                e.seq,
                local_time(&e.at),
                escape(&e.actor),
                escape(&e.action),
                escape(action_name(&l, &e.action)),
                escape(&e.subject),
                detail_cell(&l, &e.detail),
            );
        }
        b += "</table>";
        if let Some(last) = entries.last().filter(|_| entries.len() as i64 == AUDIT_PAGE) {
            b += &format!("<p><a href=\"/office/audit?before={}{amp}\" id=\"older\">{}</a></p>", last.seq, l.m("history.older"));
        }
        Ok(city_page(&s, &l, l.m("history.audit-title"), &signed_in(&l, &b, &caller.csrf)))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}
