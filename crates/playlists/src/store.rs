//! The playlists on this device: a samod repo on disk holding one document per playlist and
//! an index document listing them, plus what is this device's alone (which index is ours,
//! which playlists are pinned).
//!
//! ```text
//! <dir>/repo/         samod's documents (DurableStorage)
//! <dir>/device.json   { "index": "<document id>", "pinned": ["<document id>", ...] }
//! <dir>/quarantine/   documents that could not be read, moved aside whole
//! <dir>/cache/        each playlist as last read (see [`crate::cache`])
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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ROOT};
use samod::{DocHandle, DocumentId, Repo};
use serde::{Deserialize, Serialize};

use crate::cache;
use crate::doc::{self, DocError, Place, Playlist, PlaylistKind, PlaylistMeta, TrackRef};
use crate::pos::RandomJitter;
use crate::storage::{write_atomic, DurableStorage};

pub const INDEX_SCHEMA: &str = "offbeat.index/1";
/// The name Emergency Essentials is created with.
pub const ESSENTIALS_NAME: &str = "Emergency Essentials";
/// How long an edit may take to reach the disk before the store reports it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an edit waits for samod to load its document after the store opened.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for a document from a connected peer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no playlist with id {0}")]
    NotFound(String),
    #[error("Emergency Essentials cannot be deleted")]
    EssentialsIsPermanent,
    #[error("the playlist store has stopped")]
    Stopped,
    #[error("playlist {0} is still loading")]
    StillLoading(String),
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

/// What [`Store::fetch_listed`] did: playlists that came, and listed ones still missing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    pub came: usize,
    pub missing: usize,
}

type Summaries = HashMap<String, (Vec<ChangeHash>, (PlaylistMeta, u32, u64))>;

#[derive(Debug, Default, Serialize, Deserialize)]
struct DeviceState {
    index: Option<String>,
    #[serde(default)]
    pinned: Vec<String>,
    /// Playlists this device made that were merged into another's (its Essentials, when
    /// it adopted the shared index): kept on disk, never listed again.
    #[serde(default)]
    retired: Vec<String>,
}

/// The documents the store holds, by id.
///
/// At open the store loads every document itself (it has just read each file to check
/// it) and samod loads them again in the background. Reads use samod's copy once it has
/// one and the store's own until then, so a large playlist shows without waiting for
/// samod (which re-encodes and re-saves every document it loads). Edits wait for samod.
#[derive(Debug, Default)]
struct Docs {
    /// Loaded by samod (or made): every edit goes through these.
    handles: HashMap<String, DocHandle>,
    /// Loaded by the store at open, each dropped when samod has the same document.
    early: HashMap<String, Arc<Automerge>>,
    /// Playlists read from the cache at open (their documents not loaded by the store),
    /// each dropped when samod has the document.
    cached: HashMap<String, Arc<Playlist>>,
    /// Still being loaded by samod.
    loading: HashSet<String>,
}

type SharedDocs = Arc<(Mutex<Docs>, Condvar)>;

#[derive(Debug)]
pub struct Store {
    runtime: tokio::runtime::Runtime,
    repo: Repo,
    storage: DurableStorage,
    dir: PathBuf,
    /// The index document's id (another device's, once this one adopted it).
    index: RwLock<String>,
    essentials: RwLock<String>,
    /// The index and every playlist document found or made.
    docs: SharedDocs,
    device: Mutex<DeviceState>,
    jitter: Mutex<RandomJitter>,
    /// Held while an edit is made and written.
    writing: Mutex<()>,
    /// Held while another device's index is adopted.
    adopting: Mutex<()>,
    /// Each playlist's summary, with the heads it was read at.
    summaries: Mutex<Summaries>,
    quarantined: Vec<Quarantined>,
    /// Playlists whose cache was current at open, with the files it was read from (its
    /// cache needs no saving while those are still the files).
    fresh: HashMap<String, Vec<String>>,
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

        // Every document on disk: a playlist from its cache if that is current, else
        // loaded from the bytes just checked; told apart by what it holds.
        let cache_dir = dir.join("cache");
        for q in &checked.quarantined {
            cache::remove(&cache_dir, &q.id);
        }
        let (mut cached, mut fresh, mut to_load) = (HashMap::new(), HashMap::new(), Vec::new());
        for found in checked.good {
            match cache::load(&cache_dir, &found.id, &found.files) {
                Some(playlist) => {
                    cached.insert(found.id.clone(), Arc::new(playlist));
                    fresh.insert(found.id, found.files);
                }
                None => to_load.push((found.id, found.chunks)),
            }
        }
        let early = load_all(to_load);
        let mut kinds: HashMap<String, Kind> =
            early.iter().map(|(id, d)| (id.clone(), kind(d))).collect();
        kinds.extend(cached.keys().map(|id| (id.clone(), Kind::Playlist)));

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

        // samod loads the index and the playlists in the background; the rest of the
        // early copies are not needed.
        let docs: SharedDocs = Arc::default();
        {
            let mut held = lock(&docs);
            for (id, d) in early {
                let wanted = match kinds.get(&id) {
                    Some(Kind::Playlist) => true,
                    Some(Kind::Index) => index_id.as_deref() == Some(id.as_str()),
                    _ => false,
                };
                if wanted {
                    held.loading.insert(id.clone());
                    held.early.insert(id, Arc::new(d));
                }
            }
            for (id, playlist) in cached {
                held.loading.insert(id.clone());
                held.cached.insert(id, playlist);
            }
            for id in held.loading.iter() {
                find_later(&runtime, &repo, &docs, id);
            }
        }

        let index = match index_id {
            Some(id) => id,
            None => {
                let mut d = Automerge::new();
                doc::transact(&mut d, |tx| {
                    tx.put(ROOT, "schema", INDEX_SCHEMA)?;
                    tx.put_object(ROOT, "playlists", ObjType::Map)?;
                    Ok(())
                })?;
                let handle = create_written(&runtime, &repo, &storage, d)?;
                let id = handle.document_id().to_string();
                lock(&docs).handles.insert(id.clone(), handle);
                id
            }
        };

        let mut store = Store {
            runtime,
            repo,
            storage,
            dir: dir.to_path_buf(),
            index: RwLock::new(index.clone()),
            essentials: RwLock::new(String::new()),
            docs,
            device: Mutex::default(),
            jitter: Mutex::new(RandomJitter::default()),
            writing: Mutex::default(),
            adopting: Mutex::default(),
            summaries: Mutex::default(),
            quarantined: Vec::new(),
            fresh,
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
        let listed: HashSet<String> = store
            .index_entries()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut unlisted = Vec::new();
        let retired: HashSet<String> = device.retired.iter().cloned().collect();
        for id in store.playlist_ids() {
            if !listed.contains(&id) && !retired.contains(&id) {
                let name = store.meta(&id).map(|m| m.name).unwrap_or_default();
                unlisted.push((id, name));
            }
        }
        for (id, name) in unlisted {
            store.index_add(&id, &name, now)?;
        }

        // Emergency Essentials: the index's, if it loads; else any on disk; else new.
        let is_essentials = |id: &str| {
            store
                .meta(id)
                .is_some_and(|m| m.kind == PlaylistKind::Essentials)
        };
        let essentials = store
            .index_essentials()
            .filter(|id| store.exists(id))
            .or_else(|| {
                let mut ids = store.playlist_ids();
                ids.sort();
                ids.into_iter().find(|id| is_essentials(id))
            });
        let essentials =
            match essentials {
                Some(id) => id,
                None => {
                    store.create_kind(PlaylistKind::Essentials, ESSENTIALS_NAME, now, |_, _| {
                        Ok(())
                    })?
                }
            };
        *write(&store.essentials) = essentials.clone();
        if store.index_essentials().as_deref() != Some(essentials.as_str()) {
            let id = essentials.clone();
            store.edit_index(|tx, _| tx.put(ROOT, "essentials", id.as_str()))?;
        }
        // Essentials is never left deleted (another device's index may say otherwise).
        if store.index_entries().contains(&(essentials.clone(), true)) {
            store.undelete(&essentials)?;
        }

        device.index = Some(index);
        *store.device.lock().unwrap_or_else(PoisonError::into_inner) = device;
        store.save_device()?;
        Ok(store)
    }

    /// Documents that could not be read when the store opened.
    pub fn quarantined(&self) -> &[Quarantined] {
        &self.quarantined
    }

    pub fn essentials_id(&self) -> String {
        read(&self.essentials).clone()
    }

    /// The index document's id: the list of playlists this device shows.
    pub fn index_id(&self) -> String {
        read(&self.index).clone()
    }

    /// The playlists, Essentials first, then by name.
    pub fn list(&self) -> Vec<PlaylistSummary> {
        let mut out: Vec<PlaylistSummary> = self
            .index_entries()
            .into_iter()
            .filter(|(_, deleted)| !deleted)
            .filter_map(|(id, _)| {
                let (meta, count, total) = self.summary(&id)?;
                Some(PlaylistSummary {
                    pinned: self.is_pinned(&id),
                    meta,
                    entry_count: count,
                    duration_ms: total as f64,
                    id,
                })
            })
            .collect();
        let essentials = self.essentials_id();
        out.sort_by_key(|p| (p.id != essentials, p.meta.name.to_lowercase()));
        out
    }

    /// A playlist's fields, entry count and total duration, read again only when the
    /// document changed (counting a 10,000-entry playlist takes tens of milliseconds, and
    /// the list is read after every edit).
    fn summary(&self, id: &str) -> Option<(PlaylistMeta, u32, u64)> {
        if !self.exists(id) {
            return None;
        }
        if let Some(cached) = self.cached(id) {
            let total = cached
                .entries
                .iter()
                .map(|e| u64::from(e.track.duration_ms))
                .sum();
            return Some((cached.meta.clone(), cached.entries.len() as u32, total));
        }
        let mut cache = self
            .summaries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.read(id, |d| {
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
        .ok()
        .flatten()
    }

    /// One playlist, with its entries in order.
    pub fn get(&self, id: &str) -> Result<Playlist> {
        self.playlist(id)?;
        if let Some(cached) = self.cached(id) {
            return Ok((*cached).clone());
        }
        Ok(self.read(id, doc::read)??)
    }

    pub fn create(&self, name: &str, now: i64) -> Result<String> {
        self.create_with(name, "", &[], now)
    }

    /// A new playlist that already holds `tracks` (and a description): it is written
    /// whole before it is listed, so a failure (an import's, a copy's) leaves nothing
    /// behind, not an empty or half-filled playlist.
    pub fn create_with(
        &self,
        name: &str,
        description: &str,
        tracks: &[TrackRef],
        now: i64,
    ) -> Result<String> {
        self.create_kind(PlaylistKind::Playlist, name, now, |d, j| {
            if !description.is_empty() {
                doc::set_description(d, description, now)?;
            }
            if !tracks.is_empty() {
                doc::add(d, tracks, Place::End, now, j)?;
            }
            Ok(())
        })
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
        if id == *read(&self.essentials) {
            return Err(StoreError::EssentialsIsPermanent);
        }
        self.playlist(id)?;
        let id = id.to_owned();
        self.edit_index(|tx, playlists| {
            if let Some((_, obj)) = tx.get(playlists, id.as_str())? {
                tx.put(&obj, "deleted_at", now)?;
            }
            Ok(())
        })
    }

    pub fn undelete(&self, id: &str) -> Result<()> {
        self.playlist(id)?;
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
        let tracks: Vec<TrackRef> = source.entries.into_iter().map(|e| e.track).collect();
        let name = format!("{} (copy)", source.meta.name);
        self.create_with(&name, &source.meta.description, &tracks, now)
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
        id == *read(&self.essentials) || self.device().pinned.iter().any(|p| p == id)
    }

    /// Marks a playlist to be kept on this device (a local setting, not in the document).
    /// Essentials is always pinned.
    pub fn set_pinned(&self, id: &str, pinned: bool) -> Result<()> {
        self.playlist(id)?;
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
    /// The handles of every document samod has loaded (the index and the playlists), for
    /// waiting until a connection has exchanged each one.
    pub fn handles(&self) -> Vec<DocHandle> {
        lock(&self.docs).handles.values().cloned().collect()
    }

    /// Makes `shared` (the user's index that all their devices share, named by the server)
    /// this device's index, fetching it and its playlists through the repo's connection,
    /// and merges this device's playlists into it: each one not listed there is added, and
    /// this device's Essentials songs join the shared Essentials (songs already there are
    /// not added twice; the old Essentials is retired in `device.json`, so it is not found
    /// again as a stray). Nothing is lost: every document stays on disk.
    ///
    /// Readers see the old list or the new one, never a mix: the shared index gets this
    /// device's playlists first, then the index and Essentials switch together.
    pub fn adopt_index(&self, shared: &str, now: i64) -> Result<()> {
        // One adoption at a time (two connections may both ask for it).
        let _one = self.adopting.lock().unwrap_or_else(PoisonError::into_inner);
        let old_index = self.index_id();
        if shared == old_index {
            return Ok(());
        }
        let handle = self.fetch(shared)?;
        if handle
            .with_document(|d| doc::string(d, &ROOT, "schema"))
            .as_deref()
            != Some(INDEX_SCHEMA)
        {
            return Err(StoreError::NotFound(format!(
                "{shared} (not a playlist index)"
            )));
        }
        let shared_entries = self.index_entries_of(shared);
        for (id, _) in &shared_entries {
            if !self.exists(id) {
                // One that cannot be fetched now comes with a later sync; its entry stays.
                let _ = self.fetch(id);
            }
        }
        let old_essentials = self.essentials_id();
        let mut joined: HashSet<String> = shared_entries.into_iter().map(|(id, _)| id).collect();
        joined.insert(old_essentials.clone());
        self.join_index(shared, &old_index, &mut joined, now)?;
        let essentials = match self
            .read(shared, |d| doc::string(d, &ROOT, "essentials"))?
            .filter(|id| self.exists(id))
        {
            Some(theirs) => theirs,
            None => {
                // The shared index has no Essentials yet: ours becomes everyone's.
                self.index_add_to(shared, &old_essentials, ESSENTIALS_NAME, now)?;
                let id = old_essentials.clone();
                self.edit_index_of(shared, |tx, _| tx.put(ROOT, "essentials", id.as_str()))?;
                old_essentials.clone()
            }
        };
        {
            let mut essentials_now = write(&self.essentials);
            let mut index_now = write(&self.index);
            *index_now = shared.to_owned();
            essentials_now.clone_from(&essentials);
        }
        // One made here meanwhile went into the old index: list it in the shared one too.
        self.join_index(shared, &old_index, &mut joined, now)?;
        if essentials != old_essentials {
            // Read after the switch: a song added to ours until then is merged too.
            let theirs: HashSet<String> = self
                .get(&essentials)?
                .entries
                .into_iter()
                .map(|e| e.track.track_uid)
                .collect();
            let ours: Vec<TrackRef> = self
                .get(&old_essentials)?
                .entries
                .into_iter()
                .map(|e| e.track)
                .filter(|t| !theirs.contains(&t.track_uid))
                .collect();
            if !ours.is_empty() {
                self.add(&essentials, &ours, Place::End, now)?;
            }
            // Ours is merged in: not listed, and never found again as a stray.
            self.device().retired.push(old_essentials);
        }
        self.device().index = Some(shared.to_owned());
        self.save_device()
    }

    /// Lists in the index `shared` each playlist the index `old` lists that is not in
    /// `joined` yet (deleted ones stay deleted), and adds it to `joined`.
    fn join_index(
        &self,
        shared: &str,
        old: &str,
        joined: &mut HashSet<String>,
        now: i64,
    ) -> Result<()> {
        let names = self.index_names_of(old);
        for (id, deleted) in self.index_entries_of(old) {
            if joined.contains(&id) {
                continue;
            }
            let name = names.get(&id).cloned().unwrap_or_default();
            self.index_add_to(shared, &id, &name, now)?;
            if deleted {
                self.mark_deleted_in(shared, &id, now)?;
            }
            joined.insert(id);
        }
        Ok(())
    }

    /// Fetches the playlists the index lists that this device does not hold (another
    /// device made them). A listed, not deleted playlist that cannot come now (the server
    /// may not have it yet) is counted as missing, for the caller to try again.
    pub fn fetch_listed(&self) -> Fetched {
        let mut fetched = Fetched::default();
        for (id, deleted) in self.index_entries() {
            if self.exists(&id) || id.parse::<DocumentId>().is_err() {
                continue;
            }
            match self.fetch(&id) {
                Ok(_) => fetched.came += 1,
                Err(StoreError::NotFound(_) | StoreError::StillLoading(_)) if !deleted => {
                    fetched.missing += 1;
                }
                Err(_) => {}
            }
        }
        fetched
    }

    /// A document from the repo, fetched from a connected peer if it is not on disk.
    fn fetch(&self, id: &str) -> Result<DocHandle> {
        if let Some(handle) = lock(&self.docs).handles.get(id) {
            return Ok(handle.clone());
        }
        let doc_id: DocumentId = id
            .parse()
            .map_err(|_| StoreError::NotFound(id.to_owned()))?;
        let found = self
            .runtime
            .block_on(async { tokio::time::timeout(FETCH_TIMEOUT, self.repo.find(doc_id)).await })
            .map_err(|_| StoreError::StillLoading(id.to_owned()))?
            .map_err(|_| StoreError::Stopped)?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        lock(&self.docs)
            .handles
            .insert(id.to_owned(), found.clone());
        Ok(found)
    }

    /// Marks a playlist deleted in the index `index`.
    fn mark_deleted_in(&self, index: &str, id: &str, now: i64) -> Result<()> {
        let id = id.to_owned();
        self.edit_index_of(index, |tx, playlists| {
            if let Some((_, obj)) = tx.get(playlists, id.as_str())? {
                if tx.get(&obj, "deleted_at")?.is_none() {
                    tx.put(&obj, "deleted_at", now)?;
                }
            }
            Ok(())
        })
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// Waits for every write to finish, stops the repo (edits fail after this), and saves
    /// the cache of every playlist samod loaded. Call it when the app quits.
    pub fn flush(&self) -> Result<()> {
        self.runtime.block_on(self.repo.stop());
        let index = self.index_id();
        let loaded: Vec<(String, DocHandle)> = lock(&self.docs)
            .handles
            .iter()
            .filter(|(id, _)| **id != index)
            .map(|(id, handle)| (id.clone(), handle.clone()))
            .collect();
        let cache_dir = self.dir.join("cache");
        let mut failed = Ok(());
        for (id, handle) in loaded {
            let Ok(files) = cache::files(&self.storage.doc_dir(&id)) else {
                continue;
            };
            let files: Vec<String> = files.into_iter().map(|(name, _)| name).collect();
            if self.fresh.get(&id) == Some(&files) {
                continue;
            }
            let Ok(playlist) = handle.with_document(|d| doc::read(d)) else {
                continue;
            };
            if let Err(source) = cache::save(&cache_dir, &id, &files, &playlist) {
                failed = Err(StoreError::Io {
                    path: cache_dir.clone(),
                    source,
                });
            }
        }
        failed
    }

    /// [`Store::flush`], for a store no longer needed.
    pub fn close(self) -> Result<()> {
        self.flush()
    }

    /// A new document of `kind`, filled by `fill`, written, then listed in the index.
    fn create_kind<F>(&self, kind: PlaylistKind, name: &str, now: i64, fill: F) -> Result<String>
    where
        F: FnOnce(&mut Automerge, &mut RandomJitter) -> std::result::Result<(), DocError>,
    {
        let mut d = Automerge::new();
        doc::init(&mut d, kind, name, now)?;
        fill(
            &mut d,
            &mut self.jitter.lock().unwrap_or_else(PoisonError::into_inner),
        )?;
        let handle = create_written(&self.runtime, &self.repo, &self.storage, d)?;
        let id = handle.document_id().to_string();
        lock(&self.docs).handles.insert(id.clone(), handle);
        self.index_add(&id, name, now)?;
        Ok(id)
    }

    /// Whether `id` is a document the store holds.
    fn exists(&self, id: &str) -> bool {
        let docs = lock(&self.docs);
        docs.handles.contains_key(id)
            || docs.early.contains_key(id)
            || docs.cached.contains_key(id)
            || docs.loading.contains(id)
    }

    /// The playlist as cached, while samod has not loaded its document.
    fn cached(&self, id: &str) -> Option<Arc<Playlist>> {
        lock(&self.docs).cached.get(id).cloned()
    }

    /// A playlist's fields, from the cache or its document.
    fn meta(&self, id: &str) -> Option<PlaylistMeta> {
        match self.cached(id) {
            Some(cached) => Some(cached.meta.clone()),
            None => self.read(id, doc::read_meta).ok()?.ok(),
        }
    }

    /// Fails unless `id` is one of the playlists (not the index).
    fn playlist(&self, id: &str) -> Result<()> {
        if id != *read(&self.index) && self.exists(id) {
            Ok(())
        } else {
            Err(StoreError::NotFound(id.to_owned()))
        }
    }

    /// Every playlist document held, listed or not.
    fn playlist_ids(&self) -> Vec<String> {
        let index = self.index_id();
        let docs = lock(&self.docs);
        let mut ids: HashSet<&String> = docs.handles.keys().collect();
        ids.extend(docs.early.keys());
        ids.extend(docs.cached.keys());
        ids.extend(docs.loading.iter());
        ids.into_iter()
            .filter(|id| **id != index)
            .cloned()
            .collect()
    }

    /// Reads a document: samod's copy if it has loaded it, else the store's own.
    fn read<R>(&self, id: &str, f: impl FnOnce(&Automerge) -> R) -> Result<R> {
        let (handle, early) = {
            let docs = lock(&self.docs);
            (docs.handles.get(id).cloned(), docs.early.get(id).cloned())
        };
        match (handle, early) {
            (Some(handle), _) => Ok(handle.with_document(|d| f(d))),
            (None, Some(early)) => Ok(f(&early)),
            (None, None) => Ok(self.handle(id)?.with_document(|d| f(d))),
        }
    }

    /// samod's handle on a document, waiting while samod loads it.
    fn handle(&self, id: &str) -> Result<DocHandle> {
        let (docs, loaded) = &*self.docs;
        let deadline = Instant::now() + LOAD_TIMEOUT;
        let mut held = docs.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(handle) = held.handles.get(id) {
                return Ok(handle.clone());
            }
            if !held.loading.contains(id) {
                return Err(StoreError::NotFound(id.to_owned()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::StillLoading(id.to_owned()));
            }
            held = loaded
                .wait_timeout(held, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
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
        self.edit_index_of(&self.index_id(), f)
    }

    /// Changes the index document `index` (ours, or the one being adopted).
    fn edit_index_of<F>(&self, index: &str, f: F) -> Result<()>
    where
        F: FnOnce(
            &mut automerge::transaction::Transaction<'_>,
            &ObjId,
        ) -> std::result::Result<(), automerge::AutomergeError>,
    {
        let index = self.handle(index)?;
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
        self.index_add_to(&self.index_id(), id, name, now)
    }

    /// Lists a playlist in the index `index`, unless it is listed there already.
    fn index_add_to(&self, index: &str, id: &str, name: &str, now: i64) -> Result<()> {
        let id = id.to_owned();
        self.edit_index_of(index, |tx, playlists| {
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
        self.index_entries_of(&self.index_id())
    }

    /// (id, deleted) for every playlist the index document `index` lists.
    fn index_entries_of(&self, index: &str) -> Vec<(String, bool)> {
        self.read(index, |d| {
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
        .unwrap_or_default()
    }

    fn index_names(&self) -> HashMap<String, String> {
        self.index_names_of(&self.index_id())
    }

    fn index_names_of(&self, index: &str) -> HashMap<String, String> {
        self.read(index, |d| {
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
        .unwrap_or_default()
    }

    fn index_essentials(&self) -> Option<String> {
        self.read(&self.index_id(), |d| doc::string(d, &ROOT, "essentials"))
            .ok()
            .flatten()
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

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

fn lock(docs: &SharedDocs) -> MutexGuard<'_, Docs> {
    docs.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Has samod load a document in the background; when it has, its handle replaces the
/// store's own copy (a document samod cannot load stays readable from that copy).
fn find_later(runtime: &tokio::runtime::Runtime, repo: &Repo, docs: &SharedDocs, id: &str) {
    let Ok(doc_id) = DocumentId::from_str(id) else {
        return;
    };
    let load = repo.find(doc_id);
    let docs = docs.clone();
    let id = id.to_owned();
    runtime.spawn(async move {
        let found = load.await;
        let mut held = lock(&docs);
        held.loading.remove(&id);
        if let Ok(Some(handle)) = found {
            held.early.remove(&id);
            held.cached.remove(&id);
            held.handles.insert(id, handle);
        }
        docs.1.notify_all();
    });
}

/// Loads documents from their checked chunks, on as many threads as there are cores (up
/// to four). One that does not load is left out.
fn load_all(mut docs: Vec<(String, Vec<Vec<u8>>)>) -> HashMap<String, Automerge> {
    // Largest last, so the first taken (by this thread, whose memory is warm) is the
    // longest load.
    docs.sort_by_key(|(_, chunks)| chunks.iter().map(Vec::len).sum::<usize>());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let queue = Mutex::new(docs);
    let loaded = Mutex::new(HashMap::new());
    let work = || loop {
        let Some((id, chunks)) = queue.lock().unwrap_or_else(PoisonError::into_inner).pop() else {
            break;
        };
        let mut d = Automerge::new();
        if chunks.iter().all(|c| d.load_incremental(c).is_ok()) {
            loaded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, d);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        // This thread takes a share too.
        work();
    });
    loaded.into_inner().unwrap_or_else(PoisonError::into_inner)
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

/// A document's files, as read and checked.
#[derive(Debug)]
struct OnDisk {
    id: String,
    /// Their contents, snapshots first.
    chunks: Vec<Vec<u8>>,
    /// Their names, relative to the document's folder, sorted.
    files: Vec<String>,
}

#[derive(Debug, Default)]
struct Checked {
    /// Documents whose every file checks out.
    good: Vec<OnDisk>,
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
                Ok((chunks, files)) => checked.good.push(OnDisk { id, chunks, files }),
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

/// A document's chunks, snapshots first, and its files' names.
type Chunks = (Vec<Vec<u8>>, Vec<String>);

/// Checks every file of a document's folder (see [`crate::chunks`]): automerge would skip
/// a damaged chunk without a word, and samod could then compact the rest away.
fn check_dir(dir: &Path) -> std::result::Result<Chunks, String> {
    let files = cache::files(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut chunks: Vec<(bool, Vec<u8>)> = Vec::new();
    for (_, path) in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let incremental = path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|p| p == "incremental");
        crate::chunks::verify(&bytes, incremental.then_some(name.as_str()))
            .map_err(|e| format!("{name} is damaged: {e}"))?;
        chunks.push((incremental, bytes));
    }
    if chunks.is_empty() {
        return Err("the document has no data".into());
    }
    chunks.sort_by_key(|(incremental, _)| *incremental);
    Ok((
        chunks.into_iter().map(|(_, bytes)| bytes).collect(),
        files.into_iter().map(|(name, _)| name).collect(),
    ))
}
