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

pub mod api;
pub mod auth;
mod error;
pub mod openapi;
pub mod pages;
pub mod svg;

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
    pub limiter: Arc<auth::RateLimiter>,
}

impl AppState {
    /// `rate` requests per second per caller.
    pub fn new(city: Arc<City>, rate: u32) -> AppState {
        AppState { city, limiter: Arc::new(auth::RateLimiter::new(rate, Duration::from_secs(1))) }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/public/current", get(api::public_current))
        .route("/forecasts/latest", get(api::latest_forecast))
        .route("/forecasts/{id}/reviews", post(api::review))
        .route("/warnings/current", get(api::current_warning))
        .route("/warnings", post(api::warning_step))
        .route("/notices", get(api::notices))
        .route("/notices/{id}", get(api::notice))
        .route("/notices/{id}/ack", post(api::acknowledge))
        .route("/deliveries", get(api::deliveries))
        .route("/outbox/dead", get(api::dead_letters))
        .route("/outbox/{id}/retry", post(api::retry_dead))
        .route("/plan", get(api::plan_preview))
        .route("/lists", post(api::upload_list))
        .route("/openapi.json", get(|| async { axum::Json(<openapi::ApiDoc as utoipa::OpenApi>::openapi()) }))
        .fallback(|| async { ApiError::NotFound });
    Router::new()
        .nest("/api/v1", api)
        .route("/cap.xml", get(cap_xml))
        .route("/feed.atom", get(atom_feed))
        .merge(pages::routes())
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
    let mut entries: Vec<(chrono::DateTime<chrono::FixedOffset>, String)> = Vec::new();
    for w in &warnings {
        for t in w.transitions.iter().filter(|t| t.kind != TransitionKind::Draft) {
            let title = format!("{} {:?} {}", w.id, t.kind, t.level.zh());
            entries.push((
                t.at,
                format!(
                    "<entry><id>urn:hazewarn:{id}:{step}</id><title>{title}</title><updated>{at}</updated>\
                     <link rel=\"alternate\" type=\"application/cap+xml\" href=\"/cap.xml\"/>\
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
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let updated = entries.first().map_or_else(|| s.city.now_local().to_rfc3339(), |e| e.0.to_rfc3339());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>urn:hazewarn:{city}</id><title>{name} 重污染天气预警</title><updated>{updated}</updated>{entries}</feed>\n",
        city = escape(&s.city.config.city.id),
        name = escape(&s.city.config.city.name),
        entries = entries.into_iter().map(|e| e.1).collect::<String>()
    );
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], body).into_response())
}

/// Serves until ctrl-c, with the scheduler running beside it.
pub async fn serve(city: Arc<City>, addr: &str, rate: u32) -> Result<(), std::io::Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let scheduler = tokio::spawn(hazewarn_scheduler::run(city.clone()));
    let app = router(AppState::new(city, rate));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    scheduler.abort();
    Ok(())
}

/// A response for a status with a plain message (pages).
pub fn plain(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

#[cfg(test)]
mod tests;
