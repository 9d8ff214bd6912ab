//! A read cache of each playlist as the store last closed it: its fields and entries, with
//! the names of the files its document was read from.
//!
//! samod names every file after what it holds (an incremental file after its change's
//! hash, a snapshot after the heads it saves), so a document whose files on disk have
//! exactly the names the cache recorded holds exactly what the cache was read from. Opening
//! then shows the playlist from the cache without loading its document (for 10,000 entries
//! that is most of the time before the first page). Any difference, or a cache file that
//! does not parse, and the document is loaded as usual.
//!
//! ```text
//! <dir>/cache/<document id>.json   { "version": 1, "files": [...], "playlist": {...} }
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::doc::Playlist;
use crate::storage::write_atomic;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Cached {
    version: u32,
    files: Vec<String>,
    playlist: Playlist,
}

fn path(cache_dir: &Path, id: &str) -> PathBuf {
    cache_dir.join(format!("{id}.json"))
}

/// The cached playlist, if it was read from exactly `files`.
pub(crate) fn load(cache_dir: &Path, id: &str, files: &[String]) -> Option<Playlist> {
    let bytes = std::fs::read(path(cache_dir, id)).ok()?;
    let cached: Cached = serde_json::from_slice(&bytes).ok()?;
    (cached.version == VERSION && cached.files == files).then_some(cached.playlist)
}

/// Records `playlist` as read from `files`.
pub(crate) fn save(
    cache_dir: &Path,
    id: &str,
    files: &[String],
    playlist: &Playlist,
) -> std::io::Result<()> {
    std::fs::create_dir_all(cache_dir)?;
    let cached = Cached {
        version: VERSION,
        files: files.to_vec(),
        playlist: playlist.clone(),
    };
    let bytes = serde_json::to_vec(&cached).map_err(std::io::Error::other)?;
    write_atomic(&path(cache_dir, id), &bytes)
}

/// Forgets a document's cache (it was quarantined).
pub(crate) fn remove(cache_dir: &Path, id: &str) {
    let _ = std::fs::remove_file(path(cache_dir, id));
}

/// The files of a document's folder, as paths relative to it, sorted (hidden temporary
/// files left out).
pub(crate) fn files(doc_dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![doc_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type()?.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(doc_dir)
                .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
            out.push((relative, path));
        }
    }
    out.sort();
    Ok(out)
}
