//! The shared vocabulary of Offbeat: what a track is and how it is identified.
//!
//! This crate owns plain data types that every other crate may use: [`TrackUid`],
//! [`Track`], [`ScanReport`] and friends. It must never do I/O, touch SQLite, audio
//! devices or the network; keeping it pure is what lets the library, the playback engine,
//! the desktop shell and (later) the server agree on one set of types.

mod browse;
mod details;
mod history;
mod scan;
mod scan_progress;
mod track;
mod uid;

pub use browse::{AlbumSummary, ArtistSummary, GenreSummary, SearchResults, YearSummary};
pub use details::{MusicBrainzIds, ReplayGain, TrackDetails};
pub use history::{
    Anniversary, DayInYear, FirstListens, GenreListens, HistoryImportIssue, HistoryImportReport,
    ListenFigures, ListenKind, Listened, NewCounts, PeriodTotals, WrapUp,
};
pub use scan::{ProblemKind, ScanProblem, ScanReport};
pub use scan_progress::ScanProgress;
pub use track::{Track, TrackId, TrackSource};
pub use uid::{normalize_for_identity, TrackUid, UidInputs};
