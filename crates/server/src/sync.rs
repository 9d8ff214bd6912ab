//! Playlist sync: a samod repo stored in `<data>/docs` (the desktop app's durable storage),
//! reached over a WebSocket speaking the automerge-repo protocol.
//!
//! Who may see what: the token is checked at the upgrade, and the connection's peer id
//! (the client's choice, `?peer=` in the URL) is bound to that user for good: samod then
//! refuses a handshake claiming another id. Each document belongs to the user who created
//! it: claimed with `POST /api/v1/documents`, or by the first `sync` message carrying it,
//! which the server reads off the socket before samod does. (samod asks its share policy
//! about every connected peer when a document first appears, so the policy itself cannot
//! tell who brought it.) The share policy then lets a peer read and write only its user's
//! documents: another user's, even by a guessed id, is "unavailable".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use offbeat_playlists::storage::DurableStorage;
use samod::{AcceptorHandle, DocumentId, PeerId, Repo, ShareConfig, Transport};
use serde::Deserialize;

use crate::app::{error, State};
use crate::auth::Authed;
use crate::db::{Claim, Db};

type AppState = axum::extract::State<Arc<State>>;

/// Who owns which document: the database, with the answers kept in memory (every sync
/// message is checked).
#[derive(Debug)]
pub struct Owners {
    db: Arc<Db>,
    known: Mutex<HashMap<DocumentId, i64>>,
    /// Each document as it is first claimed, for share decisions waiting on its owner.
    claimed: tokio::sync::broadcast::Sender<DocumentId>,
}

impl Owners {
    fn new(db: Arc<Db>) -> Owners {
        Owners {
            db,
            known: Mutex::default(),
            claimed: tokio::sync::broadcast::channel(256).0,
        }
    }

    fn owner(&self, doc: &DocumentId) -> Option<i64> {
        if let Some(owner) = self.known().get(doc) {
            return Some(*owner);
        }
        let owner = self.db.document_owner(&doc.to_string()).ok()??;
        self.known().insert(doc.clone(), owner);
        Some(owner)
    }

    /// Records `doc` as `user`'s unless someone owns it already.
    pub fn claim(&self, doc: &DocumentId, user: i64) -> Result<Claim, crate::db::DbError> {
        if let Some(owner) = self.owner(doc) {
            return Ok(if owner == user {
                Claim::Ours
            } else {
                Claim::Theirs
            });
        }
        let claim = self.db.claim_document(&doc.to_string(), user)?;
        // (No one waiting is no error.)
        let _ = self.claimed.send(doc.clone());
        Ok(claim)
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<DocumentId, i64>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The decisions for one (document, peer), as samod follows them. A document no one owns
/// yet (a device asked for a playlist that its maker has not brought) is shared with no
/// one, and decided again once it is claimed: samod answers a request with "unavailable"
/// only once, so without the new decision the asking device would not get the playlist
/// until it reconnected.
fn shares(
    owners: &Arc<Owners>,
    doc_id: DocumentId,
    peer_id: PeerId,
) -> impl futures::Stream<Item = ShareConfig> + Send + 'static {
    use tokio::sync::broadcast::error::RecvError;
    // Subscribed before the owner is read, so a claim after the read is not missed; the
    // first decision comes from that same read.
    let mut claims = owners.claimed.subscribe();
    let owner = owners.owner(&doc_id);
    let first = decide(&owners.db, owner, &peer_id);
    let owners = owners.clone();
    let later = async move {
        if owner.is_some() {
            return None;
        }
        loop {
            match claims.recv().await {
                Ok(doc) if doc == doc_id => break,
                Err(RecvError::Lagged(_)) if owners.owner(&doc_id).is_some() => break,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
        Some(decide(&owners.db, owners.owner(&doc_id), &peer_id))
    };
    futures::stream::once(std::future::ready(first))
        .chain(futures::stream::once(later).filter_map(std::future::ready))
}

/// The decision for a peer about a document owned by `owner`: read-write for the owner's
/// peers, nothing for anyone else. Unannounced: clients ask for the documents they want.
fn decide(db: &Db, owner: Option<i64>, peer_id: &PeerId) -> ShareConfig {
    let Ok(Some(user)) = db.peer_user(peer_id.as_str()) else {
        return ShareConfig::none();
    };
    if owner == Some(user) {
        ShareConfig::read_write().with_announce(false)
    } else {
        ShareConfig::none()
    }
}

/// The document a client's `sync` message carries, if the frame is one: a light look at
/// the CBOR map (`type`, `documentId`), everything else skipped.
fn synced_document(frame: &[u8]) -> Option<DocumentId> {
    let mut d = minicbor::Decoder::new(frame);
    let len = d.map().ok()??;
    let (mut kind, mut doc) = (None, None);
    for _ in 0..len {
        match d.str().ok()? {
            "type" => kind = Some(d.str().ok()?),
            "documentId" => {
                doc = if d.probe().str().is_ok() {
                    d.str().ok()?.parse().ok()
                } else {
                    DocumentId::try_from(d.bytes().ok()?.to_vec()).ok()
                }
            }
            _ => d.skip().ok()?,
        }
    }
    if kind == Some("sync") {
        doc
    } else {
        None
    }
}

/// Counts a sync socket from its upgrade until it closes.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(open: &Arc<AtomicUsize>) -> Counted {
        open.fetch_add(1, Ordering::Relaxed);
        Counted(open.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Resolves once the user is revoked (checked every `every`).
async fn revoked(db: Arc<Db>, user: i64, every: std::time::Duration) {
    loop {
        tokio::time::sleep(every).await;
        if matches!(db.user_active(user), Ok(false)) {
            return;
        }
    }
}

/// One user's repo: their documents, in `<data>/docs/<user id>/`, and their devices'
/// connections.
#[derive(Debug, Clone)]
struct UserRepo {
    repo: Repo,
    acceptor: AcceptorHandle,
}

/// Every user's repo, made when one of their devices first connects.
///
/// One repo per user, not one for everyone: samod's hub matches every connection against
/// every loaded document on each event (and asks the share policy for every pair), which
/// at 2,000 users' devices and documents kept a core busy for minutes. Apart, each hub
/// holds one user's few devices and documents, and a document of another user is not in
/// the repo to be found at all.
#[derive(Debug)]
pub struct Sync {
    dir: PathBuf,
    pub owners: Arc<Owners>,
    repos: Mutex<HashMap<i64, Arc<tokio::sync::OnceCell<UserRepo>>>>,
    open: Arc<AtomicUsize>,
}

impl Sync {
    pub async fn open(dir: &Path, db: Arc<Db>) -> anyhow::Result<Sync> {
        std::fs::create_dir_all(dir)?;
        Ok(Sync {
            dir: dir.to_path_buf(),
            owners: Arc::new(Owners::new(db)),
            repos: Mutex::default(),
            open: Arc::default(),
        })
    }

    fn repos(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<tokio::sync::OnceCell<UserRepo>>>> {
        self.repos.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user's repo, loaded on first use.
    async fn repo_for(&self, user: i64) -> anyhow::Result<UserRepo> {
        let cell = self.repos().entry(user).or_default().clone();
        let repo = cell
            .get_or_try_init(|| async {
                let dir = self.dir.join(user.to_string());
                std::fs::create_dir_all(&dir)?;
                let owners = self.owners.clone();
                let repo = Repo::builder(tokio::runtime::Handle::current())
                    .with_storage(DurableStorage::new(&dir))
                    .with_share_policy(move |doc_id: DocumentId, peer_id: PeerId| {
                        shares(&owners, doc_id, peer_id)
                    })
                    .load()
                    .await;
                let url = url_for(&format!("ws://offbeat-server/api/v1/sync/{user}"))?;
                let acceptor = repo
                    .make_acceptor(url)
                    .map_err(|_| anyhow::anyhow!("the document repo stopped while starting"))?;
                Ok::<_, anyhow::Error>(UserRepo { repo, acceptor })
            })
            .await?;
        Ok(repo.clone())
    }

    fn loaded(&self) -> Vec<UserRepo> {
        self.repos()
            .values()
            .filter_map(|cell| cell.get().cloned())
            .collect()
    }

    /// Open sync sockets.
    pub fn connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Ends every sync connection (clients reconnect to the next server).
    pub fn close_connections(&self) {
        for user in self.loaded() {
            user.acceptor.close();
        }
    }

    /// Writes every document to disk and stops.
    pub async fn stop(&self) {
        for user in self.loaded() {
            user.repo.stop().await;
        }
    }
}

fn url_for(s: &str) -> anyhow::Result<samod::Url> {
    samod::Url::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}"))
}

#[derive(Debug, Deserialize)]
pub struct SyncQuery {
    /// The peer id the client's repo uses.
    peer: Option<String>,
}

/// A peer id as accepted: printable ASCII without spaces, 1-128 characters.
fn valid_peer(peer: &str) -> bool {
    !peer.is_empty() && peer.len() <= 128 && peer.bytes().all(|b| b.is_ascii_graphic())
}

/// `GET /api/v1/sync?peer=<peer id>`: the WebSocket upgrade.
pub async fn upgrade(
    Authed(user): Authed,
    axum::extract::State(state): AppState,
    Query(query): Query<SyncQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(peer) = query.peer.filter(|p| valid_peer(p)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "say which peer id your repo uses: /api/v1/sync?peer=<id>",
        );
    };
    match state.db.claim_peer(&peer, user.id) {
        Ok(true) => {}
        Ok(false) => {
            return error(
                StatusCode::FORBIDDEN,
                "that peer id belongs to another user; use one of your own",
            )
        }
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
    if state.sync.connections() >= state.config.limits.max_sync_connections {
        state.metrics.shed.fetch_add(1, Ordering::Relaxed);
        return crate::app::unavailable("too many sync connections");
    }
    let limit = state.config.limits.max_sync_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |mut socket| async move {
            let counted = Counted::new(&state.sync.open);
            // samod reads from `incoming` and writes to `outgoing`; `pump` moves frames
            // between those and the socket, and ends the connection when it must.
            let (to_samod, incoming) =
                futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
            let (outgoing, from_samod) = futures::channel::mpsc::channel::<Vec<u8>>(16);
            let transport =
                Transport::new(incoming, outgoing).with_expected_peer_id(PeerId::from(peer));
            let accepted = match state.sync.repo_for(user.id).await {
                Ok(repo) => repo.acceptor.accept(transport).is_ok(),
                Err(e) => {
                    tracing::warn!(user = %user.name, "cannot open the user's documents: {e}");
                    false
                }
            };
            if !accepted {
                tracing::debug!(user = %user.name, "sync connection dropped: the repo is stopping");
                return;
            }
            let ended = pump(&mut socket, to_samod, from_samod, &state, user.id).await;
            tracing::debug!(user = %user.name, "sync connection ended: {ended}");
            if matches!(
                ended,
                Ended::ServerClosed | Ended::Revoked | Ended::TextFrame
            ) {
                // A goodbye the client may read; a client that does not is not waited for.
                let close = socket.send(Message::Close(None));
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), close).await;
            }
            drop(counted);
        })
}

/// Why a sync connection ended.
#[derive(Debug)]
enum Ended {
    ClientClosed,
    ServerClosed,
    Idle,
    Revoked,
    TextFrame,
    Error(axum::Error),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::ClientClosed => f.write_str("the client closed it"),
            Ended::ServerClosed => f.write_str("the server closed it"),
            Ended::Idle => f.write_str("nothing heard from the client for too long"),
            Ended::Revoked => f.write_str("the user was revoked"),
            Ended::TextFrame => f.write_str("a text frame"),
            Ended::Error(e) => write!(f, "{e}"),
        }
    }
}

/// Moves frames between one sync socket and samod until the connection ends: the client
/// closes it or sends something that is not a protocol frame, samod drops it (a bad
/// frame, the server stopping), the user is revoked, or the client goes silent. The
/// server pings every `sync_ping_s`; a client that answers nothing, not even a pong, for
/// `sync_idle_timeout_s` is dropped (a vanished client behind a dead NAT or a stalled
/// reader would otherwise hold its socket forever). A write that cannot go out within
/// that limit (the client stopped reading) ends the connection too. Returning drops
/// samod's end of both channels, which ends its connection.
async fn pump(
    socket: &mut axum::extract::ws::WebSocket,
    mut to_samod: futures::channel::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    mut from_samod: futures::channel::mpsc::Receiver<Vec<u8>>,
    state: &State,
    user: i64,
) -> Ended {
    use std::time::Duration;
    let limits = &state.config.limits;
    let ping_every = Duration::from_secs(limits.sync_ping_s.max(1));
    let idle_limit = Duration::from_secs(limits.sync_idle_timeout_s.max(1));
    let revocation_every = Duration::from_secs(limits.revocation_check_s.max(1));
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut revoked = std::pin::pin!(revoked(state.db.clone(), user, revocation_every));
    let mut heard = tokio::time::Instant::now();
    // A frame from the client that samod has no room for yet. Until it is taken, the
    // socket is not read, but samod's frames keep going out: samod stops reading while
    // it waits to send, so waiting on one direction alone could stall both for good.
    let mut waiting: Option<Vec<u8>> = None;
    loop {
        let out = tokio::select! {
            ready = futures::future::poll_fn(|cx| to_samod.poll_ready(cx)), if waiting.is_some() => {
                let frame = waiting.take();
                if ready.is_err() || frame.is_some_and(|f| to_samod.start_send(Ok(f)).is_err()) {
                    return Ended::ServerClosed;
                }
                // The wait was on this side, not the client's.
                heard = tokio::time::Instant::now();
                continue;
            }
            message = socket.next(), if waiting.is_none() => {
                heard = tokio::time::Instant::now();
                match message {
                    Some(Ok(Message::Binary(frame))) => {
                        // The client's first sync of a document it made claims it.
                        if let Some(doc) = synced_document(&frame) {
                            if let Err(e) = state.sync.owners.claim(&doc, user) {
                                tracing::warn!("recording who owns {doc}: {e}");
                            }
                        }
                        waiting = Some(frame.to_vec());
                        continue;
                    }
                    Some(Ok(Message::Text(_))) => return Ended::TextFrame,
                    Some(Ok(Message::Close(_))) | None => return Ended::ClientClosed,
                    // Pings (answered by the socket itself) and pongs: the client is there.
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Ended::Error(e),
                }
            }
            frame = from_samod.next() => match frame {
                Some(frame) => Message::Binary(frame.into()),
                None => return Ended::ServerClosed,
            },
            _ = pings.tick() => {
                if waiting.is_none() && heard.elapsed() > idle_limit {
                    return Ended::Idle;
                }
                Message::Ping(Vec::new().into())
            }
            () = &mut revoked => return Ended::Revoked,
        };
        match tokio::time::timeout(idle_limit, socket.send(out)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Ended::Error(e),
            Err(_) => return Ended::Idle,
        }
    }
}

/// `GET /api/v1/documents`: the ids of the user's documents.
pub async fn documents(Authed(user): Authed, axum::extract::State(state): AppState) -> Response {
    match state.db.documents(user.id) {
        Ok(ids) => Json(serde_json::json!({ "documents": ids })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ClaimBody {
    id: String,
}

/// The document a `{"id": "<document id>"}` body names, or why it names none (a 400).
fn document_in(body: &[u8]) -> Result<DocumentId, &'static str> {
    let Ok(ClaimBody { id }) = serde_json::from_slice(body) else {
        return Err("the body must be {\"id\": \"<document id>\"}");
    };
    id.parse::<DocumentId>()
        .map_err(|_| "not an automerge document id")
}

/// `POST /api/v1/documents {"id": "<document id>"}`: records a document as the user's
/// before it is first synced. 409 if it is another user's.
pub async fn claim(
    Authed(user): Authed,
    axum::extract::State(state): AppState,
    body: axum::body::Bytes,
) -> Response {
    let doc_id = match document_in(&body) {
        Ok(id) => id,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    match state.sync.owners.claim(&doc_id, user.id) {
        Ok(Claim::Ours) => (
            StatusCode::OK,
            Json(serde_json::json!({ "id": doc_id.to_string() })),
        )
            .into_response(),
        Ok(Claim::Theirs) => error(
            StatusCode::CONFLICT,
            "that document belongs to another user",
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /api/v1/index`: the user's playlist index document (the list every device of
/// theirs shares), or `null` before any device has named one.
pub async fn index(Authed(user): Authed, axum::extract::State(state): AppState) -> Response {
    match state.db.setting(&index_key(user.id)) {
        Ok(id) => Json(serde_json::json!({ "index": id })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn index_key(user: i64) -> String {
    format!("index:{user}")
}

/// `PUT /api/v1/index {"id": "<document id>"}`: names the user's index, if none is named
/// yet (the first device's wins), and claims the document. Answers with the index that
/// holds, which a later device then adopts.
pub async fn set_index(
    Authed(user): Authed,
    axum::extract::State(state): AppState,
    body: axum::body::Bytes,
) -> Response {
    let doc_id = match document_in(&body) {
        Ok(id) => id,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let key = index_key(user.id);
    let current = match state.db.setting(&key) {
        Ok(Some(current)) => current,
        Ok(None) => {
            match state.sync.owners.claim(&doc_id, user.id) {
                Ok(Claim::Ours) => {}
                Ok(Claim::Theirs) => {
                    return error(
                        StatusCode::CONFLICT,
                        "that document belongs to another user",
                    )
                }
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
            match state.db.set_setting_once(&key, &doc_id.to_string()) {
                Ok(current) => current,
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    Json(serde_json::json!({ "index": current })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_frame_names_its_document() {
        let id: DocumentId = "4Q3fKJZbvmsZT2rXQxJdYvw4Xt1h"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let frame = |kind: &str| {
            let mut e = minicbor::Encoder::new(Vec::new());
            let _ = e
                .map(4)
                .and_then(|e| e.str("type"))
                .and_then(|e| e.str(kind))
                .and_then(|e| e.str("senderId"))
                .and_then(|e| e.str("p"))
                .and_then(|e| e.str("data"))
                .and_then(|e| e.bytes(&[1, 2, 3]))
                .and_then(|e| e.str("documentId"))
                .and_then(|e| e.str(&id.to_string()));
            e.into_writer()
        };
        assert_eq!(synced_document(&frame("sync")), Some(id.clone()));
        assert_eq!(synced_document(&frame("request")), None);
        assert_eq!(synced_document(b"\xff garbage"), None);
        assert_eq!(synced_document(&[]), None);
    }
}
