//! Bearer tokens: who a request is from, and a limit on failed attempts per token.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::{error, State};
use crate::db::{token_hash, User};

/// Failures a token may have within [`FAILURE_WINDOW`] before it is refused unchecked.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Tokens tracked at most (the oldest windows are dropped first when it fills).
const MAX_TRACKED: usize = 100_000;

/// Failed attempts per presented token (by its hash).
#[derive(Debug, Default)]
pub struct Failures {
    seen: Mutex<HashMap<Vec<u8>, (u32, Instant)>>,
    pruned: Mutex<Option<Instant>>,
}

impl Failures {
    /// How long a token must wait, if it has failed too often.
    fn blocked_for(&self, hash: &[u8]) -> Option<Duration> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, since) = seen.get(hash)?;
        let left = FAILURE_WINDOW.checked_sub(since.elapsed())?;
        (*count >= MAX_FAILURES).then_some(left)
    }

    fn failed(&self, hash: Vec<u8>) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_TRACKED && !seen.contains_key(&hash) {
            // Full: drop expired windows, at most once per second (a flood of distinct
            // bad tokens must not turn every failure into a scan of the whole map).
            let mut pruned = self.pruned.lock().unwrap_or_else(PoisonError::into_inner);
            if pruned.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                seen.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
                *pruned = Some(Instant::now());
            }
            if seen.len() >= MAX_TRACKED {
                return; // Still full: this token is not tracked (the map stays bounded).
            }
        }
        let entry = seen.entry(hash).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

/// The token a request carries: `Authorization: Bearer <token>`, or, for the sync
/// WebSocket only (browsers cannot set headers on one), `?access_token=<token>`.
fn presented(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    if parts.uri.path() == "/api/v1/sync" {
        return parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "access_token")
                .map(|(_, v)| v.to_owned())
        });
    }
    None
}

/// A request from a known user.
#[derive(Debug, Clone)]
pub struct Authed(pub User);

impl FromRequestParts<Arc<State>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, Response> {
        let refused = |why: &str| {
            state.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
            let mut response = error(StatusCode::UNAUTHORIZED, why);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        };
        let Some(token) = presented(parts) else {
            return Err(refused("this needs a token: Authorization: Bearer <token>"));
        };
        let hash = token_hash(&token);
        if let Some(wait) = state.failures.blocked_for(&hash) {
            state.metrics.auth_throttled.fetch_add(1, Ordering::Relaxed);
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "this token was refused too often; wait before trying it again",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(wait.as_secs().max(1)),
            );
            return Err(response);
        }
        match state.db.user_for_token(&token) {
            Ok(Some(user)) => Ok(Authed(user)),
            Ok(None) => {
                state.failures.failed(hash);
                Err(refused("the token is unknown or was revoked"))
            }
            Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failures_tracked_stay_bounded() {
        let f = Failures::default();
        for i in 0..MAX_TRACKED + 10 {
            f.failed(i.to_le_bytes().to_vec());
        }
        let seen = f.seen.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(seen.len(), MAX_TRACKED);
    }

    #[test]
    fn a_token_is_blocked_after_five_failures_in_a_minute() {
        let f = Failures::default();
        for _ in 0..4 {
            f.failed(b"t".to_vec());
        }
        assert!(f.blocked_for(b"t").is_none());
        f.failed(b"t".to_vec());
        assert!(f.blocked_for(b"t").is_some());
        assert!(f.blocked_for(b"other").is_none());
    }
}
