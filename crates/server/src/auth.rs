//! Bearer tokens (header `Authorization: Bearer …`, or the `hw_token` cookie the pages set),
//! checked against the store's hashed tokens, and per-caller rate limiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hazewarn_store::users::{Role, User};

use crate::{ApiError, AppState};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    /// Refuses roles not in `allowed`; an admin may do anything.
    pub fn require(&self, allowed: &[Role]) -> Result<&User, ApiError> {
        if self.0.role == Role::Admin || allowed.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

pub fn token_of(parts: &Parts) -> Option<String> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(t) = header.and_then(|h| h.strip_prefix("Bearer ")) {
        return Some(t.trim().to_owned());
    }
    let cookies = parts.headers.get(axum::http::header::COOKIE).and_then(|v| v.to_str().ok())?;
    cookies.split(';').find_map(|c| c.trim().strip_prefix("hw_token=").map(str::to_owned))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = token_of(parts).ok_or(ApiError::Unauthenticated)?;
        state.limiter.check(&token)?;
        let user = state.city.store.user_by_token(&token).await?.ok_or(ApiError::Unauthenticated)?;
        Ok(Caller(user))
    }
}

/// A fixed-window limit per caller key (token or address): `limit` requests per `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter { limit, window, seen: Mutex::new(HashMap::new()) }
    }

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
        if entry.1 > self.limit { Err(ApiError::TooMany) } else { Ok(()) }
    }
}
