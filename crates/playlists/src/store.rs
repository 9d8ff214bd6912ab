//! The playlists on this device: a samod repo on disk holding one document per playlist and
//! an index document listing them, plus what is this device's alone (which index is ours,
//! which playlists are pinned).
//!
//! ```text
//! <dir>/repo/         samod's documents (DurableStorage)
//! <dir>/device.json   { "index": "<document id>", "pinned": ["<document id>", ...] }
//! <dir>/quarantine/   documents that could not be read, moved aside whole
//! ```
//!
//! The index document:
//!
//! ```text
//! ROOT
//!   schema      "offbeat.index/1"
//!   essentials  string (the Emergency Essentials document id)
//!   playlists   map: document id -> { name: string (a copy, to name a lost playlist),
//!                                     added_at: int, deleted_at: int (when deleted) }
//! ```
//!
//! Every method blocks until its change is on disk (call it off the UI thread); the repo
//! runs on a small tokio runtime of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ROOT};
use samod::{DocHandle, DocumentId, Repo};
use serde::{Deserialize, Serialize};

use crate::doc::{self, DocError, Place, Playlist, PlaylistKind, PlaylistMeta, TrackRef};
use crate::pos::RandomJitter;
use crate::storage::{write_atomic, DurableStorage};

pub const INDEX_SCHEMA: &str = "offbeat.index/1";
/// The name Emergency Essentials is created with.
pub const ESSENTIALS_NAME: &str = "Emergency Essentials";
/// How long an edit may take to reach the disk before the store reports it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no playlist with id {0}")]
    NotFound(String),
    #[error("Emergency Essentials cannot be deleted")]
    EssentialsIsPermanent,
    #[error("the playlist store has stopped")]
    Stopped,
    #[error("the change was made but did not reach the disk within {0:?}")]
    NotWritten(Duration),
    #[error("cannot use the playlists folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Doc(#[from] DocError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A playlist as the sidebar lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PlaylistSummary {
    pub id: String,
    #[serde(flatten)]
    pub meta: PlaylistMeta,
    pub entry_count: u32,
    /// Milliseconds, over every entry (local or not).
    pub duration_ms: f64,
    /// Kept on this device for offline play (Essentials always is).
    pub pinned: bool,
}

/// A document that could not be read and was moved aside.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Quarantined {
    pub id: String,
    /// The playlist's name as the index remembers it, if it does.
    pub name: Option<String>,
    pub reason: String,
    pub moved_to: String,
}

type Summaries = HashMap<String, (Vec<ChangeHash>, (PlaylistMeta, u32, u64))>;

#[derive(Debug, Default, Serialize, Deserialize)]
struct DeviceState {
    index: Option<String>,
    #[serde(default)]
    pinned: Vec<String>,
}

#[derive(Debug)]
pub struct Store {
    runtime: tokio::runtime::Runtime,
    repo: Repo,
    storage: DurableStorage,
    dir: PathBuf,
    index: DocHandle,
    essentials: String,
    /// Every playlist document found or made, by id.
    docs: Mutex<HashMap<String, DocHandle>>,
    device: Mutex<DeviceState>,
    jitter: Mutex<RandomJitter>,
    /// Held while an edit is made and written.
    writing: Mutex<()>,
    /// Each playlist's summary, with the heads it was read at.
    summaries: Mutex<Summaries>,
    quarantined: Vec<Quarantined>,
}

impl Store {
    /// Opens (or creates) the playlists in `dir`. Documents that cannot be read are moved
    /// to `dir/quarantine` and listed by [`Store::quarantined`]; the rest load. Emergency
    /// Essentials is created if there is none.
    pub fn open(dir: &Path, now: i64) -> Result<Store> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        let repo_dir = dir.join("repo");
        std::fs::create_dir_all(&repo_dir).map_err(io(&repo_dir))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("offbeat-playlists")
            .enable_all()
            .build()
            .map_err(io(dir))?;

        let mut device: DeviceState = std::fs::read(dir.join("device.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let checked = check_documents(&repo_dir, &dir.join("quarantine"));
        let storage = DurableStorage::new(&repo_dir);
        let repo = runtime.block_on(
            Repo::builder(runtime.handle().clone())
                .with_storage(storage.clone())
                .load(),
        );

        // Every document on disk, loaded at once, and told apart by what it holds.
        let found = find_all(&runtime, &repo, &checked.good);
        let kinds: HashMap<String, Kind> = found
            .iter()
            .map(|(id, handle)| (id.clone(), handle.with_document(|d| kind(d))))
            .collect();

        // Our index: the one this device recorded, else one found on disk (device.json
        // lost), else a new one listing whatever playlists are on disk.
        let index_id = device
            .index
            .clone()
            .filter(|id| kinds.get(id) == Some(&Kind::Index))
            .or_else(|| {
                let mut indexes: Vec<&String> = kinds
                    .iter()
                    .filter(|(_, k)| **k == Kind::Index)
                    .map(|(id, _)| id)
                    .collect();
                indexes.sort();
                indexes.first().map(|id| (*id).clone())
            });
        let index = match index_id.and_then(|id| found.get(&id).cloned()) {
            Some(handle) => handle,
            None => {
                let mut d = Automerge::new();
                doc::transact(&mut d, |tx| {
                    tx.put(ROOT, "schema", INDEX_SCHEMA)?;
                    tx.put_object(ROOT, "playlists", ObjType::Map)?;
                    Ok(())
                })?;
                create_written(&runtime, &repo, &storage, d)?
            }
        };
        let index_id = index.document_id().to_string();

        let mut store = Store {
            runtime,
            repo,
            storage,
            dir: dir.to_path_buf(),
            index,
            essentials: String::new(),
            docs: Mutex::default(),
            device: Mutex::default(),
            jitter: Mutex::new(RandomJitter::default()),
            writing: Mutex::default(),
            summaries: Mutex::default(),
            quarantined: Vec::new(),
        };

        // Name what was quarantined, from the index's copy of its name.
        let names = store.index_names();
        store.quarantined = checked
            .quarantined
            .into_iter()
            .map(|mut q| {
                q.name = names.get(&q.id).cloned();
                q
            })
            .collect();

        // Every playlist on disk is listed (one made on a device whose index was lost
        // is found again).
        for (id, handle) in found {
            if kinds.get(&id) == Some(&Kind::Playlist) {
                store.lock_docs().insert(id, handle);
            }
        }
        let listed: Vec<String> = store
            .index_entries()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let unlisted: Vec<(String, String)> = store
            .lock_docs()
            .iter()
            .filter(|(id, _)| !listed.contains(id))
            .map(|(id, h)| {
                let name =
                    h.with_document(|d| doc::read_meta(d).map(|m| m.name).unwrap_or_default());
                (id.clone(), name)
            })
            .collect();
        for (id, name) in unlisted {
            store.index_add(&id, &name, now)?;
        }

        // Emergency Essentials: the index's, if it loads; else any on disk; else new.
        let recorded = store.index_essentials();
        let essentials = recorded
            .filter(|id| store.lock_docs().contains_key(id))
            .or_else(|| {
                store
                    .lock_docs()
                    .iter()
                    .find(|(_, h)| {
                        h.with_document(|d| {
                            doc::read_meta(d).is_ok_and(|m| m.kind == PlaylistKind::Essentials)
                        })
                    })
                    .map(|(id, _)| id.clone())
            });
        store.essentials = match essentials {
            Some(id) => id,
            None => store.create_kind(PlaylistKind::Essentials, ESSENTIALS_NAME, now)?,
        };
        if store.index_essentials().as_deref() != Some(store.essentials.as_str()) {
            let id = store.essentials.clone();
            store.edit_index(|tx, _| tx.put(ROOT, "essentials", id.as_str()))?;
        }
        // Essentials is never left deleted (another device's index may say otherwise).
        store.undelete(&store.essentials.clone())?;

        device.index = Some(index_id);
        *store.device.lock().unwrap_or_else(PoisonError::into_inner) = device;
        store.save_device()?;
        Ok(store)
    }

    /// Documents that could not be read when the store opened.
    pub fn quarantined(&self) -> &[Quarantined] {
        &self.quarantined
    }

    pub fn essentials_id(&self) -> &str {
        &self.essentials
    }

    /// The playlists, Essentials first, then by name.
    pub fn list(&self) -> Vec<PlaylistSummary> {
        let docs = self.lock_docs();
        let mut out: Vec<PlaylistSummary> = self
            .index_entries()
            .into_iter()
            .filter(|(_, deleted)| !deleted)
            .filter_map(|(id, _)| {
                let handle = docs.get(&id)?;
                let (meta, count, total) = self.summary(&id, handle)?;
                Some(PlaylistSummary {
                    pinned: self.is_pinned(&id),
                    meta,
                    entry_count: count,
                    duration_ms: total as f64,
                    id,
                })
            })
            .collect();
        out.sort_by_key(|p| (p.id != self.essentials, p.meta.name.to_lowercase()));
        out
    }

    /// A playlist's fields, entry count and total duration, read again only when the
    /// document changed (counting a 10,000-entry playlist takes tens of milliseconds, and
    /// the list is read after every edit).
    fn summary(&self, id: &str, handle: &DocHandle) -> Option<(PlaylistMeta, u32, u64)> {
        let mut cache = self
            .summaries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        handle.with_document(|d| {
            let heads = d.get_heads();
            if let Some((at, summary)) = cache.get(id) {
                if *at == heads {
                    return Some(summary.clone());
                }
            }
            let (count, total) = doc::summary(d).ok()?;
            let summary = (doc::read_meta(d).ok()?, count, total);
            cache.insert(id.to_owned(), (heads, summary.clone()));
            Some(summary)
        })
    }

    /// One playlist, with its entries in order.
    pub fn get(&self, id: &str) -> Result<Playlist> {
        Ok(self.handle(id)?.with_document(|d| doc::read(d))?)
    }

    pub fn create(&self, name: &str, now: i64) -> Result<String> {
        self.create_kind(PlaylistKind::Playlist, name, now)
    }

    pub fn rename(&self, id: &str, name: &str, now: i64) -> Result<()> {
        self.edit(id, |d, _| doc::rename(d, name, now))?;
        let id = id.to_owned();
        self.edit_index(|tx, playlists| {
            if let Some((_, obj)) = tx.get(playlists, id.as_str())? {
                tx.put(&obj, "name", name)?;
            }
            Ok(())
        })
    }

    pub fn set_description(&self, id: &str, description: &str, now: i64) -> Result<()> {
        self.edit(id, |d, _| doc::set_description(d, description, now))
    }

    /// Takes a playlist off the list. Its document stays, so [`Store::undelete`] brings it
    /// back whole.
    pub fn delete(&self, id: &str, now: i64) -> Result<()> {
        if id == self.essentials {
            return Err(StoreError::EssentialsIsPermanent);
        }
        self.handle(id)?;
        let id = id.to_owned();
        self.edit_index(|tx, playlists| {
            if let Some((_, obj)) = tx.get(playlists, id.as_str())? {
                tx.put(&obj, "deleted_at", now)?;
            }
            Ok(())
        })
    }

    pub fn undelete(&self, id: &str) -> Result<()> {
        self.handle(id)?;
        let id = id.to_owned();
        self.edit_index(|tx, playlists| {
            if let Some((_, obj)) = tx.get(playlists, id.as_str())? {
                if tx.get(&obj, "deleted_at")?.is_some() {
                    tx.delete(&obj, "deleted_at")?;
                }
            }
            Ok(())
        })
    }

    /// A copy with the same entries (new entry ids, same order), named "<name> (copy)".
    pub fn duplicate(&self, id: &str, now: i64) -> Result<String> {
        let source = self.get(id)?;
        let copy = self.create(&format!("{} (copy)", source.meta.name), now)?;
        let tracks: Vec<TrackRef> = source.entries.into_iter().map(|e| e.track).collect();
        self.edit(&copy, |d, j| {
            doc::set_description(d, &source.meta.description, now)?;
            doc::add(d, &tracks, Place::End, now, j).map(|_| ())
        })?;
        Ok(copy)
    }

    /// Adds tracks at `place`; returns the new entry ids.
    pub fn add(
        &self,
        id: &str,
        tracks: &[TrackRef],
        place: Place,
        now: i64,
    ) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        self.edit(id, |d, j| {
            ids = doc::add(d, tracks, place, now, j)?;
            Ok(())
        })?;
        Ok(ids)
    }

    pub fn remove(&self, id: &str, entry_ids: &[String], now: i64) -> Result<usize> {
        let mut removed = 0;
        self.edit(id, |d, _| {
            removed = doc::remove(d, entry_ids, now)?;
            Ok(())
        })?;
        Ok(removed)
    }

    pub fn move_entries(
        &self,
        id: &str,
        entry_ids: &[String],
        place: Place,
        now: i64,
    ) -> Result<()> {
        self.edit(id, |d, j| doc::move_entries(d, entry_ids, place, now, j))
    }

    /// Whether a playlist is kept on this device (Essentials always is).
    pub fn is_pinned(&self, id: &str) -> bool {
        id == self.essentials || self.device().pinned.iter().any(|p| p == id)
    }

    /// Marks a playlist to be kept on this device (a local setting, not in the document).
    /// Essentials is always pinned.
    pub fn set_pinned(&self, id: &str, pinned: bool) -> Result<()> {
        self.handle(id)?;
        {
            let mut device = self.device();
            device.pinned.retain(|p| p != id);
            if pinned {
                device.pinned.push(id.to_owned());
            }
        }
        self.save_device()
    }

    /// The repo, for syncing with a server (paired mode).
    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// Waits for every write to finish and stops the repo.
    pub fn close(self) {
        let stop = self.repo.stop();
        self.runtime.block_on(stop);
    }

    fn create_kind(&self, kind: PlaylistKind, name: &str, now: i64) -> Result<String> {
        let mut d = Automerge::new();
        doc::init(&mut d, kind, name, now)?;
        let handle = create_written(&self.runtime, &self.repo, &self.storage, d)?;
        let id = handle.document_id().to_string();
        self.lock_docs().insert(id.clone(), handle);
        self.index_add(&id, name, now)?;
        Ok(id)
    }

    fn handle(&self, id: &str) -> Result<DocHandle> {
        self.lock_docs()
            .get(id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// Changes a playlist document and waits until the change is on disk.
    fn edit<F>(&self, id: &str, f: F) -> Result<()>
    where
        F: FnOnce(&mut Automerge, &mut RandomJitter) -> std::result::Result<(), DocError>,
    {
        let handle = self.handle(id)?;
        let mut jitter = self.jitter.lock().unwrap_or_else(PoisonError::into_inner);
        self.persisted(&handle, |d| f(d, &mut jitter))
    }

    fn edit_index<F>(&self, f: F) -> Result<()>
    where
        F: FnOnce(
            &mut automerge::transaction::Transaction<'_>,
            &ObjId,
        ) -> std::result::Result<(), automerge::AutomergeError>,
    {
        let index = self.index.clone();
        self.persisted(&index, |d| {
            let playlists = match d.get(ROOT, "playlists")? {
                Some((automerge::Value::Object(ObjType::Map), obj)) => obj,
                _ => return Err(DocError::NotAPlaylist),
            };
            doc::transact(d, |tx| f(tx, &playlists))
        })
    }

    /// Runs `f` on a document; if it changed anything, waits until those changes are on
    /// disk. Edits are made one at a time, so the changes waited for are this edit's.
    fn persisted<F>(&self, handle: &DocHandle, f: F) -> Result<()>
    where
        F: FnOnce(&mut Automerge) -> std::result::Result<(), DocError>,
    {
        let _one_at_a_time = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let id = handle.document_id().to_string();
        let snapshots_before = self.storage.snapshots(&id);
        let changes: Vec<ChangeHash> = handle.with_document(|d| {
            let before = d.get_heads();
            f(d)?;
            Ok::<_, DocError>(d.get_changes(&before).iter().map(|c| c.hash()).collect())
        })?;
        wait_written(
            &self.runtime,
            &self.storage,
            &id,
            &changes,
            snapshots_before,
        )
    }

    fn index_add(&self, id: &str, name: &str, now: i64) -> Result<()> {
        let id = id.to_owned();
        self.edit_index(|tx, playlists| {
            if tx.get(playlists, id.as_str())?.is_none() {
                let entry = tx.put_object(playlists, id.as_str(), ObjType::Map)?;
                tx.put(&entry, "name", name)?;
                tx.put(&entry, "added_at", now)?;
            }
            Ok(())
        })
    }

    /// (id, deleted) for every playlist the index lists.
    fn index_entries(&self) -> Vec<(String, bool)> {
        self.index.with_document(|d| {
            let Ok(Some((_, playlists))) = d.get(ROOT, "playlists") else {
                return Vec::new();
            };
            d.map_range(&playlists, ..)
                .map(|item| {
                    let obj = item.id();
                    let deleted = matches!(d.get(&obj, "deleted_at"), Ok(Some(_)));
                    (item.key.into_owned(), deleted)
                })
                .collect()
        })
    }

    fn index_names(&self) -> HashMap<String, String> {
        self.index.with_document(|d| {
            let Ok(Some((_, playlists))) = d.get(ROOT, "playlists") else {
                return HashMap::new();
            };
            d.map_range(&playlists, ..)
                .filter_map(|item| {
                    let obj = item.id();
                    Some((item.key.into_owned(), doc::string(d, &obj, "name")?))
                })
                .collect()
        })
    }

    fn index_essentials(&self) -> Option<String> {
        self.index
            .with_document(|d| doc::string(d, &ROOT, "essentials"))
    }

    fn lock_docs(&self) -> MutexGuard<'_, HashMap<String, DocHandle>> {
        self.docs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn device(&self) -> MutexGuard<'_, DeviceState> {
        self.device.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn save_device(&self) -> Result<()> {
        let path = self.dir.join("device.json");
        let bytes = serde_json::to_vec_pretty(&*self.device()).unwrap_or_default();
        write_atomic(&path, &bytes).map_err(|source| StoreError::Io { path, source })
    }
}

/// Creates a document and waits until it is on disk (`create` returns before that).
fn create_written(
    runtime: &tokio::runtime::Runtime,
    repo: &Repo,
    storage: &DurableStorage,
    d: Automerge,
) -> Result<DocHandle> {
    let heads = d.get_heads();
    let handle = runtime
        .block_on(repo.create(d))
        .map_err(|_| StoreError::Stopped)?;
    wait_written(
        runtime,
        storage,
        &handle.document_id().to_string(),
        &heads,
        0,
    )?;
    Ok(handle)
}

/// Waits until `changes` of a document are on disk (samod writes in the background), as
/// incremental files or inside a snapshot written since `snapshots_before`.
fn wait_written(
    runtime: &tokio::runtime::Runtime,
    storage: &DurableStorage,
    id: &str,
    changes: &[ChangeHash],
    snapshots_before: usize,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + WRITE_TIMEOUT;
    loop {
        let seen = storage.writes(id);
        if storage.holds(id, changes, snapshots_before) {
            return Ok(());
        }
        let next = storage.written_after(id, seen);
        runtime
            .block_on(async { tokio::time::timeout_at(deadline, next).await })
            .map_err(|_| StoreError::NotWritten(WRITE_TIMEOUT))?;
    }
}

/// The documents in the repo with these ids, loaded concurrently (absent ones left out).
fn find_all(
    runtime: &tokio::runtime::Runtime,
    repo: &Repo,
    ids: &[String],
) -> HashMap<String, DocHandle> {
    runtime.block_on(async {
        let mut loads = tokio::task::JoinSet::new();
        for id in ids {
            let Ok(doc_id) = DocumentId::from_str(id) else {
                continue;
            };
            let load = repo.find(doc_id);
            let id = id.clone();
            loads.spawn(async move { (id, load.await) });
        }
        let mut out = HashMap::new();
        while let Some(done) = loads.join_next().await {
            if let Ok((id, Ok(Some(handle)))) = done {
                out.insert(id, handle);
            }
        }
        out
    })
}

/// What a document is, by what it holds.
fn kind(d: &Automerge) -> Kind {
    if doc::string(d, &ROOT, "schema").as_deref() == Some(INDEX_SCHEMA) {
        Kind::Index
    } else if doc::read_meta(d).is_ok() {
        Kind::Playlist
    } else {
        Kind::Other
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Index,
    Playlist,
    Other,
}

#[derive(Debug, Default)]
struct Checked {
    /// Documents whose every file checks out.
    good: Vec<String>,
    quarantined: Vec<Quarantined>,
}

/// Reads every document in the repo folder before samod does. One whose chunks do not
/// load (truncated, corrupted) is moved whole into `quarantine`, so the rest load and the
/// user is told which one was lost.
fn check_documents(repo_dir: &Path, quarantine: &Path) -> Checked {
    let mut checked = Checked::default();
    let Ok(prefixes) = std::fs::read_dir(repo_dir) else {
        return checked;
    };
    for prefix in prefixes.flatten() {
        let Ok(docs) = std::fs::read_dir(prefix.path()) else {
            continue;
        };
        for entry in docs.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let id = format!(
                "{}{}",
                prefix.file_name().to_string_lossy(),
                entry.file_name().to_string_lossy()
            );
            match check_dir(&path) {
                Ok(()) => checked.good.push(id),
                Err(reason) => {
                    let target = quarantine.join(format!(
                        "{}-{}",
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs()),
                        id
                    ));
                    let moved = std::fs::create_dir_all(quarantine)
                        .and_then(|()| std::fs::rename(&path, &target));
                    let moved_to = match moved {
                        Ok(()) => target.display().to_string(),
                        Err(e) => format!("(could not be moved: {e})"),
                    };
                    checked.quarantined.push(Quarantined {
                        id,
                        name: None,
                        reason,
                        moved_to,
                    });
                }
            }
        }
    }
    checked
}

/// Checks every file of a document's folder (see [`crate::chunks`]): automerge would skip
/// a damaged chunk without a word, and samod could then compact the rest away.
fn check_dir(dir: &Path) -> std::result::Result<(), String> {
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let incremental = path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|p| p == "incremental");
            crate::chunks::verify(&bytes, incremental.then_some(name.as_str()))
                .map_err(|e| format!("{name} is damaged: {e}"))?;
        }
    }
    if files == 0 {
        return Err("the document has no data".into());
    }
    Ok(())
}
