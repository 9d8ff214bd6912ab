//! The one health indicator, made from real signals only: the outcome of the last request
//! to the server, whether the sync connection is up, and whether there is work in flight
//! (a catalog page, a download, plays to upload, playlists catching up after a connect).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::api::ApiError;

/// What the indicator says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum HealthState {
    /// No server is paired.
    LocalOnly,
    /// Paired, reachable, nothing waiting.
    Online,
    /// Reachable, and catching up (catalog, playlists, plays, downloads).
    Syncing,
    /// Reachable but failing or slow; retrying.
    Degraded,
    /// Not reachable.
    Offline,
    /// The server refused the token.
    Unauthorized,
}

/// Everything the indicator and its popover show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub state: HealthState,
    /// The address in use.
    pub server: Option<String>,
    /// Why the state is what it is, in words (the last failure), if not fine.
    pub reason: Option<String>,
    /// Seconds until the next attempt, when degraded or offline.
    pub retry_in_s: Option<u32>,
    /// When the last successful exchange with the server finished (unix ms).
    pub last_sync_ms: Option<f64>,
    /// When the catalog mirror last caught up (unix ms), and how many server tracks it has.
    pub catalog_mirrored_ms: Option<f64>,
    pub catalog_tracks: u32,
    /// Goes up each time mirrored catalog changes were stored (what shows must reload).
    pub catalog_version: u32,
    /// Goes up whenever a playlist changed, here or synced from another device.
    pub playlists_version: u32,
    /// Catalog pages still to fetch in the running mirror (0 when none is running).
    pub catalog_progress: Option<Progress>,
    /// Plays and playlist changes waiting to go up.
    pub pending_uploads: u32,
    /// Downloads of pinned tracks: done of total in the running batch.
    pub downloads: Option<Progress>,
    pub cache_bytes: f64,
    pub cache_budget_bytes: f64,
    /// The server operator's message.
    pub message: Option<String>,
    /// Whether the playlist sync connection is up.
    pub sync_connected: bool,
    /// The app's number for this reading of the health, in the order it read them (0
    /// from the service itself). Its events and its commands' answers can reach the UI
    /// out of order; the UI keeps the newest reading.
    pub seq: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

impl Health {
    pub fn local_only() -> Health {
        Health {
            state: HealthState::LocalOnly,
            server: None,
            reason: None,
            retry_in_s: None,
            last_sync_ms: None,
            catalog_mirrored_ms: None,
            catalog_tracks: 0,
            catalog_version: 0,
            playlists_version: 0,
            catalog_progress: None,
            pending_uploads: 0,
            downloads: None,
            cache_bytes: 0.0,
            cache_budget_bytes: 0.0,
            message: None,
            sync_connected: false,
            seq: 0,
        }
    }
}

/// The signals, kept as they arrive; [`Signals::state`] derives the state from them.
#[derive(Debug, Default)]
pub struct Signals {
    /// The last request's outcome: `None` before any, `Some(Ok)` after a success.
    pub last: Option<Result<(), ApiError>>,
    /// The token was refused (by a request or the sync connection), and no success since.
    pub unauthorized: bool,
    pub sync_connected: bool,
    /// Jobs in flight that make the state "syncing".
    pub busy: u32,
    /// Plays waiting to go up.
    pub pending: u32,
    /// Playlists sync with this server: until the connection is up, they are not in sync.
    pub sync_wanted: bool,
    /// The server's catalog has been mirrored whole at least once.
    pub catalog_mirrored: bool,
    /// When the sync connection last dropped.
    pub disconnected_at: Option<Instant>,
    /// When the next attempt is due after a failure.
    pub retry_at: Option<Instant>,
}

impl Signals {
    pub fn record(&mut self, outcome: Result<(), &ApiError>) {
        match outcome {
            Ok(()) => {
                self.last = Some(Ok(()));
                self.unauthorized = false;
                self.retry_at = None;
            }
            Err(e) => {
                if *e == ApiError::Unauthorized {
                    self.unauthorized = true;
                }
                self.last = Some(Err(e.clone()));
            }
        }
    }

    pub fn state(&self) -> HealthState {
        if self.unauthorized {
            return HealthState::Unauthorized;
        }
        match &self.last {
            Some(Err(ApiError::Unreachable(_))) if !self.sync_connected => HealthState::Offline,
            Some(Err(e)) if e.reachable() => HealthState::Degraded,
            // Not asked yet, and no connection: nothing is known to be wrong, and nothing
            // known to be right; "syncing" is what is happening.
            None if !self.sync_connected => HealthState::Syncing,
            _ if self.busy > 0
                || self.pending > 0
                || !self.catalog_mirrored
                || (self.sync_wanted && !self.sync_connected) =>
            {
                HealthState::Syncing
            }
            _ => HealthState::Online,
        }
    }

    pub fn reason(&self) -> Option<String> {
        match &self.last {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        }
    }

    pub fn retry_in(&self, now: Instant) -> Option<Duration> {
        self.retry_at.map(|at| at.saturating_duration_since(now))
    }
}

/// Reconnect delays: doubling from 500 ms, capped at 5 s, with jitter (each delay is
/// between half and all of the step), and never shorter than the server's `Retry-After`.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_millis(500);
    pub const CAP: Duration = Duration::from_secs(5);

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next attempt after `error`.
    pub fn next(&mut self, error: &ApiError) -> Duration {
        let step = Self::FIRST
            .saturating_mul(1u32 << self.attempt.min(8))
            .min(Self::CAP);
        self.attempt = self.attempt.saturating_add(1);
        let jittered = step.mul_f64(0.5 + fastrand::f64() * 0.5);
        match error {
            // The server said when; add jitter on top so a crowd does not return at once.
            ApiError::Unavailable { retry_after } => {
                *retry_after + Duration::from_millis(fastrand::u64(0..=1000))
            }
            _ => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn states_follow_the_signals() {
        let mut s = Signals::default();
        assert_eq!(s.state(), HealthState::Syncing);
        s.record(Ok(()));
        // Reachable, but the catalog has never been read whole: still catching up.
        assert_eq!(s.state(), HealthState::Syncing);
        s.catalog_mirrored = true;
        assert_eq!(s.state(), HealthState::Online);
        s.busy = 1;
        assert_eq!(s.state(), HealthState::Syncing);
        s.busy = 0;
        // Plays waiting, or playlists not connected yet: still catching up.
        s.pending = 2;
        assert_eq!(s.state(), HealthState::Syncing);
        s.pending = 0;
        s.sync_wanted = true;
        assert_eq!(s.state(), HealthState::Syncing);
        s.sync_connected = true;
        assert_eq!(s.state(), HealthState::Online);
        s.sync_connected = false;
        s.sync_wanted = false;
        s.record(Err(&ApiError::Unreachable("refused".into())));
        assert_eq!(s.state(), HealthState::Offline);
        // An open sync connection means the server is there, whatever one request said.
        s.sync_connected = true;
        assert_eq!(s.state(), HealthState::Online);
        s.sync_connected = false;
        s.record(Err(&ApiError::Unavailable {
            retry_after: Duration::from_secs(2),
        }));
        assert_eq!(s.state(), HealthState::Degraded);
        s.record(Err(&ApiError::Failed("500".into())));
        assert_eq!(s.state(), HealthState::Degraded);
        s.record(Err(&ApiError::Unauthorized));
        assert_eq!(s.state(), HealthState::Unauthorized);
        // Unauthorized stays until something succeeds, whatever else fails meanwhile.
        s.record(Err(&ApiError::Unreachable("x".into())));
        assert_eq!(s.state(), HealthState::Unauthorized);
        s.record(Ok(()));
        assert_eq!(s.state(), HealthState::Online);
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter_and_honours_retry_after() {
        let mut b = Backoff::default();
        let unreachable = ApiError::Unreachable("x".into());
        let first = b.next(&unreachable);
        assert!(first >= Backoff::FIRST / 2 && first <= Backoff::FIRST);
        for _ in 0..3 {
            b.next(&unreachable);
        }
        for _ in 0..20 {
            let d = b.next(&unreachable);
            assert!(d <= Backoff::CAP && d >= Backoff::CAP / 2, "{d:?}");
        }
        let busy = ApiError::Unavailable {
            retry_after: Duration::from_secs(30),
        };
        let d = b.next(&busy);
        assert!(d >= Duration::from_secs(30) && d <= Duration::from_secs(31));
        b.reset();
        assert!(b.next(&unreachable) <= Backoff::FIRST);
    }
}
