//! The library's error type.

use std::path::PathBuf;

/// Anything that can go wrong opening, scanning or querying the library.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("library database error")]
    Database(#[from] rusqlite::Error),
    #[error("cannot open library folder {path}")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("the library database at {path} was written by a newer Offbeat (schema {found}, this build knows {known})")]
    SchemaTooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("the scan was cancelled")]
    Cancelled,
    #[error("cannot watch the library folders for changes: {0}")]
    Watch(String),
    #[error("the query took too long and was stopped")]
    TimedOut,
    #[error("there is no such period: {year}{}", month.map(|m| format!("-{m:02}")).unwrap_or_default())]
    BadPeriod { year: i32, month: Option<u32> },
}

pub type Result<T, E = LibraryError> = std::result::Result<T, E>;
