/*!
The HTTP server: the JSON API under `/api/v1`, the server-rendered pages for forecasters, the
emergency office, enterprises and the public, and the public CAP alert and its Atom feed.

Principal types:
* [`AppState`]: the shared state (`Clone`): the [`City`] and the rate limiter.
* [`router`]: every route. Tests call it directly with `tower::ServiceExt::oneshot`.
* [`ApiError`]: every failure as `{"error": {"code", "message"}}` with its status; internals are
  logged, never sent.
* [`auth::Caller`]: the bearer token's user; roles are checked in each handler.

Pages are HTML with inline SVG charts drawn here ([`svg`]), no scripts or styles from elsewhere;
the text is Chinese, with English under `?lang=en`.
*/

mod accounts_view;
mod ack_link;
pub mod advisories_view;
mod alarms_view;
pub mod api;
mod assets;
mod audit_detail;
pub mod auth;
pub mod charts;
mod compliance_board;
mod compliance_view;
mod devices_view;
mod enterprise_view;
mod error;
mod exports;
mod flash;
mod forecaster_page;
mod forecaster_view;
mod history_view;
mod lists_view;
mod messages;
mod metrics;
pub mod observed;
mod office_sections;
mod office_view;
pub mod openapi;
pub mod pages;
mod province_pages;
pub mod province_view;
mod public_view;
mod refusals;
mod security;
mod signin;
mod stations_view;
pub mod svg;
mod templates;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hazewarn_response::TransitionKind;
use hazewarn_scheduler::City;

pub use error::ApiError;

/// Uploads (reduction lists) larger than this are refused.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub city: Arc<City>,
    /// Requests per second, per token and per client address.
    pub limiter: Arc<auth::RateLimiter>,
    /// Failed sign-ins and unknown tokens per client address.
    pub failures: Arc<auth::RateLimiter>,
    /// Sign-in codes asked for per client address (each account has its own limit in the store).
    pub codes: Arc<auth::RateLimiter>,
    /// List files previewed on the office page and awaiting confirmation, by SHA-256.
    pub staged: Arc<std::sync::Mutex<lists_view::StagedLists>>,
    /// The city's latest observed hour, read again when the cycle rewrites the city series.
    pub observed: Arc<observed::ObservedCache>,
    /// The province the city belongs to, in a province deployment: its advisories to answer.
    pub province: Option<Arc<hazewarn_scheduler::Province>>,
}

/// Sign-in codes a client address may ask for per minute.
pub const CODES_PER_MINUTE: u32 = 5;

/// Failed sign-ins (or unknown tokens) a client address may make per minute.
pub const FAILURES_PER_MINUTE: u32 = 10;

impl AppState {
    /// `rate` requests per second per token and per client address.
    pub fn new(city: Arc<City>, rate: u32) -> AppState {
        AppState::with_failures(city, rate, FAILURES_PER_MINUTE)
    }

    /// As [`AppState::new`], with `failures` failed sign-ins per client address per minute.
    pub fn with_failures(city: Arc<City>, rate: u32, failures: u32) -> AppState {
        AppState {
            city,
            limiter: Arc::new(auth::RateLimiter::new(rate, Duration::from_secs(1))),
            failures: Arc::new(auth::RateLimiter::new(failures, Duration::from_secs(60))),
            codes: Arc::new(auth::RateLimiter::new(CODES_PER_MINUTE, Duration::from_secs(60))),
            staged: Arc::default(),
            observed: Arc::default(),
            province: None,
        }
    }

    /// The state of a city of `province`.
    pub fn in_province(mut self, province: Arc<hazewarn_scheduler::Province>) -> AppState {
        self.province = Some(province);
        self
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/public/current", get(api::public_current))
        .route("/forecasts/latest", get(api::latest_forecast))
        .route("/forecasts/{id}/reviews", post(api::review))
        .route("/warnings/current", get(api::current_warning))
        .route("/warnings", post(api::warning_step).get(history_view::warning_history))
        .route("/notices", get(api::notices))
        .route("/notices/{id}", get(api::notice))
        .route("/notices/{id}/ack", post(api::acknowledge))
        .route("/notices/{id}/phone-acknowledgement", post(api::acknowledge_by_phone))
        .route("/deliveries", get(api::deliveries))
        .route("/outbox/dead", get(api::dead_letters))
        .route("/outbox/{id}/retry", post(api::retry_dead))
        .route("/plan", get(api::plan_preview))
        .route("/lists", post(api::upload_list).get(api::list_versions))
        .route("/lists/{version}/restore", post(api::restore_list))
        .merge(compliance_view::api_routes())
        .merge(advisories_view::api_routes())
        .route("/openapi.json", get(|| async { axum::Json(<openapi::ApiDoc as utoipa::OpenApi>::openapi()) }))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::map_response(error::json_errors));
    Router::new()
        .nest("/api/v1", api)
        .route("/cap.xml", get(cap_xml))
        .route("/cap/{warning}/{step}", get(cap_of_step))
        .route("/feed.atom", get(atom_feed))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(assets::routes())
        .merge(pages::routes())
        .merge(lists_view::routes())
        .merge(ack_link::routes())
        .merge(signin::routes())
        .merge(accounts_view::routes())
        .merge(compliance_view::routes())
        .merge(history_view::routes())
        .merge(advisories_view::routes())
        .merge(exports::routes())
        .layer(axum::middleware::from_fn(templates::remember_here))
        .layer(axum::middleware::from_fn(templates::reload_of_a_form))
        .layer(axum::middleware::from_fn(security::csrf))
        .layer(axum::middleware::map_response(security::headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The CAP 1.2 alert of the warning in force (or the latest lifted one).
async fn cap_xml(State(s): State<AppState>) -> Result<Response, ApiError> {
    let w = match s.city.store.warning_in_force().await? {
        Some(w) => w,
        None => s
            .city
            .store
            .warnings_in(hazewarn_response::WarningState::Lifted)
            .await?
            .into_iter()
            .next()
            .ok_or(ApiError::NotFound)?,
    };
    let xml = s.city.alert(&w)?.to_xml();
    Ok(([(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")], xml).into_response())
}

/// Escapes text for XML and HTML (the notices' own escaping).
pub use hazewarn_response::html_escape as escape;

/// An Atom feed of every published warning step, newest first, each entry linking its CAP alert.
async fn atom_feed(State(s): State<AppState>) -> Result<Response, ApiError> {
    let mut warnings = s.city.store.warnings_in(hazewarn_response::WarningState::Issued).await?;
    warnings.extend(s.city.store.warnings_in(hazewarn_response::WarningState::Lifted).await?);
    let mut entries: Vec<(chrono::DateTime<chrono::FixedOffset>, u32, String)> = Vec::new();
    for w in &warnings {
        for t in w.transitions.iter().filter(|t| t.kind != TransitionKind::Draft) {
            // The feed is the city's public channel, in Chinese as the alerts are.
            let zh = pages::Lang::default();
            let title = format!("{} {}{}", w.id, history_view::kind_name(&zh, t.kind), t.level.zh());
            entries.push((
                t.at,
                t.step,
                format!(
                    "<entry><id>urn:hazewarn:{id}:{step}</id><title>{title}</title><updated>{at}</updated>\
                     <link rel=\"alternate\" type=\"application/cap+xml\" href=\"/cap/{id}/{step}\"/>\
                     <summary>{reason}</summary></entry>",
                    id = escape(&w.id),
                    step = t.step,
                    title = escape(&title),
                    at = t.at.to_rfc3339(),
                    reason = escape(&t.reason)
                ),
            ));
        }
    }
    // Newest first; a warning's later step before its earlier one taken at the same minute.
    entries.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    let updated = entries.first().map_or_else(|| s.city.now_local().to_rfc3339(), |e| e.0.to_rfc3339());
    // RFC 4287: a feed names its author (here the issuing office) and itself.
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\
         <id>urn:hazewarn:{city}</id><title>{name} 重污染天气预警</title><updated>{updated}</updated>\
         <author><name>{author}</name></author><link rel=\"self\" type=\"application/atom+xml\" href=\"/feed.atom\"/>{entries}</feed>\n",
        city = escape(&s.city.config.city.id),
        name = escape(&s.city.config.city.name),
        author = escape(&s.city.cap.sender_name),
        entries = entries.into_iter().map(|e| e.2).collect::<String>()
    );
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], body).into_response())
}

/// The CAP alert one step of a warning published (each Atom entry links to its own).
async fn cap_of_step(
    State(s): State<AppState>,
    axum::extract::Path((warning, step)): axum::extract::Path<(String, u32)>,
) -> Result<Response, ApiError> {
    let mut w = s
        .city
        .store
        .warnings_all()
        .await?
        .into_iter()
        .find(|w| w.id == warning && w.state != hazewarn_response::WarningState::Draft)
        .ok_or(ApiError::NotFound)?;
    if !w.transitions.iter().any(|t| t.step == step && t.kind != TransitionKind::Draft) {
        return Err(ApiError::NotFound);
    }
    // The alert of a step references those before it, never those after.
    w.transitions.retain(|t| t.step <= step);
    let xml = s.city.alert(&w)?.to_xml();
    Ok(([(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")], xml).into_response())
}

/// Serves until ctrl-c, with the scheduler running beside it.
pub async fn serve(city: Arc<City>, addr: &str, rate: u32, failures: u32) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler = hazewarn_scheduler::run_until(city.clone(), stopped(stop_rx));
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    supervise(listener, router(AppState::with_failures(city, rate, failures)), scheduler, stop_tx, ctrl_c).await
}

/// Serves a province until ctrl-c: its own pages on `addr`, each city's on the `listen` the
/// province config gives it, beside [`hazewarn_scheduler::run_province`] (every city's jobs and
/// the catch-up of advisory deliveries). If any of them ends first, everything stops with an error.
pub async fn serve_province(
    province: Arc<hazewarn_scheduler::Province>,
    addr: &str,
    rate: u32,
    failures: u32,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving the province");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks: tokio::task::JoinSet<Result<(), String>> = tokio::task::JoinSet::new();
    for (city, listed) in province.cities.iter().zip(&province.config.cities) {
        let Some(at) = &listed.listen else {
            return Err(ServeError::Config(format!("cities `{}`: `listen` is needed to serve its pages", listed.id)));
        };
        let city_listener = tokio::net::TcpListener::bind(at).await?;
        tracing::info!(city = %listed.id, addr = %city_listener.local_addr()?, "serving");
        let state = AppState::with_failures(city.clone(), rate, failures).in_province(province.clone());
        let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let id = listed.id.clone();
        let stop = stopped(stop_rx.clone());
        tasks.spawn(async move {
            axum::serve(city_listener, app).with_graceful_shutdown(stop).await.map_err(|e| format!("{id}: {e}"))
        });
    }
    let (p, rx) = (province.clone(), stop_rx.clone());
    tasks.spawn(async move { hazewarn_scheduler::run_province(p, rx).await.map_err(|e| e.to_string()) });
    let background =
        hazewarn_scheduler::supervise_tasks(tasks, stop_rx.clone(), "a city's server or the province's jobs ended");
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let app = province_view::province_router(province_view::ProvinceState::new(province, rate, failures));
    supervise(listener, app, background, stop_tx, ctrl_c).await
}

async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Serves `app` with `background` running beside it until `signal`, then asks both to stop
/// (through `stop`) and waits for them. If the background task ends first, for whatever reason,
/// serving stops and that is an error: a supervisor then sees a dead scheduler instead of a
/// server that looks healthy while no forecast runs and no notice goes out.
pub async fn supervise(
    listener: tokio::net::TcpListener,
    app: Router,
    background: impl Future<Output = Result<(), hazewarn_scheduler::SchedulerError>> + Send + 'static,
    stop: tokio::sync::watch::Sender<bool>,
    signal: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let mut background = tokio::spawn(background);
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(stopped(stop.subscribe()));
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        r = &mut server => {
            let _ = stop.send(true);
            let _ = background.await;
            return r.map_err(ServeError::Io);
        }
        r = &mut background => {
            let _ = stop.send(true);
            return Err(ServeError::SchedulerStopped(match r {
                Ok(Ok(())) => "it ended".into(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            }));
        }
        () = signal => {}
    }
    let _ = stop.send(true);
    server.await?;
    match background.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ServeError::SchedulerStopped(e.to_string())),
        Err(e) => Err(ServeError::SchedulerStopped(e.to_string())),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("the scheduler stopped: {0}")]
    SchedulerStopped(String),
}

/// Liveness: the process answers.
async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Readiness: 503 when the scheduler has not started or a job is overdue (see
/// `hazewarn_scheduler::health`), with each job's last run in the body.
async fn readyz(State(s): State<AppState>) -> Response {
    let r = s.city.health.readiness(&s.city.config.schedule, chrono::Utc::now());
    let status = if r.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(r)).into_response()
}

/// A response for a status with a plain message (pages).
pub fn plain(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compliance;
#[cfg(test)]
mod tests_exports;
#[cfg(test)]
mod tests_hardening;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_links;
#[cfg(test)]
mod tests_province;
#[cfg(test)]
mod tests_refusals;
#[cfg(test)]
mod tests_signin;
#[cfg(test)]
mod tests_workflow;
