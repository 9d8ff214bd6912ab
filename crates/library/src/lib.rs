//! The Offbeat library: the catalog of the user's music in one SQLite file.
//!
//! This crate owns the schema (the numbered files in `migrations/`, embedded at build
//! time), the folder scanner (tags read with lofty, `track_uid` computed as the model
//! crate defines it), and full-text search over titles, artists and albums (FTS5).
//!
//! It must never play audio or touch the network: the desktop shell resolves a track to a
//! path here and hands that path to the playback engine.
//!
//! The database always runs in WAL mode, so a reader (the UI) is never blocked by a scan
//! running on another connection, and a crash at any point leaves a database that opens.

mod browse;
mod covers;
mod error;
mod import;
mod paths;
mod plays;
mod remote;
pub mod rewind;
mod scan;
mod schema;
mod search;
mod tags;
mod tracks;
mod watch;
mod window;

use std::path::{Path, PathBuf};

use offbeat_model::ProblemKind;
use rusqlite::Connection;

pub use covers::{CoverCache, COVER_SIZES};
pub use error::{LibraryError, Result};
pub use plays::{is_listen, utc_offset_min, EndReason, Play};
pub use remote::{CachedFile, RemoteChange, RemoteFile, RemoteTrack, SERVER_FOLDER_PREFIX};
pub use schema::SCHEMA_VERSION;
pub use search::{fts_query, MATCH_COUNT_LIMIT, NAME_MATCH_LIMIT, NAME_SHOWN};
pub use watch::FolderWatcher;

/// An open library database. One per thread: open another for a background scan.
#[derive(Debug)]
pub struct Library {
    conn: Connection,
    path: Option<PathBuf>,
    /// Set while [`Library::with_deadline`] runs: work this library hands to another
    /// connection stops then too.
    deadline: std::cell::Cell<Option<std::time::Instant>>,
}

impl Library {
    /// Opens (creating if needed) the library database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Library> {
        let mut conn = Connection::open(path)?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn, &path.to_string_lossy())?;
        Ok(Library {
            conn,
            path: Some(path.to_path_buf()),
            deadline: std::cell::Cell::new(None),
        })
    }

    /// A private in-memory library, for tests and one-off command-line runs.
    pub fn open_in_memory() -> Result<Library> {
        let mut conn = Connection::open_in_memory()?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn, ":memory:")?;
        Ok(Library {
            conn,
            path: None,
            deadline: std::cell::Cell::new(None),
        })
    }

    /// Where the database lives, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The folders that have been added to the library, in the order they were added.
    pub fn folders(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT path FROM folders WHERE server_id IS NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The journal mode SQLite reports (always "wal" for a file database).
    pub fn journal_mode(&self) -> Result<String> {
        Ok(self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?)
    }
}

/// How a [`ProblemKind`] is stored in `scan_problems.kind`; [`problem_kind_from_name`]
/// reads it back.
pub(crate) fn problem_kind_name(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::Corrupt => "corrupt",
        ProblemKind::Unsupported => "unsupported",
        ProblemKind::PermissionDenied => "permissionDenied",
        ProblemKind::NotAudio => "notAudio",
    }
}

pub(crate) fn problem_kind_from_name(name: &str) -> ProblemKind {
    match name {
        "unsupported" => ProblemKind::Unsupported,
        "permissionDenied" => ProblemKind::PermissionDenied,
        "notAudio" => ProblemKind::NotAudio,
        _ => ProblemKind::Corrupt,
    }
}
