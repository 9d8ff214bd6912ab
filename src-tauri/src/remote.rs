//! Paired mode in the shell: the pairing commands, the running [`Remote`] service, its
//! health forwarded to the UI as `HealthChanged`, the pinned playlists' tracks handed to
//! it, and server tracks resolved to a cached copy (downloaded first when needed) before
//! the engine gets their paths.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use offbeat_model::TrackId;
use offbeat_remote::{pair, Health, HealthState, Pairing, PairingFile, Remote, RemoteOptions};
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri_specta::Event as _;

use crate::app::AppState;
use crate::error::{AppError, AppErrorCode};

/// The cache's budget until the user sets one.
pub const DEFAULT_CACHE_BUDGET_MB: u32 = 4096;
/// How often the catalog is checked for changes while all is well.
const POLL: Duration = Duration::from_secs(30);

/// Sent whenever the health indicator's state or popover figures change.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct HealthChanged(pub Health);

/// Settings of paired mode kept beside the pairing (`remote.json`).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSettings {
    pub cache_budget_mb: u32,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            cache_budget_mb: DEFAULT_CACHE_BUDGET_MB,
        }
    }
}

/// Paired mode's part of the app state.
#[derive(Debug)]
pub struct Paired {
    file: PairingFile,
    settings_path: PathBuf,
    data_dir: PathBuf,
    db_path: PathBuf,
    remote: Mutex<Option<Arc<Remote>>>,
    /// Readings of the health so far (see [`Paired::health`]).
    readings: AtomicU32,
}

impl Paired {
    pub fn new(config_dir: &std::path::Path, data_dir: PathBuf, db_path: PathBuf) -> Paired {
        Paired {
            file: PairingFile::new(config_dir),
            settings_path: config_dir.join("remote.json"),
            data_dir,
            db_path,
            remote: Mutex::new(None),
            readings: AtomicU32::new(0),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<Remote>>> {
        self.remote.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The running service, if paired.
    pub fn remote(&self) -> Option<Arc<Remote>> {
        self.slot().clone()
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache").join("tracks")
    }

    pub fn settings(&self) -> RemoteSettings {
        std::fs::read(&self.settings_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save_settings(&self, settings: &RemoteSettings) -> Result<(), AppError> {
        let bytes = serde_json::to_vec_pretty(settings)
            .map_err(|e| AppError::new(AppErrorCode::Io, e.to_string()))?;
        let tmp = self.settings_path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.settings_path))
            .map_err(|e| {
                AppError::new(
                    AppErrorCode::Io,
                    format!("saving {}: {e}", self.settings_path.display()),
                )
            })
    }

    /// The health now (the running service's, else local only), numbered: read and
    /// numbered under the service's lock, so a higher number is a later reading. Every
    /// health the UI gets comes from here, and it keeps the highest number it has seen:
    /// an answer read before an event but arriving after it does not undo it.
    pub fn health(&self) -> Health {
        let slot = self.slot();
        let mut health = slot
            .as_ref()
            .map_or_else(Health::local_only, |r| r.health());
        health.seq = self
            .readings
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        health
    }

    /// Starts the service for `pairing` (replacing a running one).
    fn start(&self, pairing: &Pairing) -> Result<Arc<Remote>, AppError> {
        let options = RemoteOptions {
            pairing: pairing.clone(),
            library: self.db_path.clone(),
            cache_dir: self.cache_dir(),
            cache_budget_bytes: u64::from(self.settings().cache_budget_mb) << 20,
            poll: POLL,
        };
        let remote = Remote::start(options)
            .map(Arc::new)
            .map_err(|e| AppError::new(AppErrorCode::Io, e.to_string()))?;
        *self.slot() = Some(remote.clone());
        Ok(remote)
    }
}

/// At launch: starts paired mode if a pairing is stored. A pairing file that cannot be
/// read is reported and left alone (the app runs local only).
pub fn start_at_launch(state: &AppState, app: &tauri::AppHandle) {
    match state.paired.file.load() {
        Ok(Some(pairing)) => {
            if let Err(e) = run(state, app, &pairing) {
                eprintln!("offbeat: paired mode could not start: {e}");
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("offbeat: {e}; running without the server"),
    }
}

/// Starts the service, its playlist sync, and the health forwarding.
fn run(state: &AppState, app: &tauri::AppHandle, pairing: &Pairing) -> Result<(), AppError> {
    let remote = state.paired.start(pairing)?;
    if let Ok(store) = &state.playlists {
        if let Err(e) = remote.sync_playlists(store.clone()) {
            eprintln!("offbeat: playlists will not sync: {e}");
        }
    }
    refresh_pins(state);
    let mut health = remote.subscribe();
    let app = app.clone();
    let weak = Arc::downgrade(&remote);
    tauri::async_runtime::spawn(async move {
        let mut last_sync = None;
        let mut catalog = None;
        let mut cached = None;
        loop {
            let now = health.borrow_and_update().clone();
            use tauri::Manager as _;
            if let Some(state) = app.try_state::<AppState>() {
                // Numbered, and the running service's (this one may have been replaced).
                let _ = HealthChanged(state.paired.health()).emit(&app);
                // An exchange may have brought playlist edits: their tracks may need pins.
                if now.last_sync_ms != last_sync {
                    last_sync = now.last_sync_ms;
                    refresh_pins(&state);
                }
                // Catalog rows or copies changed: the player's track cache reads again.
                if Some(now.catalog_version) != catalog || Some(now.cache_bytes) != cached {
                    catalog = Some(now.catalog_version);
                    cached = Some(now.cache_bytes);
                    state.library_changed();
                }
            }
            if weak.upgrade().is_none() || health.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Hands the service every track of the pinned playlists (Essentials always is), so the
/// missing ones download and none of them is evicted.
pub fn refresh_pins(state: &AppState) {
    let (Some(remote), Ok(store)) = (state.paired.remote(), &state.playlists) else {
        return;
    };
    let mut uids: Vec<String> = Vec::new();
    for summary in store.list().into_iter().filter(|p| p.pinned) {
        if let Ok(playlist) = store.get(&summary.id) {
            uids.extend(playlist.entries.into_iter().map(|e| e.track.track_uid));
        }
    }
    let Ok(library) = state.library() else {
        return;
    };
    let refs: Vec<&str> = uids.iter().map(String::as_str).collect();
    let Ok(found) = library.tracks_by_uid(&refs) else {
        return;
    };
    let pinned: HashMap<String, String> = found
        .into_values()
        .map(|t| (t.uid.as_str().to_owned(), t.format))
        .collect();
    remote.set_pinned(pinned);
}

/// A server track in a queue whose copy is not on this device yet.
#[derive(Debug, Clone)]
pub struct Pending {
    pub track_id: TrackId,
    pub uid: String,
    pub format: String,
}

/// Where the engine should read a server track: its cached copy, else the path the copy
/// will have once downloaded (with a [`Pending`] to fetch it), else `None` (no server
/// that could give it: it is skipped).
pub fn resolve(
    state: &AppState,
    track_id: TrackId,
) -> Result<Option<(PathBuf, Option<Pending>)>, AppError> {
    let Some(file) = state.library()?.remote_file(track_id)? else {
        return Ok(None);
    };
    let Some(remote) = state.paired.remote() else {
        return Ok(None);
    };
    if let Some(path) = remote.cached(&file.uid) {
        return Ok(Some((path, None)));
    }
    if !reachable(remote.health().state) {
        return Ok(None);
    }
    let path = state
        .paired
        .cache_dir()
        .join(offbeat_remote::cache::file_name(&file.uid, &file.format));
    Ok(Some((
        path,
        Some(Pending {
            track_id,
            uid: file.uid,
            format: file.format,
        }),
    )))
}

/// Whether a library path names a server's track rather than a file.
pub fn is_server_path(path: &std::path::Path) -> bool {
    path.to_str()
        .is_some_and(|p| p.starts_with(offbeat_library::SERVER_FOLDER_PREFIX))
}

/// The verified copy of a server's track on this device, if there is one.
pub fn cached_copy(state: &AppState, track_id: TrackId) -> Option<PathBuf> {
    let file = state.library().ok()?.remote_file(track_id).ok()??;
    state.paired.remote()?.cached(&file.uid)
}

/// A server track's cover thumbnail from the server (none while it cannot be asked).
pub fn server_art(state: &AppState, track_id: TrackId, size: u32) -> Option<PathBuf> {
    let file = state.library().ok()?.remote_file(track_id).ok()??;
    state.paired.remote()?.art(&file.uid, size)
}

/// Whether the server can be asked for files now.
fn reachable(state: HealthState) -> bool {
    matches!(
        state,
        HealthState::Online | HealthState::Syncing | HealthState::Degraded
    )
}

/// Downloads the queue's server tracks that have no copy, in queue order, in the
/// background. When the first is the one to play now, waits only until its bytes start
/// arriving (the engine plays the part as it grows, and the copy is kept once it is
/// whole and verified); fails if it cannot come at all.
pub async fn fetch_pending(
    state: &AppState,
    first: Option<Pending>,
    rest: Vec<Pending>,
) -> Result<(), AppError> {
    let Some(remote) = state.paired.remote() else {
        return Ok(());
    };
    let target = first.as_ref().map(|p| {
        state
            .paired
            .cache_dir()
            .join(offbeat_remote::cache::file_name(&p.uid, &p.format))
    });
    let all: Vec<Pending> = first.into_iter().chain(rest).collect();
    if all.is_empty() {
        return Ok(());
    }
    let changes = state.library_changes_handle();
    let (failed_tx, failed) = std::sync::mpsc::channel::<String>();
    tauri::async_runtime::spawn(async move {
        for (i, p) in all.into_iter().enumerate() {
            match remote.fetch(&p.uid, &p.format).await {
                Ok(_) => {
                    changes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                // The one to play now: say why. Later ones are skipped when reached, with
                // the engine's notice.
                Err(e) if i == 0 => {
                    let _ = failed_tx.send(e.to_string());
                }
                Err(_) => {}
            }
        }
    });
    let Some(target) = target else {
        return Ok(());
    };
    let mut arriving = target.as_os_str().to_owned();
    arriving.push(".part.len");
    let arriving = PathBuf::from(arriving);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if target.is_file() || arriving.is_file() {
            return Ok(());
        }
        if let Ok(why) = failed.try_recv() {
            return Err(AppError::new(
                AppErrorCode::Server,
                format!("this song is not available now: {why}"),
            ));
        }
        if std::time::Instant::now() > deadline {
            return Err(AppError::new(
                AppErrorCode::Server,
                "this song is not available now: the server did not start sending it",
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tauri::command]
#[specta::specta]
pub async fn server_health(state: State<'_, AppState>) -> Result<Health, AppError> {
    Ok(state.paired.health())
}

/// Pairs with a server (Settings → Connect to a server): the URL and token are checked
/// against its status first; nothing is stored unless they work. Pairing the same server
/// by another address adds that address.
#[tauri::command]
#[specta::specta]
pub async fn pair_server(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    url: String,
    token: String,
) -> Result<Health, AppError> {
    let existing = state.paired.file.load().ok().flatten();
    let (pairing, _) = pair(existing.as_ref(), &url, &token)
        .await
        .map_err(|e| AppError::new(AppErrorCode::BadInput, e.to_string()))?;
    state
        .paired
        .file
        .save(&pairing)
        .map_err(|e| AppError::new(AppErrorCode::Io, e.to_string()))?;
    // Restart with what was saved (a new address or a new token).
    *state.paired.slot() = None;
    run(&state, &app, &pairing)?;
    Ok(state.paired.health())
}

/// Unpairs: the stored pairing, the mirrored catalog and the cached files go. Playlists
/// and local files stay.
#[tauri::command]
#[specta::specta]
pub async fn unpair_server(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Health, AppError> {
    let running = state.paired.slot().take();
    state
        .paired
        .file
        .remove()
        .map_err(|e| AppError::new(AppErrorCode::Io, format!("removing the pairing: {e}")))?;
    if let Some(remote) = running {
        match Arc::try_unwrap(remote) {
            Ok(remote) => remote
                .forget()
                .map_err(|e| AppError::new(AppErrorCode::Io, e.to_string()))?,
            Err(shared) => {
                // Still in use by a download: forget through the library directly.
                let server_id = shared.server_id().to_owned();
                drop(shared);
                let cached = state.library()?.forget_server(&server_id)?;
                for f in cached {
                    let _ = std::fs::remove_file(state.paired.cache_dir().join(f.file));
                }
            }
        }
    }
    state.library_changed();
    let health = state.paired.health();
    let _ = HealthChanged(health.clone()).emit(&app);
    Ok(health)
}

/// Look at the server now (the indicator's "Retry now").
#[tauri::command]
#[specta::specta]
pub async fn retry_server(state: State<'_, AppState>) -> Result<(), AppError> {
    if let Some(remote) = state.paired.remote() {
        remote.wake();
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn remote_settings(state: State<'_, AppState>) -> Result<RemoteSettings, AppError> {
    Ok(state.paired.settings())
}

/// Sets the cache's size budget; copies past it are evicted (least recently used first,
/// never a pinned track).
#[tauri::command]
#[specta::specta]
pub async fn set_cache_budget(state: State<'_, AppState>, mb: u32) -> Result<(), AppError> {
    if mb == 0 {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            "the cache needs at least 1 MB",
        ));
    }
    let mut settings = state.paired.settings();
    settings.cache_budget_mb = mb;
    state.paired.save_settings(&settings)?;
    if let Some(remote) = state.paired.remote() {
        remote.set_cache_budget(u64::from(mb) << 20);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reading_of_the_health_is_numbered_after_the_one_before() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temp dir: {e}"));
        let paired = Paired::new(dir.path(), dir.path().join("data"), dir.path().join("db"));
        let readings: Vec<u32> = (0..3).map(|_| paired.health().seq).collect();
        assert_eq!(readings, [1, 2, 3]);
        assert_eq!(paired.health().state, HealthState::LocalOnly);
    }
}
