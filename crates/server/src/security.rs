//! Browser-session safety: security headers on every response, and a CSRF check on every state
//! change a cookie authenticates. A request carrying an `Authorization` header is an API client's
//! and needs neither: a page on another site cannot set that header.
//!
//! The check is two-fold: the browser's own word on where the request came from
//! (`Sec-Fetch-Site`, else `Origin` against `Host`), and the session's CSRF token (derived from
//! its token, see [`crate::auth::csrf_of`]) in the form field `csrf`, the `csrf` query parameter
//! (multipart uploads) or the `X-CSRF-Token` header.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::MAX_BODY_BYTES;
use crate::auth::{cookie_token, csrf_of};
use crate::error::error_response;

/// Inline styles and the confirmation handlers on the office's forms are the pages' own; nothing
/// is loaded from elsewhere and no page may be framed.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    resp
}

/// Whether the browser says the request came from this site. A client that sends neither
/// header is no browser that a page elsewhere could have made send it.
fn same_origin(h: &HeaderMap) -> bool {
    if let Some(site) = h.get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), h.get(header::HOST).and_then(|v| v.to_str().ok())) {
        (Some(origin), Some(host)) => origin == format!("http://{host}") || origin == format!("https://{host}"),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

fn refused(message: &str) -> Response {
    error_response(StatusCode::FORBIDDEN, "csrf", message)
}

pub async fn csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.headers().contains_key(header::AUTHORIZATION)
    {
        return next.run(req).await;
    }
    if !same_origin(req.headers()) {
        return refused("a request from another site may not change anything here");
    }
    // Signing in starts a session rather than acting in one: a browser still holding an ended
    // session's cookie must be able to sign in again (the origin check above still applies).
    if req.uri().path() == "/login" || req.uri().path().starts_with("/login/") {
        return next.run(req).await;
    }
    let Some(token) = cookie_token(req.headers()) else { return next.run(req).await };
    let expected = csrf_of(&token);
    let from_header = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let from_query = req.uri().query().and_then(|q| field(q.as_bytes()));
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
    let (req, from_form) = if is_form && from_header.is_none() && from_query.is_none() {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the form is too large");
        };
        let given = field(&bytes);
        (Request::from_parts(parts, Body::from(bytes)), given)
    } else {
        (req, None)
    };
    match from_header.or(from_query).or(from_form) {
        Some(given) if given == expected => next.run(req).await,
        _ => refused("the form's CSRF token is missing or does not match this session; reload the page"),
    }
}

/// The `csrf` field of a urlencoded query or form.
fn field(bytes: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
    pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v)
}
