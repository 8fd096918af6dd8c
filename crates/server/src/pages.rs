//! What the city's pages share: the page's language (`Lang`: Chinese by default, English with
//! `?lang=en`, and the message catalogue), the frame of a city's page, the names of levels,
//! grades and statuses in the page's language, and where a form lands (back on its page with
//! the outcome, a refusal in the page's language, or at sign-in).

use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hazewarn_response::{Treatment, WarningLevel};
use serde::Deserialize;

use crate::templates::{self, Frame, MessagePage, NavLink};
use crate::{ApiError, AppState, escape};

#[derive(Deserialize, Default)]
pub struct Lang {
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub county: String,
    #[serde(default)]
    pub industry: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub msg: String,
    /// The signature of `msg` (see [`crate::flash`]).
    #[serde(default)]
    pub sig: String,
}

impl Lang {
    pub(crate) fn en(&self) -> bool {
        self.lang == "en"
    }
    /// The catalogue's entry `key` in the page's language (see [`crate::messages`]).
    pub(crate) fn m(&self, key: &str) -> &'static str {
        match crate::messages::get(key) {
            Some(m) if self.en() => &m.en,
            Some(m) => &m.zh,
            None => {
                tracing::error!(key, "a page asked for a message the catalogue lacks");
                "?"
            }
        }
    }
    /// The message the form before this page left, if this process signed it.
    pub(crate) fn flash(&self) -> Option<&str> {
        (!self.msg.is_empty() && crate::flash::verify(&self.msg, &self.sig)).then_some(self.msg.as_str())
    }

    pub(crate) fn q(&self) -> &'static str {
        if self.en() { "?lang=en" } else { "" }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(crate::public_view::public))
        .route("/forecaster", get(crate::forecaster_page::forecaster))
        .route("/forecaster/review", post(crate::forecaster_page::forecaster_review))
        .route("/office", get(crate::office_view::office))
        .route("/office/warning", post(crate::office_view::office_warning))
        .route("/office/retry", post(crate::office_view::office_retry))
        .route("/office/retry-all", post(crate::office_view::office_retry_all))
        .route("/enterprise/notice/{id}", get(crate::enterprise_view::printable_notice))
        .route("/enterprise", get(crate::enterprise_view::enterprise))
        .route("/enterprise/ack", post(crate::enterprise_view::enterprise_ack))
}

/// The frame of a city's page: its four pages in the navigation, the chart scripts when the
/// body has charts.
pub(crate) fn city_nav_frame<'a>(l: &'a Lang, title: &'a str, charts: bool) -> Frame<'a> {
    let q = l.q();
    let nav = [
        ("/", "pages.public"),
        ("/forecaster", "pages.forecaster"),
        ("/office", "pages.office"),
        ("/enterprise", "compliance.enterprise"),
    ]
    .into_iter()
    .map(|(path, key)| NavLink { href: format!("{path}{q}"), label: l.m(key) })
    .collect();
    Frame::new(l, title, nav, charts)
}

/// The frame of a city's page titled `title`, with the city's navigation, its demonstration
/// clock if it has one, and the chart scripts if `charts`.
pub(crate) fn city_frame<'a>(s: &AppState, l: &'a Lang, title: &'a str, charts: bool) -> Frame<'a> {
    let mut frame = city_nav_frame(l, title, charts);
    if s.city.config.city.demo_clock_start.is_some() {
        frame.demo_clock = Some(s.city.now_local().format("%Y-%m-%d %H:%M").to_string());
    }
    frame
}

pub(crate) fn level_colour(level: WarningLevel) -> &'static str {
    match level {
        WarningLevel::None => "#999",
        WarningLevel::Yellow => "#d4a800",
        WarningLevel::Orange => "#ff7e00",
        WarningLevel::Red => "#e00",
    }
}

pub(crate) fn level_name(l: &Lang, level: WarningLevel) -> String {
    if l.en() { format!("{level:?}").to_lowercase() } else { level.zh().to_owned() }
}

/// Pages ask for the token when there is none.
/// Any other failure is a page that says what happened, in the page's language, with its status.
pub(crate) fn login_needed(l: &Lang, e: ApiError) -> Response {
    if let ApiError::Unauthenticated = e {
        return Redirect::to(&format!("/login{}", l.q())).into_response();
    }
    if let ApiError::Internal(detail) = &e {
        tracing::error!(%detail, "internal error");
    }
    let title = match e {
        ApiError::Forbidden => l.m("pages.not-allowed"),
        ApiError::NotFound => l.m("pages.not-found"),
        _ => l.m("pages.not-done"),
    };
    let text = page_error(l, &e);
    let page = templates::render(&MessagePage { frame: city_nav_frame(l, title, false), text: &text });
    let mut resp = (e.status(), page).into_response();
    if let ApiError::TooMany { retry_after_s } = e {
        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_s.into());
    }
    resp
}

pub(crate) fn back(path: &str, l: &Lang, msg: &str) -> Response {
    let sep = if l.en() { "&" } else { "?" };
    let q = l.q();
    Redirect::to(&format!("{path}{q}{sep}msg={}&sig={}", percent_encode(msg), crate::flash::sign(msg))).into_response()
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3), so no text placed in
/// a redirect can end the header or change the URL's structure.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form that names one record (a notice to acknowledge, a dead letter to retry).
#[derive(Deserialize)]
pub(crate) struct IdForm {
    pub id: String,
}

/// Adds the session's CSRF token to every form that posts (see `security`).
pub(crate) fn protect_forms(html: &str, csrf: &str) -> String {
    let field = format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape(csrf));
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = rest.find("<form method=\"post\"") {
        let Some(end) = rest[at..].find('>') else { break };
        out.push_str(&rest[..at + end + 1]);
        out.push_str(&field);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// An outbox status as the office reads it.
pub(crate) fn delivery_status<'a>(l: &Lang, status: &'a str) -> &'a str {
    match status {
        "sent" => l.m("pages.delivered"),
        "pending" => l.m("pages.sending"),
        "dead" => l.m("pages.failed"),
        "standby" => l.m("pages.standby-if-the-one-before"),
        other => other,
    }
}

/// A performance grade as the page's language writes it (A–D stay letters).
pub(crate) fn grade_name(l: &Lang, g: hazewarn_response::Grade) -> &'static str {
    use hazewarn_response::Grade;
    match g {
        Grade::Leading => l.m("pages.grade-leading"),
        Grade::NonLeading => l.m("pages.grade-non-leading"),
        Grade::NonKey => l.m("pages.grade-non-key"),
        other => other.name(),
    }
}

/// How the plan treats an enterprise, 保障类 and 白名单 named.
pub(crate) fn treatment_name(l: &Lang, t: Treatment) -> &'static str {
    match t {
        Treatment::Measures => l.m("pages.measures-2"),
        Treatment::SelfDirected => l.m("pages.self-directed-a-leading-whitelist"),
        Treatment::Exempt => l.m("pages.guarantee-exempt"),
        Treatment::HeatLed => l.m("pages.guarantee-heat-led"),
    }
}

/// A time as Beijing shows it, whatever offset it was written with.
pub(crate) fn beijing_time(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    hazewarn_scheduler::beijing(t.with_timezone(&chrono::Utc)).format("%Y-%m-%d %H:%M").to_string()
}

/// The emergency response a warning level brings: （Ⅱ级应急响应）, (level II response).
pub(crate) fn response_words(l: &Lang, level: WarningLevel) -> String {
    let Some(r) = level.response_level() else { return String::new() };
    if l.en() {
        let roman = match r {
            hazewarn_response::ResponseLevel::I => "I",
            hazewarn_response::ResponseLevel::II => "II",
            hazewarn_response::ResponseLevel::III => "III",
        };
        format!(" (level {roman} response)")
    } else {
        format!("（{}{}）", r.zh(), l.m("pages.response"))
    }
}

/// Where a form post lands: back on its page with the outcome, or at sign-in.
pub(crate) fn after_post(path: &str, l: &Lang, outcome: Result<String, ApiError>) -> Response {
    match outcome {
        Ok(m) => back(path, l, &m),
        Err(ApiError::Unauthenticated) => login_needed(l, ApiError::Unauthenticated),
        Err(e) => back(path, l, &page_error(l, &e)),
    }
}

/// A refused form in the page's language: what happened, then the check's own words where it
/// gave some (a field and what is wrong with it), on a Chinese page from the refusal catalogue.
pub(crate) fn page_error(l: &Lang, e: &ApiError) -> String {
    let lead = |key: &str, detail: &str| format!("{}{}{}", l.m(key), l.m("pages.colon"), refusal(l, detail));
    match e {
        ApiError::Unauthenticated => l.m("errors.sign-in").to_owned(),
        ApiError::Forbidden => l.m("errors.forbidden").to_owned(),
        ApiError::NotFound => l.m("errors.not-found").to_owned(),
        ApiError::TooMany { retry_after_s } => format!("{} {retry_after_s} s", l.m("errors.too-many")),
        ApiError::Internal(_) => l.m("errors.internal").to_owned(),
        ApiError::BadRequest(d) => lead("errors.bad-request", d),
        ApiError::Conflict(d) => lead("errors.conflict", d),
        ApiError::Invalid(d) => lead("errors.invalid", d),
    }
}

/// A check's refusal in the page's language. What the catalogue lacks is shown as the check
/// gave it, rather than hidden, and logged once (digits masked: a refusal may quote a mobile
/// number or a credit code) so that it is added.
pub(crate) fn refusal(l: &Lang, detail: &str) -> String {
    if l.en() {
        return detail.to_owned();
    }
    static LOGGED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let (text, missing) = crate::refusals::chinese(detail);
    for piece in missing {
        let masked: String = piece.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
        let mut logged = LOGGED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !logged.contains(&masked) {
            tracing::warn!(refusal = %masked, "a refusal without its Chinese text in refusals.toml");
            logged.push(masked);
        }
    }
    text
}

/// A stored UTC time as Beijing time, for display.
pub(crate) fn local_time(ts: &str) -> String {
    hazewarn_store::parse_ts(ts)
        .map_or_else(|_| ts.to_owned(), |t| hazewarn_scheduler::beijing(t).format("%Y-%m-%d %H:%M").to_string())
}

/// Whether a notice was acknowledged after its deadline.
pub(crate) fn late_acknowledgement(n: &hazewarn_store::response::StoredNotice) -> bool {
    let at = n.acknowledged_at.as_deref().and_then(|a| hazewarn_store::parse_ts(a).ok());
    at.is_some_and(|t| t > n.notice.ack_deadline.with_timezone(&chrono::Utc))
}
