//! The page an acknowledgement link opens (`/a/{token}`): the notice it was sent with, and one
//! button that acknowledges it without signing in. Opening the page changes nothing (a mail
//! scanner may fetch it); the button's POST spends the link and records the acknowledgement,
//! with the channel the link came by, in one transaction.
//!
//! A link that is unknown, altered, expired, spent, or signed with another secret gets the same
//! 403 page, which names no notice.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hazewarn_store::AckLink;

use crate::pages::{Lang, notice_card, page};
use crate::{ApiError, AppState, escape};

pub fn routes() -> Router<AppState> {
    Router::new().route("/a/{token}", get(open).post(spend))
}

fn refused(l: &Lang) -> Response {
    let body = format!("<p id=\"refused\">{}</p>", l.m("ack_link.this-acknowledgement-link-is-not"));
    (StatusCode::FORBIDDEN, page(l, l.m("ack_link.acknowledgement-link"), &body)).into_response()
}

/// The link, if this city signed it and it is neither expired nor spent.
async fn usable(s: &AppState, token: &str) -> Result<Option<AckLink>, ApiError> {
    let Some(links) = &s.city.links else { return Ok(None) };
    let Some(link) = s.city.store.ack_link(token).await? else { return Ok(None) };
    let fresh = link.expires_at > s.city.now() && link.used_at.is_none();
    Ok((fresh && links.signed(&link)).then_some(link))
}

/// The CSRF field a signed-in browser's form needs (the middleware checks it when a session
/// cookie comes along); none without a cookie.
fn csrf_field(headers: &HeaderMap) -> String {
    crate::auth::cookie_token(headers).map_or_else(String::new, |t| {
        format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", crate::auth::csrf_of(&t))
    })
}

async fn open(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(l): Query<Lang>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(link) = usable(&s, &token).await? else { return Ok(refused(&l)) };
    let Some(n) = s.city.store.notice(&link.notice_id).await? else { return Ok(refused(&l)) };
    let mut b = notice_card(&l, &n, false);
    if n.acknowledged_at.is_none() {
        b += &format!(
            "<form method=\"post\" action=\"/a/{t}{q}\">{csrf}<button id=\"ack\">{label}</button></form>",
            t = escape(&token),
            q = l.q(),
            csrf = csrf_field(&headers),
            label = l.m("ack_link.acknowledge"),
        );
    }
    Ok(page(&l, l.m("ack_link.curtailment-notice"), &b).into_response())
}

async fn spend(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(l): Query<Lang>,
) -> Result<Response, ApiError> {
    let Some(link) = usable(&s, &token).await? else { return Ok(refused(&l)) };
    let Some(n) = s.city.store.notice(&link.notice_id).await? else { return Ok(refused(&l)) };
    let by = format!("link:{}", n.notice.credit_code);
    match s.city.store.acknowledge_by_link(&token, &by, s.city.now()).await? {
        Err(_) => Ok(refused(&l)),
        Ok(_) => {
            let n = s.city.store.notice(&link.notice_id).await?.ok_or(ApiError::NotFound)?;
            let body = format!(
                "<p class=\"msg\" id=\"done\">{}</p>{}",
                l.m("ack_link.acknowledged-thank-you"),
                notice_card(&l, &n, false)
            );
            Ok(Html(page(&l, l.m("ack_link.curtailment-notice"), &body).0).into_response())
        }
    }
}
