//! The error the UI receives from every command: a stable code to switch on and a message
//! a person can read.

use serde::{Deserialize, Serialize};

/// What kind of failure, for the UI to switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AppErrorCode {
    NotFound,
    BadInput,
    Library,
    Playback,
    Io,
    /// The home server could not give what was asked (offline, refused, failing).
    Server,
}

/// An error crossing IPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: AppErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: AppErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
        }
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<offbeat_library::LibraryError> for AppError {
    fn from(error: offbeat_library::LibraryError) -> AppError {
        let code = match error {
            offbeat_library::LibraryError::Folder { .. }
            | offbeat_library::LibraryError::NotAFolder { .. } => AppErrorCode::BadInput,
            _ => AppErrorCode::Library,
        };
        AppError::new(code, chain(&error))
    }
}

impl From<offbeat_playback::PlaybackError> for AppError {
    fn from(error: offbeat_playback::PlaybackError) -> AppError {
        AppError::new(AppErrorCode::Playback, error.describe())
    }
}
