//! The pages' one layout and the templates that fill it. Templates are askama's: compiled with
//! the server, checked against their structs when it builds, and escaping every value unless a
//! template says `|safe` (only HTML this crate composed). `templates/layout.html` is the frame of
//! every page: its language, title, navigation, language switch, demonstration clock, the one
//! stylesheet and, when the page draws charts, their scripts.

use askama::Template;
use axum::response::Html;

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

/// A page that says one thing (or only its title).
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub frame: Frame<'a>,
    pub text: &'a str,
}

/// Renders a signed-in page: every form that posts carries the session's CSRF token.
pub(crate) fn render_signed_in(t: &impl Template, csrf: &str) -> Html<String> {
    Html(crate::pages::protect_forms(&render(t).0, csrf))
}

/// Renders a template. Rendering into a string fails only if a value's formatting does, which
/// would be a defect: it is logged and the page says that something went wrong.
pub(crate) fn render(t: &impl Template) -> Html<String> {
    Html(t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page could not be rendered");
        "<!doctype html><title>500</title><p>500</p>".to_owned()
    }))
}
