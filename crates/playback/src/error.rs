//! The playback engine's error type.

use std::path::PathBuf;

/// Why something could not be played.
#[derive(Debug, thiserror::Error)]
pub enum PlaybackError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a playable audio file")]
    Unsupported {
        path: PathBuf,
        #[source]
        source: symphonia::core::errors::Error,
    },
    #[error("{path} could not be decoded")]
    Decode {
        path: PathBuf,
        #[source]
        source: symphonia::core::errors::Error,
    },
    #[error("{path} ends early: it is truncated ({decoded_ms} ms of {expected_ms} ms decoded)")]
    Truncated {
        path: PathBuf,
        decoded_ms: u64,
        expected_ms: u64,
    },
    #[error("no audio output is available: {0}")]
    Output(String),
    #[error("the playback engine has stopped")]
    EngineGone,
}

impl PlaybackError {
    /// The message with every cause, for an event or a log line a person reads.
    pub fn describe(&self) -> String {
        with_causes(self)
    }
}

/// An error's message followed by each of its causes'.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
