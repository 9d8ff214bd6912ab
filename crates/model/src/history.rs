//! Listening history as the Rewind views show it. Every time here is wall-clock time where
//! the listen happened, as milliseconds counted like Unix time ("local ms"): format it as
//! UTC to get the local date and hour back.

use serde::{Deserialize, Serialize};

/// What a line of figures is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ListenKind {
    Track,
    Artist,
    Album,
}

/// A track, artist or album and how it has been listened to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Listened {
    pub kind: ListenKind,
    /// The track's title (tracks only).
    pub title: Option<String>,
    /// The artist (for an album, its album artist).
    pub artist: Option<String>,
    pub album: Option<String>,
    /// The library track, for a track the library has (so it can be played).
    pub track_id: Option<i64>,
    /// First and last listen, local ms.
    pub first_at: i64,
    pub last_at: i64,
    pub listens: u32,
    pub minutes: u32,
}

/// How many tracks, artists and albums were heard for the first time in a span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NewCounts {
    pub tracks: u32,
    pub artists: u32,
    pub albums: u32,
}

/// When each artist, album and track was first heard, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FirstListens {
    pub artists: Vec<Listened>,
    pub albums: Vec<Listened>,
    pub tracks: Vec<Listened>,
    /// New to you in the last 7 days, and in the last 30.
    pub this_week: NewCounts,
    pub this_month: NewCounts,
}

/// What was played on today's date in an earlier year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DayInYear {
    pub year: i32,
    pub listens: u32,
    pub minutes: u32,
    /// The tracks, in the order first played that day (`first_at`/`last_at` are that
    /// day's, `listens` that day's count).
    pub tracks: Vec<Listened>,
}

/// "5 years ago today you first played X", for an artist or album still played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Anniversary {
    pub years: u32,
    pub item: Listened,
}

/// A genre's share of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GenreListens {
    pub genre: String,
    pub listens: u32,
    pub minutes: u32,
}

/// The headline figures of a period, for comparing one with the one before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PeriodTotals {
    pub minutes: u32,
    pub listens: u32,
    pub tracks: u32,
    pub artists: u32,
}

/// A year or a month of listening, summed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WrapUp {
    pub year: i32,
    /// 1–12 for a month's wrap-up; `None` for the whole year.
    pub month: Option<u32>,
    pub totals: PeriodTotals,
    /// The period before (the previous year or month).
    pub previous: PeriodTotals,
    pub top_tracks: Vec<Listened>,
    pub top_artists: Vec<Listened>,
    pub top_albums: Vec<Listened>,
    pub top_genres: Vec<GenreListens>,
    /// Listens by weekday (Monday first) and hour: `clock[weekday * 24 + hour]`.
    pub clock: Vec<u32>,
    /// Minutes per month of the year, or per day of the month.
    pub minutes_by_part: Vec<u32>,
    /// The most days in a row with a listen, and the first of them (local ms).
    pub longest_streak_days: u32,
    pub streak_start: Option<i64>,
    /// First heard in this period.
    pub discoveries: NewCounts,
    pub top_discoveries: Vec<Listened>,
}

/// The figures on a track, artist or album page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ListenFigures {
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
    pub listens: u32,
}

/// One entry of an import that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistoryImportIssue {
    /// The entry's number in its file, from 1; 0 for the file as a whole.
    pub entry: u32,
    pub reason: String,
}

/// What an import of a listening-history export did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistoryImportReport {
    /// "Spotify" or "ListenBrainz"; empty when the file was not recognised.
    pub format: String,
    pub entries: u32,
    /// New plays stored.
    pub imported: u32,
    /// Plays already here from an earlier import of the same file.
    pub already_had: u32,
    /// Of the new plays, those matched to a library track (the rest are kept with their
    /// names and count in every figure).
    pub matched: u32,
    /// Entries not taken (podcasts, malformed entries), with the first few reasons.
    pub skipped: u32,
    pub issues: Vec<HistoryImportIssue>,
}
