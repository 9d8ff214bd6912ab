//! Watching library folders while the app runs, so added, changed, moved and deleted files
//! reach the library within seconds without a manual rescan.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::{LibraryError, Result};

/// Changes are collected until the folder has been quiet this long...
const QUIET: Duration = Duration::from_millis(700);
/// ...or this long has passed since the first change, whichever comes first, so a long
/// copy still shows up while it runs.
const MAX_DELAY: Duration = Duration::from_secs(4);

/// Watches folders and calls back with each library folder that changed (after a short
/// debounce); the callback typically rescans that folder, which only re-reads what changed.
pub struct FolderWatcher {
    watcher: RecommendedWatcher,
    roots: std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>>,
}

impl std::fmt::Debug for FolderWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWatcher").finish_non_exhaustive()
    }
}

impl FolderWatcher {
    /// Starts a watcher with no folders; add them with [`FolderWatcher::watch`].
    pub fn start<F>(mut on_change: F) -> Result<FolderWatcher>
    where
        F: FnMut(&Path) + Send + 'static,
    {
        let (events, received) = mpsc::channel::<notify::Result<notify::Event>>();
        let watcher = notify::recommended_watcher(events).map_err(watch_error)?;
        let roots: std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>> = Default::default();
        let thread_roots = roots.clone();
        // The thread ends by itself when the watcher, which owns the sending side of
        // the channel, is dropped.
        std::thread::Builder::new()
            .name("offbeat-watch".into())
            .spawn(move || {
                let mut dirty: Vec<PathBuf> = Vec::new();
                let mut first_change: Option<Instant> = None;
                loop {
                    let wait = match first_change {
                        Some(first) => QUIET.min(MAX_DELAY.saturating_sub(first.elapsed())),
                        None => Duration::from_secs(3600),
                    };
                    match received.recv_timeout(wait) {
                        // Reading a file (a scan's own tag reads, playback, streaming)
                        // changes nothing: without this, every scan set off the next.
                        Ok(Ok(event)) if matches!(event.kind, notify::EventKind::Access(_)) => {}
                        Ok(Ok(event)) => {
                            let roots = thread_roots
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            for path in &event.paths {
                                if let Some(root) = roots.iter().find(|r| path.starts_with(r)) {
                                    if !dirty.contains(root) {
                                        dirty.push(root.clone());
                                    }
                                    first_change.get_or_insert_with(Instant::now);
                                }
                            }
                        }
                        // A watch error (e.g. the inotify limit) loses events; rescanning
                        // every folder is the safe answer.
                        Ok(Err(_)) => {
                            let roots = thread_roots
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            dirty = roots.clone();
                            first_change.get_or_insert_with(Instant::now);
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            for root in dirty.drain(..) {
                                on_change(&root);
                            }
                            first_change = None;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })
            .map_err(|e| LibraryError::Watch(e.to_string()))?;
        Ok(FolderWatcher { watcher, roots })
    }

    /// Starts watching `folder` (recursively).
    pub fn watch(&mut self, folder: &Path) -> Result<()> {
        let folder = folder
            .canonicalize()
            .map_err(|source| LibraryError::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        let mut roots = self
            .roots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if roots.contains(&folder) {
            return Ok(());
        }
        self.watcher
            .watch(&folder, RecursiveMode::Recursive)
            .map_err(watch_error)?;
        roots.push(folder);
        Ok(())
    }
}

fn watch_error(error: notify::Error) -> LibraryError {
    LibraryError::Watch(error.to_string())
}
