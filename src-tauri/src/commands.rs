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
use crate::player::{PlayerState, QueueState, RepeatMode, ReplayGainMode};

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

/// Plays `track_ids` as the queue (an album, a playlist, a list of search results),
/// starting with the one at `start`. Tracks no longer in the library are left out.
#[tauri::command]
#[specta::specta]
pub async fn play_tracks(
    state: State<'_, AppState>,
    track_ids: Vec<TrackId>,
    start: u32,
) -> Result<(), AppError> {
    let (mut queued, start) = state.queue_tracks_from(&track_ids, start as usize)?;
    let Some(start) = start else {
        return Err(AppError::new(
            AppErrorCode::NotFound,
            "that song cannot play now: it is no longer in the library, or only on the server",
        ));
    };
    // A server track is downloaded (and verified) before it plays; the rest follow.
    let (first, rest) = queued.split_pending(start);
    crate::remote::fetch_pending(&state, first, rest).await?;
    state.send(Command::SetQueue {
        tracks: queued.tracks,
        start,
        position_ms: 0,
        paused: false,
    })
}

/// Queues tracks right after the playing one (`next`), or at the end.
#[tauri::command]
#[specta::specta]
pub async fn enqueue(
    state: State<'_, AppState>,
    track_ids: Vec<TrackId>,
    next: bool,
) -> Result<(), AppError> {
    let queued = state.queue_tracks(&track_ids)?;
    crate::remote::fetch_pending(&state, None, queued.pending).await?;
    let tracks = queued.tracks;
    if tracks.is_empty() {
        return Err(AppError::new(
            AppErrorCode::NotFound,
            "those tracks are no longer in the library",
        ));
    }
    state.send(if next {
        Command::PlayNext(tracks)
    } else {
        Command::Append(tracks)
    })
}

#[tauri::command]
#[specta::specta]
pub async fn remove_from_queue(
    state: State<'_, AppState>,
    entry_ids: Vec<u32>,
) -> Result<(), AppError> {
    state.send(Command::Remove(
        entry_ids.into_iter().map(u64::from).collect(),
    ))
}

/// Moves a queue entry to position `to` of the queue (play order).
#[tauri::command]
#[specta::specta]
pub async fn move_in_queue(
    state: State<'_, AppState>,
    entry_id: u32,
    to: u32,
) -> Result<(), AppError> {
    state.send(Command::Move {
        entry_id: u64::from(entry_id),
        to: to as usize,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn clear_queue(state: State<'_, AppState>) -> Result<(), AppError> {
    state.send(Command::Clear)
}

/// Plays the queue entry with this id.
#[tauri::command]
#[specta::specta]
pub async fn play_entry(state: State<'_, AppState>, entry_id: u32) -> Result<(), AppError> {
    state.send(Command::Jump(u64::from(entry_id)))
}

#[tauri::command]
#[specta::specta]
pub async fn next_track(state: State<'_, AppState>) -> Result<(), AppError> {
    state.send(Command::Next)
}

/// Restarts the track when more than 3 s in, else plays the one before.
#[tauri::command]
#[specta::specta]
pub async fn previous_track(state: State<'_, AppState>) -> Result<(), AppError> {
    state.send(Command::Previous)
}

#[tauri::command]
#[specta::specta]
pub async fn set_shuffle(state: State<'_, AppState>, on: bool) -> Result<(), AppError> {
    state.send(Command::SetShuffle(on))
}

#[tauri::command]
#[specta::specta]
pub async fn set_repeat(state: State<'_, AppState>, repeat: RepeatMode) -> Result<(), AppError> {
    state.send(Command::SetRepeat(repeat.into()))
}

/// An output device the system offers.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OutputDevice {
    /// What to choose it by.
    pub id: String,
    pub name: String,
}

/// The output devices the system offers now.
#[tauri::command]
#[specta::specta]
pub async fn output_devices() -> Result<Vec<OutputDevice>, AppError> {
    // Asking the sound system can take a while: not on the async runtime's threads.
    let devices = tauri::async_runtime::spawn_blocking(offbeat_playback::output_devices)
        .await
        .map_err(|e| {
            AppError::new(
                AppErrorCode::Playback,
                format!("listing the output devices failed: {e}"),
            )
        })?;
    Ok(devices
        .into_iter()
        .map(|d| OutputDevice {
            id: d.id,
            name: d.name,
        })
        .collect())
}

/// Plays through this device from now on (`None`: the system's default); kept across
/// launches.
#[tauri::command]
#[specta::specta]
pub async fn set_output_device(
    state: State<'_, AppState>,
    device: Option<String>,
) -> Result<(), AppError> {
    state.send(Command::SetOutputDevice(device))
}

/// How ReplayGain levels tracks; kept across launches.
#[tauri::command]
#[specta::specta]
pub async fn set_replay_gain(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    mode: ReplayGainMode,
    preamp_db: f32,
) -> Result<(), AppError> {
    if !(-15.0..=15.0).contains(&preamp_db) {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            "the pre-amp must be between -15 and +15 dB",
        ));
    }
    let _ = state.set_replay_gain(mode, preamp_db)?.emit(&app);
    state.save_session();
    Ok(())
}

/// The queue as it is now (it is also sent as `queueState` events when it changes).
#[tauri::command]
#[specta::specta]
pub async fn queue_state(state: State<'_, AppState>) -> Result<QueueState, AppError> {
    Ok(state.queue())
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
