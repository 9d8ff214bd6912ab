//! The Tauri commands: each validates its input, calls one library function or sends one
//! engine command, and maps the error.

use std::path::PathBuf;

use offbeat_model::{
    AlbumSummary, ArtistSummary, GenreSummary, ScanProblem, ScanReport, SearchResults, Track,
    TrackDetails, TrackId, YearSummary,
};
use offbeat_playback::Command;
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri_specta::Event as _;

use crate::app::AppState;
use crate::error::{AppError, AppErrorCode};
use crate::ipc::ScanFinished;
use crate::player::PlayerState;

/// The best matching tracks a search sends per keystroke: more than a window shows, few
/// enough to answer within a few milliseconds at 100k tracks.
const SEARCH_PAGE: u32 = 200;
/// The tracks "Show all" asks for.
const SEARCH_ALL: u32 = 10_000;

/// What the sidebar and the first-run hint need to know about the library.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LibraryStatus {
    pub track_count: u32,
    pub folders: Vec<String>,
    /// Set while the only folder in the library is the bundled demo.
    pub demo_folder: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn library_status(state: State<'_, AppState>) -> Result<LibraryStatus, AppError> {
    let library = state.library()?;
    let folders = library.folders()?;
    let demo = state
        .demo_dir
        .as_ref()
        .map(|d| d.to_string_lossy().into_owned());
    let demo_folder = demo.filter(|d| folders.len() == 1 && folders[0] == *d);
    Ok(LibraryStatus {
        track_count: library.track_count()?,
        folders,
        demo_folder,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn list_tracks(state: State<'_, AppState>) -> Result<Vec<Track>, AppError> {
    Ok(state.library()?.tracks()?)
}

/// Scans a folder on a worker thread (its own database connection), then tells every
/// window the scan finished.
#[tauri::command]
#[specta::specta]
pub async fn add_folder(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> Result<ScanReport, AppError> {
    if path.trim().is_empty() {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            "choose a folder to add",
        ));
    }
    let report = state
        .scan_in_background(app.clone(), PathBuf::from(path))
        .await?;
    // The UI also gets the report as the return value; the event keeps other views current.
    let _ = ScanFinished(report.clone()).emit(&app);
    Ok(report)
}

#[tauri::command]
#[specta::specta]
pub async fn play_track(state: State<'_, AppState>, track_id: TrackId) -> Result<(), AppError> {
    let gone = || {
        AppError::new(
            AppErrorCode::NotFound,
            "that track is no longer in the library",
        )
    };
    let (track, path) = {
        let library = state.library()?;
        let track = library.track(track_id)?.ok_or_else(gone)?;
        (track, library.track_file(track_id)?.ok_or_else(gone)?)
    };
    state.player_mut().load(track);
    state.send(Command::Play(path))
}

#[tauri::command]
#[specta::specta]
pub async fn pause(state: State<'_, AppState>) -> Result<(), AppError> {
    state.send(Command::Pause)
}

#[tauri::command]
#[specta::specta]
pub async fn resume(state: State<'_, AppState>) -> Result<(), AppError> {
    state.send(Command::Resume)
}

#[tauri::command]
#[specta::specta]
pub async fn stop(state: State<'_, AppState>) -> Result<(), AppError> {
    state.send(Command::Stop)
}

#[tauri::command]
#[specta::specta]
pub async fn seek(state: State<'_, AppState>, position_ms: u32) -> Result<(), AppError> {
    state.send(Command::Seek(u64::from(position_ms)))
}

#[tauri::command]
#[specta::specta]
pub async fn set_volume(state: State<'_, AppState>, volume: f32) -> Result<(), AppError> {
    if !(0.0..=1.0).contains(&volume) {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            "volume must be between 0 and 1",
        ));
    }
    state.player_mut().volume = volume;
    state.send(Command::SetVolume(volume))
}

#[tauri::command]
#[specta::specta]
pub async fn player_state(state: State<'_, AppState>) -> Result<PlayerState, AppError> {
    Ok(state.player_mut().clone())
}

/// How many tracks "Recently added" shows.
const RECENT_LIMIT: u32 = 200;

#[tauri::command]
#[specta::specta]
pub async fn search_all(
    state: State<'_, AppState>,
    query: String,
    all_tracks: bool,
) -> Result<SearchResults, AppError> {
    let limit = if all_tracks { SEARCH_ALL } else { SEARCH_PAGE };
    Ok(state.library()?.search_grouped(&query, limit)?)
}

#[tauri::command]
#[specta::specta]
pub async fn track_details(
    state: State<'_, AppState>,
    track_id: TrackId,
) -> Result<TrackDetails, AppError> {
    state.library()?.track_details(track_id)?.ok_or_else(|| {
        AppError::new(
            AppErrorCode::NotFound,
            "that track is no longer in the library",
        )
    })
}

#[tauri::command]
#[specta::specta]
pub async fn artists(state: State<'_, AppState>) -> Result<Vec<ArtistSummary>, AppError> {
    Ok(state.library()?.artists()?)
}

#[tauri::command]
#[specta::specta]
pub async fn artist_albums(
    state: State<'_, AppState>,
    artist_id: i64,
) -> Result<Vec<AlbumSummary>, AppError> {
    Ok(state.library()?.artist_albums(artist_id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn albums(
    state: State<'_, AppState>,
    offset: u32,
    limit: u32,
) -> Result<Vec<AlbumSummary>, AppError> {
    Ok(state.library()?.albums(offset, limit)?)
}

#[tauri::command]
#[specta::specta]
pub async fn album_tracks(
    state: State<'_, AppState>,
    album_id: i64,
) -> Result<Vec<Track>, AppError> {
    Ok(state.library()?.album_tracks(album_id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn genres(state: State<'_, AppState>) -> Result<Vec<GenreSummary>, AppError> {
    Ok(state.library()?.genres()?)
}

#[tauri::command]
#[specta::specta]
pub async fn genre_tracks(
    state: State<'_, AppState>,
    genre: String,
) -> Result<Vec<Track>, AppError> {
    Ok(state.library()?.genre_tracks(&genre)?)
}

#[tauri::command]
#[specta::specta]
pub async fn years(state: State<'_, AppState>) -> Result<Vec<YearSummary>, AppError> {
    Ok(state.library()?.years()?)
}

/// Tracks released from `from` to `to` inclusive: one year, or a decade.
#[tauri::command]
#[specta::specta]
pub async fn year_tracks(
    state: State<'_, AppState>,
    from: i32,
    to: i32,
) -> Result<Vec<Track>, AppError> {
    Ok(state.library()?.year_tracks(from, to)?)
}

#[tauri::command]
#[specta::specta]
pub async fn recently_added(state: State<'_, AppState>) -> Result<Vec<Track>, AppError> {
    Ok(state.library()?.recently_added(RECENT_LIMIT)?)
}

/// Files the scans could not index, with their reasons.
#[tauri::command]
#[specta::specta]
pub async fn scan_problems(state: State<'_, AppState>) -> Result<Vec<ScanProblem>, AppError> {
    Ok(state.library()?.problems()?)
}

/// Stops a running scan after its current batch; what was indexed stays.
#[tauri::command]
#[specta::specta]
pub async fn cancel_scan(state: State<'_, AppState>) -> Result<(), AppError> {
    state.cancel_scan();
    Ok(())
}
