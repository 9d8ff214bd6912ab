//! Paired mode: Offbeat with a home server (`offbeat-server`).
//!
//! - [`pairing`]: URL + token, checked against the server's status, kept in `server.json`
//!   (0600); two addresses with one server id are one server.
//! - [`api`]: the server's HTTP API, each outcome sorted into what the health state needs.
//! - [`cache`]: verified copies of server files, resumable, within a budget (LRU, never a
//!   pinned track).
//! - [`health`]: the indicator's states, made from real signals, and the reconnect backoff.
//! - [`Remote`]: the running service: mirrors the catalog into the library, keeps pinned
//!   tracks downloaded, syncs the playlists repo through [`offbeat_playlists::ServerDialer`],
//!   and publishes [`Health`].
//!
//! Everything here can fail at any moment (the server dies, the token is revoked, the
//! network goes); the library, playlists and playback never wait on it.

pub mod api;
pub mod cache;
pub mod health;
pub mod pairing;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use offbeat_library::Library;
use offbeat_playlists::{Fetched, ServerDialer, Store};
use samod::{BackoffConfig, DialerEvent};
use tokio::sync::{watch, Notify};

pub use api::{Api, ApiError, PlayEvent, ServerStatus};
pub use cache::{Cache, DownloadError};
pub use health::{Backoff, Health, HealthState, Progress, Signals};
pub use pairing::{pair, PairError, Pairing, PairingFile};

/// Catalog changes asked for per request.
pub const CATALOG_PAGE: u32 = 5000;

/// A dialer this old that has not connected, while the server answers, is made again.
const REDIAL_AFTER: Duration = Duration::from_secs(1);

/// What the service needs to run.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    pub pairing: Pairing,
    /// The library database the catalog is mirrored into (the service opens its own
    /// connection).
    pub library: PathBuf,
    pub cache_dir: PathBuf,
    pub cache_budget_bytes: u64,
    /// How often to look for catalog changes while all is well.
    pub poll: Duration,
}

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the library: {0}")]
    Library(#[from] offbeat_library::LibraryError),
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the playlists cannot sync: {0}")]
    Sync(String),
}

struct Inner {
    server_id: String,
    api: Api,
    cache: Cache,
    library: Arc<Mutex<Library>>,
    signals: Mutex<Signals>,
    health: watch::Sender<Health>,
    status: Mutex<Status>,
    /// Pinned tracks (uid → format) to keep downloaded.
    pinned: Mutex<HashMap<String, String>>,
    wake: Notify,
    /// The playlists' connection being followed: an exchange on another one gives up.
    sync_conn: watch::Sender<Option<samod::ConnectionId>>,
    /// Counts the dialers made: a follower whose dialer was replaced stops.
    dialers_made: watch::Sender<u64>,
    /// Listed playlists did not come: ask again soon ([`refetch_missing`]).
    refetch: Notify,
    /// Tracks the server has no cover for (asked once per run).
    no_art: Mutex<HashSet<(String, u32)>>,
    /// The playlists repo's dialer to the server, and when it was made. Closed when the
    /// service goes (unpaired, or re-paired), so the repo stops syncing with it.
    dialer: Mutex<Option<(Dialer, Instant)>>,
    /// The service's runtime, for tasks started outside it.
    rt: tokio::runtime::Handle,
    poll: Duration,
    /// The playlists being synced, once [`Remote::sync_playlists`] was called.
    /// Weak: the store (and its runtime) belongs to the app, and must never be dropped
    /// last by one of this service's tasks.
    store: Mutex<Option<std::sync::Weak<Store>>>,
}

/// What the popover shows besides the state.
#[derive(Debug, Default)]
struct Status {
    message: Option<String>,
    /// Goes up whenever a playlist document changed (here or on another device).
    playlists_version: u32,
    /// Why playlists did not sync (shown as the reason while nothing else is wrong).
    sync_problem: Option<String>,
    catalog_version: u32,
    last_sync_ms: Option<i64>,
    catalog_progress: Option<Progress>,
    downloads: Option<Progress>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The running paired mode. Dropping it stops it.
#[derive(Debug)]
pub struct Remote {
    inner: Arc<Inner>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("server_id", &self.server_id)
            .finish()
    }
}

impl Remote {
    /// Starts the service: a round (status, catalog, pinned downloads) now, then every
    /// `poll`, or sooner after a failure (backoff), or when woken.
    pub fn start(options: RemoteOptions) -> Result<Remote, RemoteError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("offbeat-remote")
            .enable_all()
            .build()
            .map_err(RemoteError::Runtime)?;
        let library = Arc::new(Mutex::new(Library::open(&options.library)?));
        let api = Api::new(&options.pairing.urls, &options.pairing.token)?;
        let (health, _) = watch::channel(Health::local_only());
        let inner = Arc::new(Inner {
            server_id: options.pairing.server_id.clone(),
            cache: Cache::new(
                options.cache_dir.clone(),
                options.cache_budget_bytes,
                library.clone(),
            ),
            api,
            library,
            signals: Mutex::default(),
            health,
            status: Mutex::default(),
            pinned: Mutex::default(),
            wake: Notify::new(),
            sync_conn: watch::Sender::new(None),
            dialers_made: watch::Sender::new(0),
            refetch: Notify::new(),
            no_art: Mutex::default(),
            dialer: Mutex::default(),
            rt: runtime.handle().clone(),
            poll: options.poll,
            store: Mutex::default(),
        });
        inner.publish();
        runtime.spawn(run(inner.clone()));
        Ok(Remote {
            inner,
            runtime: Some(runtime),
        })
    }

    pub fn server_id(&self) -> &str {
        &self.inner.server_id
    }

    /// The health as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Health> {
        self.inner.health.subscribe()
    }

    pub fn health(&self) -> Health {
        self.inner.health.borrow().clone()
    }

    /// Look at the server now (a user action, or a sign it may be back).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// The tracks to keep on this device (uid → format): the pinned playlists' tracks.
    /// Missing ones download in the background; others may now be evicted.
    pub fn set_pinned(&self, tracks: HashMap<String, String>) {
        let changed = {
            let mut pinned = lock(&self.inner.pinned);
            let changed = *pinned != tracks;
            *pinned = tracks;
            changed
        };
        if changed {
            self.wake();
        }
    }

    pub fn set_cache_budget(&self, bytes: u64) {
        self.inner.cache.set_budget(bytes);
        self.wake();
    }

    /// A verified local copy of a server track, downloading it now if there is none.
    pub async fn fetch(&self, uid: &str, format: &str) -> Result<PathBuf, DownloadError> {
        let inner = self.inner.clone();
        let (uid, format) = (uid.to_owned(), format.to_owned());
        let Some(runtime) = &self.runtime else {
            return Err(DownloadError::Io(std::io::Error::other("stopped")));
        };
        let task = runtime.spawn(async move {
            let result = inner
                .cache
                .download(&inner.api, &uid, &format, &|_, _| {})
                .await;
            inner.record(result.as_ref().map(|_| ()).map_err(|e| match e {
                DownloadError::Api(e) => Some(e),
                _ => None,
            }));
            if result.is_ok() {
                let pinned: HashSet<String> = lock(&inner.pinned).keys().cloned().collect();
                let _ = inner.cache.evict(&pinned);
                inner.publish();
            }
            result
        });
        task.await
            .map_err(|e| DownloadError::Io(std::io::Error::other(e)))?
    }

    /// A server track's cover thumbnail (`size` 96 or 300), kept in `<cache>/../art` once
    /// fetched; `None` when it has none, or the server cannot be asked now. Blocks: call it
    /// from a thread of your own, not an async task.
    pub fn art(&self, uid: &str, size: u32) -> Option<PathBuf> {
        let dir = self.inner.cache.dir().with_file_name("art");
        let path = dir.join(format!("{}-{size}.jpg", cache::safe_name(uid)));
        if path.is_file() {
            return Some(path);
        }
        let key = (uid.to_owned(), size);
        if lock(&self.inner.no_art).contains(&key) {
            return None;
        }
        let state = self.health().state;
        if !matches!(
            state,
            HealthState::Online | HealthState::Syncing | HealthState::Degraded
        ) {
            return None;
        }
        let fetched = self
            .runtime
            .as_ref()?
            .block_on(self.inner.api.art(uid, size));
        match fetched {
            Ok(Some(bytes)) => {
                std::fs::create_dir_all(&dir).ok()?;
                let tmp = path.with_extension("jpg.tmp");
                std::fs::write(&tmp, bytes).ok()?;
                std::fs::rename(&tmp, &path).ok()?;
                Some(path)
            }
            Ok(None) => {
                lock(&self.inner.no_art).insert(key);
                None
            }
            Err(_) => None,
        }
    }

    /// The cached copy of a server track, if there is one (no network).
    pub fn cached(&self, uid: &str) -> Option<PathBuf> {
        self.inner.cache.cached(uid).ok().flatten()
    }

    /// Syncs the playlists repo with the server: a dialer with the token, heartbeat and
    /// backoff (capped at 5 s, with jitter, and waiting out a 503's Retry-After). After each
    /// connect, the state is "syncing" until every document has been exchanged both ways.
    pub fn sync_playlists(&self, store: Arc<Store>) -> Result<(), RemoteError> {
        let Some(runtime) = &self.runtime else {
            return Err(RemoteError::Sync("stopped".into()));
        };
        *lock(&self.inner.store) = Some(Arc::downgrade(&store));
        lock(&self.inner.signals).sync_wanted = true;
        runtime.spawn(watch_documents(self.inner.clone(), Arc::downgrade(&store)));
        runtime.spawn(refetch_missing(self.inner.clone(), Arc::downgrade(&store)));
        dial(&self.inner, &store)
    }

    /// Forgets the server's catalog and deletes its cached files (unpairing).
    pub fn forget(self) -> Result<(), RemoteError> {
        let cached = lock(&self.inner.library).forget_server(&self.inner.server_id)?;
        self.inner.cache.delete(&cached);
        Ok(())
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        if let Some((dialer, _)) = lock(&self.inner.dialer).take() {
            dialer.close();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Inner {
    /// Notes a request's outcome (`Err(None)`: failed for a reason that says nothing about
    /// the server) and publishes the health.
    fn record(&self, outcome: Result<(), Option<&ApiError>>) {
        match outcome {
            Ok(()) => lock(&self.signals).record(Ok(())),
            Err(Some(e)) => lock(&self.signals).record(Err(e)),
            Err(None) => {}
        }
        self.publish();
    }

    fn busy(&self, delta: i32) {
        {
            let mut s = lock(&self.signals);
            s.busy = s.busy.saturating_add_signed(delta);
        }
        self.publish();
    }

    fn publish(&self) {
        let pending_uploads = lock(&self.library).outbox_len().unwrap_or(0);
        let (mirrored, tracks) = lock(&self.library)
            .remote_summary(&self.server_id)
            .unwrap_or((None, 0));
        let (state, reason, retry_in, connected) = {
            let mut s = lock(&self.signals);
            s.pending = pending_uploads;
            s.catalog_mirrored = mirrored.is_some();
            (
                s.state(),
                s.reason(),
                s.retry_in(Instant::now()),
                s.sync_connected,
            )
        };
        let cache_bytes = self.cache.used().unwrap_or(0);
        let status = lock(&self.status);
        let health = Health {
            state,
            server: Some(self.api.url().to_owned()),
            reason: reason
                .filter(|_| {
                    matches!(
                        state,
                        HealthState::Degraded | HealthState::Offline | HealthState::Unauthorized
                    )
                })
                .or_else(|| status.sync_problem.clone()),
            retry_in_s: retry_in
                .filter(|_| matches!(state, HealthState::Degraded | HealthState::Offline))
                .map(|d| d.as_secs_f64().ceil() as u32),
            last_sync_ms: status.last_sync_ms.map(|v| v as f64),
            catalog_mirrored_ms: mirrored.map(|v| v as f64),
            catalog_tracks: u32::try_from(tracks).unwrap_or(u32::MAX),
            catalog_version: status.catalog_version,
            playlists_version: status.playlists_version,
            catalog_progress: status.catalog_progress,
            pending_uploads,
            downloads: status.downloads,
            cache_bytes: cache_bytes as f64,
            cache_budget_bytes: self.cache.budget() as f64,
            message: status.message.clone(),
            sync_connected: connected,
            seq: 0,
        };
        drop(status);
        self.health.send_if_modified(|old| {
            let changed = *old != health;
            *old = health;
            changed
        });
    }

    /// One round: status, catalog changes, pinned downloads, eviction.
    async fn round(self: &Arc<Self>) -> Result<(), ApiError> {
        let status = self.api.status().await;
        self.record(status.as_ref().map(|_| ()).map_err(Some));
        let status = status?;
        if status.server_id != self.server_id {
            // Another server answers at this address now: nothing of it is ours.
            let e = ApiError::BadResponse(format!(
                "a different server ({}) answers at {}",
                status.server_id,
                self.api.url()
            ));
            self.record(Err(Some(&e)));
            return Err(e);
        }
        lock(&self.status).message = status.message.clone();
        // The server answers but the playlists are not connected (it was down, and the
        // dialer is waiting out its backoff): dial now rather than up to 5 s later.
        let (wanted, connected) = {
            let s = lock(&self.signals);
            (s.sync_wanted, s.sync_connected)
        };
        let dialed_long_ago = lock(&self.dialer)
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > REDIAL_AFTER);
        let dropped_long_ago = lock(&self.signals)
            .disconnected_at
            .is_some_and(|at| at.elapsed() > REDIAL_AFTER);
        if wanted && !connected && dialed_long_ago && dropped_long_ago {
            if let Some(store) = lock(&self.store)
                .as_ref()
                .and_then(std::sync::Weak::upgrade)
            {
                let _ = dial(self, &store);
            }
        }
        self.mirror(status.catalog_tracks).await?;
        // Playlists another device listed since (the index syncs live; their documents
        // are fetched when this device first hears of them).
        let store = lock(&self.store)
            .as_ref()
            .and_then(std::sync::Weak::upgrade);
        let connected = lock(&self.signals).sync_connected;
        if let (Some(store), true) = (store, connected) {
            let weak = Arc::downgrade(&store);
            drop(store);
            self.fetch_listed(&weak).await;
        }
        self.sync_history().await?;
        lock(&self.status).last_sync_ms = Some(now_ms());
        self.download_pinned().await?;
        Ok(())
    }

    /// Uploads the plays waiting in the outbox (each batch marked sent only once the server
    /// has it; sending one again stores nothing twice), then reads every device's plays from
    /// where it stopped.
    async fn sync_history(&self) -> Result<(), ApiError> {
        const BATCH: u32 = 500;
        loop {
            let waiting = lock(&self.library).outbox(BATCH).unwrap_or_default();
            if waiting.is_empty() {
                break;
            }
            self.api.post_history(&waiting).await?;
            let ids: Vec<String> = waiting.into_iter().map(|p| p.id).collect();
            if let Err(e) = lock(&self.library).mark_uploaded(&ids) {
                return Err(ApiError::BadResponse(format!(
                    "cannot note the upload: {e}"
                )));
            }
            self.publish();
        }
        let mut cursor = lock(&self.library)
            .history_cursor(&self.server_id)
            .ok()
            .flatten();
        loop {
            let (events, next, more) = match self.api.history(cursor.as_deref()).await {
                Ok(page) => page,
                // The server's history restarted: read it again (ids keep plays single).
                Err(ApiError::Rejected(400)) if cursor.is_some() => {
                    cursor = None;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Err(e) = lock(&self.library).merge_plays(&self.server_id, &events, &next) {
                return Err(ApiError::BadResponse(format!(
                    "cannot store the history: {e}"
                )));
            }
            cursor = Some(next);
            if !more {
                return Ok(());
            }
        }
    }

    /// Fetches the playlists the shared index lists that this device has not got; if any
    /// came, the playlists' version goes up (the UI reads them again). Any that did not
    /// come are asked for again soon.
    async fn fetch_listed(&self, weak: &std::sync::Weak<Store>) {
        if self.fetch_listed_once(weak).await.missing > 0 {
            self.refetch.notify_one();
        }
    }

    async fn fetch_listed_once(&self, weak: &std::sync::Weak<Store>) -> Fetched {
        let weak = weak.clone();
        let fetched = tokio::task::spawn_blocking(move || weak.upgrade().map(|s| s.fetch_listed()))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        if fetched.came > 0 {
            lock(&self.status).playlists_version += 1;
            self.publish();
        }
        fetched
    }

    /// Reads the catalog's change log from where the mirror stopped, a page per
    /// transaction, until the server says there is no more.
    async fn mirror(&self, catalog_tracks: u64) -> Result<(), ApiError> {
        let cursor = lock(&self.library)
            .remote_cursor(&self.server_id)
            .ok()
            .flatten();
        let total_pages = u32::try_from(catalog_tracks.div_ceil(u64::from(CATALOG_PAGE)).max(1))
            .unwrap_or(u32::MAX);
        let mut done = 0u32;
        // "Syncing" only while there are changes to store, not for a look that finds none.
        let mut busy = false;
        // Each page is stored (on a blocking thread) while the next one downloads.
        let mut fetched = self.api.catalog(cursor.as_deref(), CATALOG_PAGE).await;
        let result = loop {
            let page = match fetched {
                Ok(page) => page,
                Err(ApiError::CursorGone) => {
                    // The server's log restarted: mirror it whole again.
                    let _ = lock(&self.library).forget_server(&self.server_id);
                    lock(&self.status).catalog_version += 1;
                    fetched = self.api.catalog(None, CATALOG_PAGE).await;
                    continue;
                }
                Err(e) => break Err(e),
            };
            done += 1;
            let changed = !page.changes.is_empty();
            if changed && !busy {
                busy = true;
                self.busy(1);
                let _ = lock(&self.library).set_bulk_writes(true);
            }
            lock(&self.status).catalog_progress = page.more.then_some(Progress {
                done,
                total: total_pages.max(done + 1),
            });
            let (more, next_cursor) = (page.more, page.cursor.clone());
            let library = self.library.clone();
            let server_id = self.server_id.clone();
            let store = tokio::task::spawn_blocking(move || {
                lock(&library).apply_remote_changes(
                    &server_id,
                    &page.changes,
                    &page.cursor,
                    !page.more,
                )
            });
            let next = async {
                if more {
                    Some(self.api.catalog(Some(&next_cursor), CATALOG_PAGE).await)
                } else {
                    None
                }
            };
            let (applied, next) = futures::join!(store, next);
            match applied {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    break Err(ApiError::BadResponse(format!(
                        "cannot store the catalog: {e}"
                    )))
                }
                Err(e) => break Err(ApiError::BadResponse(format!("the catalog task: {e}"))),
            }
            if changed {
                lock(&self.status).catalog_version += 1;
            }
            self.record(Ok(()));
            match next {
                Some(next) => fetched = next,
                None => break Ok(()),
            }
        };
        lock(&self.status).catalog_progress = None;
        if busy {
            self.busy(-1);
            // The log that piled up is folded into the database after the catalog shows.
            let library = self.library.clone();
            let _ =
                tokio::task::spawn_blocking(move || lock(&library).set_bulk_writes(false)).await;
        } else {
            self.publish();
        }
        result
    }

    /// Downloads pinned tracks this device lacks, then evicts down to the budget.
    async fn download_pinned(&self) -> Result<(), ApiError> {
        let pinned: Vec<(String, String)> = lock(&self.pinned)
            .iter()
            .map(|(u, f)| (u.clone(), f.clone()))
            .collect();
        let missing: Vec<(String, String)> = {
            let library = lock(&self.library);
            let uids: Vec<&str> = pinned.iter().map(|(u, _)| u.as_str()).collect();
            let on_device = library.on_device(&uids).unwrap_or_default();
            // Only what the server has: an entry of a track it does not know cannot come.
            pinned
                .into_iter()
                .filter(|(u, _)| !on_device.contains(u))
                .filter(|(u, _)| library.remote_tracked(u).unwrap_or(false))
                .collect()
        };
        let total = u32::try_from(missing.len()).unwrap_or(u32::MAX);
        let mut result = Ok(());
        if total > 0 {
            self.busy(1);
            for (i, (uid, format)) in missing.iter().enumerate() {
                lock(&self.status).downloads = Some(Progress {
                    done: i as u32,
                    total,
                });
                self.publish();
                match self
                    .cache
                    .download(&self.api, uid, format, &|_, _| {})
                    .await
                {
                    Ok(_) => self.record(Ok(())),
                    Err(DownloadError::Api(e)) => {
                        self.record(Err(Some(&e)));
                        result = Err(e);
                        break;
                    }
                    // One bad file (corrupt, cut short) is retried next round; the rest go on.
                    Err(_) => {}
                }
            }
            lock(&self.status).downloads = None;
            self.busy(-1);
        }
        let keep: HashSet<String> = lock(&self.pinned).keys().cloned().collect();
        let _ = self.cache.evict(&keep);
        self.publish();
        result
    }
}

/// Dials the server for the playlists repo (replacing a dialer made before): the token,
/// heartbeat and backoff are `ServerDialer`'s; each connect runs an [`exchange`].
fn dial(inner: &Arc<Inner>, store: &Arc<Store>) -> Result<(), RemoteError> {
    let handle = open_dialer(inner, store)?;
    // Counted under the dialer's lock, so the number goes with the dialer kept.
    let mut made = 0;
    {
        let mut dialer = lock(&inner.dialer);
        if let Some((old, _)) = dialer.replace((handle.clone(), Instant::now())) {
            old.close();
        }
        inner.dialers_made.send_modify(|n| {
            *n += 1;
            made = *n;
        });
    }
    inner
        .rt
        .spawn(follow(inner.clone(), handle, made, Arc::downgrade(store)));
    Ok(())
}

type Dialer = samod::DialerHandle<offbeat_playlists::remote::Refused>;

/// A dialer to the server for the playlists repo, connecting from now on.
fn open_dialer(inner: &Inner, store: &Store) -> Result<Dialer, RemoteError> {
    let repo = store.repo();
    let dialer = ServerDialer::new(inner.api.url(), inner.api.token(), &repo.peer_id())
        .map_err(|e| RemoteError::Sync(e.to_string()))?;
    let backoff = BackoffConfig {
        initial_delay: Backoff::FIRST,
        max_delay: Backoff::CAP,
        max_retries: None,
    };
    repo.dial(backoff, Arc::new(dialer))
        .map_err(|_| RemoteError::Sync("the playlists repo has stopped".into()))
}

/// Follows a dialer (the `made`th) until another replaces it: each connection it makes is
/// exchanged, and a lost one is reported. It reads the handle's state after each event,
/// not the events alone: they are not replayed, so a connection made before this
/// subscribed went unannounced, and the playlists stayed "not connected" (the indicator on
/// "syncing") until it dropped.
async fn follow(inner: Arc<Inner>, handle: Dialer, made: u64, store: std::sync::Weak<Store>) {
    let mut events = handle.events();
    let mut replaced = inner.dialers_made.subscribe();
    let mut followed: Option<samod::ConnectionId> = None;
    while *replaced.borrow_and_update() == made {
        let now = handle.connection_id();
        if now != followed {
            if let Some(old) = followed {
                inner.sync_dropped(old);
            }
            if let Some(conn) = now {
                inner.sync_connected(conn, &store);
            }
            followed = now;
        }
        tokio::select! {
            event = events.next() => match event {
                None => break,
                Some(DialerEvent::PermanentFailure) => {
                    lock(&inner.signals).sync_connected = false;
                    inner.wake.notify_one();
                }
                Some(_) => {}
            },
            // (A closed dialer's handle sends no more events: this is how its follower ends.)
            changed = replaced.changed() => if changed.is_err() { break },
        }
    }
    if let Some(old) = followed {
        inner.sync_dropped(old);
    }
}

impl Inner {
    /// The playlists connected (as `conn`): syncing from now until every document has been
    /// exchanged (the [`exchange`] ends the busy spell).
    fn sync_connected(self: &Arc<Self>, conn: samod::ConnectionId, store: &std::sync::Weak<Store>) {
        self.sync_conn.send_replace(Some(conn));
        eprintln!("offbeat: playlists: connected to the server ({conn:?}); exchanging");
        {
            let mut s = lock(&self.signals);
            s.sync_connected = true;
            s.busy += 1;
        }
        self.record(Ok(()));
        let inner = self.clone();
        let weak = store.clone();
        tokio::spawn(async move {
            exchange(&inner, &weak, conn).await;
            inner.busy(-1);
        });
    }

    /// The playlists' connection `conn` went (unless another is followed already): is it
    /// the server or the connection? Ask now.
    fn sync_dropped(&self, conn: samod::ConnectionId) {
        let ours = self.sync_conn.send_if_modified(|c| {
            let ours = *c == Some(conn);
            if ours {
                *c = None;
            }
            ours
        });
        if !ours {
            return;
        }
        eprintln!("offbeat: playlists: the connection to the server ({conn:?}) is gone");
        {
            let mut s = lock(&self.signals);
            s.sync_connected = false;
            s.disconnected_at = Some(Instant::now());
        }
        self.publish();
        self.wake.notify_one();
    }
}

/// Asks again for listed playlists that did not come: a playlist another device listed
/// can be missing on the server for a moment (its index change went ahead of the playlist
/// itself). After each miss, at 0.5, 1, 2 and 4 s while connected (a new miss starts the
/// series again), rather than only at the next round (30 s in the app).
async fn refetch_missing(inner: Arc<Inner>, weak: std::sync::Weak<Store>) {
    loop {
        inner.refetch.notified().await;
        let mut wait = Backoff::FIRST;
        while wait <= Backoff::CAP {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = inner.refetch.notified() => {
                    wait = Backoff::FIRST;
                    continue;
                }
            }
            if weak.strong_count() == 0 {
                return;
            }
            if !lock(&inner.signals).sync_connected
                || inner.fetch_listed_once(&weak).await.missing == 0
            {
                break;
            }
            wait *= 2;
        }
    }
}

/// After a connect: joins the user's one playlist list (offering ours, adopting the one
/// that holds if it is another device's), fetches playlists other devices listed, and waits
/// until every document has been exchanged both ways. The store is only borrowed for each
/// step (never held across a wait), so the app alone ever drops it.
async fn exchange(inner: &Arc<Inner>, weak: &std::sync::Weak<Store>, conn: samod::ConnectionId) {
    // Waiting on a connection that has gone would never end (it may have gone already).
    let mut followed = inner.sync_conn.subscribe();
    let Some(ours) = weak.upgrade().map(|s| s.index_id()) else {
        return;
    };
    match inner.api.set_index(&ours).await {
        Ok(shared) if shared != ours => {
            let weak = weak.clone();
            let adopted = tokio::task::spawn_blocking(move || {
                weak.upgrade()
                    .map(|store| store.adopt_index(&shared, now_ms()))
            })
            .await;
            lock(&inner.status).sync_problem = match adopted {
                Ok(Some(Err(e))) => Some(format!("the playlists could not be merged yet: {e}")),
                _ => None,
            };
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!(
                "offbeat: playlists: the server did not take this device's playlist list: {e}"
            );
            inner.record(Err(Some(&e)));
        }
    }
    inner.fetch_listed(weak).await;
    let Some(docs) = weak.upgrade().map(|s| s.handles()) else {
        return;
    };
    // What is still to be exchanged, each way, to say so if it takes too long.
    let unsent: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let unheard: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let exchanged = futures::future::join_all(docs.iter().map(|doc| {
        let id = doc.document_id().to_string();
        lock(&unsent).insert(id.clone());
        lock(&unheard).insert(id.clone());
        let (unsent, unheard, id2) = (unsent.clone(), unheard.clone(), id.clone());
        let ours = doc
            .they_have_our_changes(conn)
            .map(move |()| lock(&unsent).remove(&id));
        let theirs = doc
            .we_have_their_changes(conn)
            .map(move |()| lock(&unheard).remove(&id2));
        async move { futures::join!(ours, theirs) }
    }));
    tokio::select! {
        done = tokio::time::timeout(EXCHANGE_LIMIT, exchanged) => match done {
            Ok(_) => lock(&inner.status).last_sync_ms = Some(now_ms()),
            Err(_) => eprintln!(
                "offbeat: playlists: not exchanged with the server within {} s (of {} documents; the server lacks our changes to {}, we lack its changes to {})",
                EXCHANGE_LIMIT.as_secs(),
                docs.len(),
                some_of(&lock(&unsent)),
                some_of(&lock(&unheard)),
            ),
        },
        _ = followed.wait_for(|c| *c != Some(conn)) => {}
    }
}

/// Up to five of `ids`, and how many more, for a log line.
fn some_of(ids: &BTreeSet<String>) -> String {
    let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
    match ids.len().saturating_sub(shown.len()) {
        0 => format!("[{}]", shown.join(", ")),
        more => format!("[{}, and {more} more]", shown.join(", ")),
    }
}

/// How long an exchange after a connect is waited for: then "syncing" ends, though it does
/// not count as a finished sync (`last_sync_ms` stays), and what is left goes on in the
/// background.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(30);

/// Follows every playlist document: a change (an edit here, or one synced from another
/// device) bumps the playlists' version, which tells the UI to read them again; a change
/// to the index may list playlists this device has not got, which are fetched at once.
async fn watch_documents(inner: Arc<Inner>, weak: std::sync::Weak<Store>) {
    loop {
        let Some((handles, index)) = weak.upgrade().map(|s| (s.handles(), s.index_id())) else {
            return;
        };
        let watched = handles.len();
        let mut changes = futures::stream::select_all(handles.iter().map(|h| {
            let id = h.document_id().to_string();
            h.changes().map(move |_| id.clone()).boxed()
        }));
        // Until the set of documents changes: then watch the new set.
        loop {
            let Some(id) = changes.next().await else {
                return;
            };
            lock(&inner.status).playlists_version += 1;
            inner.publish();
            if id == index {
                inner.fetch_listed(&weak).await;
            }
            let now = weak.upgrade().map(|s| (s.handles().len(), s.index_id()));
            if now != Some((watched, index.clone())) {
                break;
            }
        }
    }
}

async fn run(inner: Arc<Inner>) {
    let mut backoff = Backoff::default();
    loop {
        let wait = match inner.round().await {
            Ok(()) => {
                backoff.reset();
                inner.poll
            }
            Err(e) => {
                let wait = backoff.next(&e);
                lock(&inner.signals).retry_at = Some(Instant::now() + wait);
                wait
            }
        };
        inner.publish();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = inner.wake.notified() => {}
        }
    }
}

/// The real server on loopback, shared with the server's own tests.
#[cfg(test)]
#[path = "../../server/tests/common/mod.rs"]
mod server_process;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests.

    use super::*;
    use crate::server_process as common;

    #[test]
    fn a_connection_made_before_it_is_followed_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let music = common::music_copy(dir.path());
        let data = dir.path().join("data");
        let token = common::add_user(&data, "ana");
        let server = common::Server::start(&music, &data);
        let client = dir.path().join("client");
        std::fs::create_dir_all(&client).unwrap();
        let store = Arc::new(Store::open(&client.join("playlists"), 1).unwrap());
        let pairing = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(pair(None, &server.base(), &token))
            .unwrap()
            .0;
        let remote = Remote::start(RemoteOptions {
            pairing,
            library: client.join("library.db"),
            cache_dir: client.join("cache"),
            cache_budget_bytes: 1 << 30,
            poll: Duration::from_millis(300),
        })
        .unwrap();
        let inner = remote.inner.clone();
        *lock(&inner.store) = Some(Arc::downgrade(&store));
        lock(&inner.signals).sync_wanted = true;

        // As when the task that follows the dialer is scheduled late: it has connected
        // (and announced it) before anything listened.
        let handle = open_dialer(&inner, &store).unwrap();
        let made = *inner.dialers_made.borrow();
        inner.rt.block_on(handle.established()).unwrap();
        inner
            .rt
            .spawn(follow(inner.clone(), handle, made, Arc::downgrade(&store)));

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let health = remote.health();
            if health.sync_connected && health.state == HealthState::Online {
                break;
            }
            assert!(Instant::now() < deadline, "never online: {health:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
