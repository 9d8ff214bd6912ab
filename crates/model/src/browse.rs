//! Summaries for browsing the library by artist, album, genre and year, and grouped search.

use serde::{Deserialize, Serialize};

use crate::Track;

/// An artist with how much of their music the library holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ArtistSummary {
    pub id: i64,
    pub name: String,
    /// Albums credited to this artist as album artist.
    pub album_count: u32,
    /// Tracks on which this artist is credited (as track or album artist).
    pub track_count: u32,
}

/// An album with its artist, year and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AlbumSummary {
    pub id: i64,
    pub title: String,
    pub album_artist: String,
    pub album_artist_id: i64,
    pub year: Option<i32>,
    pub track_count: u32,
    pub duration_ms: u32,
    /// One of the album's tracks, whose embedded picture or folder can give a cover.
    pub cover_track_id: i64,
}

/// A genre or a year, with how many tracks carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GenreSummary {
    pub name: String,
    pub track_count: u32,
}

/// A release year with how many tracks came out in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct YearSummary {
    pub year: i32,
    pub track_count: u32,
}

/// Search results grouped the way a person scans them: artists, albums, then tracks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// The best matching artists, a row's worth (six at most).
    pub artists: Vec<ArtistSummary>,
    /// How many artists match, counted up to a limit (at least `artists.len()`).
    pub artist_matches: u32,
    /// True when `artist_matches` stopped at the limit: there are more.
    pub more_artists: bool,
    /// The best matching albums, a row's worth (six at most).
    pub albums: Vec<AlbumSummary>,
    /// How many albums match, counted up to a limit (at least `albums.len()`).
    pub album_matches: u32,
    /// True when `album_matches` stopped at the limit: there are more.
    pub more_albums: bool,
    /// The best matching tracks, as many as were asked for.
    pub tracks: Vec<Track>,
    /// How many tracks match in all (at least `tracks.len()`), counted up to a limit.
    pub track_matches: u32,
    /// True when `track_matches` stopped at the limit: there are that many or more.
    pub track_matches_capped: bool,
}
