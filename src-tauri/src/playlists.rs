//! Playlist commands: the store's operations for the UI, with entries resolved to library
//! tracks by `track_uid`. The store blocks until each change is on disk, so every call runs
//! on a blocking thread.

use std::path::PathBuf;
use std::sync::Arc;

use offbeat_model::TrackId;
use offbeat_playlists::doc::{Place, PlaylistMeta, TrackRef};
use offbeat_playlists::exchange::{self, ExportEntry, ImportProblem};
use offbeat_playlists::{PlaylistSummary, Quarantined, Store, StoreError};
use serde::Serialize;
use tauri::State;

use crate::app::AppState;
use crate::error::{AppError, AppErrorCode};

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        let code = match e {
            StoreError::NotFound(_) => AppErrorCode::NotFound,
            StoreError::EssentialsIsPermanent => AppErrorCode::BadInput,
            _ => AppErrorCode::Io,
        };
        AppError::new(code, e.to_string())
    }
}

/// One entry as the playlist view shows it: what the playlist remembers, and the library
/// track it resolves to on this device (`None`: not here; shown greyed, skipped on play).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistEntryView {
    pub id: String,
    pub track: TrackRef,
    pub track_id: Option<TrackId>,
    /// Where it would play from: `None` when neither this device nor the server has it.
    pub source: Option<offbeat_model::TrackSource>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistView {
    pub id: String,
    #[serde(flatten)]
    pub meta: PlaylistMeta,
    pub pinned: bool,
    pub entries: Vec<PlaylistEntryView>,
    /// "If the server went away now, N of M would play": entries with a file on this
    /// device or a verified cached copy, from local state only.
    pub offline_playable: u32,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub playlist_id: String,
    pub name: String,
    pub imported: u32,
    /// Lines that did not become entries, and why.
    pub problems: Vec<ImportProblem>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    pub written: u32,
    /// Entries left out (M3U lists files: an entry with no file here cannot be listed).
    pub skipped: u32,
}

/// Now, in milliseconds since the epoch: the time playlist documents record.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn store(state: &AppState) -> Result<Arc<Store>, AppError> {
    state
        .playlists
        .clone()
        .map_err(|why| AppError::new(AppErrorCode::Io, why))
}

/// Runs `f` with the store on a blocking thread.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, AppError> + Send + 'static,
{
    let store = store(state)?;
    tauri::async_runtime::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| AppError::new(AppErrorCode::Io, format!("playlist task failed: {e}")))?
}

fn place(position: Option<u32>) -> Place {
    position.map_or(Place::End, |p| Place::At(p as usize))
}

/// What playlists remember of library tracks, in the order given (ids not in the
/// library are left out).
fn track_refs(state: &AppState, track_ids: &[TrackId]) -> Result<Vec<TrackRef>, AppError> {
    let library = state.library()?;
    let mut out = Vec::with_capacity(track_ids.len());
    for id in track_ids {
        if let Some(t) = library.track(*id)? {
            out.push(exchange::track_ref(&t));
        }
    }
    Ok(out)
}

#[tauri::command]
#[specta::specta]
pub async fn playlists(state: State<'_, AppState>) -> Result<Vec<PlaylistSummary>, AppError> {
    blocking(&state, |s| Ok(s.list())).await
}

/// Playlists that could not be read at start and were moved aside.
#[tauri::command]
#[specta::specta]
pub async fn quarantined_playlists(
    state: State<'_, AppState>,
) -> Result<Vec<Quarantined>, AppError> {
    blocking(&state, |s| Ok(s.quarantined().to_vec())).await
}

#[tauri::command]
#[specta::specta]
pub async fn playlist(state: State<'_, AppState>, id: String) -> Result<PlaylistView, AppError> {
    let (id, playlist, pinned) = blocking(&state, move |s| {
        let playlist = s.get(&id)?;
        let pinned = s.is_pinned(&id);
        Ok((id, playlist, pinned))
    })
    .await?;
    let uids: Vec<&str> = playlist
        .entries
        .iter()
        .map(|e| e.track.track_uid.as_str())
        .collect();
    // Where each entry plays from; one that plays with no server (a local file or a cached
    // copy) counts for the readiness figure.
    let found = state.library()?.resolve_uids(&uids)?;
    let offline_playable = playlist
        .entries
        .iter()
        .filter(|e| {
            found
                .get(&e.track.track_uid)
                .is_some_and(|(_, source)| source.on_device())
        })
        .count();
    let entries = playlist
        .entries
        .into_iter()
        .map(|e| {
            let track = found.get(&e.track.track_uid);
            PlaylistEntryView {
                track_id: track.map(|(id, _)| *id),
                source: track.map(|(_, source)| *source),
                id: e.id,
                track: e.track,
            }
        })
        .collect();
    Ok(PlaylistView {
        id,
        meta: playlist.meta,
        pinned,
        entries,
        offline_playable: u32::try_from(offline_playable).unwrap_or(u32::MAX),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn create_playlist(state: State<'_, AppState>, name: String) -> Result<String, AppError> {
    let name = clean_name(&name)?;
    blocking(&state, move |s| Ok(s.create(&name, now_ms())?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn rename_playlist(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> Result<(), AppError> {
    let name = clean_name(&name)?;
    blocking(&state, move |s| Ok(s.rename(&id, &name, now_ms())?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_playlist_description(
    state: State<'_, AppState>,
    id: String,
    description: String,
) -> Result<(), AppError> {
    blocking(&state, move |s| {
        Ok(s.set_description(&id, description.trim(), now_ms())?)
    })
    .await
}

/// Deletes a playlist; [`undelete_playlist`] brings it back (the UI's "Undo").
#[tauri::command]
#[specta::specta]
pub async fn delete_playlist(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    blocking(&state, move |s| Ok(s.delete(&id, now_ms())?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn undelete_playlist(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    blocking(&state, move |s| Ok(s.undelete(&id)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn duplicate_playlist(
    state: State<'_, AppState>,
    id: String,
) -> Result<String, AppError> {
    blocking(&state, move |s| Ok(s.duplicate(&id, now_ms())?)).await
}

/// Adds library tracks (one, an album, a search result...) at `position` (none: the end).
#[tauri::command]
#[specta::specta]
pub async fn add_to_playlist(
    state: State<'_, AppState>,
    id: String,
    track_ids: Vec<TrackId>,
    position: Option<u32>,
) -> Result<u32, AppError> {
    let refs = track_refs(&state, &track_ids)?;
    let added = blocking(&state, move |s| {
        Ok(s.add(&id, &refs, place(position), now_ms())?.len() as u32)
    })
    .await?;
    // A pinned playlist's new tracks download.
    crate::remote::refresh_pins(&state);
    Ok(added)
}

/// "Add to Essentials": adds tracks to the end of Emergency Essentials.
#[tauri::command]
#[specta::specta]
pub async fn add_to_essentials(
    state: State<'_, AppState>,
    track_ids: Vec<TrackId>,
) -> Result<u32, AppError> {
    let refs = track_refs(&state, &track_ids)?;
    let added = blocking(&state, move |s| {
        let id = s.essentials_id().to_owned();
        Ok(s.add(&id, &refs, Place::End, now_ms())?.len() as u32)
    })
    .await?;
    crate::remote::refresh_pins(&state);
    Ok(added)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_from_playlist(
    state: State<'_, AppState>,
    id: String,
    entry_ids: Vec<String>,
) -> Result<u32, AppError> {
    let removed = blocking(&state, move |s| {
        Ok(s.remove(&id, &entry_ids, now_ms())? as u32)
    })
    .await?;
    crate::remote::refresh_pins(&state);
    Ok(removed)
}

/// Moves entries (a multi-selection keeps its order) to sit together before the entry at
/// `position` of the list without them (none: the end).
#[tauri::command]
#[specta::specta]
pub async fn move_in_playlist(
    state: State<'_, AppState>,
    id: String,
    entry_ids: Vec<String>,
    position: Option<u32>,
) -> Result<(), AppError> {
    blocking(&state, move |s| {
        Ok(s.move_entries(&id, &entry_ids, place(position), now_ms())?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn set_playlist_pinned(
    state: State<'_, AppState>,
    id: String,
    pinned: bool,
) -> Result<(), AppError> {
    blocking(&state, move |s| Ok(s.set_pinned(&id, pinned)?)).await?;
    // Pinned: its tracks download; unpinned: they may be evicted.
    crate::remote::refresh_pins(&state);
    Ok(())
}

/// Imports an M3U/M3U8/XSPF file as a new playlist: entries matched by path, then by
/// artist + title (+ album); what did not match is reported line by line. A file that
/// cannot be read at all imports nothing.
#[tauri::command]
#[specta::specta]
pub async fn import_playlist(
    state: State<'_, AppState>,
    path: String,
) -> Result<ImportReport, AppError> {
    let library = state.library()?.tracks()?;
    let (playlist_id, import) = blocking(&state, move |s| {
        let import = exchange::import_file(&PathBuf::from(path), &library)
            .map_err(|e| AppError::new(AppErrorCode::BadInput, e.to_string()))?;
        // All or nothing: the playlist is listed only once it holds every song.
        let id = s.create_with(&import.name, "", &import.tracks, now_ms())?;
        Ok((id, import))
    })
    .await?;
    Ok(ImportReport {
        playlist_id,
        imported: import.tracks.len() as u32,
        name: import.name,
        problems: import.problems,
    })
}

/// Writes a playlist as M3U8 or XSPF (by the path's extension).
#[tauri::command]
#[specta::specta]
pub async fn export_playlist(
    state: State<'_, AppState>,
    id: String,
    path: String,
) -> Result<ExportReport, AppError> {
    let view = playlist(state.clone(), id).await?;
    let paths: Vec<Option<String>> = {
        let library = state.library()?;
        view.entries
            .iter()
            .map(|e| {
                e.track_id
                    .and_then(|t| library.track_file(t).ok().flatten())
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .collect()
    };
    let entries: Vec<ExportEntry<'_>> = view
        .entries
        .iter()
        .zip(&paths)
        .map(|(e, p)| ExportEntry {
            track: &e.track,
            path: p.as_deref(),
        })
        .collect();
    let path = PathBuf::from(path);
    let xspf = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xspf"));
    let (text, skipped) = if xspf {
        (exchange::write_xspf(&view.meta.name, &entries), 0)
    } else {
        exchange::write_m3u8(&view.meta.name, &entries)
    };
    std::fs::write(&path, text).map_err(|e| {
        AppError::new(
            AppErrorCode::Io,
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(ExportReport {
        written: (entries.len() - skipped) as u32,
        skipped: skipped as u32,
    })
}

fn clean_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::new(
            AppErrorCode::BadInput,
            "a playlist needs a name",
        ));
    }
    Ok(name.chars().take(200).collect())
}
