//! The desktop app: window, shared state, the engine's event pump, and the first-run scan.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use offbeat_library::{CoverCache, FolderWatcher, Library};
use offbeat_model::ScanReport;
use offbeat_playback::{AudioOutput, Command, Engine, RodioOutput};
use tauri::Manager;
use tauri_specta::Event as _;

use crate::error::{AppError, AppErrorCode};
use crate::ipc::{self, ScanFinished, ScanProgressed, ScanStopped};
use crate::paths;
use crate::player::{PlaybackStatus, PlayerState, QueueState};
use crate::session::{self, Session};

/// Tracks for the engine, and the server tracks among them still to download.
#[derive(Debug, Default)]
pub struct QueueTracks {
    pub tracks: Vec<offbeat_playback::QueueTrack>,
    pub pending: Vec<crate::remote::Pending>,
}

impl QueueTracks {
    /// The pending download of the track at `index`, and the others.
    pub fn split_pending(
        &mut self,
        index: usize,
    ) -> (Option<crate::remote::Pending>, Vec<crate::remote::Pending>) {
        let id = self.tracks.get(index).map(|t| t.track_id);
        let mut pending = std::mem::take(&mut self.pending);
        let first = pending
            .iter()
            .position(|p| Some(p.track_id) == id)
            .map(|i| pending.remove(i));
        (first, pending)
    }
}

/// Where each of `ids` is among `kept`, the queue tracks made of them with some left out
/// (`None` for those). Matched by position, not by id: a list may hold the same track
/// twice, and a track is kept or left out everywhere it appears.
fn kept_positions(
    ids: &[offbeat_model::TrackId],
    kept: &[offbeat_playback::QueueTrack],
) -> Vec<Option<usize>> {
    let mut next = 0;
    ids.iter()
        .map(|id| {
            let here = kept.get(next).is_some_and(|t| t.track_id == *id);
            next += usize::from(here);
            here.then(|| next - 1)
        })
        .collect()
}

/// The queue as the UI has it, and the order its items were added in, as positions in
/// its `items` (saved, so that shuffle turned off after a restart brings that back).
#[derive(Debug, Clone, Default)]
struct QueueNow {
    state: QueueState,
    unshuffled: Vec<usize>,
}

/// Everything the commands share.
#[derive(Debug)]
pub struct AppState {
    library: Mutex<Library>,
    db_path: PathBuf,
    /// The engine, or why there is none (no audio device): the library still works.
    engine: Result<Engine, String>,
    player: Arc<Mutex<PlayerState>>,
    queue: Arc<Mutex<QueueNow>>,
    /// The play in progress, fed by the event pump; ended and recorded on quit too.
    recorder: Arc<Mutex<crate::history::PlayRecorder>>,
    session_path: PathBuf,
    pub demo_dir: Option<PathBuf>,
    /// Set to stop the running scan (checked between batches).
    cancel_scan: Arc<AtomicBool>,
    /// Counts scans that may have changed tracks (tags, files gone): whoever keeps
    /// tracks around (the event pump's cache) reads them again when it moves.
    library_changes: Arc<AtomicU64>,
    /// Held by whichever scan is writing (user's, first run's or the watcher's), so two
    /// scans never race to insert the same file.
    scan_lock: Arc<Mutex<()>>,
    /// Watches the library folders while the app runs, when the system allows it.
    watcher: Mutex<Option<FolderWatcher>>,
    /// Cover thumbnails, served to the webview through the `cover:` scheme.
    pub covers: CoverCache,
    /// The playlists, or why they could not be opened (the rest of the app still works).
    pub playlists: Result<Arc<offbeat_playlists::Store>, String>,
    /// Paired mode: the home server, when one is paired.
    pub paired: crate::remote::Paired,
    /// The Rewind views' own connection.
    pub rewind: crate::rewind::RewindReader,
}

impl AppState {
    /// The UI's connection to the library. Held only for the length of one query.
    pub fn library(&self) -> Result<MutexGuard<'_, Library>, AppError> {
        Ok(self.library.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Where the library database is (for work on a connection of its own).
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub fn player_mut(&self) -> MutexGuard<'_, PlayerState> {
        self.player.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets how ReplayGain levels tracks, in the player state and the engine; returns the
    /// player state it leaves.
    pub fn set_replay_gain(
        &self,
        mode: crate::player::ReplayGainMode,
        preamp_db: f32,
    ) -> Result<PlayerState, AppError> {
        let (settings, state) = {
            let mut player = self.player_mut();
            player.replay_gain = mode;
            player.preamp_db = preamp_db;
            (player.replay_gain_settings(), player.clone())
        };
        self.send(Command::SetReplayGain(settings))?;
        Ok(state)
    }

    /// Saves the session now (the event pump also saves it as playback changes).
    pub fn save_session(&self) {
        let player = self.player_mut().clone();
        let queue = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        save_session(&self.session_path, &player, &queue);
    }

    pub fn queue(&self) -> QueueState {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .state
            .clone()
    }

    /// [`AppState::queue_tracks`], and where the entry at `start` of `ids` is among them
    /// (`None` if that track left the library). Counted by position, not by id: a list
    /// may hold the same track twice.
    pub fn queue_tracks_from(
        &self,
        ids: &[offbeat_model::TrackId],
        start: usize,
    ) -> Result<(QueueTracks, Option<usize>), AppError> {
        let queued = self.queue_tracks(ids)?;
        let found = kept_positions(ids, &queued.tracks)
            .get(start)
            .copied()
            .flatten();
        Ok((queued, found))
    }

    /// The engine's queue tracks for library track ids, with their files and ReplayGain
    /// tags. Ids no longer in the library are left out, and so are server tracks that
    /// cannot come now (no copy here, and the server is not reachable); a server track
    /// that can is given the path its copy will have, and listed as pending.
    pub fn queue_tracks(&self, ids: &[offbeat_model::TrackId]) -> Result<QueueTracks, AppError> {
        let playable = self.library()?.playable(ids)?;
        let mut out = QueueTracks::default();
        for (track_id, path, rg) in playable {
            let path = if crate::remote::is_server_path(&path) {
                match crate::remote::resolve(self, track_id)? {
                    Some((path, pending)) => {
                        out.pending.extend(pending);
                        path
                    }
                    None => continue,
                }
            } else {
                path
            };
            out.tracks.push(offbeat_playback::QueueTrack {
                track_id,
                path,
                replay_gain: offbeat_playback::ReplayGainTags {
                    track_gain_db: rg.track_gain_db,
                    track_peak: rg.track_peak,
                    album_gain_db: rg.album_gain_db,
                    album_peak: rg.album_peak,
                },
            });
        }
        Ok(out)
    }

    /// Tells whoever keeps tracks around (the event pump's cache) to read them again.
    pub fn library_changed(&self) {
        self.library_changes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn library_changes_handle(&self) -> Arc<AtomicU64> {
        self.library_changes.clone()
    }

    pub fn send(&self, command: Command) -> Result<(), AppError> {
        match &self.engine {
            Ok(engine) => Ok(engine.send(command)?),
            Err(why) => Err(AppError::new(AppErrorCode::Playback, why.clone())),
        }
    }

    pub fn cancel_scan(&self) {
        self.cancel_scan.store(true, Ordering::Relaxed);
    }

    /// Scans a folder on a blocking worker with its own connection, so the UI's queries
    /// keep being answered (WAL) while the scan writes. Progress goes to the UI as events.
    pub async fn scan_in_background(
        &self,
        app: tauri::AppHandle,
        folder: PathBuf,
    ) -> Result<ScanReport, AppError> {
        let db_path = self.db_path.clone();
        let cancel = self.cancel_scan.clone();
        let changes = self.library_changes.clone();
        cancel.store(false, Ordering::Relaxed);
        tauri::async_runtime::spawn_blocking(move || -> Result<ScanReport, AppError> {
            let mut last = offbeat_model::ScanProgress::default();
            let mut report_progress = |progress: &offbeat_model::ScanProgress| {
                last = progress.clone();
                let _ = ScanProgressed(progress.clone()).emit(&app);
            };
            let scanned =
                Library::open(&db_path)?.scan_folder_with(&folder, &mut report_progress, &cancel);
            changes.fetch_add(1, Ordering::Relaxed);
            if matches!(scanned, Err(offbeat_library::LibraryError::Cancelled)) {
                let _ = ScanStopped(last).emit(&app);
            }
            Ok(scanned?)
        })
        .await
        .map_err(|e| {
            AppError::new(
                AppErrorCode::Library,
                format!("the scan stopped unexpectedly: {e}"),
            )
        })?
    }
}

/// Opens the window and runs until it is closed.
pub fn run() -> anyhow::Result<()> {
    let builder = ipc::builder();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol("cover", crate::covers::handle)
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            let state = open_state(app.path().resource_dir().ok())?;
            let first_run = state.library()?.folders()?.is_empty();
            let demo_dir = state.demo_dir.clone();
            let handle = app.handle().clone();
            pump_engine_events(&state, handle.clone());
            crate::remote::start_at_launch(&state, &handle);
            restore_session(&state);
            if let Err(e) = start_watcher(&state, handle.clone()) {
                eprintln!("offbeat: folders will not be watched for changes: {e:#}");
            }
            app.manage(state);
            if let (true, Some(demo)) = (first_run, demo_dir) {
                scan_demo(handle, demo);
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("starting the Offbeat window")?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                end_session(app);
                flush_playlists(app);
            }
        });
    Ok(())
}

/// On quit: saves the session where playback is now (the pump saves a playing position
/// only every few seconds), and records the play in progress, which would otherwise be
/// lost with the process.
fn end_session(app: &tauri::AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    state.save_session();
    let play = state
        .recorder
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .end_now();
    if let Some(play) = play {
        let recorded = state.library().and_then(|l| Ok(l.record_play(&play)?));
        if let Err(e) = recorded {
            eprintln!(
                "offbeat: the play in progress was not recorded: {}",
                e.message
            );
        }
    }
}

/// On quit: waits for the playlists' last writes and saves their read cache, so the next
/// launch shows them without loading every document.
fn flush_playlists(app: &tauri::AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    if let Ok(store) = &state.playlists {
        if let Err(e) = store.flush() {
            eprintln!("offbeat: the playlists' read cache was not saved: {e}");
        }
    }
}

fn open_state(resource_dir: Option<PathBuf>) -> anyhow::Result<AppState> {
    let db_path = paths::library_db()?;
    let library = Library::open(&db_path)
        .with_context(|| format!("opening the library at {}", db_path.display()))?;
    let engine =
        Engine::spawn(|| Ok(Box::new(RodioOutput::open_default()?) as Box<dyn AudioOutput>))
            .map_err(|e| format!("Playback is unavailable: {}", e.describe()));
    if let Err(why) = &engine {
        eprintln!("offbeat: {why}");
    }
    Ok(AppState {
        library: Mutex::new(library),
        db_path: db_path.clone(),
        engine,
        player: Arc::new(Mutex::new(PlayerState::default())),
        queue: Arc::default(),
        recorder: Arc::new(Mutex::new(crate::history::PlayRecorder::new(
            crate::history::device_id(&paths::data_dir()?),
        ))),
        session_path: session::path(&paths::data_dir()?),
        demo_dir: paths::demo_dir(resource_dir),
        cancel_scan: Arc::new(AtomicBool::new(false)),
        library_changes: Arc::new(AtomicU64::new(0)),
        scan_lock: Arc::new(Mutex::new(())),
        watcher: Mutex::new(None),
        covers: crate::covers::cache(&paths::data_dir()?),
        playlists: open_playlists(&paths::data_dir()?),
        paired: crate::remote::Paired::new(
            &paths::config_dir()?,
            paths::data_dir()?,
            db_path.clone(),
        ),
        rewind: crate::rewind::RewindReader::new(db_path),
    })
}

/// Opens the playlists in the data folder; damaged ones were moved aside (the UI lists them).
fn open_playlists(data_dir: &Path) -> Result<Arc<offbeat_playlists::Store>, String> {
    match offbeat_playlists::Store::open(&data_dir.join("playlists"), crate::playlists::now_ms()) {
        Ok(store) => {
            for q in store.quarantined() {
                eprintln!(
                    "offbeat: playlist {} could not be read ({}); moved to {}",
                    q.name.as_deref().unwrap_or(&q.id),
                    q.reason,
                    q.moved_to
                );
            }
            Ok(Arc::new(store))
        }
        Err(e) => {
            eprintln!("offbeat: playlists are unavailable: {e}");
            Err(format!("Playlists are unavailable: {e}"))
        }
    }
}

/// Starts watching every library folder; a change rescans its folder (only changed files
/// are read) and tells the UI.
fn start_watcher(state: &AppState, app: tauri::AppHandle) -> anyhow::Result<()> {
    let db_path = state.db_path.clone();
    let scan_lock = state.scan_lock.clone();
    let changes = state.library_changes.clone();
    let mut watcher = FolderWatcher::start(move |root| {
        let _scanning = scan_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let scanned = Library::open(&db_path).and_then(|mut library| library.scan_folder(root));
        changes.fetch_add(1, Ordering::Relaxed);
        match scanned {
            Ok(report) => {
                let _ = ScanFinished(report).emit(&app);
            }
            Err(e) => eprintln!(
                "offbeat: rescanning {} after a change failed: {e}",
                root.display()
            ),
        }
    })?;
    for folder in state.library()?.folders()? {
        if let Err(e) = watcher.watch(Path::new(&folder)) {
            eprintln!("offbeat: {e}");
        }
    }
    *state.watcher.lock().unwrap_or_else(PoisonError::into_inner) = Some(watcher);
    Ok(())
}

/// How often the position is saved while playing (it is also saved on pause and stop).
const SAVE_POSITION_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Forwards engine events to the UI as player and queue snapshots, and keeps the saved
/// session current, on a thread of its own.
fn pump_engine_events(state: &AppState, app: tauri::AppHandle) {
    let Ok(engine) = &state.engine else { return };
    let events = engine.events().clone();
    let player = state.player.clone();
    let queue = state.queue.clone();
    let session_path = state.session_path.clone();
    let db_path = state.db_path.clone();
    let covers = state.covers.clone();
    let changes = state.library_changes.clone();
    let remote = engine.remote();
    let recorder = state.recorder.clone();
    std::thread::spawn(move || {
        // The desktop's media keys and panels (MPRIS). Without a session bus the app works
        // as before; only the desktop integration is missing.
        let mut desktop = match crate::mpris::DesktopControls::start(move |command| {
            let _ = remote.send(command);
        }) {
            Ok(controls) => Some(controls),
            Err(why) => {
                eprintln!("offbeat: no desktop media controls: {why}");
                None
            }
        };
        let mut art: Option<(i64, Option<String>)> = None;
        // Its own connection: resolving a queue of thousands must not hold the UI's. It
        // records plays, and checkpoints on its own time, not in the middle of recording.
        let library = Library::open(&db_path).ok();
        if let Some(library) = library.as_ref() {
            let _ = library.set_bulk_writes(true);
        }
        let mut checkpointed_at = std::time::Instant::now();
        let mut cache: std::collections::HashMap<i64, offbeat_model::Track> =
            std::collections::HashMap::new();
        let mut cached_at = changes.load(Ordering::Relaxed);
        let mut resolve = |id: i64| -> Option<offbeat_model::Track> {
            // A scan since: tags may have changed and tracks gone; read them again.
            let now = changes.load(Ordering::Relaxed);
            if now != cached_at {
                cache.clear();
                cached_at = now;
            }
            if let Some(track) = cache.get(&id) {
                return Some(track.clone());
            }
            let track = library.as_ref()?.track(id).ok().flatten()?;
            cache.insert(id, track.clone());
            Some(track)
        };
        let mut saved_at = std::time::Instant::now();
        for event in events.iter() {
            // Every play goes into the outbox as it ends; paired mode uploads it.
            let play = recorder
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .on_event(&event, crate::playlists::now_ms(), |id| {
                    resolve(id).map(|t| {
                        (
                            t.uid.as_str().to_owned(),
                            u64::from(t.duration_ms),
                            t.source,
                        )
                    })
                });
            if let (Some(play), Some(library)) = (play, library.as_ref()) {
                match library.record_play(&play) {
                    Ok(()) => {
                        if let Some(remote) =
                            app.try_state::<AppState>().and_then(|s| s.paired.remote())
                        {
                            remote.wake();
                        }
                    }
                    Err(e) => eprintln!("offbeat: a play was not recorded: {e}"),
                }
            }
            if let Some(library) = library.as_ref() {
                if checkpointed_at.elapsed() > std::time::Duration::from_secs(60) {
                    checkpointed_at = std::time::Instant::now();
                    let _ = library.checkpoint();
                }
            }
            if let offbeat_playback::Event::QueueChanged(snapshot) = &event {
                let state = QueueState::from_snapshot(snapshot, &mut resolve);
                *queue.lock().unwrap_or_else(PoisonError::into_inner) = QueueNow {
                    unshuffled: state.unshuffled(snapshot),
                    state: state.clone(),
                };
                let _ = state.emit(&app);
            }
            let (changed, snapshot) = {
                let mut player = player.lock().unwrap_or_else(PoisonError::into_inner);
                let changed = player.apply(&event, &mut resolve);
                (changed, player.clone())
            };
            if changed {
                let _ = snapshot.emit(&app);
                if let Some(desktop) = desktop.as_mut() {
                    let track_id = snapshot.track.as_ref().map(|t| t.id);
                    if track_id.is_some() && art.as_ref().map(|(id, _)| Some(*id)) != Some(track_id)
                    {
                        let id = track_id.unwrap_or_default();
                        art = Some((id, cover_url(library.as_ref(), &covers, id)));
                    }
                    desktop.show(&snapshot, art.as_ref().and_then(|(_, url)| url.as_deref()));
                }
            }
            if worth_saving(&event, changed, snapshot.status, saved_at.elapsed()) {
                saved_at = std::time::Instant::now();
                let queue = queue.lock().unwrap_or_else(PoisonError::into_inner).clone();
                save_session(&session_path, &snapshot, &queue);
            }
        }
    });
}

/// Whether the session is saved after `event`, which `changed` the player state (now
/// `status`), `since_save` after the last save. Positions come five times a second while
/// playing, so those are saved every few seconds; any other change, and a position while
/// not playing (where a restore or a seek lands, which nothing follows), at once. A volume
/// the UI set ahead of the engine does not change the state when the engine confirms it,
/// but is saved then too.
fn worth_saving(
    event: &offbeat_playback::Event,
    changed: bool,
    status: PlaybackStatus,
    since_save: std::time::Duration,
) -> bool {
    use offbeat_playback::Event;
    match event {
        Event::QueueChanged(_) | Event::VolumeChanged { .. } => true,
        Event::Position { .. } => {
            changed && (status != PlaybackStatus::Playing || since_save >= SAVE_POSITION_EVERY)
        }
        _ => changed,
    }
}

/// A `file://` URL of a track's cover thumbnail, for the desktop's media panel.
fn cover_url(library: Option<&Library>, covers: &CoverCache, track_id: i64) -> Option<String> {
    let file = library?.track_file(track_id).ok().flatten()?;
    let thumbnail = covers.thumbnail(&file, 300).ok().flatten()?;
    Some(format!("file://{}", thumbnail.display()).replace(' ', "%20"))
}

fn save_session(path: &Path, player: &PlayerState, queue: &QueueNow) {
    let session = Session {
        track_ids: queue.state.items.iter().map(|i| i.track.id).collect(),
        unshuffled: queue.unshuffled.clone(),
        current: queue.state.current.map(|c| c as usize),
        position_ms: u64::from(player.position_ms),
        shuffle: player.shuffle,
        repeat: player.repeat,
        volume: player.volume,
        output_device: player.output_device.clone(),
        replay_gain: player.replay_gain,
        preamp_db: player.preamp_db,
    };
    if let Err(e) = session::save(path, &session) {
        eprintln!(
            "offbeat: cannot save the session to {}: {e}",
            path.display()
        );
    }
}

/// Loads the last session's queue, paused where it was left.
fn restore_session(state: &AppState) {
    let Some(saved) = session::load(&state.session_path) else {
        return;
    };
    {
        let mut player = state.player_mut();
        player.volume = saved.volume;
        player.output_device = saved.output_device.clone();
    }
    let _ = state.send(Command::SetVolume(saved.volume));
    let _ = state.set_replay_gain(saved.replay_gain, saved.preamp_db);
    if saved.output_device.is_some() {
        let _ = state.send(Command::SetOutputDevice(saved.output_device.clone()));
    }
    // Tracks that left the library meanwhile are dropped; keep pointing at the same one.
    let Ok((mut queued, current)) =
        state.queue_tracks_from(&saved.track_ids, saved.current.unwrap_or(0))
    else {
        return;
    };
    if queued.tracks.is_empty() {
        return;
    }
    let start = current.unwrap_or(0);
    // Server tracks without a copy come down in the background, the current one first.
    let (first, rest) = queued.split_pending(start);
    let pending: Vec<_> = first.into_iter().chain(rest).collect();
    if !pending.is_empty() {
        if let Some(remote) = state.paired.remote() {
            let changes = state.library_changes_handle();
            tauri::async_runtime::spawn(async move {
                for p in pending {
                    if remote.fetch(&p.uid, &p.format).await.is_ok() {
                        changes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    }
    // The added order, among the tracks still there.
    let kept = kept_positions(&saved.track_ids, &queued.tracks);
    let unshuffled = saved
        .unshuffled
        .iter()
        .filter_map(|&p| kept.get(p).copied().flatten())
        .collect();
    let tracks = queued.tracks;
    let position_ms = if current.is_some() && saved.current.is_some() {
        saved.position_ms
    } else {
        0
    };
    let _ = state.send(Command::Restore {
        tracks,
        start,
        position_ms,
        shuffle: saved.shuffle,
        unshuffled,
        repeat: saved.repeat.into(),
    });
}

/// On first launch, fills the empty library with the bundled demo so there is music to
/// play at once; the UI shows how to add your own folder.
fn scan_demo(app: tauri::AppHandle, demo: PathBuf) {
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        match state.scan_in_background(app.clone(), demo).await {
            Ok(report) => {
                let _ = ScanFinished(report).emit(&app);
            }
            Err(e) => eprintln!("offbeat: scanning the demo library failed: {}", e.message),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_is_saved_at_each_change_and_every_few_seconds_of_playing() {
        use offbeat_playback::Event;
        use std::time::Duration;
        let position = Event::Position {
            position_ms: 61_000,
        };
        let soon = Duration::from_millis(200);
        // Playing: positions only every few seconds.
        assert!(!worth_saving(
            &position,
            true,
            PlaybackStatus::Playing,
            soon
        ));
        assert!(worth_saving(
            &position,
            true,
            PlaybackStatus::Playing,
            SAVE_POSITION_EVERY
        ));
        // Paused (a restore at launch, a seek while paused): where it landed, at once.
        assert!(worth_saving(&position, true, PlaybackStatus::Paused, soon));
        assert!(!worth_saving(
            &position,
            false,
            PlaybackStatus::Paused,
            soon
        ));
        // The volume, even when the UI had set it already.
        let volume = Event::VolumeChanged { volume: 0.2 };
        assert!(worth_saving(&volume, false, PlaybackStatus::Paused, soon));
        assert!(worth_saving(
            &Event::Stopped,
            true,
            PlaybackStatus::Stopped,
            soon
        ));
        assert!(!worth_saving(
            &Event::Stopped,
            false,
            PlaybackStatus::Stopped,
            soon
        ));
    }

    #[test]
    fn kept_positions_follow_a_list_that_lost_some_tracks_and_holds_one_twice() {
        let kept: Vec<offbeat_playback::QueueTrack> = [5, 5, 9]
            .into_iter()
            .map(|track_id| offbeat_playback::QueueTrack {
                track_id,
                path: PathBuf::from("/m/x.flac"),
                replay_gain: offbeat_playback::ReplayGainTags::default(),
            })
            .collect();
        assert_eq!(
            kept_positions(&[5, 7, 5, 9], &kept),
            [Some(0), None, Some(1), Some(2)]
        );
        assert_eq!(kept_positions(&[7], &kept), [None]);
    }
}
