//! The emergency office's page: the warning in force, the regional advisories owed an answer,
//! the latest recommendation and the manual warning steps, the reduction plan, the delivery of
//! the notices, the boards other modules compose (compliance, monitors, list versions,
//! accounts), and the list upload. Also the forms it posts: a warning step, a dead letter
//! retried, every dead letter retried. The actions are the API's.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use hazewarn_response::WarningLevel;
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::auth::{Authorized, Caller};
use crate::office_sections::{DEAD_SHOWN, deliveries_section, plan_section, recommendation_section};
use crate::pages::{IdForm, Lang, after_post, back, city_frame, level_colour, level_name, login_needed, page_error};
use crate::templates::{Frame, LevelOption, render_signed_in};
use crate::{ApiError, AppState, api, svg};

#[derive(Template)]
#[template(path = "office/page.html")]
struct OfficePage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    /// The export links, while a warning is in force.
    exports: String,
    in_force: Option<InForce>,
    advisories: String,
    recommendation: String,
    /// The manual steps' forms: issue, upgrade, downgrade, lift.
    steps: Vec<String>,
    plan: Option<String>,
    deliveries: String,
    compliance: String,
    devices: String,
    lists: String,
    accounts: String,
    /// The session's token, in the upload's URL (a multipart body is read after the check).
    csrf: String,
}

/// The warning in force as its badge and window show it.
struct InForce {
    colour: &'static str,
    text_colour: &'static str,
    level: String,
    id: String,
    start: String,
    end: String,
}

pub(crate) async fn office(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Office])?;
        let in_force = s.city.store.warning_in_force().await?;
        let exports = if in_force.is_some() { crate::exports::links(&l)? } else { String::new() };
        let shown = in_force.as_ref().map(|w| InForce {
            colour: level_colour(w.level()),
            text_colour: svg::text_on(level_colour(w.level())),
            level: level_name(&l, w.level()),
            id: w.id.clone(),
            start: w.current().start.format("%m-%d %H:%M").to_string(),
            end: w.current().end.format("%m-%d %H:%M").to_string(),
        });
        // A regional advisory asks for an answer by a deadline: it comes before everything else.
        let advisories = crate::advisories_view::section(&s, &l).await?;
        let (recommendation, recommended) = recommendation_section(&s, &l, in_force.as_ref()).await?;
        // The steps the warning's state allows: an issue when none is in force, else the others.
        let steps = if in_force.is_none() {
            vec![StepForm::with_level(&l, "issue", true, WarningLevel::Orange, l.m("pages.issue"))]
        } else {
            vec![
                StepForm::with_level(&l, "upgrade", false, WarningLevel::Red, l.m("pages.upgrade")),
                StepForm::with_level(&l, "downgrade", false, WarningLevel::Yellow, l.m("pages.downgrade")),
                StepForm::extend(&l, l.m("pages.extend")),
                StepForm::plain(&l, "lift", l.m("pages.lift")),
            ]
        }
        .iter()
        .map(crate::templates::fragment)
        .collect::<Result<Vec<_>, _>>()?;
        // The plan of the warning in force; with none, the plan the recommendation would bring.
        let plan_level = in_force.as_ref().map(|w| w.level()).or(recommended).filter(|l| *l != WarningLevel::None);
        let plan = match plan_level {
            Some(level) => Some(plan_section(&s, &l, level, in_force.is_some()).await?),
            None => None,
        };
        let deliveries = deliveries_section(&s, &l).await?;
        let compliance = crate::compliance_board::section(&s, &l).await?;
        let devices = crate::devices_view::section(&s, &l).await?;
        let lists = crate::lists_view::list_versions_section(&s, &l).await?;
        let accounts = crate::accounts_view::section(&s, &l).await?;
        let mut frame = city_frame(&s, &l, l.m("pages.emergency-office-warning-and-reductions"), false);
        frame.signed_in = true;
        let page = OfficePage {
            frame,
            l: &l,
            exports,
            in_force: shown,
            advisories,
            recommendation,
            steps,
            plan,
            deliveries,
            compliance,
            devices,
            lists,
            accounts,
            csrf: caller.csrf.clone(),
        };
        Ok(render_signed_in(&page, &caller.csrf))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

/// A warning-step form that asks for a reason and a confirmation before it posts.
#[derive(Template)]
#[template(path = "office/step_form.html")]
pub(crate) struct StepForm<'a> {
    l: &'a Lang,
    /// The step's name, also its button's id.
    step: &'static str,
    label: &'static str,
    /// The run whose recommendation the step carries out.
    run_id: Option<String>,
    level: Option<LevelChoice>,
    /// Whether the step sets the warning's end (every step with a level, and an extension).
    asks_end: bool,
}

/// The level and window fields of a warning-step form; the times are picked in Beijing time.
struct LevelChoice {
    options: Vec<LevelOption>,
    with_start: bool,
}

impl<'a> StepForm<'a> {
    /// A step with no field of its own (lift).
    fn plain(l: &'a Lang, step: &'static str, label: &'static str) -> StepForm<'a> {
        StepForm { l, step, label, run_id: None, level: None, asks_end: false }
    }

    /// A step that sets a level (`default` chosen) and an end, and a start if `with_start`.
    fn with_level(
        l: &'a Lang,
        step: &'static str,
        with_start: bool,
        default: WarningLevel,
        label: &'static str,
    ) -> StepForm<'a> {
        let options = LevelOption::coloured(l, default);
        StepForm { level: Some(LevelChoice { options, with_start }), asks_end: true, ..StepForm::plain(l, step, label) }
    }

    /// Moves the end of the warning in force later.
    fn extend(l: &'a Lang, label: &'static str) -> StepForm<'a> {
        StepForm { asks_end: true, ..StepForm::plain(l, "extend", label) }
    }

    /// Carries out the recommendation of `run_id`.
    pub(crate) fn approve(l: &'a Lang, run_id: &str, label: &'static str) -> StepForm<'a> {
        StepForm { run_id: Some(run_id.to_owned()), ..StepForm::plain(l, "approve", label) }
    }
}

#[derive(Deserialize)]
pub(crate) struct WarningForm {
    step: api::StepName,
    run_id: Option<String>,
    level: Option<api::LevelName>,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    reason: String,
}

/// A time from a warning-step form: RFC 3339, or a date-time picker's local time without an
/// offset, read as Beijing time; blank for none.
fn form_time(v: &str) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, ApiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    let picked = chrono::NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .map(|t| t.and_utc() - Duration::hours(8))
        .map(hazewarn_scheduler::beijing);
    chrono::DateTime::parse_from_rfc3339(v.trim())
        .ok()
        .or(picked)
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("`{v}` is not a time such as 2026-01-05T00:00 (Beijing time)")))
}

pub(crate) async fn office_warning(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<WarningForm>,
) -> Response {
    let result: Result<String, ApiError> = async {
        let auth = Authorized::from_caller(caller?)?;
        let req = api::WarningRequest {
            step: f.step,
            run_id: f.run_id.clone(),
            level: f.level,
            start: form_time(&f.start)?,
            end: form_time(&f.end)?,
            reason: f.reason.clone(),
        };
        let axum::Json(w) = api::warning_step(State(s.clone()), auth, axum::Json(req)).await?;
        let step = w.current();
        Ok(format!("{} {} {}", w.id, crate::history_view::kind_name(&l, step.kind), level_name(&l, step.level)))
    }
    .await;
    after_post("/office", &l, result)
}

pub(crate) async fn office_retry(
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

/// Every dead letter queued again, each audited as the single retry is.
pub(crate) async fn office_retry_all(
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
