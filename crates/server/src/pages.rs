//! Server-rendered pages: public, forecaster, emergency office, enterprise. Chinese by default,
//! English with `?lang=en`. Forms post back here and redirect; the actions are the API's.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use hazewarn_response::{Treatment, WarningLevel};
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::api::{self, forecast_view};
use crate::auth::{Authorized, Caller};
use crate::templates::{self, Frame, NavLink, Page};
use crate::{ApiError, AppState, escape, svg};

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
    pub(crate) fn q(&self) -> &'static str {
        if self.en() { "?lang=en" } else { "" }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(crate::public_view::public))
        .route("/forecaster", get(forecaster))
        .route("/forecaster/review", post(forecaster_review))
        .route("/office", get(office))
        .route("/office/warning", post(office_warning))
        .route("/office/retry", post(office_retry))
        .route("/office/retry-all", post(office_retry_all))
        .route("/enterprise/notice/{id}", get(printable_notice))
        .route("/enterprise", get(enterprise))
        .route("/enterprise/ack", post(enterprise_ack))
}

/// A city's page: the city's navigation around `body`.
pub(crate) fn page(l: &Lang, title: &str, body: &str) -> Html<String> {
    templates::render(&Page { frame: city_nav_frame(l, title, has_charts(body)), body })
}

/// The frame of a city's page: its four pages in the navigation, the chart scripts when the
/// body has charts.
fn city_nav_frame<'a>(l: &'a Lang, title: &'a str, charts: bool) -> Frame<'a> {
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

/// A composed body with a chart loads the library that draws it.
fn has_charts(body: &str) -> bool {
    body.contains("class=\"echart\"")
}

/// A page with its own navigation (the province's server has other pages than a city's).
pub(crate) fn page_with_nav<'a>(l: &'a Lang, title: &'a str, body: &str, nav: Vec<NavLink<'a>>) -> Html<String> {
    templates::render(&Page { frame: Frame::new(l, title, nav, has_charts(body)), body })
}

/// A page of a city: a demonstration city's pages say that they run on its own clock.
pub(crate) fn city_page(s: &AppState, l: &Lang, title: &str, body: &str) -> Html<String> {
    templates::render(&Page { frame: city_frame(s, l, title, has_charts(body)), body })
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
pub(crate) fn login_needed(l: &Lang, e: ApiError) -> Response {
    match e {
        ApiError::Unauthenticated => Redirect::to(&format!("/login{}", l.q())).into_response(),
        ApiError::Forbidden => (StatusCode::FORBIDDEN, page(l, l.m("pages.not-allowed"), "")).into_response(),
        other => other.into_response(),
    }
}

/// A forecast run's status, or a review's action, in the page's language.
pub(crate) fn run_status<'a>(l: &Lang, status: &'a str) -> &'a str {
    match status {
        "issued" => l.m("pages.awaiting-review"),
        "approved" => l.m("pages.approved"),
        "adjusted" => l.m("pages.adjusted"),
        "approve" => l.m("pages.approve"),
        "adjust" => l.m("pages.adjust"),
        "annotate" => l.m("pages.annotate"),
        other => other,
    }
}

/// The hourly forecast as the forecaster's adjustment leaves it: each day whose AQI was adjusted
/// has its hours scaled by the ratio of the PM2.5 the adjusted and the issued AQI stand for
/// (HJ 633 read backwards), so the hourly chart agrees with the daily bars. Also whether any day
/// was adjusted.
pub(crate) fn follow_adjustments(
    leads: &[hazewarn_forecast::LeadForecast],
    issued: &[hazewarn_scheduler::cycle::DailyRow],
    shown: &[hazewarn_scheduler::cycle::DailyRow],
) -> (Vec<hazewarn_forecast::LeadForecast>, bool) {
    let pm25 = |date: chrono::NaiveDate, aqi: u32| {
        hazewarn_aqi::Standards::builtin()
            .for_date(date)
            .concentration(hazewarn_aqi::Indicator::Pm25_24h, f64::from(aqi))
    };
    let mut ratios = std::collections::HashMap::new();
    for d in shown {
        let Some(raw) = issued.iter().find(|r| r.date == d.date) else { continue };
        if raw.aqi_p50 == d.aqi_p50 {
            continue;
        }
        if let (Some(a), Some(b)) = (pm25(d.date, d.aqi_p50), pm25(d.date, raw.aqi_p50))
            && b > 0.0
        {
            ratios.insert(d.date, a / b);
        }
    }
    let mut out = leads.to_vec();
    for l in &mut out {
        if let Some(r) = ratios.get(&l.valid.date()) {
            l.p10 *= r;
            l.p50 *= r;
            l.p90 *= r;
        }
    }
    (out, !ratios.is_empty())
}

/// The hourly chart: the observed hours (relative to the issue hour) and the run's leads on one
/// Beijing-time axis; the server's SVG where scripts do not run.
fn hourly_chart(
    l: &Lang,
    title: &str,
    issue: chrono::NaiveDateTime,
    observed: &[(i64, f64)],
    leads: &[hazewarn_forecast::LeadForecast],
) -> String {
    let first = observed.iter().map(|o| o.0).min().unwrap_or(0).min(0);
    let last = leads.iter().map(|h| h.lead as i64).max().unwrap_or(0);
    let obs: std::collections::HashMap<i64, f64> = observed.iter().copied().collect();
    let fc: std::collections::HashMap<i64, &hazewarn_forecast::LeadForecast> =
        leads.iter().map(|h| (h.lead as i64, h)).collect();
    let hours: Vec<_> = (first..=last)
        .map(|rel| {
            let f = fc.get(&rel);
            crate::charts::HourPoint {
                at: Some(issue + Duration::hours(rel)),
                observed: obs.get(&rel).copied(),
                p10: f.map(|f| f.p10),
                p50: f.map(|f| f.p50),
                p90: f.map(|f| f.p90),
            }
        })
        .collect();
    let labels = crate::charts::HourlyLabels {
        observed: l.m("pages.observed"),
        p50: l.m("pages.forecast-p50"),
        band: l.m("pages.p10-p90-band"),
        issued: l.m("pages.issued"),
        edges: if l.en() {
            ["Light", "Moderate", "Heavy", "Severe"]
        } else {
            ["轻度污染", "中度污染", "重度污染", "严重污染"]
        },
        title,
    };
    let option = crate::charts::hourly(&hours, issue, &labels);
    let fallback: Vec<(i64, f64, f64, f64)> = leads.iter().map(|h| (h.lead as i64, h.p10, h.p50, h.p90)).collect();
    crate::charts::element("hourly-chart", title, &option, &svg::hourly_chart(observed, &fallback, "PM2.5"))
}

/// The daily chart: AQI p50 per day in its level's colour, with its p10–p90 range.
fn daily_chart(title: &str, days: &[hazewarn_scheduler::cycle::DailyRow]) -> String {
    let standards = hazewarn_aqi::Standards::builtin();
    let bars: Vec<crate::charts::DailyBar> = days
        .iter()
        .map(|d| crate::charts::DailyBar {
            label: d.date.format("%m-%d").to_string(),
            aqi: (d.aqi_p10, d.aqi_p50, d.aqi_p90),
            colour: standards.for_date(d.date).level(d.aqi_p50).rgb.clone(),
            trend: d.trend,
        })
        .collect();
    let svg_bars: Vec<(String, u32, String, bool)> =
        bars.iter().map(|b| (b.label.clone(), b.aqi.1, b.colour.clone(), b.trend)).collect();
    let option = crate::charts::daily(&bars, title, "AQI p50");
    crate::charts::element("daily-chart", title, &option, &svg::daily_bars(&svg_bars, "AQI"))
}

async fn forecaster(State(s): State<AppState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let result: Result<Html<String>, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Forecaster, Role::Office])?;
        let v = forecast_view(&s, None).await?;
        let issue = hazewarn_store::parse_ts(&v.issue_time)?;
        let issue_local = hazewarn_scheduler::beijing(issue).naive_local();
        // The last 7 days of observations, from the canonical Parquet the last ingest wrote.
        let mut observed = Vec::new();
        // The series the cycle forecasts (the city series with stations configured).
        let parquet = s.city.config.data.work_dir.join("city.parquet");
        let city_series = hazewarn_ingest::read_station(&parquet, Some(hazewarn_ingest::Layout::Parquet), None).ok();
        if let Some(series) = &city_series
            && let Some(pm) = series.usable(hazewarn_ingest::Variable::Pm25)
        {
            for (t, v) in series.times.iter().zip(pm) {
                let rel = (*t - issue_local).num_hours();
                if (-168..=0).contains(&rel) {
                    observed.push((rel, v));
                }
            }
        }
        let mut b = format!(
            "<p>{} <b id=\"run\">{}</b> · {} {} · {} <code>{}</code> · {} <b id=\"status\">{}</b></p>",
            l.m("pages.run"),
            escape(&v.id),
            l.m("pages.issued-2"),
            hazewarn_scheduler::beijing(issue).format("%Y-%m-%d %H:%M"),
            l.m("pages.model"),
            escape(&v.model),
            l.m("pages.status"),
            escape(run_status(&l, &v.status))
        );
        // The run shown may be days old when the cycles stopped: the page says so.
        let age = s.city.now() - issue;
        if age > Duration::hours(26) {
            b += &format!(
                "<p class=\"msg\" id=\"old-run\">{} {} {}</p>",
                l.m("pages.run-is-old"),
                age.num_hours(),
                l.m("pages.run-is-old-hours")
            );
        }
        let hourly_title = l.m("pages.hourly-pm2-5-96-h");
        b += &format!("<h2>{hourly_title}</h2>");
        let raw_daily = match s.city.store.forecast_run(&v.id).await? {
            Some(run) => serde_json::from_str(&run.daily).unwrap_or_default(),
            None => Vec::new(),
        };
        let (leads, adjusted) = follow_adjustments(&v.hourly, &raw_daily, &v.daily);
        b += &hourly_chart(&l, hourly_title, issue_local, &observed, &leads);
        if adjusted {
            b += &format!("<p class=\"muted\" id=\"hourly-adjusted\">{}</p>", l.m("pages.hourly-follows-adjustment"));
        }
        let daily_title = l.m("pages.daily-aqi-d-1-d");
        b += &format!("<h2>{daily_title}</h2>");
        b += &daily_chart(daily_title, &v.daily);
        b += &crate::forecaster_view::level_table(&l, &v.levels);
        b += &crate::stations_view::section(
            &l,
            &s.city.config.stations,
            &s.city.config.data.work_dir,
            city_series.as_ref(),
            issue_local,
        );
        b += &latest_cycle_failure(&s, &l).await?;
        b += &crate::forecaster_view::inputs_table(&l, &v.inputs);
        if let Some(batch) = s.city.store.observation_batches(1).await?.first() {
            b += &crate::forecaster_view::qc_table(&l, &batch.qc_summary);
        }
        // The 30 days of verification before this run's issue time (not the wall clock's: a
        // forecaster reviewing a run sees how the forecasts before it verified).
        let scores = s.city.store.scores_between(issue - Duration::days(30), issue).await?;
        b += &crate::forecaster_view::verification_table(&l, &scores);
        b += &crate::forecaster_view::review_form(&l, &v);
        if !l.msg.is_empty() {
            b = format!("<p class=\"msg\">{}</p>", escape(&l.msg)) + &b;
        }
        Ok(city_page(&s, &l, l.m("pages.forecaster-today-s-forecast"), &signed_in(&l, &b, &caller.csrf)))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

#[derive(Deserialize)]
struct ReviewForm {
    run: String,
    action: api::ActionName,
    #[serde(default)]
    note: String,
    #[serde(default)]
    aqi1: String,
    #[serde(default)]
    aqi2: String,
    #[serde(default)]
    aqi3: String,
}

/// A forecaster's adjusted AQI from the form: blank for none, else a whole number 0–500.
pub(crate) fn adjusted_aqi(field: &str, text: &str) -> Result<Option<u32>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(v) if v <= 500 => Ok(Some(v)),
        _ => Err(ApiError::Invalid(format!("`{field}`: `{text}` is not an AQI (a whole number 0–500)"))),
    }
}

/// Moves a day's AQI to `v`, its interval moving with it (same widths, within 0–500).
pub(crate) fn adjust_day(row: &mut hazewarn_scheduler::cycle::DailyRow, v: u32) {
    let (below, above) = (row.aqi_p50.saturating_sub(row.aqi_p10), row.aqi_p90.saturating_sub(row.aqi_p50));
    row.aqi_p50 = v;
    row.aqi_p10 = v.saturating_sub(below);
    row.aqi_p90 = (v + above).min(500);
}

pub(crate) fn back(path: &str, l: &Lang, msg: &str) -> Response {
    let sep = if l.en() { "&" } else { "?" };
    let q = l.q();
    Redirect::to(&format!("{path}{q}{sep}msg={}", percent_encode(msg))).into_response()
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

/// Adds the session's CSRF token to every form that posts (see `security`).
/// A signed-in page's body: the sign-out button, then the body, every form with its CSRF field.
pub(crate) fn signed_in(l: &Lang, body: &str, csrf: &str) -> String {
    protect_forms(&(crate::signin::logout_form(l) + body), csrf)
}

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

/// The latest forecast job, when it failed: what failed and when, above everything else.
async fn latest_cycle_failure(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let runs = s.city.store.job_runs(50).await?;
    let Some(last) = runs.iter().find(|r| r.job == "forecast") else { return Ok(String::new()) };
    if last.status != "failed" {
        return Ok(String::new());
    }
    Ok(format!(
        "<p class=\"msg\" id=\"cycle-failed\">{} {} · {}</p>",
        l.m("pages.the-latest-forecast-cycle-failed"),
        escape(&last.slot),
        escape(&refusal(l, &last.detail))
    ))
}

async fn forecaster_review(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<ReviewForm>,
) -> Response {
    let result: Result<(), ApiError> = async {
        let auth = Authorized::from_caller(caller?)?;
        let mut daily = None;
        if f.action == api::ActionName::Adjust {
            let run = s.city.store.forecast_run(&f.run).await?.ok_or(ApiError::NotFound)?;
            let mut rows = s.city.daily_of(&run).await?;
            for (k, (field, text)) in [("aqi1", &f.aqi1), ("aqi2", &f.aqi2), ("aqi3", &f.aqi3)].into_iter().enumerate()
            {
                if let (Some(v), Some(row)) = (adjusted_aqi(field, text)?, rows.get_mut(k)) {
                    adjust_day(row, v);
                }
            }
            daily = Some(rows);
        }
        let req = api::ReviewRequest { action: f.action, note: f.note.clone(), daily };
        let _review = api::review(State(s.clone()), auth, axum::extract::Path(f.run.clone()), axum::Json(req)).await?;
        Ok(())
    }
    .await;
    let recorded = format!("{} {}", f.action.as_str(), l.m("pages.recorded"));
    after_post("/forecaster", &l, result.map(|()| recorded))
}

async fn office(State(s): State<AppState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let result: Result<Html<String>, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Office])?;
        let mut b = String::new();
        if !l.msg.is_empty() {
            b += &format!("<p class=\"msg\">{}</p>", escape(&l.msg));
        }
        let in_force = s.city.store.warning_in_force().await?;
        b += &format!(
            "<p class=\"no-print\"><a href=\"/office/history{q}\" id=\"history-link\">{}</a> · <a href=\"/office/audit{q}\" id=\"audit-link\">{}</a></p>",
            l.m("history.title"),
            l.m("history.audit-title"),
            q = l.q()
        );
        if in_force.is_some() {
            b += &crate::exports::links(&l);
        }
        b += &format!("<h2>{}</h2>", l.m("pages.warning-in-force"));
        match &in_force {
            Some(w) => b += &format!("<p id=\"in-force\"><span class=\"badge\" style=\"background:{};color:{}\">{}</span> {} · {} — {}</p>", level_colour(w.level()), svg::text_on(level_colour(w.level())), level_name(&l, w.level()), escape(&w.id), w.current().start.format("%m-%d %H:%M"), w.current().end.format("%m-%d %H:%M")),
            None => b += &format!("<p id=\"in-force\">{}</p>", l.m("pages.none")),
        }
        // A regional advisory asks for an answer by a deadline: it comes before everything else.
        b += &crate::advisories_view::section(&s, &l).await?;
        let (section, recommended) = recommendation_section(&s, &l, in_force.as_ref()).await?;
        b += &section;
        b += &format!(
            "<h3>{}</h3>{}{}{}",
            l.m("pages.manual-steps"),
            confirm_form(&l, "issue", &level_inputs(&l, true, WarningLevel::Orange), l.m("pages.issue")),
            confirm_form(&l, "upgrade", &level_inputs(&l, false, WarningLevel::Red), l.m("pages.upgrade")),
            confirm_form(&l, "downgrade", &level_inputs(&l, false, WarningLevel::Yellow), l.m("pages.downgrade")),
        );
        b += &confirm_form(&l, "lift", "", l.m("pages.lift"));
        // The plan of the warning in force; with none, the plan the recommendation would bring.
        let plan_level = in_force.as_ref().map(|w| w.level()).or(recommended).filter(|l| *l != WarningLevel::None);
        if let Some(level) = plan_level {
            b += &plan_section(&s, &l, level, in_force.is_some()).await?;
        }
        b += &deliveries_section(&s, &l).await?;
        b += &crate::compliance_view::section(&s, &l).await?;
        b += &crate::devices_view::section(&s, &l).await?;
        b += &crate::lists_view::list_versions_section(&s, &l).await?;
        b += &crate::accounts_view::section(&s, &l).await?;
        b += &format!(
            "<h2>{}</h2><form method=\"post\" action=\"/office/list-file?csrf={csrf}{amp}\" enctype=\"multipart/form-data\">\
             <input type=\"file\" name=\"file\" accept=\".xlsx,.csv\" id=\"list-file\"> <button id=\"upload-file\">{}</button></form>\
             <p>{}</p><form method=\"post\" action=\"/office/list{q}\"><textarea name=\"csv\" rows=\"4\" cols=\"90\" placeholder=\"credit_code,name,…\"></textarea><br><button id=\"upload-csv\">{}</button></form>",
            l.m("pages.upload-a-reduction-list"),
            l.m("pages.upload-xlsx-csv"),
            l.m("pages.or-paste-csv"),
            l.m("pages.validate-and-import"),
            q = l.q(),
            csrf = escape(&caller.csrf),
            amp = if l.en() { "&amp;lang=en" } else { "" },
        );
        Ok(city_page(&s, &l, l.m("pages.emergency-office-warning-and-reductions"), &signed_in(&l, &b, &caller.csrf)))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

/// The latest run's recommendation with its reasons, and the button that carries it out while
/// it still stands (a stale one says why it may no longer be carried out). Also the level it
/// recommends.
async fn recommendation_section(
    s: &AppState,
    l: &Lang,
    in_force: Option<&hazewarn_response::Warning>,
) -> Result<(String, Option<WarningLevel>), ApiError> {
    let mut b = format!("<h2>{}</h2>", l.m("pages.recommended-action"));
    let Some(latest) = s.city.store.latest_forecast_run(s.city.now(), false).await? else {
        b += &format!("<p id=\"recommendation\">{}</p>", l.m("pages.no-forecast-yet"));
        return Ok((b, None));
    };
    // The latest graded run's recommendation; a newer run awaiting approval is said apart.
    let graded = s.city.store.latest_graded_run().await?;
    if graded.as_deref() != Some(latest.id.as_str()) {
        let waiting = l.m("pages.not-graded-yet-awaiting-the");
        b += &format!("<p id=\"awaiting\">{} {waiting}</p>", escape(&latest.id));
    }
    let Some(run_id) = graded else { return Ok((b, None)) };
    let Some(rec) = s.city.store.recommendation(&run_id).await? else { return Ok((b, None)) };
    let level = level_name(l, rec.level);
    b +=
        &format!("<p id=\"recommendation\">{}: <b>{}</b> {level}</p><ul>", escape(&run_id), action_name(l, rec.action));
    for r in &rec.reasons {
        b += &format!("<li>{}</li>", escape(if l.en() { &r.en } else { &r.zh }));
    }
    b += "</ul>";
    if hazewarn_scheduler::Step::recommended(&rec).is_some() {
        match s.city.recommendation_stale(&run_id).await? {
            Some(why) => {
                // A step taken on this very forecast carried the recommendation out; any other
                // step, or a newer grading, left it behind.
                let carried_out = matches!(why, hazewarn_scheduler::cycle::Stale::StepTaken(_))
                    && in_force.is_some_and(|w| w.current().forecast_id == run_id);
                if carried_out {
                    b += &format!("<p id=\"stale\">{}</p>", l.m("pages.recommendation-carried-out"));
                } else {
                    let stale = l.m("pages.this-recommendation-is-stale");
                    let why = if l.en() { why.to_string() } else { why.zh() };
                    b += &format!("<p id=\"stale\">{stale} {}</p>", escape(&why));
                }
            }
            None => {
                let hidden = format!("<input type=\"hidden\" name=\"run_id\" value=\"{}\">", escape(&run_id));
                b += &confirm_form(l, "approve", &hidden, l.m("pages.carry-out-the-recommendation"));
            }
        }
    }
    Ok((b, Some(rec.level)))
}

/// The plan at `level`: totals against the targets, the shortfall suggestions, and the
/// enterprises with their treatment (保障类 and 白名单 marked) and measures.
async fn plan_section(s: &AppState, l: &Lang, level: WarningLevel, in_force: bool) -> Result<String, ApiError> {
    let (_, list) = s.city.list().await?;
    let c = &s.city;
    let p = hazewarn_response::plan(&list, &c.rules, level, &c.inventory, &c.profile.targets, c.guarantee())?;
    let whose = if in_force { l.m("pages.warning-in-force-2") } else { l.m("pages.recommended-level") };
    let mut b = format!(
        "<h2>{} {}{}{}{whose}{}</h2><table id=\"totals\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        l.m("pages.reduction-plan"),
        l.m("pages.open-paren"),
        level_name(l, level),
        l.m("pages.list-comma"),
        l.m("pages.close-paren"),
        l.m("compliance.pollutant"),
        l.m("pages.cut-kg-d"),
        l.m("pages.share"),
        l.m("compliance.target")
    );
    for t in &p.totals {
        b += &format!(
            "<tr><td>{}</td><td>{:.0}</td><td>{:.1}%</td><td>{:.0}%</td><td>{}</td></tr>",
            escape(&t.pollutant),
            t.reduction_kg_d,
            t.ratio * 100.0,
            t.target * 100.0,
            if t.met { "✓" } else { l.m("pages.short") }
        );
    }
    b += "</table>";
    if !p.suggestions.is_empty() {
        b += &format!(
            "<h3>{}</h3><table id=\"suggestions\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            l.m("pages.suggestions-to-close-the-shortfall"),
            l.m("compliance.enterprise"),
            l.m("pages.grade"),
            l.m("compliance.line"),
            l.m("pages.now"),
            l.m("pages.proposed")
        );
        for g in &p.suggestions {
            b += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&g.name),
                escape(grade_name(l, g.grade)),
                escape(&g.line),
                escape(&measure_words(l, &g.current)),
                escape(&measure_words(l, &g.proposed))
            );
        }
        b += "</table>";
    }
    if !p.unresolved.is_empty() {
        b += &format!("<p>{} {}</p>", l.m("pages.still-short"), escape(&p.unresolved.join(", ")));
    }
    b += &format!(
        "<form method=\"get\" action=\"/office\"><input type=\"hidden\" name=\"lang\" value=\"{}\">{} <input name=\"county\" value=\"{}\"> {} <input name=\"industry\" value=\"{}\"> {} <input name=\"grade\" value=\"{}\" size=\"4\"> <button>{}</button></form>",
        escape(&l.lang),
        l.m("pages.county"),
        escape(&l.county),
        l.m("pages.industry"),
        escape(&l.industry),
        l.m("pages.grade"),
        escape(&l.grade),
        l.m("pages.filter")
    );
    b += &format!(
        "<table id=\"enterprises\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("compliance.enterprise"),
        l.m("pages.county"),
        l.m("pages.industry"),
        l.m("pages.grade"),
        l.m("pages.treatment"),
        l.m("pages.measures")
    );
    for e in &p.enterprises {
        let grade = grade_name(l, e.grade);
        if (!l.county.is_empty() && e.county != l.county)
            || (!l.industry.is_empty() && e.industry != l.industry)
            || (!l.grade.is_empty() && grade != l.grade)
        {
            continue;
        }
        let treatment = treatment_name(l, e.treatment);
        let measures: Vec<String> = e
            .lines
            .iter()
            .map(|x| format!("{}{}{}", x.line, l.m("pages.colon"), if l.en() { &x.measure_en } else { &x.measure_zh }))
            .collect();
        b += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{treatment}</td><td class=\"text\">{}</td></tr>",
            escape(&e.name),
            escape(&e.county),
            escape(&e.industry),
            escape(grade),
            escape(&measures.join(l.m("pages.list-semicolon")))
        );
    }
    b += "</table>";
    Ok(b)
}

/// Each notice of the warning in force with its step and level, per channel, and the dead
/// letters with a retry button.
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

async fn deliveries_section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let rows = api::delivery_rows(s).await?;
    let mut b = format!(
        "<h2>{}</h2><table id=\"deliveries\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("pages.delivery-status"),
        l.m("compliance.enterprise"),
        l.m("pages.step"),
        l.m("pages.level"),
        l.m("pages.channels"),
        l.m("pages.acknowledged"),
        l.m("pages.overdue")
    );
    for r in &rows {
        let ch: Vec<String> = r.deliveries.iter().map(|(c, st)| format!("{c}: {}", delivery_status(l, st))).collect();
        let overdue = match (r.overdue, r.escalated) {
            (false, _) => "",
            (true, true) => l.m("pages.overdue-escalated"),
            (true, false) => l.m("pages.overdue-2"),
        };
        b += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{overdue}</td></tr>",
            escape(&r.enterprise),
            r.step,
            level_name(l, r.level),
            escape(&ch.join(", ")),
            escape(&r.acknowledged_at.as_deref().map_or_else(|| "-".to_owned(), local_time))
        );
    }
    b += "</table>";
    // The totals first: what the office asks before it reads the rows.
    let any = |r: &api::DeliveryRow, status: &str| r.deliveries.iter().any(|(_, st)| st == status);
    let totals = [
        ("pages.total-notices", rows.len()),
        ("pages.total-delivered", rows.iter().filter(|r| any(r, "sent")).count()),
        ("pages.total-pending", rows.iter().filter(|r| !any(r, "sent") && any(r, "pending")).count()),
        ("pages.total-dead", rows.iter().filter(|r| !any(r, "sent") && any(r, "dead")).count()),
        ("pages.total-acknowledged", rows.iter().filter(|r| r.acknowledged_at.is_some()).count()),
        ("pages.total-overdue", rows.iter().filter(|r| r.overdue).count()),
    ];
    let totals: Vec<String> =
        totals.iter().map(|(key, n)| format!("{}{}<b>{n}</b>", l.m(key), l.m("pages.colon"))).collect();
    b = b.replacen(
        "<table id=\"deliveries\">",
        &format!("<p id=\"delivery-totals\">{}</p><table id=\"deliveries\">", totals.join(" · ")),
        1,
    );
    let dead = s.city.store.outbox_in(hazewarn_store::OutboxStatus::Dead, DEAD_SHOWN).await?;
    if !dead.is_empty() {
        b += &format!(
            "<h3>{}</h3><form method=\"post\" action=\"/office/retry-all{}\"><button id=\"retry-all\">{} ({})</button></form><table>",
            l.m("pages.dead-letters"),
            l.q(),
            l.m("pages.retry-all"),
            dead.len()
        );
        for d in &dead {
            b += &format!(
                "<tr><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/office/retry{}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><button>{}</button></form></td></tr>",
                escape(&d.id),
                escape(d.last_error.as_deref().unwrap_or("")),
                l.q(),
                escape(&d.id),
                l.m("pages.retry")
            );
        }
        b += "</table>";
    }
    Ok(b)
}

/// The level and window fields of a warning-step form; the times are picked in Beijing time.
fn level_inputs(l: &Lang, with_start: bool, default: WarningLevel) -> String {
    let time = |name: &str, key: &str| {
        format!("<label>{} <input type=\"datetime-local\" name=\"{name}\" step=\"3600\"></label> ", l.m(key))
    };
    let options: String = [WarningLevel::Yellow, WarningLevel::Orange, WarningLevel::Red]
        .into_iter()
        .map(|level| {
            let selected = if level == default { " selected" } else { "" };
            format!("<option value=\"{}\"{selected}>{}</option>", level.name(), level_name(l, level))
        })
        .collect();
    let start = if with_start { time("start", "pages.step-start") } else { String::new() };
    format!(
        "<label>{} <select name=\"level\">{options}</select></label> {start}{}",
        l.m("pages.step-level"),
        time("end", "pages.step-end")
    )
}

/// What the public is asked to do at `level`, as the city's grading profile words it.
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

/// A plan's measure code (`stop`, `cut:30`, …) in plain words.
fn measure_words(l: &Lang, code: &str) -> String {
    match hazewarn_response::Measure::parse(code) {
        Ok(m) if l.en() => m.en(),
        Ok(m) => m.zh(),
        Err(_) => code.to_owned(),
    }
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

/// What a grading recommends, in the page's language.
fn action_name(l: &Lang, action: hazewarn_response::Action) -> &'static str {
    use hazewarn_response::Action;
    match action {
        Action::None => l.m("pages.action-none"),
        Action::Issue => l.m("pages.action-issue"),
        Action::Upgrade => l.m("pages.action-upgrade"),
        Action::Downgrade => l.m("pages.action-downgrade"),
        Action::Extend => l.m("pages.action-extend"),
        Action::Lift => l.m("pages.action-lift"),
    }
}

/// A warning-step form that asks for a reason and a confirmation before it posts.
fn confirm_form(l: &Lang, step: &str, inputs: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/office/warning{q}\" onsubmit=\"return confirm('{ask}')\">\
         <input type=\"hidden\" name=\"step\" value=\"{step}\">{inputs}<input name=\"reason\" placeholder=\"{reason}\" size=\"30\" required> \
         <button id=\"{step}\">{label}</button></form>",
        q = l.q(),
        ask = l.m("pages.confirm"),
        reason = l.m("pages.reason"),
    )
}

#[derive(Deserialize)]
struct WarningForm {
    step: api::StepName,
    run_id: Option<String>,
    level: Option<api::LevelName>,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    reason: String,
}

async fn office_warning(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<WarningForm>,
) -> Response {
    let result: Result<String, ApiError> = async {
        let auth = Authorized::from_caller(caller?)?;
        let time = |v: &str| -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, ApiError> {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                // A date-time picker sends local time without an offset: Beijing time.
                let picked = chrono::NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M")
                    .ok()
                    .map(|t| t.and_utc() - Duration::hours(8))
                    .map(hazewarn_scheduler::beijing);
                chrono::DateTime::parse_from_rfc3339(v.trim()).ok().or(picked).map(Some).ok_or_else(|| {
                    ApiError::BadRequest(format!("`{v}` is not a time such as 2026-01-05T00:00 (Beijing time)"))
                })
            }
        };
        let req = api::WarningRequest {
            step: f.step,
            run_id: f.run_id.clone(),
            level: f.level,
            start: time(&f.start)?,
            end: time(&f.end)?,
            reason: f.reason.clone(),
        };
        let axum::Json(w) = api::warning_step(State(s.clone()), auth, axum::Json(req)).await?;
        let step = w.current();
        Ok(format!("{} {} {}", w.id, crate::history_view::kind_name(&l, step.kind), level_name(&l, step.level)))
    }
    .await;
    after_post("/office", &l, result)
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

/// A check's refusal in the page's language. A refusal the catalogue lacks is shown as the
/// check gave it, rather than hidden, and logged so that it is added.
pub(crate) fn refusal(l: &Lang, detail: &str) -> String {
    if l.en() {
        return detail.to_owned();
    }
    crate::refusals::chinese(detail).unwrap_or_else(|| {
        tracing::warn!(detail, "a refusal without its Chinese text in refusals.toml");
        detail.to_owned()
    })
}

#[derive(Deserialize)]
struct IdForm {
    id: String,
}

async fn office_retry(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<IdForm>,
) -> Response {
    let r = async { api::retry_dead(State(s.clone()), caller?, axum::extract::Path(f.id.clone())).await }.await;
    match r {
        Ok(_) => back("/office", &l, &f.id),
        Err(e) => back("/office", &l, &page_error(&l, &e)),
    }
}

/// Dead letters listed on the office page, and retried at once.
const DEAD_SHOWN: i64 = 500;

/// Every dead letter queued again, each audited as the single retry is.
async fn office_retry_all(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let r = async {
        let user = caller?.require(&[Role::Office])?.clone();
        let dead = s.city.store.outbox_in(hazewarn_store::OutboxStatus::Dead, DEAD_SHOWN).await?;
        // One that another hand retried meanwhile is no reason to leave the rest.
        let mut retried = 0;
        for d in &dead {
            match s.city.store.retry_dead(&d.id, &user.name, s.city.now()).await {
                Ok(()) => retried += 1,
                Err(e) => tracing::warn!(id = %d.id, error = %e, "dead letter not retried"),
            }
        }
        Ok::<_, ApiError>(format!("{} {retried}", l.m("pages.retried")))
    }
    .await;
    after_post("/office", &l, r)
}

/// A notice as issued, to print: the enterprise's own (another's is not found), or any for the office.
async fn printable_notice(
    State(s): State<AppState>,
    caller: Result<Caller, ApiError>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Html<String>, ApiError> {
    let axum::Json(n) = api::notice(State(s), caller?, axum::extract::Path(id)).await?;
    Ok(Html(n.notice.to_html()))
}

/// A stored UTC time as Beijing time, for display.
pub(crate) fn local_time(ts: &str) -> String {
    hazewarn_store::parse_ts(ts)
        .map_or_else(|_| ts.to_owned(), |t| hazewarn_scheduler::beijing(t).format("%Y-%m-%d %H:%M").to_string())
}

/// When and how a notice was acknowledged, marked late after its deadline.
/// Whether a notice was acknowledged after its deadline.
pub(crate) fn late_acknowledgement(n: &hazewarn_store::response::StoredNotice) -> bool {
    let at = n.acknowledged_at.as_deref().and_then(|a| hazewarn_store::parse_ts(a).ok());
    at.is_some_and(|t| t > n.notice.ack_deadline.with_timezone(&chrono::Utc))
}

fn acknowledgement(l: &Lang, n: &hazewarn_store::response::StoredNotice) -> Option<String> {
    let at = n.acknowledged_at.as_deref()?;
    let late = late_acknowledgement(n);
    let by_phone = n.acknowledged_via.as_deref() == Some("phone");
    let mut s = local_time(at);
    if by_phone {
        s += l.m("pages.by-phone-recorded-by-the");
    }
    if let Some(channel) = n.acknowledged_via.as_deref().and_then(|v| v.strip_prefix("link:")) {
        s += &format!("{}{channel}{}", l.m("pages.from-the-link-in-the"), l.m("pages.text"));
    }
    if late {
        s += l.m("pages.late");
    }
    Some(s)
}

async fn enterprise(State(s): State<AppState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let result: Result<Html<String>, ApiError> = async {
        let caller = caller?;
        let csrf = caller.csrf.clone();
        // Only the enterprise acknowledges; the office looking at this page is not offered the button.
        let may_ack = caller.user.role == Role::Enterprise;
        let caller_for_alarms = caller.clone();
        let axum::Json(mine) = api::notices(State(s.clone()), caller).await?;
        let mut b = String::new();
        if !l.msg.is_empty() {
            b += &format!("<p class=\"msg\">{}</p>", escape(&l.msg));
        }
        match mine.first() {
            None => b += &format!("<p id=\"notice\">{}</p>", l.m("pages.no-notices")),
            Some(n) => b += &notice_card(&l, n, may_ack),
        }
        b += &format!(
            "<h2>{}</h2><table id=\"history\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            l.m("pages.history"),
            l.m("pages.notice"),
            l.m("pages.issued-3"),
            l.m("pages.level"),
            l.m("pages.acknowledged")
        );
        for n in &mine {
            let acked = acknowledgement(&l, n).unwrap_or_else(|| "-".into());
            b += &format!(
                "<tr><td><code>{}</code></td><td class=\"time\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&n.notice.id),
                n.notice.issued_at.format("%Y-%m-%d %H:%M"),
                level_name(&l, n.notice.level),
                escape(&acked)
            );
        }
        b += "</table>";
        b += &crate::compliance_view::enterprise_section(&s, &l, &caller_for_alarms).await?;
        Ok(city_page(&s, &l, l.m("pages.enterprise-curtailment-notices"), &signed_in(&l, &b, &csrf)))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

/// The latest notice: who it is for, who issued it and on what basis, the measures per line,
/// the window and the acknowledgement deadline, and the button or the acknowledgement.
pub(crate) fn notice_card(l: &Lang, n: &hazewarn_store::response::StoredNotice, may_ack: bool) -> String {
    let x = &n.notice;
    let mut b = format!(
        "<div id=\"notice\"><h2 style=\"overflow-wrap:anywhere\">{}</h2><p>{} · {}</p><p>{} {} · {} {} — {} · {} {}</p><p>{} {} · {} {}</p><table><tr><th>{}</th><th>{}</th></tr>",
        escape(&x.id),
        escape(&x.enterprise),
        escape(&x.credit_code),
        l.m("pages.level"),
        level_name(l, x.level),
        l.m("pages.effective"),
        x.effective_from.format("%Y-%m-%d %H:%M"),
        x.effective_until.format("%Y-%m-%d %H:%M"),
        l.m("pages.acknowledge-by"),
        x.ack_deadline.format("%Y-%m-%d %H:%M"),
        l.m("pages.issued-by"),
        escape(&x.issuer),
        l.m("pages.basis"),
        escape(&x.basis),
        l.m("compliance.line"),
        l.m("pages.measure")
    );
    for line in &x.lines {
        b += &format!(
            "<tr><td>{}</td><td class=\"text\">{}</td></tr>",
            escape(&line.line),
            escape(if l.en() { &line.en } else { &line.zh })
        );
    }
    b += &format!(
        "<p class=\"no-print\"><a href=\"/enterprise/notice/{}\" id=\"printable\">{}</a></p>",
        escape(&x.id),
        l.m("pages.printable-notice")
    );
    // The transport measure is the notice's own text (Chinese, as issued).
    b += &format!("</table><p lang=\"zh-CN\">{}</p>", escape(&x.transport_zh));
    if !x.contact.is_empty() {
        b += &format!("<p id=\"duty\">{}{}{}</p>", l.m("pages.duty-phone"), l.m("pages.colon"), escape(&x.contact));
    }
    match acknowledgement(l, n) {
        Some(acked) => b += &format!("<p id=\"acked\">{} {}</p>", l.m("pages.acknowledged-2"), escape(&acked)),
        None if may_ack => {
            b += &format!(
                "<form method=\"post\" action=\"/enterprise/ack{}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><button id=\"ack\">{}</button></form>",
                l.q(),
                escape(&x.id),
                l.m("ack_link.acknowledge")
            )
        }
        None => b += &format!("<p id=\"unacked\">{}</p>", l.m("pages.not-acknowledged-by-the-enterprise")),
    }
    b + "</div>"
}

async fn enterprise_ack(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<IdForm>,
) -> Response {
    let r = async { api::acknowledge(State(s.clone()), caller?, axum::extract::Path(f.id.clone())).await }.await;
    after_post("/enterprise", &l, r.map(|_| l.m("pages.acknowledged-3").to_owned()))
}
