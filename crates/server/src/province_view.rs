//! The province's server: the consultation view (会商: every city's D+1..D+3 side by side, what
//! its grading recommends and its warning in force), the regional advisories with each named
//! city's answer and how late it was, and the forms that issue, change, extend and lift them.
//! Province users are kept in the province's store; they see every city, read-only, and write
//! only advisories. JSON under `/api/v1`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{Advisory, AdvisoryState, AdvisoryTerms, WarningLevel};
use hazewarn_scheduler::{AdvisoryChange, CityOutlook, Province, beijing};
use serde::{Deserialize, Serialize};

use crate::advisories_view::{AddressedAdvisory, answer_text, level_badge, status_of, status_text};
use crate::api::LevelName;
use crate::auth::{Authorized, Caller, Gate, ProvinceOnly, RateLimiter};
use crate::openapi::{Bearer, StandardErrors};
use crate::pages::{Lang, after_post, beijing_time, level_name, page_with_nav, signed_in};
use crate::templates::NavLink;
use crate::{ApiError, escape};

#[derive(Clone)]
pub struct ProvinceState {
    pub province: Arc<Province>,
    limiter: Arc<RateLimiter>,
    failures: Arc<RateLimiter>,
}

impl ProvinceState {
    pub fn new(province: Arc<Province>, rate: u32, failures: u32) -> ProvinceState {
        ProvinceState {
            province,
            limiter: Arc::new(RateLimiter::new(rate, Duration::from_secs(1))),
            failures: Arc::new(RateLimiter::new(failures, Duration::from_secs(60))),
        }
    }
}

impl Gate for ProvinceState {
    fn store(&self) -> &hazewarn_store::Store {
        &self.province.store
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.province.now()
    }
    fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }
    fn failures(&self) -> &RateLimiter {
        &self.failures
    }
}

pub fn province_router(state: ProvinceState) -> Router {
    let api = Router::new()
        .route("/advisories", get(list).post(issue))
        .route("/advisories/{id}/steps", post(step))
        .route("/consultation", get(consultation))
        .route("/openapi.json", get(|| async { Json(<ProvinceApiDoc as utoipa::OpenApi>::openapi()) }))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::map_response(crate::error::json_errors));
    Router::new()
        .nest("/api/v1", api)
        .route("/", get(page))
        .route("/login", get(login_form).post(crate::signin::login::<ProvinceState>))
        .route("/logout", post(crate::signin::logout::<ProvinceState>))
        .route("/province/advisory", post(issue_form))
        .route("/province/advisory/step", post(step_form))
        .route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::province_metrics))
        .merge(crate::assets::routes())
        .layer(axum::middleware::from_fn(crate::security::csrf))
        .layer(axum::middleware::map_response(crate::security::headers))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// The terms of an issue or a change.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TermsBody {
    pub level: LevelName,
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub end: DateTime<FixedOffset>,
    /// The cities named, by id.
    pub cities: Vec<String>,
    /// Each city answers by then; default: `answer_hours` of the province config from now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<DateTime<FixedOffset>>,
    pub reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "step", rename_all = "lowercase")]
pub enum StepBody {
    Change {
        #[serde(flatten)]
        terms: TermsBody,
    },
    Extend {
        #[schema(value_type = String, format = DateTime)]
        end: DateTime<FixedOffset>,
        reason: String,
    },
    Lift {
        reason: String,
    },
}

/// An advisory with every named city's answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdvisoryView {
    /// As each city sees it: its answer and status.
    pub cities: Vec<CityStatus>,
    pub advisory: Advisory,
}

/// One named city's answer and status.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CityStatus {
    pub city: String,
    #[serde(flatten)]
    pub status: AddressedAdvisory,
}

fn terms(s: &ProvinceState, t: &TermsBody) -> AdvisoryTerms {
    let hours = i64::from(s.province.config.province.answer_hours);
    AdvisoryTerms {
        level: t.level.into(),
        start: t.start,
        end: t.end,
        cities: t.cities.clone(),
        deadline: t.deadline.unwrap_or_else(|| beijing(s.province.now()) + chrono::Duration::hours(hours)),
    }
}

/// Every advisory, the latest changed first, with each named city's answer and status.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "province", summary = "Regional advisories and the cities' answers",
    security(("bearer" = [])), responses((status = 200, body = Vec<AdvisoryView>)))]
async fn list(
    State(s): State<ProvinceState>,
    _auth: Authorized<ProvinceOnly>,
) -> Result<Json<Vec<AdvisoryView>>, ApiError> {
    let now = beijing(s.province.now());
    let mut out = Vec::new();
    for a in s.province.store.advisories().await? {
        let answers = s.province.store.answers(&a.id).await?;
        let step = a.asking().step;
        let cities = a
            .asking()
            .terms
            .cities
            .iter()
            .map(|c| {
                let x = answers.iter().find(|x| &x.city == c && x.step == step);
                CityStatus { city: c.clone(), status: crate::advisories_view::addressed_of(&a, x, now) }
            })
            .collect();
        out.push(AdvisoryView { cities, advisory: a });
    }
    Ok(Json(out))
}

/// Issues an advisory to the named cities and delivers it to each city's office.
#[utoipa::path(post, path = "/api/v1/advisories", tag = "province", summary = "Issue a regional advisory",
    security(("bearer" = [])), request_body = TermsBody, responses((status = 200, body = Advisory)))]
async fn issue(
    State(s): State<ProvinceState>,
    auth: Authorized<ProvinceOnly>,
    Json(t): Json<TermsBody>,
) -> Result<Json<Advisory>, ApiError> {
    let a = s.province.issue(terms(&s, &t), &auth.user().name, &t.reason, s.province.now()).await?;
    Ok(Json(a))
}

/// Changes (new terms; the cities answer again), extends or lifts an advisory.
#[utoipa::path(post, path = "/api/v1/advisories/{id}/steps", tag = "province", summary = "Change, extend or lift an advisory",
    security(("bearer" = [])), params(("id" = String, Path, description = "advisory id")), request_body = StepBody,
    responses((status = 200, body = Advisory)))]
async fn step(
    State(s): State<ProvinceState>,
    auth: Authorized<ProvinceOnly>,
    Path(id): Path<String>,
    Json(b): Json<StepBody>,
) -> Result<Json<Advisory>, ApiError> {
    let (change, reason) = match &b {
        StepBody::Change { terms: t } => (AdvisoryChange::Change(terms(&s, t)), t.reason.as_str()),
        StepBody::Extend { end, reason } => (AdvisoryChange::Extend(*end), reason.as_str()),
        StepBody::Lift { reason } => (AdvisoryChange::Lift, reason.as_str()),
    };
    let a = s.province.step(&id, change, &auth.user().name, reason, s.province.now()).await?;
    Ok(Json(a))
}

/// Every city's D+1..D+3, its own grading and its warning in force, side by side (会商).
#[utoipa::path(get, path = "/api/v1/consultation", tag = "province", summary = "The consultation view",
    security(("bearer" = [])), responses((status = 200, body = Vec<CityOutlook>)))]
async fn consultation(
    State(s): State<ProvinceState>,
    _auth: Authorized<ProvinceOnly>,
) -> Result<Json<Vec<CityOutlook>>, ApiError> {
    Ok(Json(s.province.consultation(s.province.now()).await?))
}

/// Ready when every city's scheduler runs and none of their jobs is overdue; the body names
/// each city's readiness.
async fn readyz(State(s): State<ProvinceState>) -> Response {
    let now = chrono::Utc::now();
    let cities: Vec<(String, hazewarn_scheduler::Readiness)> = s
        .province
        .cities
        .iter()
        .map(|c| (c.config.city.id.clone(), c.health.readiness(&c.config.schedule, now)))
        .collect();
    let ready = cities.iter().all(|(_, r)| r.ready);
    let status = if ready { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({"ready": ready, "cities": cities}))).into_response()
}

fn nav(l: &Lang) -> Vec<NavLink<'_>> {
    vec![NavLink { href: format!("/{}", l.q()), label: l.m("province.title") }]
}

async fn login_form(Query(l): Query<Lang>) -> Html<String> {
    let body = format!(
        "<form method=\"post\" action=\"/login{q}\"><label>{tok} <input name=\"token\" id=\"token\" type=\"password\" size=\"50\"></label> \
         <button id=\"login\">{go}</button></form>",
        q = l.q(),
        tok = l.m("signin.access-token"),
        go = l.m("signin.sign-in"),
    );
    page_with_nav(&l, l.m("signin.sign-in"), &body, nav(&l))
}

async fn page(State(s): State<ProvinceState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let result: Result<Html<String>, ApiError> = async {
        let caller = caller?;
        caller.require(&[hazewarn_store::users::Role::Province])?;
        let p = &s.province;
        let mut b = String::new();
        if !l.msg.is_empty() {
            b += &format!("<p class=\"msg\">{}</p>", escape(&l.msg));
        }
        let advisories = p.store.advisories().await?;
        let in_force: Vec<&Advisory> = advisories.iter().filter(|a| a.state == AdvisoryState::InForce).collect();
        b += &consultation_section(&l, &p.consultation(p.now()).await?, &in_force);
        b += &advisories_section(&s, &l, &advisories).await?;
        b += &issue_section(&s, &l);
        let title = format!("{} {}", p.config.province.name, l.m("province.title"));
        Ok(page_with_nav(&l, &title, &signed_in(&l, &b, &caller.csrf), nav(&l)))
    }
    .await;
    result.map_or_else(|e| crate::pages::login_needed(&l, e), IntoResponse::into_response)
}

/// Each city's D+1..D+3 (AQI p50 and p10–p90, coloured by AQI category), its grading's level,
/// its warning in force, and whether that differs from an advisory in force naming it.
fn consultation_section(l: &Lang, cities: &[CityOutlook], in_force: &[&Advisory]) -> String {
    let mut b = format!(
        "<h2>{}</h2><div class=\"scroll\"><table id=\"consultation\"><tr><th>{}</th><th>D+1</th><th>D+2</th><th>D+3</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("province.consultation"),
        l.m("province.city"),
        l.m("province.recommended"),
        l.m("province.warning-in-force"),
        l.m("province.against-advisory"),
    );
    for c in cities {
        b += &format!("<tr data-city=\"{}\"><td>{}</td>", escape(&c.city), escape(&c.name));
        for k in 0..3 {
            b += &match c.days.get(k) {
                Some(d) => {
                    let (date, p10, p50, p90) = (d.date, d.aqi_p10, d.aqi_p50, d.aqi_p90);
                    let lv = hazewarn_aqi::Standards::builtin().for_date(date).level(p50);
                    let category = if l.en() { &lv.category_en } else { &lv.category };
                    format!(
                        "<td class=\"time\">{day} <span class=\"badge\" style=\"background:{rgb};color:{fg}\">{category}</span> {p50} ({p10}–{p90})</td>",
                        day = date.format("%m-%d"),
                        rgb = lv.rgb,
                        fg = crate::svg::text_on(&lv.rgb),
                        category = escape(category)
                    )
                }
                None => format!("<td>{}</td>", l.m("province.no-forecast")),
            };
        }
        let recommended = c.recommended.map_or_else(|| l.m("province.not-graded").to_owned(), |lv| level_name(l, lv));
        let warning = c
            .in_force
            .as_ref()
            .map_or_else(|| l.m("pages.none").to_owned(), |w| format!("{} {}", level_badge(l, w.level), escape(&w.id)));
        // An advisory in force naming the city, and the city's own grading at another level.
        let advised = in_force
            .iter()
            .filter(|a| a.current().terms.cities.contains(&c.city))
            .map(|a| a.current().terms.level)
            .max();
        let against = match (advised, c.recommended) {
            (Some(a), Some(r)) if a != r => {
                format!(
                    "<td class=\"late differs\">{} {} / {}</td>",
                    l.m("province.differs"),
                    level_name(l, r),
                    level_name(l, a)
                )
            }
            (Some(_), Some(_)) => format!("<td class=\"on-time\">{}</td>", l.m("province.agrees")),
            (Some(_), None) => format!("<td>{}</td>", l.m("province.not-graded")),
            (None, _) => "<td></td>".to_owned(),
        };
        b += &format!("<td>{recommended}</td><td>{warning}</td>{against}</tr>");
    }
    b + "</table></div>"
}

async fn advisories_section(s: &ProvinceState, l: &Lang, all: &[Advisory]) -> Result<String, ApiError> {
    let p = &s.province;
    let now = beijing(p.now());
    let mut b = format!("<h2>{}</h2>", l.m("advisory.title"));
    if all.is_empty() {
        return Ok(b + &format!("<p>{}</p>", l.m("advisory.none")));
    }
    for a in all {
        let asking = a.asking();
        let current = a.current();
        let over = a.is_over(now);
        let state = match (a.state, over) {
            (AdvisoryState::Lifted, _) => l.m("advisory.lifted"),
            (_, true) => l.m("advisory.ended"),
            _ => l.m("province.in-force"),
        };
        b += &format!(
            "<section class=\"advisory\" data-advisory=\"{id}\"><h3>{id} {badge} {state}</h3>\
             <p class=\"time\">{window}{colon}{start} — {end} · {step} {n} · {deadline}{colon}{due}</p><p>{reason}</p>",
            id = escape(&a.id),
            badge = level_badge(l, current.terms.level),
            window = l.m("advisory.window"),
            colon = l.m("pages.colon"),
            start = beijing_time(current.terms.start),
            end = beijing_time(current.terms.end),
            step = l.m("province.step"),
            n = current.step,
            deadline = l.m("advisory.deadline"),
            due = beijing_time(asking.terms.deadline),
            reason = escape(&asking.reason),
        );
        b += &format!(
            "<div class=\"scroll\"><table class=\"answers\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            l.m("province.city"),
            l.m("advisory.answer"),
            l.m("advisory.status"),
            l.m("province.delivered"),
        );
        let answers = p.store.answers(&a.id).await?;
        let delivered = p.store.advisory_deliveries(&a.id).await?;
        for c in &asking.terms.cities {
            let name = p.city(c).map_or_else(|_| c.clone(), |city| city.config.city.name.clone());
            let x = answers.iter().find(|x| &x.city == c && x.step == asking.step);
            let (status, class) = status_text(l, status_of(a, x, now));
            let delivered = delivered.contains(&(asking.step, c.clone()));
            b += &format!(
                "<tr data-city=\"{city}\"><td>{name}</td><td>{answer}</td><td class=\"{class} status\">{status}</td><td>{delivered}</td></tr>",
                city = escape(c),
                name = escape(&name),
                answer = x.map_or_else(|| "—".to_owned(), |x| answer_text(l, x)),
                delivered = if delivered { l.m("province.yes") } else { l.m("province.not-yet") },
            );
        }
        b += "</table></div>";
        if !over {
            b += &step_forms(l, a);
        }
        b += "</section>";
    }
    Ok(b)
}

fn local_input(t: DateTime<FixedOffset>) -> String {
    beijing(t.with_timezone(&chrono::Utc)).format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn level_select(l: &Lang, chosen: WarningLevel) -> String {
    let mut b = format!("<label>{} <select name=\"level\">", l.m("advisory.level"));
    for lv in WarningLevel::COLOURED {
        let sel = if lv == chosen { " selected" } else { "" };
        b += &format!("<option value=\"{}\"{sel}>{}</option>", lv.name(), level_name(l, lv));
    }
    b + "</select></label> "
}

fn time_input(label: &str, name: &str, value: &str) -> String {
    format!(
        "<label>{label} <input type=\"datetime-local\" step=\"1\" name=\"{name}\" value=\"{value}\" required></label> "
    )
}

fn step_forms(l: &Lang, a: &Advisory) -> String {
    let t = &a.current().terms;
    let form = |step: &str, inputs: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/province/advisory/step{q}\" class=\"inline\" onsubmit=\"return confirm('{ask}')\">\
             <input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"step\" value=\"{step}\">{inputs}\
             <input name=\"reason\" placeholder=\"{reason}\" size=\"16\" required> <button class=\"advisory-{step}\">{label}</button></form>",
            q = l.q(),
            ask = l.m("pages.confirm"),
            id = escape(&a.id),
            reason = l.m("pages.reason"),
        )
    };
    let cities: String =
        t.cities.iter().map(|c| format!("<input type=\"hidden\" name=\"cities\" value=\"{}\">", escape(c))).collect();
    let change = format!(
        "{}{}{}{}{cities}",
        level_select(l, t.level),
        time_input(l.m("province.start"), "start", &local_input(t.start)),
        time_input(l.m("province.end"), "end", &local_input(t.end)),
        time_input(l.m("advisory.deadline"), "deadline", ""),
    );
    form("change", &change, l.m("province.change"))
        + &form("extend", &time_input(l.m("province.end"), "end", &local_input(t.end)), l.m("province.extend"))
        + &form("lift", "", l.m("province.lift"))
}

fn issue_section(s: &ProvinceState, l: &Lang) -> String {
    let p = &s.province;
    let now = beijing(p.now());
    let cities: String = p
        .cities
        .iter()
        .map(|c| {
            format!(
                "<label class=\"city\"><input type=\"checkbox\" name=\"cities\" value=\"{}\" checked> {}</label> ",
                escape(&c.config.city.id),
                escape(&c.config.city.name)
            )
        })
        .collect();
    let hours = i64::from(p.config.province.answer_hours);
    format!(
        "<h2>{title}</h2><form method=\"post\" action=\"/province/advisory{q}\" id=\"issue-advisory\" onsubmit=\"return confirm('{ask}')\">\
         <p>{level}{start}{end}{deadline}</p><p>{cities}</p><p><input name=\"reason\" placeholder=\"{reason}\" size=\"40\" required> \
         <button id=\"issue\">{issue}</button></p></form>",
        title = l.m("province.issue-title"),
        q = l.q(),
        ask = l.m("pages.confirm"),
        level = level_select(l, WarningLevel::Orange),
        start = time_input(l.m("province.start"), "start", &local_input(now + chrono::Duration::hours(hours))),
        end = time_input(l.m("province.end"), "end", &local_input(now + chrono::Duration::hours(hours + 72))),
        deadline = time_input(l.m("advisory.deadline"), "deadline", &local_input(now + chrono::Duration::hours(hours))),
        reason = l.m("pages.reason"),
        issue = l.m("province.issue"),
    )
}

/// A form's local time (a date-time picker sends Beijing time without an offset) or RFC 3339.
fn form_time(field: &str, v: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    let v = v.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t);
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
        .map(|t| beijing(hazewarn_scheduler::utc_of_local(t)))
        .ok_or_else(|| {
            ApiError::BadRequest(format!("`{field}`: `{v}` is not a time such as 2026-12-08T00:00 (Beijing time)"))
        })
}

/// A form's fields in order, a repeated one (`cities`) as often as it came.
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn terms_of_form(f: &[(String, String)]) -> Result<TermsBody, ApiError> {
    let level = match field(f, "level") {
        "yellow" => LevelName::Yellow,
        "orange" => LevelName::Orange,
        "red" => LevelName::Red,
        other => return Err(ApiError::BadRequest(format!("`level`: `{other}` is not yellow, orange or red"))),
    };
    let deadline = match field(f, "deadline").trim() {
        "" => None,
        v => Some(form_time("deadline", v)?),
    };
    Ok(TermsBody {
        level,
        start: form_time("start", field(f, "start"))?,
        end: form_time("end", field(f, "end"))?,
        cities: f.iter().filter(|(k, _)| k == "cities").map(|(_, v)| v.clone()).collect(),
        deadline,
        reason: field(f, "reason").to_owned(),
    })
}

async fn issue_form(
    State(s): State<ProvinceState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let auth = Authorized::<ProvinceOnly>::from_caller(caller?)?;
        let t = terms_of_form(&f)?;
        let Json(a) = issue(State(s.clone()), auth, Json(t)).await?;
        Ok(format!("{} {}", a.id, l.m("audit.advisory-issue")))
    }
    .await;
    after_post("/", &l, result)
}

async fn step_form(
    State(s): State<ProvinceState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let auth = Authorized::<ProvinceOnly>::from_caller(caller?)?;
        let reason = field(&f, "reason").to_owned();
        let (b, key) = match field(&f, "step") {
            "change" => (StepBody::Change { terms: terms_of_form(&f)? }, "audit.advisory-change"),
            "extend" => {
                (StepBody::Extend { end: form_time("end", field(&f, "end"))?, reason }, "audit.advisory-extend")
            }
            "lift" => (StepBody::Lift { reason }, "audit.advisory-lift"),
            other => return Err(ApiError::BadRequest(format!("`step`: `{other}` is not change, extend or lift"))),
        };
        let id = field(&f, "id").to_owned();
        let Json(a) = step(State(s.clone()), auth, Path(id), Json(b)).await?;
        Ok(format!("{} {}", a.id, l.m(key)))
    }
    .await;
    after_post("/", &l, result)
}

/// The province server's API, documented as the city's is.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "hazewarn province", description = "Regional advisories (区域预警提示) and the consultation view"),
    paths(list, issue, step, consultation),
    modifiers(&Bearer, &StandardErrors)
)]
pub struct ProvinceApiDoc;
