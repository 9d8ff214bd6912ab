//! Playlist sync: a samod repo stored in `<data>/docs` (the desktop app's durable storage),
//! reached over a WebSocket speaking the automerge-repo protocol.
//!
//! Who may see what: the token is checked at the upgrade, and the connection's peer id
//! (the client's choice, `?peer=` in the URL) is bound to that user for good: samod then
//! refuses a handshake claiming another id. Each document belongs to the user who created
//! it (claimed with `POST /api/v1/documents`, or by being the first to sync it), and the
//! share policy lets a peer read and write only its user's documents: another user's, even
//! by a guessed id, is "unavailable".

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use offbeat_playlists::storage::DurableStorage;
use samod::{AcceptorHandle, DocumentId, PeerId, Repo, ShareConfig};
use serde::Deserialize;

use crate::app::{error, State};
use crate::auth::Authed;
use crate::db::{Claim, Db};

type AppState = axum::extract::State<Arc<State>>;

#[derive(Debug)]
pub struct Sync {
    repo: Repo,
    acceptor: AcceptorHandle,
}

/// The decision for one (document, peer): read-write for the owner's peers, nothing for
/// anyone else. Unannounced: clients ask for the documents they want.
fn share(db: &Db, doc_id: &DocumentId, peer_id: &PeerId) -> ShareConfig {
    let Ok(Some(user)) = db.peer_user(peer_id.as_str()) else {
        return ShareConfig::none();
    };
    match db.claim_document(&doc_id.to_string(), user) {
        Ok(Claim::Ours) => ShareConfig::read_write().with_announce(false),
        Ok(Claim::Theirs) => ShareConfig::none(),
        Err(e) => {
            tracing::warn!("share policy for {doc_id}: {e}");
            ShareConfig::none()
        }
    }
}

impl Sync {
    pub async fn open(dir: &Path, db: Arc<Db>) -> anyhow::Result<Sync> {
        std::fs::create_dir_all(dir)?;
        let repo = Repo::builder(tokio::runtime::Handle::current())
            .with_storage(DurableStorage::new(dir))
            .with_share_policy(move |doc_id: DocumentId, peer_id: PeerId| {
                futures::stream::iter([share(&db, &doc_id, &peer_id)])
            })
            .load()
            .await;
        let url = url_for("ws://offbeat-server/api/v1/sync")?;
        let acceptor = repo
            .make_acceptor(url)
            .map_err(|_| anyhow::anyhow!("the document repo stopped while starting"))?;
        Ok(Sync { repo, acceptor })
    }

    /// Open sync connections.
    pub fn connections(&self) -> usize {
        self.acceptor.connection_count()
    }

    /// Ends every sync connection (clients reconnect to the next server).
    pub fn close_connections(&self) {
        self.acceptor.close();
    }

    /// Writes every document to disk and stops.
    pub async fn stop(&self) {
        self.repo.stop().await;
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
        let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "too many sync connections");
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("5"),
        );
        return r;
    }
    let limit = state.config.limits.max_sync_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            if state
                .sync
                .acceptor
                .accept_axum(socket, Some(PeerId::from(peer)))
                .is_err()
            {
                tracing::debug!(user = %user.name, "sync connection refused: the repo is stopping");
            }
        })
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

/// `POST /api/v1/documents {"id": "<document id>"}`: records a document as the user's
/// before it is first synced. 409 if it is another user's.
pub async fn claim(
    Authed(user): Authed,
    axum::extract::State(state): AppState,
    body: axum::body::Bytes,
) -> Response {
    let Ok(ClaimBody { id }) = serde_json::from_slice(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body must be {\"id\": \"<document id>\"}",
        );
    };
    let Ok(doc_id) = id.parse::<DocumentId>() else {
        return error(StatusCode::BAD_REQUEST, "not an automerge document id");
    };
    match state.db.claim_document(&doc_id.to_string(), user.id) {
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
