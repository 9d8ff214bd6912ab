//! The desktop app: window, shared state, the engine's event pump, and the first-run scan.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
use crate::player::PlayerState;

/// Everything the commands share.
#[derive(Debug)]
pub struct AppState {
    library: Mutex<Library>,
    db_path: PathBuf,
    /// The engine, or why there is none (no audio device): the library still works.
    engine: Result<Engine, String>,
    player: Arc<Mutex<PlayerState>>,
    pub demo_dir: Option<PathBuf>,
    /// Set to stop the running scan (checked between batches).
    cancel_scan: Arc<AtomicBool>,
    /// Held by whichever scan is writing (user's, first run's or the watcher's), so two
    /// scans never race to insert the same file.
    scan_lock: Arc<Mutex<()>>,
    /// Watches the library folders while the app runs, when the system allows it.
    watcher: Mutex<Option<FolderWatcher>>,
    /// Cover thumbnails, served to the webview through the `cover:` scheme.
    pub covers: CoverCache,
}

impl AppState {
    /// The UI's connection to the library. Held only for the length of one query.
    pub fn library(&self) -> Result<MutexGuard<'_, Library>, AppError> {
        Ok(self.library.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn player_mut(&self) -> MutexGuard<'_, PlayerState> {
        self.player.lock().unwrap_or_else(PoisonError::into_inner)
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
        cancel.store(false, Ordering::Relaxed);
        tauri::async_runtime::spawn_blocking(move || -> Result<ScanReport, AppError> {
            let mut last = offbeat_model::ScanProgress::default();
            let mut report_progress = |progress: &offbeat_model::ScanProgress| {
                last = progress.clone();
                let _ = ScanProgressed(progress.clone()).emit(&app);
            };
            let scanned =
                Library::open(&db_path)?.scan_folder_with(&folder, &mut report_progress, &cancel);
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
            if let Err(e) = start_watcher(&state, handle.clone()) {
                eprintln!("offbeat: folders will not be watched for changes: {e:#}");
            }
            app.manage(state);
            if let (true, Some(demo)) = (first_run, demo_dir) {
                scan_demo(handle, demo);
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .context("running the Offbeat window")
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
        db_path,
        engine,
        player: Arc::new(Mutex::new(PlayerState::default())),
        demo_dir: paths::demo_dir(resource_dir),
        cancel_scan: Arc::new(AtomicBool::new(false)),
        scan_lock: Arc::new(Mutex::new(())),
        watcher: Mutex::new(None),
        covers: crate::covers::cache(&paths::data_dir()?),
    })
}

/// Starts watching every library folder; a change rescans its folder (only changed files
/// are read) and tells the UI.
fn start_watcher(state: &AppState, app: tauri::AppHandle) -> anyhow::Result<()> {
    let db_path = state.db_path.clone();
    let scan_lock = state.scan_lock.clone();
    let mut watcher = FolderWatcher::start(move |root| {
        let _scanning = scan_lock.lock().unwrap_or_else(PoisonError::into_inner);
        match Library::open(&db_path).and_then(|mut library| library.scan_folder(root)) {
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

/// Forwards engine events to the UI as player-state snapshots, on a thread of its own.
fn pump_engine_events(state: &AppState, app: tauri::AppHandle) {
    let Ok(engine) = &state.engine else { return };
    let events = engine.events().clone();
    let player = state.player.clone();
    std::thread::spawn(move || {
        for event in events.iter() {
            let snapshot = {
                let mut player = player.lock().unwrap_or_else(PoisonError::into_inner);
                if !player.apply(&event) {
                    continue;
                }
                player.clone()
            };
            let _ = snapshot.emit(&app);
        }
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
