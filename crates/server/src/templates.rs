//! The pages' one layout and the templates that fill it. Templates are askama's: compiled with
//! the server, checked against their structs when it builds, and escaping every value unless a
//! template says `|safe` (only HTML this crate composed). `templates/layout.html` is the frame of
//! every page but a notice as issued (a document of its own): its language, title, navigation,
//! language switch, demonstration clock, sign-out button, the one stylesheet and, when the page
//! draws charts, their scripts.

use askama::Template;
use axum::http::StatusCode;
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
    pub switch_href: &'static str,
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
        let (switch_href, switch_label) = if l.en() { ("?", "中文") } else { ("?lang=en", "English") };
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
