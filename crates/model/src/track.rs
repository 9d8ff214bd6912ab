//! `Track`: one playable file in the library, as the UI and the CLI see it.

use serde::{Deserialize, Serialize};

use crate::TrackUid;

/// The library's row id for a track. Local to one database; use [`TrackUid`] across devices.
pub type TrackId = i64;

/// A track in the library, with the tags Offbeat shows and sorts by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Track {
    pub id: TrackId,
    pub uid: TrackUid,
    pub path: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub album_artist: String,
    pub track_number: Option<u32>,
    pub disc_number: Option<u32>,
    pub year: Option<i32>,
    pub genre: Option<String>,
    pub duration_ms: u32,
    /// The container/codec family, e.g. "FLAC", "MP3", "Ogg Vorbis", "M4A", "WAV".
    pub format: String,
    /// Where the track would play from now.
    pub source: TrackSource,
}

/// Where a track's audio is: a file of the user's on this device, a verified copy of a
/// server's file in this device's cache, or only on the paired server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TrackSource {
    #[default]
    Local,
    Cached,
    Server,
}

impl TrackSource {
    /// Plays with no server: on this device, or cached.
    pub fn on_device(self) -> bool {
        self != TrackSource::Server
    }
}
