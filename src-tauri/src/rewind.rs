//! Rewind: the listening-history views, imports from other services, and the figures on
//! track, artist and album pages.
//!
//! Every view runs on a blocking thread over its own read connection (WAL lets it read
//! while playback records and scans write), under a time limit: a slow or failing view
//! gives its card an error, never the rest of the app a wait. `OFFBEAT_REWIND_FAULT`
//! names views that fail on purpose, for the test that proves that.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use offbeat_library::Library;
use offbeat_model::{
    Anniversary, DayInYear, FirstListens, HistoryImportReport, ListenFigures, Listened, WrapUp,
};
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri_specta::Event as _;

use crate::app::AppState;
use crate::error::{AppError, AppErrorCode};

/// How long a view may take before it is stopped.
const VIEW_LIMIT: Duration = Duration::from_secs(5);
/// Items per list in a view.
const LIST: u32 = 50;
/// Tracks Suggest Essentials offers.
const SUGGESTED: u32 = 25;

/// The views' own connection, opened on first use.
#[derive(Debug)]
pub struct RewindReader {
    db_path: PathBuf,
    conn: Arc<Mutex<Option<Library>>>,
    /// Views that fail on purpose (`OFFBEAT_REWIND_FAULT`, comma-separated view names).
    faults: Vec<String>,
}

impl RewindReader {
    pub fn new(db_path: PathBuf) -> RewindReader {
        let faults = std::env::var("OFFBEAT_REWIND_FAULT")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        RewindReader {
            db_path,
            conn: Arc::new(Mutex::new(None)),
            faults,
        }
    }

    /// Runs view `name` off the UI's threads, stopped after [`VIEW_LIMIT`].
    async fn view<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce(&Library, i64) -> offbeat_library::Result<T> + Send + 'static,
    ) -> Result<T, AppError> {
        if self.faults.iter().any(|f| f == name) {
            return Err(AppError::new(
                AppErrorCode::Library,
                format!("{name} failed on purpose (OFFBEAT_REWIND_FAULT)"),
            ));
        }
        let conn = self.conn.clone();
        let path = self.db_path.clone();
        let deadline = Instant::now() + VIEW_LIMIT;
        let task = tauri::async_runtime::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            if guard.is_none() {
                *guard = Some(Library::open(&path)?);
            }
            match guard.as_ref() {
                Some(library) => library.with_deadline(deadline, |l| f(l, now_local())),
                None => Err(offbeat_library::LibraryError::TimedOut),
            }
        });
        // The connection may be busy with a view that is itself about to be stopped.
        match tokio::time::timeout(VIEW_LIMIT + Duration::from_secs(1), task).await {
            Ok(Ok(result)) => Ok(result?),
            Ok(Err(e)) => Err(AppError::new(
                AppErrorCode::Library,
                format!("{name} failed: {e}"),
            )),
            Err(_) => Err(AppError::new(
                AppErrorCode::Library,
                format!("{name} took longer than {} s", VIEW_LIMIT.as_secs()),
            )),
        }
    }
}

/// Now, as local ms (the wall clock here, counted like Unix ms).
pub fn now_local() -> i64 {
    chrono::Local::now()
        .naive_local()
        .and_utc()
        .timestamp_millis()
}

#[tauri::command]
#[specta::specta]
pub async fn rewind_first_listens(state: State<'_, AppState>) -> Result<FirstListens, AppError> {
    state
        .rewind
        .view("firstListens", |l, now| l.first_listens(now, LIST))
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn rewind_on_this_day(state: State<'_, AppState>) -> Result<Vec<DayInYear>, AppError> {
    state
        .rewind
        .view("onThisDay", |l, now| l.on_this_day(now, LIST as usize))
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn rewind_anniversaries(
    state: State<'_, AppState>,
) -> Result<Vec<Anniversary>, AppError> {
    state
        .rewind
        .view("anniversaries", |l, now| l.anniversaries(now, LIST))
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn rewind_forgotten(state: State<'_, AppState>) -> Result<Vec<Listened>, AppError> {
    state
        .rewind
        .view("forgotten", |l, now| l.forgotten_favourites(now, LIST))
        .await
}

/// The years with listens, newest first (the wrap-up's choices).
#[tauri::command]
#[specta::specta]
pub async fn rewind_years(state: State<'_, AppState>) -> Result<Vec<i32>, AppError> {
    state.rewind.view("years", |l, _| l.listening_years()).await
}

#[tauri::command]
#[specta::specta]
pub async fn rewind_wrap_up(
    state: State<'_, AppState>,
    year: i32,
    month: Option<u32>,
) -> Result<WrapUp, AppError> {
    if !(1900..=9999).contains(&year) || month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            format!("there is no such period: {year} {month:?}"),
        ));
    }
    state
        .rewind
        .view("wrapUp", move |l, _| l.wrap_up(year, month, 10))
        .await
}

/// A suggestion for Emergency Essentials: the library tracks heard most in the last year,
/// and which of them it holds already.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct EssentialsSuggestion {
    pub tracks: Vec<Listened>,
    /// Of `tracks`, the ids already in Essentials.
    pub already_in: Vec<i64>,
}

#[tauri::command]
#[specta::specta]
pub async fn suggest_essentials(
    state: State<'_, AppState>,
) -> Result<EssentialsSuggestion, AppError> {
    let tracks = state
        .rewind
        .view("suggestEssentials", |l, now| l.most_loved(now, SUGGESTED))
        .await?;
    let mut already_in = Vec::new();
    if let Ok(store) = &state.playlists {
        let uids: std::collections::HashSet<String> = store
            .get(&store.essentials_id())
            .map(|p| p.entries.into_iter().map(|e| e.track.track_uid).collect())
            .unwrap_or_default();
        let library = state.library()?;
        for t in &tracks {
            if let Some(id) = t.track_id {
                if let Some(track) = library.track(id)? {
                    if uids.contains(track.uid.as_str()) {
                        already_in.push(id);
                    }
                }
            }
        }
    }
    Ok(EssentialsSuggestion { tracks, already_in })
}

/// Whose figures a page asks for.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ListenSubject {
    Track {
        id: i64,
    },
    Artist {
        name: String,
    },
    #[serde(rename_all = "camelCase")]
    Album {
        album_artist: String,
        title: String,
    },
}

#[tauri::command]
#[specta::specta]
pub async fn listen_figures(
    state: State<'_, AppState>,
    subject: ListenSubject,
) -> Result<ListenFigures, AppError> {
    let uid = match &subject {
        ListenSubject::Track { id } => match state.library()?.track(*id)? {
            Some(t) => Some(t.uid.as_str().to_owned()),
            None => return Ok(ListenFigures::default()),
        },
        _ => None,
    };
    state
        .rewind
        .view("figures", move |l, _| match subject {
            ListenSubject::Track { .. } => l.track_figures(uid.as_deref().unwrap_or_default()),
            ListenSubject::Artist { name } => l.artist_figures(&name),
            ListenSubject::Album {
                album_artist,
                title,
            } => l.album_figures(&album_artist, &title),
        })
        .await
}

/// Sent as an import goes: entries read of the file's total.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct HistoryImportProgressed {
    pub file: String,
    pub done: u32,
    pub total: u32,
}

/// Imports a Spotify or ListenBrainz export on a worker thread with its own connection.
#[tauri::command]
#[specta::specta]
pub async fn import_history(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> Result<HistoryImportReport, AppError> {
    if path.trim().is_empty() {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            "choose a file to import",
        ));
    }
    let db = state.db_path().to_path_buf();
    let file = path.clone();
    let report = tauri::async_runtime::spawn_blocking(move || {
        let mut library = Library::open(&db)?;
        let mut last = Instant::now();
        library.import_history(std::path::Path::new(&path), |done, total| {
            if done == total || last.elapsed() > Duration::from_millis(100) {
                last = Instant::now();
                let _ = HistoryImportProgressed {
                    file: file.clone(),
                    done,
                    total,
                }
                .emit(&app);
            }
        })
    })
    .await
    .map_err(|e| AppError::new(AppErrorCode::Io, format!("the import stopped: {e}")))??;
    if report.imported > 0 {
        if let Some(remote) = state.paired.remote() {
            remote.wake();
        }
    }
    Ok(report)
}

/// Writes a wrap-up's picture (a PNG as a `data:` URL, from the UI's canvas) to `path`.
#[tauri::command]
#[specta::specta]
pub async fn save_png(path: String, data_url: String) -> Result<(), AppError> {
    use base64::Engine as _;
    let Some(encoded) = data_url.strip_prefix("data:image/png;base64,") else {
        return Err(AppError::new(AppErrorCode::BadInput, "not a PNG image"));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| AppError::new(AppErrorCode::BadInput, format!("not a PNG image: {e}")))?;
    let path = PathBuf::from(path);
    let tmp = path.with_extension("png.part");
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            AppError::new(
                AppErrorCode::Io,
                format!("cannot write {}: {e}", path.display()),
            )
        })
}
