//! The JSON API under `/api/v1`. Writes are checked by role here, on the server; an enterprise
//! sees only its own notices, and another enterprise's notice is "not found", not "forbidden".

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{CurtailmentPlan, Recommendation, Warning, WarningLevel, plan};
use hazewarn_scheduler::Step;
use hazewarn_scheduler::cycle::{DailyRow, InputStatus};
use hazewarn_store::OutboxEntry;
use hazewarn_store::forecasts::{Review, ReviewAction};
use hazewarn_store::lists::ListVersion;
use hazewarn_store::response::StoredNotice;
use hazewarn_store::users::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Authorized, Caller, ForecasterOnly, OfficeOnly};
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<Json<T>, ApiError>;

fn level(s: &str) -> Result<WarningLevel, ApiError> {
    s.parse().map_err(|_| ApiError::BadRequest(format!("`{s}` is not yellow, orange or red")))
}

/// The most characters of a review note or a phone acknowledgement's note.
pub const MAX_NOTE_CHARS: usize = 4000;

fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    hazewarn_response::check_text(field, value, max).map_err(ApiError::Invalid)
}

/// A warning level a step may set.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelName {
    Yellow,
    Orange,
    Red,
}

impl From<LevelName> for WarningLevel {
    fn from(l: LevelName) -> WarningLevel {
        match l {
            LevelName::Yellow => WarningLevel::Yellow,
            LevelName::Orange => WarningLevel::Orange,
            LevelName::Red => WarningLevel::Red,
        }
    }
}

/// The office's warning steps.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepName {
    /// Carry out the recommendation of `run_id`.
    Approve,
    Issue,
    Upgrade,
    Downgrade,
    Extend,
    Lift,
}

impl StepName {
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Approve => "approve",
            StepName::Issue => "issue",
            StepName::Upgrade => "upgrade",
            StepName::Downgrade => "downgrade",
            StepName::Extend => "extend",
            StepName::Lift => "lift",
        }
    }
}

/// A forecaster's review actions.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActionName {
    Approve,
    Adjust,
    Annotate,
}

impl ActionName {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionName::Approve => "approve",
            ActionName::Adjust => "adjust",
            ActionName::Annotate => "annotate",
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicWarning {
    pub id: String,
    /// yellow, orange or red.
    #[schema(value_type = String)]
    pub level: WarningLevel,
    pub level_zh: String,
    pub response_level: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub end: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: DateTime<FixedOffset>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutlookDay {
    #[schema(value_type = String, format = Date)]
    pub date: chrono::NaiveDate,
    pub aqi: u32,
    pub category: String,
    pub category_en: String,
    pub colour: String,
    pub advice: String,
    pub advice_en: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicCurrent {
    pub city: String,
    /// The city's latest observed hour (the mean of its assessment stations), real-time AQI.
    pub observed: Option<crate::observed::ObservedHour>,
    pub warning: Option<PublicWarning>,
    pub outlook: Vec<OutlookDay>,
}

pub fn public_warning(w: &Warning) -> PublicWarning {
    let first_issue = w.transitions.iter().find(|t| t.kind != hazewarn_response::TransitionKind::Draft);
    PublicWarning {
        id: w.id.clone(),
        level: w.level(),
        level_zh: w.level().zh().to_owned(),
        response_level: w.level().response_level().map(|r| r.zh().to_owned()),
        start: w.current().start,
        end: w.current().end,
        issued_at: first_issue.map_or(w.current().at, |t| t.at),
    }
}

/// The warning in force and the 3-day AQI outlook of the latest approved forecast.
#[utoipa::path(get, path = "/api/v1/public/current", tag = "public", responses((status = 200, body = PublicCurrent)))]
pub async fn public_current(State(s): State<AppState>) -> ApiResult<PublicCurrent> {
    let warning = s.city.store.warning_in_force().await?.map(|w| public_warning(&w));
    let mut outlook = Vec::new();
    let run = match s.city.store.latest_forecast_run(s.city.now(), true).await? {
        Some(r) => Some(r),
        None => s.city.store.latest_forecast_run(s.city.now(), false).await?,
    };
    if let Some(run) = run {
        for d in s.city.daily_of(&run).await?.into_iter().take(3) {
            let l = hazewarn_aqi::Standards::builtin().for_date(d.date).level(d.aqi_p50);
            outlook.push(OutlookDay {
                date: d.date,
                aqi: d.aqi_p50,
                category: l.category.clone(),
                category_en: l.category_en.clone(),
                colour: l.rgb.clone(),
                advice: l.advice.clone(),
                advice_en: l.advice_en.clone(),
            });
        }
    }
    let now = s.city.now_local().naive_local();
    let observed = s.observed.latest(&s.city.config.data.work_dir.join("city.parquet"), now);
    Ok(Json(PublicCurrent { city: s.city.config.city.name.clone(), observed, warning, outlook }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ForecastView {
    pub id: String,
    pub issue_time: String,
    pub model: String,
    pub status: String,
    pub inputs: Vec<InputStatus>,
    pub hourly: Vec<hazewarn_forecast::LeadForecast>,
    pub daily: Vec<DailyRow>,
    /// The daily level product of D+1..D+3 (empty for runs stored before it was kept).
    pub levels: Vec<hazewarn_forecast::DailyLevel>,
    pub reviews: Vec<Review>,
    pub recommendation: Option<Recommendation>,
}

pub async fn forecast_view(s: &AppState, id: Option<&str>) -> Result<ForecastView, ApiError> {
    let run = match id {
        Some(id) => s.city.store.forecast_run(id).await?,
        None => s.city.store.latest_forecast_run(s.city.now(), false).await?,
    }
    .ok_or(ApiError::NotFound)?;
    let parse = |what: &str, text: &str| -> Result<Value, ApiError> {
        serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("{what} of {}: {e}", run.id)))
    };
    let inputs = serde_json::from_value(parse("inputs", &run.inputs)?).unwrap_or_default();
    let hourly =
        serde_json::from_value(parse("hourly", &run.hourly)?).map_err(|e| ApiError::Internal(e.to_string()))?;
    let levels = match &run.levels {
        Some(text) => serde_json::from_value(parse("levels", text)?).map_err(|e| ApiError::Internal(e.to_string()))?,
        None => Vec::new(),
    };
    Ok(ForecastView {
        levels,
        daily: s.city.daily_of(&run).await?,
        reviews: s.city.store.reviews(&run.id).await?,
        recommendation: s.city.store.recommendation(&run.id).await?,
        id: run.id,
        issue_time: run.issue_time,
        model: run.model,
        status: run.status,
        inputs,
        hourly,
    })
}

/// The latest forecast run with its hourly and daily forecast, inputs, reviews and grading.
#[utoipa::path(get, path = "/api/v1/forecasts/latest", tag = "forecaster", security(("bearer" = [])), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, description = "the latest run with its hourly and daily forecast, inputs, reviews and grading", body = ForecastView)))]
pub async fn latest_forecast(State(s): State<AppState>, caller: Caller) -> ApiResult<ForecastView> {
    caller.require(&[Role::Forecaster, Role::Office])?;
    Ok(Json(forecast_view(&s, None).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReviewRequest {
    pub action: ActionName,
    #[serde(default)]
    pub note: String,
    /// For adjust: the adjusted daily rows.
    #[schema(value_type = Option<Vec<Object>>)]
    pub daily: Option<Vec<DailyRow>>,
}

/// A forecaster's review of a run: approve, adjust (with adjusted daily rows) or annotate.
#[utoipa::path(post, path = "/api/v1/forecasts/{id}/reviews", tag = "forecaster", security(("bearer" = [])), params(("id" = String, Path, description = "forecast run id")), request_body = ReviewRequest, responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = Review), (status = 404, body = ErrorBody)))]
pub async fn review(
    State(s): State<AppState>,
    auth: Authorized<ForecasterOnly>,
    Path(id): Path<String>,
    Json(r): Json<ReviewRequest>,
) -> ApiResult<Review> {
    let user = auth.user();
    check_text("note", &r.note, MAX_NOTE_CHARS)?;
    let action = match r.action {
        ActionName::Approve => ReviewAction::Approve,
        ActionName::Adjust => ReviewAction::Adjust,
        ActionName::Annotate => ReviewAction::Annotate,
    };
    for d in r.daily.iter().flatten() {
        // HJ 633's AQI scale ends at 500; anything above it is not an AQI the public can be shown.
        if [d.aqi_p10, d.aqi_p50, d.aqi_p90].iter().any(|a| *a > 500)
            || !(d.aqi_p10 <= d.aqi_p50 && d.aqi_p50 <= d.aqi_p90)
        {
            return Err(ApiError::Invalid(format!(
                "daily {}: AQI {}–{}–{} is not 0–500 with p10 ≤ p50 ≤ p90",
                d.date, d.aqi_p10, d.aqi_p50, d.aqi_p90
            )));
        }
    }
    let daily = r.daily.map(|d| serde_json::to_string(&d).expect("serialises"));
    Ok(Json(s.city.store.review(&id, action, &user.name, &r.note, daily.as_deref(), s.city.now()).await?))
}

/// The warning in force, or null.
#[utoipa::path(get, path = "/api/v1/warnings/current", tag = "office", security(("bearer" = [])), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, description = "the warning in force, or null", body = Option<Warning>)))]
pub async fn current_warning(State(s): State<AppState>, caller: Caller) -> ApiResult<Option<Warning>> {
    caller.require(&[Role::Office, Role::Forecaster])?;
    Ok(Json(s.city.store.warning_in_force().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WarningRequest {
    pub step: StepName,
    pub run_id: Option<String>,
    pub level: Option<LevelName>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<DateTime<FixedOffset>>,
    pub reason: String,
}

/// One of the office's warning steps, carried out in one transaction with its plan, notices and alert.
#[utoipa::path(post, path = "/api/v1/warnings", tag = "office", security(("bearer" = [])), request_body = WarningRequest, responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, description = "the warning after the step", body = Warning), (status = 409, body = ErrorBody)))]
pub async fn warning_step(
    State(s): State<AppState>,
    auth: Authorized<OfficeOnly>,
    Json(r): Json<WarningRequest>,
) -> ApiResult<Warning> {
    let user = auth.user();
    if r.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("a reason is required".into()));
    }
    let now = s.city.now();
    let need = |v: Option<DateTime<FixedOffset>>, name: &str| {
        v.ok_or_else(|| ApiError::BadRequest(format!("`{name}` is required")))
    };
    let lvl = || r.level.map(WarningLevel::from).ok_or_else(|| ApiError::BadRequest("`level` is required".into()));
    let forecast = r.run_id.clone().unwrap_or_else(|| "manual".into());
    let step = match r.step {
        StepName::Approve => {
            let run = r.run_id.as_deref().ok_or_else(|| ApiError::BadRequest("`run_id` is required".into()))?;
            return Ok(Json(s.city.approve_recommendation(run, &user.name, &r.reason, now).await?));
        }
        StepName::Issue => Step::Issue { level: lvl()?, start: need(r.start, "start")?, end: need(r.end, "end")? },
        StepName::Upgrade => Step::Upgrade { level: lvl()?, end: need(r.end, "end")? },
        StepName::Downgrade => Step::Downgrade { level: lvl()?, end: need(r.end, "end")? },
        StepName::Extend => Step::Extend { end: need(r.end, "end")? },
        StepName::Lift => Step::Lift,
    };
    Ok(Json(s.city.apply(step, &user.name, &r.reason, &forecast, now).await?))
}

/// An enterprise's own notices; the office sees the notices of the warning in force.
#[utoipa::path(get, path = "/api/v1/notices", tag = "enterprise", security(("bearer" = [])), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, description = "an enterprise's own notices; the office sees those of the warning in force", body = Vec<StoredNotice>)))]
pub async fn notices(State(s): State<AppState>, caller: Caller) -> ApiResult<Vec<StoredNotice>> {
    let user = caller.require(&[Role::Enterprise, Role::Office])?;
    if user.role == Role::Enterprise {
        let code = user.credit_code.as_deref().ok_or(ApiError::Forbidden)?;
        return Ok(Json(s.city.store.notices_for(code).await?));
    }
    Ok(Json(match s.city.store.warning_in_force().await? {
        Some(w) => s.city.store.notices_of(&w.id, None).await?,
        None => Vec::new(),
    }))
}

/// A notice the caller may see; another enterprise's notice does not exist for it.
pub async fn visible_notice(s: &AppState, caller: &Caller, id: &str) -> Result<StoredNotice, ApiError> {
    let user = caller.require(&[Role::Enterprise, Role::Office])?;
    let n = s.city.store.notice(id).await?.ok_or(ApiError::NotFound)?;
    if user.role == Role::Enterprise && user.credit_code.as_deref() != Some(n.notice.credit_code.as_str()) {
        return Err(ApiError::NotFound);
    }
    Ok(n)
}

/// One notice the caller may see.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "enterprise", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = StoredNotice), (status = 404, description = "no such notice, or another enterprise's", body = ErrorBody)))]
pub async fn notice(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StoredNotice> {
    Ok(Json(visible_notice(&s, &caller, &id).await?))
}

/// The enterprise acknowledges one of its notices.
#[utoipa::path(post, path = "/api/v1/notices/{id}/ack", tag = "enterprise", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = StoredNotice), (status = 404, body = ErrorBody)))]
pub async fn acknowledge(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StoredNotice> {
    // Only the enterprise itself acknowledges, not an admin or the office acting for it: an
    // acknowledgement is the enterprise's statement that it received the instruction.
    if caller.user.role != Role::Enterprise {
        return Err(ApiError::Forbidden);
    }
    visible_notice(&s, &caller, &id).await?;
    Ok(Json(s.city.store.acknowledge(&id, &caller.user.name, s.city.now()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PhoneAcknowledgement {
    /// Who called, e.g. the enterprise's duty officer and number.
    pub received_from: String,
    /// Why the office records it instead of the enterprise.
    pub reason: String,
}

/// An acknowledgement the office received by phone, recorded as its own kind of entry.
#[utoipa::path(post, path = "/api/v1/notices/{id}/phone-acknowledgement", tag = "office", security(("bearer" = [])), params(("id" = String, Path)), request_body = PhoneAcknowledgement, responses((status = 200, body = StoredNotice)))]
pub async fn acknowledge_by_phone(
    State(s): State<AppState>,
    auth: Authorized<OfficeOnly>,
    Path(id): Path<String>,
    Json(r): Json<PhoneAcknowledgement>,
) -> ApiResult<StoredNotice> {
    for (field, value) in [("received_from", &r.received_from), ("reason", &r.reason)] {
        if value.trim().is_empty() {
            return Err(ApiError::Invalid(format!("`{field}` is required")));
        }
        check_text(field, value, MAX_NOTE_CHARS)?;
    }
    let n = s.city.store.notice(&id).await?.ok_or(ApiError::NotFound)?;
    let in_force = s.city.store.warning_in_force().await?;
    if in_force.is_none_or(|w| w.id != n.notice.warning_id) {
        return Err(ApiError::Conflict(format!("notice {id} is not of the warning in force")));
    }
    let note = format!("by phone from {}: {}", r.received_from.trim(), r.reason.trim());
    Ok(Json(s.city.store.acknowledge_by_phone(&id, &auth.user().name, &note, s.city.now()).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryRow {
    pub notice_id: String,
    pub enterprise: String,
    pub credit_code: String,
    /// The warning step the notice belongs to.
    pub step: u32,
    /// The level that step set.
    #[schema(value_type = String)]
    pub level: WarningLevel,
    /// sent, pending, dead (by channel), acknowledged, overdue.
    pub deliveries: Vec<(String, String)>,
    pub acknowledged_at: Option<String>,
    pub overdue: bool,
    pub escalated: bool,
}

/// Delivery status per enterprise for the warning in force.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "office", security(("bearer" = [])), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = [DeliveryRow])))]
pub async fn deliveries(State(s): State<AppState>, caller: Caller) -> ApiResult<Vec<DeliveryRow>> {
    caller.require(&[Role::Office])?;
    Ok(Json(delivery_rows(&s).await?))
}

/// The rows behind [`deliveries`] and the office page.
pub async fn delivery_rows(s: &AppState) -> Result<Vec<DeliveryRow>, ApiError> {
    let Some(w) = s.city.store.warning_in_force().await? else { return Ok(Vec::new()) };
    let now = hazewarn_store::ts(s.city.now());
    let mut rows = Vec::new();
    for n in s.city.store.notices_of(&w.id, None).await? {
        // The notice's own messages (not its reminders), machine channels first, then its route.
        let deliveries = s
            .city
            .store
            .outbox_of(&n.notice.id)
            .await?
            .into_iter()
            .filter(|e| e.kind == "notice" && e.idempotency_key == n.notice.id)
            .map(|e| (e.channel, format!("{:?}", e.status).to_lowercase()))
            .collect();
        let deadline = hazewarn_store::ts(n.notice.ack_deadline.with_timezone(&chrono::Utc));
        rows.push(DeliveryRow {
            overdue: n.acknowledged_at.is_none() && deadline < now,
            escalated: n.escalated_at.is_some(),
            step: n.notice.step,
            level: n.notice.level,
            notice_id: n.notice.id,
            enterprise: n.notice.enterprise,
            credit_code: n.notice.credit_code,
            deliveries,
            acknowledged_at: n.acknowledged_at,
        });
    }
    Ok(rows)
}

/// Messages that ran out of delivery attempts.
#[utoipa::path(get, path = "/api/v1/outbox/dead", tag = "office", security(("bearer" = [])), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = Vec<OutboxEntry>)))]
pub async fn dead_letters(State(s): State<AppState>, caller: Caller) -> ApiResult<Vec<OutboxEntry>> {
    caller.require(&[Role::Office])?;
    Ok(Json(s.city.store.outbox_in(hazewarn_store::OutboxStatus::Dead, 10_000).await?))
}

/// Puts a dead letter back in the outbox.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "office", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = Retried), (status = 404, body = ErrorBody)))]
pub async fn retry_dead(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Retried> {
    let user = caller.require(&[Role::Office])?;
    s.city.store.retry_dead(&id, &user.name, s.city.now()).await?;
    Ok(Json(Retried { id, status: "pending".into() }))
}

/// A dead letter put back in the queue.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Retried {
    pub id: String,
    /// `pending`: due now, with a fresh attempt budget.
    pub status: String,
}

/// A restored list version.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Restored {
    /// The new version, a copy of the restored one.
    pub version: i64,
    pub restored_from: i64,
}

/// An imported list, or with `preview=true` what it would change.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Upload {
    Imported { version: i64, enterprises: usize, lines: usize },
    Preview(hazewarn_scheduler::lists::ListPreview),
}

#[derive(Deserialize)]
pub struct PlanQuery {
    pub level: String,
}

/// The plan the list gives at a level, against the targets (a preview; nothing is stored).
#[utoipa::path(get, path = "/api/v1/plan", tag = "office", security(("bearer" = [])), params(("level" = String, Query, description = "yellow, orange or red")), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, description = "the curtailment plan at that level against the targets", body = CurtailmentPlan)))]
pub async fn plan_preview(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PlanQuery>,
) -> ApiResult<CurtailmentPlan> {
    caller.require(&[Role::Office])?;
    let (_, list) = s.city.list().await?;
    let c = &s.city;
    let p = plan(&list, &c.rules, level(&q.level)?, &c.inventory, &c.profile.targets, c.guarantee())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(p))
}

/// Every imported version of the reduction list, newest first.
#[utoipa::path(get, path = "/api/v1/lists", tag = "office", security(("bearer" = [])), responses((status = 200, body = Vec<ListVersion>)))]
pub async fn list_versions(State(s): State<AppState>, auth: Authorized<OfficeOnly>) -> ApiResult<Vec<ListVersion>> {
    let _ = auth;
    Ok(Json(s.city.store.list_versions().await?))
}

/// Makes an earlier version the list in use again, as a new version.
#[utoipa::path(post, path = "/api/v1/lists/{version}/restore", tag = "office", security(("bearer" = [])), params(("version" = i64, Path)), responses((status = 200, body = Restored)))]
pub async fn restore_list(
    State(s): State<AppState>,
    auth: Authorized<OfficeOnly>,
    Path(version): Path<i64>,
) -> ApiResult<Restored> {
    let new = s.city.restore_list(version, &auth.user().name, s.city.now()).await?;
    Ok(Json(Restored { version: new, restored_from: version }))
}

#[derive(Deserialize)]
pub struct UploadQuery {
    /// The file name; `.xlsx` is read as a workbook, anything else as CSV.
    pub name: String,
    /// Say what the file would change (enterprises added, removed, changed; the plan's totals
    /// before and after) without importing it.
    #[serde(default)]
    pub preview: bool,
}

/// A new reduction-list version, validated as the CLI does; an invalid upload changes nothing.
#[utoipa::path(post, path = "/api/v1/lists", tag = "office", security(("bearer" = [])), params(("name" = String, Query, description = "file name; .xlsx is read as a workbook, else CSV"), ("preview" = Option<bool>, Query, description = "say what the file would change, importing nothing")), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 401, description = "no or unknown token", body = ErrorBody), (status = 403, description = "role not allowed", body = ErrorBody), (status = 200, body = Upload), (status = 422, description = "the list has problems; nothing was imported", body = ErrorBody), (status = 413, description = "too large")))]
pub async fn upload_list(
    State(s): State<AppState>,
    auth: Authorized<OfficeOnly>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> ApiResult<Upload> {
    let user = auth.user();
    if q.preview {
        let preview = s.city.preview_list(&q.name, &body).await?;
        return Ok(Json(Upload::Preview(preview)));
    }
    let (version, list) = s.city.import_list(&q.name, &body, &user.name).await?;
    Ok(Json(Upload::Imported { version, enterprises: list.enterprises.len(), lines: list.line_count() }))
}
