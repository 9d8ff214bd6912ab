//! Everything the library knows about one track beyond what a list row shows.

use serde::{Deserialize, Serialize};

use crate::Track;

/// A track with every field the tags and the stream properties give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TrackDetails {
    pub track: Track,
    /// Each credited artist, in tag order.
    pub artists: Vec<String>,
    pub genres: Vec<String>,
    pub track_total: Option<u32>,
    pub disc_total: Option<u32>,
    /// The year of first release, where tagged (a remaster's `year` is its own).
    pub original_year: Option<i32>,
    pub compilation: bool,
    pub bitrate_kbps: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u8>,
    pub bit_depth: Option<u8>,
    pub musicbrainz: MusicBrainzIds,
    pub replay_gain: ReplayGain,
    /// The file embeds lyrics.
    pub has_lyrics: bool,
}

/// MusicBrainz identifiers from the tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MusicBrainzIds {
    pub recording: Option<String>,
    pub release: Option<String>,
    pub artist: Option<String>,
}

/// ReplayGain values from the tags: gains in dB, peaks as linear amplitude (1.0 = full scale).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ReplayGain {
    pub track_gain_db: Option<f32>,
    pub track_peak: Option<f32>,
    pub album_gain_db: Option<f32>,
    pub album_peak: Option<f32>,
}
