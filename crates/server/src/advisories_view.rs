//! A city office's regional advisories (区域预警提示), in a province deployment: those the
//! province addressed to the city, their terms and deadline, and the three answers (follow,
//! already in force, justify), as a section of the office page and as `/api/v1/advisories`.
//! The words for an answer and its lateness are shared with the province's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{Advisory, AdvisoryState, AnswerStatus, CityAnswer, WarningLevel, answer_status};
use hazewarn_scheduler::AnswerRequest;
use hazewarn_store::StoredAnswer;
use serde::{Deserialize, Serialize};

use crate::auth::{Authorized, Caller, OfficeOnly};
use crate::pages::{Lang, after_post, beijing_time, level_name};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/office/advisory", post(answer_form))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/advisories", get(addressed)).route("/advisories/{id}/answer", post(answer))
}

/// How a city answers; `reason` is required to justify.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    Follow,
    InForce,
    Justify,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnswerBody {
    pub answer: AnswerKind,
    #[serde(default)]
    pub reason: String,
}

impl AnswerBody {
    fn request(self) -> AnswerRequest {
        match self.answer {
            AnswerKind::Follow => AnswerRequest::Follow,
            AnswerKind::InForce => AnswerRequest::InForce,
            AnswerKind::Justify => AnswerRequest::Justify { reason: self.reason },
        }
    }
}

/// A city's answer as recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerRecord {
    /// `followed`, `in_force` or `justified`.
    pub answer: String,
    /// The city's warning, when it followed or pointed to one.
    pub warning: Option<String>,
    pub level: Option<String>,
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
    pub by: String,
}

impl From<&StoredAnswer> for AnswerRecord {
    fn from(a: &StoredAnswer) -> AnswerRecord {
        let (warning, level, reason) = match &a.answer {
            CityAnswer::Followed { warning, level } | CityAnswer::InForce { warning, level } => {
                (Some(warning.clone()), Some(level.name().to_owned()), None)
            }
            CityAnswer::Justified { reason } => (None, None, Some(reason.clone())),
        };
        AnswerRecord { answer: a.answer.name().to_owned(), warning, level, reason, at: a.at, by: a.by.clone() }
    }
}

/// An advisory as the city it names sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AddressedAdvisory {
    pub id: String,
    /// `in_force` or `lifted`.
    pub state: String,
    /// The step that asks for the answer.
    pub step: u32,
    pub level: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub end: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<FixedOffset>,
    pub reason: String,
    pub answer: Option<AnswerRecord>,
    /// `awaiting`, `overdue`, `answered` or `answered_late`.
    pub status: String,
    /// Minutes past the deadline, when overdue or answered late.
    pub late_minutes: Option<i64>,
}

pub(crate) fn status_of(a: &Advisory, answer: Option<&StoredAnswer>, now: DateTime<FixedOffset>) -> AnswerStatus {
    answer_status(a.asking().terms.deadline, answer.map(|x| x.at), now)
}

pub(crate) fn addressed_of(
    a: &Advisory,
    answer: Option<&StoredAnswer>,
    now: DateTime<FixedOffset>,
) -> AddressedAdvisory {
    let asking = a.asking();
    let (status, late) = match status_of(a, answer, now) {
        AnswerStatus::Awaiting => ("awaiting", None),
        AnswerStatus::Overdue(d) => ("overdue", Some(d.num_minutes())),
        AnswerStatus::Answered { late_by: None } => ("answered", None),
        AnswerStatus::Answered { late_by: Some(d) } => ("answered_late", Some(d.num_minutes())),
    };
    AddressedAdvisory {
        id: a.id.clone(),
        state: if a.state == AdvisoryState::InForce { "in_force" } else { "lifted" }.into(),
        step: asking.step,
        level: asking.terms.level.name().into(),
        start: asking.terms.start,
        end: a.current().terms.end,
        deadline: asking.terms.deadline,
        reason: asking.reason.clone(),
        answer: answer.map(AnswerRecord::from),
        status: status.into(),
        late_minutes: late,
    }
}

fn province(s: &AppState) -> Result<&hazewarn_scheduler::Province, ApiError> {
    s.province.as_deref().ok_or(ApiError::NotFound)
}

/// The advisories addressed to this city, newest first (404 outside a province deployment).
#[utoipa::path(get, path = "/api/v1/advisories", tag = "office", summary = "Regional advisories addressed to this city",
    security(("bearer" = [])), responses((status = 200, body = Vec<AddressedAdvisory>)))]
pub async fn addressed(
    State(s): State<AppState>,
    _auth: Authorized<OfficeOnly>,
) -> Result<Json<Vec<AddressedAdvisory>>, ApiError> {
    let p = province(&s)?;
    let now = s.city.now_local();
    let list = p.advisories_for(&s.city.config.city.id).await?;
    Ok(Json(list.iter().map(|(a, x)| addressed_of(a, x.as_ref(), now)).collect()))
}

/// Answers an advisory: follow (starts or raises the city's warning to the advisory's level),
/// in force (the warning in force meets it) or justify (with a reason).
#[utoipa::path(post, path = "/api/v1/advisories/{id}/answer", tag = "office", summary = "Answer a regional advisory",
    security(("bearer" = [])), params(("id" = String, Path, description = "advisory id")), request_body = AnswerBody,
    responses((status = 200, body = AnswerRecord), (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    auth: Authorized<OfficeOnly>,
    Path(id): Path<String>,
    Json(body): Json<AnswerBody>,
) -> Result<Json<AnswerRecord>, ApiError> {
    let p = province(&s)?;
    let by = format!("{} ({})", auth.user().name, s.city.config.city.name);
    let stored = p.answer(&s.city.config.city.id, &id, body.request(), &by, s.city.now()).await?;
    Ok(Json(AnswerRecord::from(&stored)))
}

#[derive(Deserialize)]
struct AnswerForm {
    id: String,
    answer: AnswerKind,
    #[serde(default)]
    reason: String,
}

async fn answer_form(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let result = async {
        let auth = Authorized::<OfficeOnly>::from_caller(caller?)?;
        let body = AnswerBody { answer: f.answer, reason: f.reason };
        let Json(r) = answer(State(s.clone()), auth, Path(f.id.clone()), Json(body)).await?;
        let done = match r.answer.as_str() {
            "justified" => l.m("advisory.justification-filed"),
            other => answer_word(&l, other),
        };
        Ok(format!("{} {done}", f.id))
    }
    .await;
    after_post("/office", &l, result)
}

pub(crate) fn answer_word(l: &Lang, name: &str) -> &'static str {
    match name {
        "followed" => l.m("advisory.followed"),
        "in_force" => l.m("advisory.in-force"),
        _ => l.m("advisory.justified"),
    }
}

/// An answer in words (plain text; the page escapes it): what the city did and, for a
/// justification, why.
pub(crate) fn answer_text(l: &Lang, a: &StoredAnswer) -> String {
    match &a.answer {
        CityAnswer::Followed { warning, level } | CityAnswer::InForce { warning, level } => {
            format!("{} {} {}", answer_word(l, a.answer.name()), warning, level_name(l, *level))
        }
        CityAnswer::Justified { reason } => {
            format!("{}{}{}", l.m("advisory.justified"), l.m("pages.colon"), reason)
        }
    }
}

/// Hours and minutes, e.g. `2 h 05 min`; under a minute, seconds.
fn span(d: chrono::Duration) -> String {
    if d < chrono::Duration::minutes(1) {
        return format!("{} s", d.num_seconds());
    }
    format!("{} h {:02} min", d.num_hours(), d.num_minutes() % 60)
}

/// The status in words, with a class the page colours by.
pub(crate) fn status_text(l: &Lang, st: AnswerStatus) -> (String, &'static str) {
    match st {
        AnswerStatus::Awaiting => (l.m("advisory.awaiting").to_owned(), "awaiting"),
        AnswerStatus::Overdue(d) => (format!("{} {}", l.m("advisory.overdue-by"), span(d)), "late"),
        AnswerStatus::Answered { late_by: None } => (l.m("advisory.on-time").to_owned(), "on-time"),
        AnswerStatus::Answered { late_by: Some(d) } => (format!("{} {}", l.m("advisory.late-by"), span(d)), "late"),
    }
}

/// A warning level as a badge in its colour; a template places it with `|safe`.
#[derive(Template)]
#[template(path = "advisories/badge.html")]
pub(crate) struct LevelBadge {
    colour: &'static str,
    text_colour: &'static str,
    name: String,
}

impl LevelBadge {
    pub(crate) fn of(l: &Lang, level: WarningLevel) -> LevelBadge {
        let colour = crate::pages::level_colour(level);
        LevelBadge { colour, text_colour: crate::svg::text_on(colour), name: level_name(l, level) }
    }
}

/// The office page's regional advisories.
#[derive(Template)]
#[template(path = "advisories/section.html")]
struct AdvisoriesSection<'a> {
    l: &'a Lang,
    cards: Vec<AdvisoryCard>,
    /// The three answers a card offers while one is owed.
    choices: [AnswerChoice; 3],
}

/// An advisory addressed to the city, display-ready.
struct AdvisoryCard {
    id: String,
    badge: LevelBadge,
    status: String,
    /// `awaiting`, `late` or `on-time`: the page colours the status by it.
    status_class: &'static str,
    start: String,
    end: String,
    due: String,
    reason: String,
    /// The city's answer in words, once given.
    answer: Option<String>,
    /// No answer yet and the advisory still runs: the answer forms.
    owed: bool,
    /// Lifted or ended, when it closed without the city's answer.
    closed: &'static str,
}

/// One of the answer forms: follow, point to the warning in force, or justify (with a reason).
struct AnswerChoice {
    kind: &'static str,
    label: &'static str,
    asks_reason: bool,
}

impl AdvisoryCard {
    fn of(l: &Lang, a: &Advisory, answer: Option<&StoredAnswer>, now: DateTime<FixedOffset>) -> AdvisoryCard {
        let asking = a.asking();
        let (status, status_class) = status_text(l, status_of(a, answer, now));
        let closed = if a.state == AdvisoryState::Lifted { l.m("advisory.lifted") } else { l.m("advisory.ended") };
        AdvisoryCard {
            id: a.id.clone(),
            badge: LevelBadge::of(l, asking.terms.level),
            status,
            status_class,
            start: beijing_time(asking.terms.start),
            end: beijing_time(a.current().terms.end),
            due: beijing_time(asking.terms.deadline),
            reason: asking.reason.clone(),
            answer: answer.map(|x| answer_text(l, x)),
            owed: answer.is_none() && !a.is_over(now),
            closed,
        }
    }
}

/// The office page's section, near the top since it asks for an answer by a deadline: each
/// advisory addressed to the city as a card (a phone shows it whole), with its terms, its status
/// and the answer forms while one is owed. Nothing outside a province deployment.
pub(crate) async fn section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let Some(p) = s.province.as_deref() else { return Ok(String::new()) };
    let now = s.city.now_local();
    let list = p.advisories_for(&s.city.config.city.id).await?;
    let cards = list.iter().map(|(a, answer)| AdvisoryCard::of(l, a, answer.as_ref(), now)).collect();
    let choices = [
        AnswerChoice { kind: "follow", label: l.m("advisory.follow"), asks_reason: false },
        AnswerChoice { kind: "in_force", label: l.m("advisory.point-to-warning"), asks_reason: false },
        AnswerChoice { kind: "justify", label: l.m("advisory.justify"), asks_reason: true },
    ];
    crate::templates::fragment(&AdvisoriesSection { l, cards, choices })
}
