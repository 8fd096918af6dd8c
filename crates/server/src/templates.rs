//! The pages' one layout and the templates that fill it. Templates are askama's: compiled with
//! the server, checked against their structs when it builds, and escaping every value unless a
//! template says `|safe` (only HTML this crate composed). `templates/layout.html` is the frame of
//! every page but a notice as issued (a document of its own): its language, title, navigation,
//! language switch, demonstration clock, sign-out button, the one stylesheet and, when the page
//! draws charts, their scripts.

use askama::Template;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::ApiError;

use crate::pages::Lang;

/// A link of the navigation bar.
pub(crate) struct NavLink<'a> {
    pub href: String,
    pub label: &'a str,
}

/// What the layout needs of a page.
pub(crate) struct Frame<'a> {
    pub l: &'a Lang,
    pub lang: &'static str,
    pub title: &'a str,
    pub nav: Vec<NavLink<'a>>,
    /// This page in the other language (see [`remember_here`]).
    pub switch_href: String,
    pub switch_label: &'static str,
    pub stylesheet: &'static str,
    /// A demonstration city's own time, shown on each of its pages.
    pub demo_clock: Option<String>,
    /// A signed-in page carries the sign-out button.
    pub signed_in: bool,
    pub scripts: Vec<&'static str>,
}

impl<'a> Frame<'a> {
    /// The frame of a page titled `title` with these links; `charts` loads the chart scripts.
    pub(crate) fn new(l: &'a Lang, title: &'a str, nav: Vec<NavLink<'a>>, charts: bool) -> Frame<'a> {
        let here = HERE.try_with(Clone::clone).unwrap_or_else(|_| "/".to_owned());
        let switch_href = switched(&here, !l.en());
        let switch_label = if l.en() { "中文" } else { "English" };
        Frame {
            l,
            lang: if l.en() { "en" } else { "zh-CN" },
            title,
            nav,
            switch_href,
            switch_label,
            stylesheet: crate::assets::STYLESHEET_PATH,
            demo_clock: None,
            signed_in: false,
            scripts: if charts { crate::assets::CHART_SCRIPTS.to_vec() } else { Vec::new() },
        }
    }
}

tokio::task_local! {
    /// Where the page being answered is (see [`remember_here`]).
    static HERE: String;
}

/// Remembers where each request is, so that a page's language switch leads to the same page,
/// its query kept (a year, a filter, older entries). A form's answer cannot be fetched again, so
/// its switch leads to the page of its role (`/office` for `/office/list`).
pub(crate) async fn remember_here(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let here = if req.method() == Method::GET {
        uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
    } else {
        role_page(uri.path())
    };
    HERE.scope(here, next.run(req)).await
}

/// The page of the role a path belongs to: its first segment (`/office` for `/office/list`).
fn role_page(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/').split('/').next().unwrap_or_default())
}

/// A form's answer stays at the form's address, which takes only posts: reloading it or opening
/// it from the history would be a bare 405. A page (not the API) answers such a GET by sending
/// the browser to its role's page, in its language.
pub(crate) async fn reload_of_a_form(req: Request, next: Next) -> Response {
    let page = (req.method() == Method::GET && !req.uri().path().starts_with("/api/")).then(|| req.uri().clone());
    let resp = next.run(req).await;
    match page {
        Some(uri) if resp.status() == StatusCode::METHOD_NOT_ALLOWED => {
            let english = uri.query().is_some_and(|q| q.split('&').any(|p| p == "lang=en"));
            let role = role_page(uri.path());
            axum::response::Redirect::to(&if english { format!("{role}?lang=en") } else { role }).into_response()
        }
        _ => resp,
    }
}

/// `here` (a path and query) in English or in Chinese: its `lang` set or dropped, and its `msg`
/// and `sig` dropped (what a form's answer said once is not said again).
fn switched(here: &str, to_english: bool) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next().is_some_and(|k| !["lang", "msg", "sig"].contains(&k)))
        .collect();
    if to_english {
        kept.push("lang=en");
    }
    if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
}

/// A warning level offered in a form's `<select>`.
pub(crate) struct LevelOption {
    pub value: &'static str,
    pub name: String,
    pub selected: bool,
}

impl LevelOption {
    /// The three colours in the page's language, `chosen` selected.
    pub(crate) fn coloured(l: &Lang, chosen: hazewarn_response::WarningLevel) -> Vec<LevelOption> {
        hazewarn_response::WarningLevel::COLOURED
            .into_iter()
            .map(|lv| LevelOption { value: lv.name(), name: crate::pages::level_name(l, lv), selected: lv == chosen })
            .collect()
    }
}

/// A page that says one thing (or only its title).
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub frame: Frame<'a>,
    pub text: &'a str,
}

/// Renders a signed-in page: every form that posts carries the session's CSRF token.
pub(crate) fn render_signed_in(t: &impl Template, csrf: &str) -> Response {
    match t.render() {
        Ok(html) => Html(crate::pages::protect_forms(&html, csrf)).into_response(),
        Err(e) => failed(&e),
    }
}

/// Renders a page. Rendering into a string fails only if a value's formatting does, which
/// would be a defect: it is logged and answered with 500, as any internal error.
pub(crate) fn render(t: &impl Template) -> Response {
    t.render().map_or_else(|e| failed(&e), |html| Html(html).into_response())
}

/// Renders a section of a page (or any part another template places whole).
pub(crate) fn fragment(t: &impl Template) -> Result<String, ApiError> {
    t.render().map_err(|e| ApiError::Internal(format!("a template could not be rendered: {e}")))
}

fn failed(e: &askama::Error) -> Response {
    tracing::error!(error = %e, "a page could not be rendered");
    (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><title>500</title><p>500</p>")).into_response()
}

#[cfg(test)]
mod tests {
    use super::switched;

    #[test]
    fn the_language_switch_keeps_the_page_and_its_query() {
        assert_eq!(switched("/office/history?year=2026&lang=en", false), "/office/history?year=2026");
        assert_eq!(switched("/office/audit?verify=true", true), "/office/audit?verify=true&lang=en");
        assert_eq!(switched("/office?msg=%E5%B7%B2&lang=en", false), "/office");
        assert_eq!(switched("/", true), "/?lang=en");
        assert_eq!(switched("/office?county=%E5%8F%AC%E9%99%B5", true), "/office?county=%E5%8F%AC%E9%99%B5&lang=en");
        // A key that merely starts with "lang" is another key.
        assert_eq!(switched("/x?language=zh&lang=en", false), "/x?language=zh");
    }
}
