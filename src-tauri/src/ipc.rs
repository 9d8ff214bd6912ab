//! The one registry of commands and events that cross to the UI, and the TypeScript
//! generated from it (`ui/src/lib/backend/bindings.ts`, committed; a test fails when stale).

use offbeat_model::{ScanProgress, ScanReport};
use serde::{Deserialize, Serialize};
use specta_typescript::{BigIntExportBehavior, Typescript};

use crate::commands;
use crate::player::{PlayerState, QueueState};
use crate::playlists;
use crate::remote;
use crate::rewind;

/// Sent when a folder scan (including the first-run demo scan) has finished.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ScanFinished(pub ScanReport);

/// Sent after every batch of a running scan.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ScanProgressed(pub ScanProgress);

/// Sent when a scan stops early because it was cancelled, with how far it got (what it
/// read stays in the library). A cancelled scan sends no `ScanFinished`.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ScanStopped(pub ScanProgress);

/// Where the generated bindings live, relative to this crate.
pub const BINDINGS_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ui/src/lib/backend/bindings.ts"
);

/// Every command and event the UI may use.
pub fn builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::library_status,
            commands::list_tracks,
            commands::add_folder,
            commands::play_tracks,
            commands::enqueue,
            commands::remove_from_queue,
            commands::move_in_queue,
            commands::clear_queue,
            commands::play_entry,
            commands::next_track,
            commands::previous_track,
            commands::set_shuffle,
            commands::set_repeat,
            commands::queue_state,
            commands::output_devices,
            commands::set_output_device,
            commands::set_replay_gain,
            commands::pause,
            commands::resume,
            commands::stop,
            commands::seek,
            commands::set_volume,
            commands::player_state,
            commands::search_all,
            commands::track_details,
            commands::artists,
            commands::artist_albums,
            commands::albums,
            commands::album_tracks,
            commands::genres,
            commands::genre_tracks,
            commands::years,
            commands::year_tracks,
            commands::recently_added,
            commands::scan_problems,
            commands::cancel_scan,
            playlists::playlists,
            playlists::quarantined_playlists,
            playlists::playlist,
            playlists::create_playlist,
            playlists::rename_playlist,
            playlists::set_playlist_description,
            playlists::delete_playlist,
            playlists::undelete_playlist,
            playlists::duplicate_playlist,
            playlists::add_to_playlist,
            playlists::add_to_essentials,
            playlists::remove_from_playlist,
            playlists::move_in_playlist,
            playlists::set_playlist_pinned,
            playlists::import_playlist,
            playlists::export_playlist,
            remote::server_health,
            remote::pair_server,
            remote::unpair_server,
            remote::retry_server,
            remote::remote_settings,
            remote::set_cache_budget,
            rewind::rewind_first_listens,
            rewind::rewind_on_this_day,
            rewind::rewind_anniversaries,
            rewind::rewind_forgotten,
            rewind::rewind_years,
            rewind::rewind_wrap_up,
            rewind::suggest_essentials,
            rewind::listen_figures,
            rewind::import_history,
            rewind::save_png,
        ])
        .events(tauri_specta::collect_events![
            PlayerState,
            QueueState,
            ScanFinished,
            ScanProgressed,
            ScanStopped,
            remote::HealthChanged,
            rewind::HistoryImportProgressed
        ])
}

/// The TypeScript for the UI. Track ids are SQLite rowids, far below 2^53, so they cross
/// as plain numbers.
pub fn bindings() -> anyhow::Result<String> {
    let language = Typescript::default()
        .bigint(BigIntExportBehavior::Number)
        .header("// Generated from the Rust types by `make bindings`. Do not edit.\n/* eslint-disable */\n// @ts-nocheck");
    Ok(builder().export_str(language)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when the committed bindings differ from what the Rust types generate.
    /// `OFFBEAT_UPDATE_BINDINGS=1 cargo test -p offbeat bindings` rewrites them.
    #[test]
    fn bindings_are_up_to_date() -> anyhow::Result<()> {
        let generated = bindings()?;
        if std::env::var_os("OFFBEAT_UPDATE_BINDINGS").is_some() {
            std::fs::write(BINDINGS_PATH, &generated)?;
        }
        let committed = std::fs::read_to_string(BINDINGS_PATH).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/backend/bindings.ts is stale: run `make bindings` and commit the result"
        );
        Ok(())
    }
}
