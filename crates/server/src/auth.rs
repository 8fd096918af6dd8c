//! Bearer tokens (header `Authorization: Bearer …`, the scheme case-insensitive as RFC 6750
//! allows) checked against the store's hashed tokens, and browser sessions (the `hw_session`
//! cookie holds a random session id, never a token; sessions expire and end at logout);
//! role extractors that refuse a caller before its request body is read; and rate limits per
//! token and per client address, so invalid tokens and sign-in attempts are limited too.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use hazewarn_store::users::{Role, User};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

/// What signing in needs of a server's state: the store that keeps its users and sessions, its
/// clock and its rate limits. A city's [`AppState`] and the province's state both are one.
pub trait Gate: Clone + Send + Sync + 'static {
    fn store(&self) -> &hazewarn_store::Store;
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
    /// Requests per second, per token and per client address.
    fn limiter(&self) -> &RateLimiter;
    /// Failed sign-ins and unknown tokens per client address.
    fn failures(&self) -> &RateLimiter;
}

impl Gate for AppState {
    fn store(&self) -> &hazewarn_store::Store {
        &self.city.store
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.city.now()
    }
    fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }
    fn failures(&self) -> &RateLimiter {
        &self.failures
    }
}

/// The authenticated caller, and the CSRF token of its session (derived from its token).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub csrf: String,
}

impl Caller {
    /// Refuses roles not in `allowed`; an admin may do anything.
    pub fn require(&self, allowed: &[Role]) -> Result<&User, ApiError> {
        if self.user.role == Role::Admin || allowed.contains(&self.user.role) {
            Ok(&self.user)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// The CSRF token of a session: a hash of its secret token, so it needs no storage, differs per
/// session, and cannot be computed by a page that cannot read the (HttpOnly) cookie.
pub fn csrf_of(token: &str) -> String {
    let digest = Sha256::digest(format!("hazewarn-csrf\0{token}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The bearer token of a request and whether it came from the cookie.
pub fn token_of(parts: &Parts) -> Option<(String, bool)> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(h) = header {
        let (scheme, token) = h.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| (token.trim().to_owned(), false));
    }
    cookie_token(&parts.headers).map(|t| (t, true))
}

/// The session id in the `hw_session` cookie.
pub fn cookie_token(headers: &axum::http::HeaderMap) -> Option<String> {
    let cookies = headers.get(axum::http::header::COOKIE).and_then(|v| v.to_str().ok())?;
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE).and_then(|v| v.strip_prefix('=')).map(str::to_owned))
}

pub const SESSION_COOKIE: &str = "hw_session";
/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;

/// `bytes` from the operating system's random source, as URL-safe text: session ids, tokens.
pub fn random_text(bytes: usize) -> Result<String, ApiError> {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .map_err(|e| ApiError::Internal(format!("/dev/urandom: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Starts a session for `user` and returns the `Set-Cookie` value that carries it.
pub async fn start_session<S: Gate>(
    state: &S,
    user: &str,
    headers: &axum::http::HeaderMap,
) -> Result<String, ApiError> {
    let id = random_text(32)?;
    let ttl = chrono::Duration::hours(SESSION_HOURS);
    state.store().start_session(&id, user, state.now(), ttl).await?;
    // Behind a TLS-terminating proxy the cookie must never travel in clear.
    let tls = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let secure = if tls { "; Secure" } else { "" };
    Ok(format!("{SESSION_COOKIE}={id}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{secure}", ttl.num_seconds()))
}

/// The peer's address (`unknown` where the server was not given it, as in route tests).
pub fn client_of(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

impl<S: Gate> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, ApiError> {
        let client = client_of(parts);
        let (token, from_cookie) = token_of(parts).ok_or(ApiError::Unauthenticated)?;
        state.limiter().check(&format!("addr:{client}"))?;
        state.limiter().check(&format!("token:{token}"))?;
        // An address that has used up its failures may not try again, not even a right token.
        state.failures().refuse_if_spent(&client)?;
        let user = if from_cookie {
            state.store().user_by_session(&token, state.now()).await?
        } else {
            state.store().user_by_token(&token).await?
        };
        match user {
            Some(user) => Ok(Caller { user, csrf: csrf_of(&token) }),
            // An unknown bearer token counts as a failed sign-in. An unknown session id does not:
            // it is 32 random bytes no one guesses, and a browser may carry another server's
            // (cities served from one host share cookies across ports), which must not lock its
            // address out.
            None => {
                if !from_cookie {
                    state.failures().check(&client)?;
                }
                Err(ApiError::Unauthenticated)
            }
        }
    }
}

/// The roles a handler admits, as a type, so the check runs before the body is parsed.
pub trait Allowed: Send + Sync {
    const ROLES: &'static [Role];
}

pub struct OfficeOnly;
impl Allowed for OfficeOnly {
    const ROLES: &'static [Role] = &[Role::Office];
}

pub struct ProvinceOnly;
impl Allowed for ProvinceOnly {
    const ROLES: &'static [Role] = &[Role::Province];
}

pub struct ForecasterOnly;
impl Allowed for ForecasterOnly {
    const ROLES: &'static [Role] = &[Role::Forecaster];
}

/// A caller whose role is one of `R::ROLES` (or admin).
pub struct Authorized<R> {
    pub caller: Caller,
    _roles: PhantomData<R>,
}

impl<R: Allowed> Authorized<R> {
    pub fn from_caller(caller: Caller) -> Result<Authorized<R>, ApiError> {
        caller.require(R::ROLES)?;
        Ok(Authorized { caller, _roles: PhantomData })
    }

    pub fn user(&self) -> &User {
        &self.caller.user
    }
}

impl<R: Allowed, S: Gate> FromRequestParts<S> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Authorized<R>, ApiError> {
        Authorized::from_caller(Caller::from_request_parts(parts, state).await?)
    }
}

/// A fixed-window limit per key (token, address): `limit` requests per `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter { limit, window, seen: Mutex::new(HashMap::new()) }
    }

    /// Refuses `key` if it has used up its window, without counting a request.
    pub fn refuse_if_spent(&self, key: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let seen = self.seen.lock().expect("limiter lock");
        match seen.get(key) {
            Some((start, n)) if *n >= self.limit && now.duration_since(*start) < self.window => {
                Err(self.too_many(now, *start))
            }
            _ => Ok(()),
        }
    }

    fn too_many(&self, now: Instant, start: Instant) -> ApiError {
        let left = self.window.saturating_sub(now.duration_since(start));
        ApiError::TooMany { retry_after_s: left.as_secs() + u64::from(left.subsec_nanos() > 0) }
    }

    /// Counts one request for `key`; over the limit, the error says how many seconds until the
    /// window opens again (for `Retry-After`).
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("limiter lock");
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = seen.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.limit { Err(self.too_many(now, entry.0)) } else { Ok(()) }
    }
}

/// The client's address as an extractor (see [`client_of`]).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(client_of(parts)))
    }
}
