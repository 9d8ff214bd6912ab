//! Shared by the paired-mode tests and the benchmark (included with `#[path]`): a runtime
//! for one call, service options, and playlist helpers.

#![allow(dead_code, clippy::unwrap_used)] // Test support: each user takes what it needs.

use std::path::Path;
use std::time::{Duration, Instant};

use offbeat_playlists::{Store, TrackRef};
use offbeat_remote::{Pairing, RemoteOptions};

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Options for a device whose data lives in `dir`, looking at the server every `poll`.
pub fn options(pairing: &Pairing, dir: &Path, poll: Duration) -> RemoteOptions {
    RemoteOptions {
        pairing: pairing.clone(),
        library: dir.join("library.db"),
        cache_dir: dir.join("cache"),
        cache_budget_bytes: 1 << 30,
        poll,
    }
}

/// A playlist entry for a made-up song `n`.
pub fn song(n: u32) -> TrackRef {
    TrackRef {
        track_uid: format!("h:song{n}"),
        title: format!("Song {n}"),
        artist: "Band".into(),
        album: "Album".into(),
        duration_ms: 1000,
    }
}

/// A playlist's entry titles, in order (none if it cannot be read now).
pub fn titles(store: &Store, id: &str) -> Vec<String> {
    store
        .get(id)
        .map(|p| p.entries.into_iter().map(|e| e.track.title).collect())
        .unwrap_or_default()
}

/// Polls `ok` until it holds, for at most `seconds`.
pub fn wait_until(what: &str, seconds: u64, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !ok() {
        assert!(Instant::now() < deadline, "never {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}
