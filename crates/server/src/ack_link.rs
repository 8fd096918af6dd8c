//! The page an acknowledgement link opens (`/a/{token}`): the notice it was sent with, and one
//! button that acknowledges it without signing in. Opening the page changes nothing (a mail
//! scanner may fetch it); the button's POST spends the link and records the acknowledgement,
//! with the channel the link came by, in one transaction.
//!
//! A link that is unknown, altered, expired, spent, or signed with another secret gets the same
//! 403 page, which names no notice.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hazewarn_store::AckLink;

use crate::enterprise_view::notice_card;
use crate::pages::{Lang, city_nav_frame};
use crate::templates::{Frame, render};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/a/{token}", get(open).post(spend))
}

/// The page of a link: the notice, or (with none) that the link cannot be used.
#[derive(Template)]
#[template(path = "enterprise/ack_link.html")]
struct LinkPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    notice: Option<LinkedNotice>,
}

struct LinkedNotice {
    /// The acknowledgement was just recorded.
    done: bool,
    /// The notice's card (`enterprise_view`).
    card: String,
    /// The button, while the notice is not acknowledged.
    form: Option<LinkForm>,
}

/// The button's form: the link's token, and the CSRF field a signed-in browser needs.
struct LinkForm {
    token: String,
    csrf: Option<String>,
}

fn refused(l: &Lang) -> Response {
    let page = LinkPage { frame: city_nav_frame(l, l.m("ack_link.acknowledgement-link"), false), l, notice: None };
    (StatusCode::FORBIDDEN, render(&page)).into_response()
}

/// The page of a usable link's notice.
fn notice_page(l: &Lang, notice: LinkedNotice) -> Response {
    let frame = city_nav_frame(l, l.m("ack_link.curtailment-notice"), false);
    render(&LinkPage { frame, l, notice: Some(notice) }).into_response()
}

/// The link, if this city signed it and it is neither expired nor spent.
async fn usable(s: &AppState, token: &str) -> Result<Option<AckLink>, ApiError> {
    let Some(links) = &s.city.links else { return Ok(None) };
    let Some(link) = s.city.store.ack_link(token).await? else { return Ok(None) };
    let fresh = link.expires_at > s.city.now() && link.used_at.is_none();
    Ok((fresh && links.signed(&link)).then_some(link))
}

/// The CSRF token a signed-in browser's form needs (the middleware checks it when a session
/// cookie comes along); none without a cookie.
fn csrf_of_cookie(headers: &HeaderMap) -> Option<String> {
    crate::auth::cookie_token(headers).map(|t| crate::auth::csrf_of(&t))
}

async fn open(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(l): Query<Lang>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(link) = usable(&s, &token).await? else { return Ok(refused(&l)) };
    let Some(n) = s.city.store.notice(&link.notice_id).await? else { return Ok(refused(&l)) };
    let form = n.acknowledged_at.is_none().then(|| LinkForm { token, csrf: csrf_of_cookie(&headers) });
    Ok(notice_page(&l, LinkedNotice { done: false, card: notice_card(&l, &n, false)?, form }))
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
            Ok(notice_page(&l, LinkedNotice { done: true, card: notice_card(&l, &n, false)?, form: None }))
        }
    }
}
