//! What a folder scan did, including the files it could not read and why.

use serde::{Deserialize, Serialize};

/// Why a file was not indexed, in words a person understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ProblemKind {
    /// The file claims to be audio but its contents cannot be parsed.
    Corrupt,
    /// The file is audio in a format Offbeat does not read.
    Unsupported,
    /// The file or folder exists but could not be opened.
    PermissionDenied,
    /// The file is not audio at all (an image, a text file...).
    NotAudio,
}

/// One file or folder the scanner skipped, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ScanProblem {
    pub path: String,
    pub kind: ProblemKind,
    /// A plain explanation, e.g. "not an audio file (no known audio header)".
    pub reason: String,
}

/// The outcome of scanning one folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    pub folder: String,
    /// Files seen that look like candidates (every regular file under the folder).
    pub files_seen: u32,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub removed: u32,
    pub problems: Vec<ScanProblem>,
}
