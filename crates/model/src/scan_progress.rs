//! How far a running scan has got.

use serde::{Deserialize, Serialize};

/// Sent while a scan runs: files done of files found, and the folder being read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ScanProgress {
    pub files_found: u32,
    pub files_done: u32,
    pub current_folder: String,
}
