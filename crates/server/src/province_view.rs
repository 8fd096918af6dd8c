//! The province's server: its routes, the JSON API under `/api/v1` (the consultation view 会商,
//! the regional advisories with each named city's answer, issuing and stepping them), and the
//! handlers of the page's forms that issue, change, extend and lift them. Province users are kept
//! in the province's store; they see every city, read-only, and write only advisories. The
//! province's pages are `province_pages`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{Advisory, AdvisoryTerms};
use hazewarn_scheduler::{AdvisoryChange, CityOutlook, Province, beijing};
use serde::{Deserialize, Serialize};

use crate::ApiError;
use crate::advisories_view::AddressedAdvisory;
use crate::api::LevelName;
use crate::auth::{Authorized, Caller, Gate, ProvinceOnly, RateLimiter};
use crate::openapi::{Bearer, StandardErrors};
use crate::pages::{Lang, after_post};

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
        .route("/", get(crate::province_pages::page))
        .route("/login", get(crate::province_pages::login_form).post(crate::signin::login::<ProvinceState>))
        .route("/logout", post(crate::signin::logout::<ProvinceState>))
        .route("/province/advisory", post(issue_form))
        .route("/province/advisory/step", post(step_form))
        .route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::province_metrics))
        .merge(crate::assets::routes())
        .layer(axum::middleware::from_fn(crate::templates::remember_here))
        .layer(axum::middleware::from_fn(crate::templates::reload_of_a_form))
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
