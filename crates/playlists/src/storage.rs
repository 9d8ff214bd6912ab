//! The samod repo's storage: files on disk in automerge-repo's layout
//! (`<dir>/<first two chars of key[0]>/<rest of key[0]>/<key[1]>/...`, the layout the
//! JavaScript node-fs adapter uses), written so a crash never leaves half a chunk:
//! each put goes to a temporary file that is synced and then renamed into place.
//!
//! It also counts finished writes per document, so the store can wait until an edit is
//! on disk before it says the edit is done.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use automerge::{Automerge, ChangeHash, ReadDoc};
use samod::storage::{Storage, StorageKey};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct DurableStorage {
    dir: PathBuf,
    written: Arc<Written>,
}

#[derive(Debug, Default)]
struct Written {
    state: Mutex<WrittenState>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct WrittenState {
    /// Keys of finished writes, as `a/b/c`.
    keys: HashSet<String>,
    /// Finished writes per document, counted.
    counts: HashMap<String, u64>,
    /// Snapshot files written, per document, in order.
    snapshots: HashMap<String, Vec<PathBuf>>,
}

impl DurableStorage {
    pub fn new(dir: &Path) -> DurableStorage {
        DurableStorage {
            dir: dir.to_path_buf(),
            written: Arc::default(),
        }
    }

    /// The folder holding a document's files.
    pub fn doc_dir(&self, doc_id: &str) -> PathBuf {
        let split = doc_id
            .char_indices()
            .nth(2)
            .map_or(doc_id.len(), |(i, _)| i);
        self.dir.join(&doc_id[..split]).join(&doc_id[split..])
    }

    fn path(&self, key: &StorageKey) -> PathBuf {
        let mut path = self.dir.clone();
        for (i, part) in key.into_iter().enumerate() {
            if i == 0 {
                let split = part.char_indices().nth(2).map_or(part.len(), |(i, _)| i);
                path.push(&part[..split]);
                path.push(&part[split..]);
            } else {
                path.push(part);
            }
        }
        path
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WrittenState> {
        self.written
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many writes for this document have finished so far.
    pub fn writes(&self, doc_id: &str) -> u64 {
        self.state().counts.get(doc_id).copied().unwrap_or(0)
    }

    /// How many snapshots of this document have been written so far.
    pub fn snapshots(&self, doc_id: &str) -> usize {
        self.state().snapshots.get(doc_id).map_or(0, Vec::len)
    }

    /// Whether these changes of a document are on disk: each as its own incremental file,
    /// or inside a snapshot written since `snapshots_before` (samod compacts a document's
    /// changes into a snapshot instead of writing them one by one).
    pub fn holds(&self, doc_id: &str, changes: &[ChangeHash], snapshots_before: usize) -> bool {
        let new_snapshots: Vec<PathBuf> = {
            let state = self.state();
            if changes
                .iter()
                .all(|h| state.keys.contains(&format!("{doc_id}/incremental/{h}")))
            {
                return true;
            }
            state
                .snapshots
                .get(doc_id)
                .map(|s| s.iter().skip(snapshots_before).cloned().collect())
                .unwrap_or_default()
        };
        new_snapshots.iter().rev().any(|path| {
            std::fs::read(path)
                .ok()
                .and_then(|bytes| Automerge::load(&bytes).ok())
                .is_some_and(|d| changes.iter().all(|h| d.get_change_by_hash(h).is_some()))
        })
    }

    /// Waits until a write for this document finishes after `seen` had.
    pub async fn written_after(&self, doc_id: &str, seen: u64) {
        loop {
            let notified = self.written.changed.notified();
            if self.writes(doc_id) > seen {
                return;
            }
            notified.await;
        }
    }

    fn wrote(&self, key: &StorageKey, path: PathBuf) {
        let parts: Vec<&String> = key.into_iter().collect();
        if let Some(doc) = parts.first() {
            let mut state = self.state();
            *state.counts.entry((*doc).clone()).or_default() += 1;
            if parts.get(1).is_some_and(|k| *k == "snapshot") {
                state
                    .snapshots
                    .entry((*doc).clone())
                    .or_default()
                    .push(path);
            }
            state.keys.insert(key.to_string());
        }
        self.written.changed.notify_waiters();
    }
}

/// Writes `data` to `path` whole or not at all: a synced temporary file renamed over it.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", fastrand::u64(..)));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the folder is synced.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl Storage for DurableStorage {
    async fn load(&self, key: StorageKey) -> Option<Vec<u8>> {
        let path = self.path(&key);
        tokio::task::spawn_blocking(move || std::fs::read(path).ok())
            .await
            .ok()
            .flatten()
    }

    async fn load_range(&self, prefix: StorageKey) -> HashMap<StorageKey, Vec<u8>> {
        let root = self.path(&prefix);
        tokio::task::spawn_blocking(move || {
            let mut out = HashMap::new();
            let mut stack = vec![(root, prefix)];
            while let Some((dir, key)) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                        continue;
                    };
                    // Temporary files of writes that never finished are not data.
                    if name.starts_with('.') {
                        continue;
                    }
                    let Ok(child) = key.with_component(name) else {
                        continue;
                    };
                    let path = entry.path();
                    match entry.file_type() {
                        Ok(t) if t.is_dir() => stack.push((path, child)),
                        Ok(t) if t.is_file() => {
                            if let Ok(data) = std::fs::read(&path) {
                                out.insert(child, data);
                            }
                        }
                        _ => {}
                    }
                }
            }
            out
        })
        .await
        .unwrap_or_default()
    }

    async fn put(&self, key: StorageKey, data: Vec<u8>) {
        let path = self.path(&key);
        let written = tokio::task::spawn_blocking(move || write_atomic(&path, &data)).await;
        // A failed write is not counted: whoever waits for it times out and says so.
        if matches!(written, Ok(Ok(()))) {
            self.wrote(&key, self.path(&key));
        }
    }

    async fn delete(&self, key: StorageKey) {
        let path = self.path(&key);
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
    }
}
