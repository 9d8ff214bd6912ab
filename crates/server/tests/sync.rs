//! Playlist sync through a real `offbeat-server` process: samod clients (the desktop app's
//! repo and dialer) on loopback, each user seeing only their own documents, bad frames,
//! and a SIGTERM that loses nothing acknowledged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;
use std::time::Duration;

use automerge::Automerge;
use common::{add_user, music_copy, Server};
use futures::{SinkExt, StreamExt};
use offbeat_playlists::doc::{self, Place, PlaylistKind, TrackRef};
use offbeat_playlists::pos::RandomJitter;
use offbeat_playlists::remote::ServerDialer;
use samod::{BackoffConfig, DialerHandle, DocHandle, DocumentId, PeerId, Repo};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(15);

struct Client {
    repo: Repo,
    dialer: DialerHandle<offbeat_playlists::remote::Refused>,
}

impl Client {
    async fn connect(server: &Server, token: &str, peer: &str) -> Client {
        let peer = PeerId::from(peer);
        let repo = Repo::build_tokio().with_peer_id(peer.clone()).load().await;
        let dialer = ServerDialer::new(&server.base(), token, &peer).unwrap();
        let dialer = repo
            .dial(BackoffConfig::default(), Arc::new(dialer))
            .unwrap();
        tokio::time::timeout(WAIT, dialer.established())
            .await
            .expect("connected in time")
            .expect("connected");
        Client { repo, dialer }
    }

    /// Waits until the server has every change of `handle`.
    async fn pushed(&self, handle: &DocHandle) {
        let conn = self.dialer.connection_id().expect("connected");
        tokio::time::timeout(WAIT, handle.they_have_our_changes(conn))
            .await
            .expect("the server acknowledged the changes in time");
    }

    async fn find(&self, id: &DocumentId) -> Option<DocHandle> {
        tokio::time::timeout(WAIT, self.repo.find(id.clone()))
            .await
            .expect("find answered in time")
            .expect("repo running")
    }

    async fn stop(self) {
        self.repo.stop().await;
    }
}

fn track(n: usize) -> TrackRef {
    TrackRef {
        track_uid: format!("h:{n:032x}"),
        title: format!("Song {n}"),
        artist: "Artist".into(),
        album: "Album".into(),
        duration_ms: 200_000,
    }
}

fn titles(handle: &DocHandle) -> Vec<String> {
    handle.with_document(|d| {
        doc::read(d)
            .map(|p| p.entries.into_iter().map(|e| e.track.title).collect())
            .unwrap_or_default()
    })
}

async fn new_playlist(client: &Client, name: &str, songs: usize) -> DocHandle {
    let mut d = Automerge::new();
    doc::init(&mut d, PlaylistKind::Playlist, name, 1).unwrap();
    let tracks: Vec<TrackRef> = (0..songs).map(track).collect();
    doc::add(&mut d, &tracks, Place::End, 2, &mut RandomJitter::seeded(1)).unwrap();
    client.repo.create(d).await.unwrap()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_devices_share_playlists_and_no_one_else_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let bo = add_user(&data, "bo");
    let server = Server::start(&music_copy(dir.path()), &data);

    let laptop = Client::connect(&server, &ana, "ana-laptop").await;
    let made = new_playlist(&laptop, "Road trip", 3).await;
    laptop.pushed(&made).await;
    let id = made.document_id().clone();

    // Another of ana's devices finds it, edits it, and the first sees the edit.
    let phone = Client::connect(&server, &ana, "ana-phone").await;
    let there = phone
        .find(&id)
        .await
        .expect("ana's phone finds ana's playlist");
    assert_eq!(titles(&there), ["Song 0", "Song 1", "Song 2"]);
    there.with_document(|d| {
        doc::add(d, &[track(9)], Place::End, 3, &mut RandomJitter::seeded(2)).unwrap();
    });
    phone.pushed(&there).await;
    eventually("the laptop to see the phone's edit", || {
        titles(&made).len() == 4
    })
    .await;

    // bo cannot get it, even knowing its id, and does not see it listed.
    let bos = Client::connect(&server, &bo, "bo-laptop").await;
    assert!(
        bos.find(&id).await.is_none(),
        "bo must not get ana's playlist"
    );
    let listed =
        |token: &str| server.get("/api/v1/documents", Some(token)).json()["documents"].clone();
    assert_eq!(listed(&ana), serde_json::json!([id.to_string()]));
    assert_eq!(listed(&bo), serde_json::json!([]));
    let claim = server.request(
        "POST",
        "/api/v1/documents",
        Some(&bo),
        &[("Content-Type", "application/json")],
        serde_json::json!({ "id": id.to_string() })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(claim.status, 409);

    // Nor can bo pass as one of ana's devices.
    match upgrade(&server, &bo, "ana-laptop").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("bo connected as ana-laptop: {:?}", other.map(|_| ())),
    }

    // bo's own playlist syncs as usual.
    let mine = new_playlist(&bos, "Bo's", 1).await;
    bos.pushed(&mine).await;
    assert_eq!(
        listed(&bo),
        serde_json::json!([mine.document_id().to_string()])
    );

    let open = || server.get("/api/v1/status", Some(&ana)).json()["sync_connections"].clone();
    eventually("three open connections", || open() == 3).await;
    for c in [laptop, phone, bos] {
        c.stop().await;
    }
    eventually("none open", || open() == 0).await;
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The WebSocket upgrade to the sync endpoint, as `peer` with `token` (no samod).
async fn upgrade(
    server: &Server,
    token: &str,
    peer: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!("ws://127.0.0.1:{}/api/v1/sync?peer={peer}", server.port);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    tokio_tungstenite::client_async(request, tcp)
        .await
        .map(|(ws, _)| ws)
}

/// A raw WebSocket to the sync endpoint, for sending what samod never would.
async fn raw_socket(server: &Server, token: &str, peer: &str) -> Socket {
    upgrade(server, token, peer).await.unwrap()
}

/// Reads until the server ends the connection; true if it did within the wait.
async fn closed_by_server(socket: &mut Socket) -> bool {
    tokio::time::timeout(WAIT, async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversize_frames_close_that_connection_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "[limits]\nmax_sync_message_bytes = 65536\n").unwrap();
    let mut server = Server::start_with(&music_copy(dir.path()), &data, Some(&config));

    // A client in good standing, connected throughout.
    let good = Client::connect(&server, &ana, "ana-good").await;
    let before = new_playlist(&good, "Before", 1).await;
    good.pushed(&before).await;

    let garbage: Vec<Message> = vec![
        Message::Binary(b"\xff\x00 not cbor at all".to_vec().into()),
        Message::Text("{\"type\": \"join\"}".into()),
        // Valid CBOR, but not a join: a map {"type": "sync"} with nothing else.
        Message::Binary(
            vec![
                0xa1, 0x64, b't', b'y', b'p', b'e', 0x64, b's', b'y', b'n', b'c',
            ]
            .into(),
        ),
        Message::Binary(vec![0u8; 100_000].into()),
    ];
    for (i, message) in garbage.into_iter().enumerate() {
        let mut socket = raw_socket(&server, &ana, &format!("ana-bad-{i}")).await;
        // (The oversize one may be refused while it is still being sent.)
        let _ = socket.send(message).await;
        assert!(
            closed_by_server(&mut socket).await,
            "frame {i} left the connection open"
        );
    }

    assert!(server.is_running(), "{}", server.log());
    assert_eq!(server.get("/healthz", None).status, 200);
    let after = new_playlist(&good, "After", 2).await;
    good.pushed(&after).await;
    let other = Client::connect(&server, &ana, "ana-other").await;
    assert_eq!(
        titles(&other.find(after.document_id()).await.unwrap()).len(),
        2
    );
    good.stop().await;
    other.stop().await;
}

/// A history POST whose headers and first half of body are on the wire: the server is
/// handling it, waiting for the rest.
struct HalfSentPost {
    socket: std::net::TcpStream,
    rest: Vec<u8>,
}

impl HalfSentPost {
    fn start(server: &Server, token: &str, body: &[u8]) -> HalfSentPost {
        use std::io::Write;
        let mut socket = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let (first, rest) = body.split_at(body.len() / 2);
        write!(
            socket,
            "POST /api/v1/history HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        socket.write_all(first).unwrap();
        HalfSentPost {
            socket,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest; returns the raw answer.
    fn finish(mut self) -> String {
        use std::io::{Read, Write};
        self.socket.write_all(&self.rest).unwrap();
        self.socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut answer = Vec::new();
        self.socket.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_loses_no_acknowledged_change_or_history() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let music = music_copy(dir.path());
    let mut server = Server::start(&music, &data);

    let laptop = Client::connect(&server, &ana, "ana-laptop").await;
    let list = new_playlist(&laptop, "Kept", 50).await;
    laptop.pushed(&list).await;
    let events: Vec<serde_json::Value> = (0..200)
        .map(|i| serde_json::json!({ "id": format!("e{i}"), "played_at": 1_700_000_000_000i64 + i, "ms_played": 1000 }))
        .collect();
    let batch = serde_json::json!({ "events": events }).to_string();
    // A history batch is on its way in...
    let post = HalfSentPost::start(&server, &ana, batch.as_bytes());
    // ...and an edit has just been acknowledged, on a connection still open, when the
    // server is told to stop.
    for n in 100..120 {
        list.with_document(|d| {
            doc::add(
                d,
                &[track(n)],
                Place::At(0),
                3,
                &mut RandomJitter::seeded(n as u64),
            )
            .unwrap();
        });
    }
    laptop.pushed(&list).await;
    let expected = titles(&list);
    server.terminate();

    // Once it refuses new connections it is stopping; the batch is still in flight.
    let port = server.port;
    eventually("the server to stop accepting connections", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    })
    .await;
    let answer = tokio::task::spawn_blocking(move || post.finish())
        .await
        .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the batch in flight was not finished: {answer}"
    );
    assert!(answer.contains("\"stored\":200"), "{answer}");
    let status = server.wait_stopped();
    assert!(status.success(), "exit {status:?}: {}", server.log());
    laptop.stop().await;

    let server = Server::start(&music, &data);
    let phone = Client::connect(&server, &ana, "ana-phone").await;
    let found = phone
        .find(list.document_id())
        .await
        .expect("kept across the restart");
    assert_eq!(titles(&found), expected);
    let mut seen = 0;
    let mut since = String::new();
    loop {
        let page = server
            .get(&format!("/api/v1/history?since={since}"), Some(&ana))
            .json();
        seen += page["events"].as_array().unwrap().len();
        since = page["cursor"].as_str().unwrap().to_owned();
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(seen, 200);
    phone.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_user_closes_their_open_sync_connections() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let bo = add_user(&data, "bo");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "[limits]\nrevocation_check_s = 1\n").unwrap();
    let server = Server::start_with(&music_copy(dir.path()), &data, Some(&config));
    let mut socket = raw_socket(&server, &bo, "bo-laptop").await;
    let open = || server.get("/api/v1/status", Some(&ana)).json()["sync_connections"].clone();
    assert_eq!(open(), 1);
    common::cli(&data, &["user", "revoke", "bo"]);
    assert!(
        closed_by_server(&mut socket).await,
        "the revoked user's socket stayed open"
    );
    eventually("the connection to be gone", || open() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_client_that_stops_answering_is_dropped_and_a_live_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        "[limits]\nsync_ping_s = 1\nsync_idle_timeout_s = 3\n",
    )
    .unwrap();
    let server = Server::start_with(&music_copy(dir.path()), &data, Some(&config));
    let open = || server.get("/api/v1/status", Some(&ana)).json()["sync_connections"].clone();

    // A samod client reads all along (so it answers the server's pings); the mute one is
    // never read from again once connected, so it answers nothing.
    let live = Client::connect(&server, &ana, "ana-live").await;
    let mut mute = raw_socket(&server, &ana, "ana-mute").await;
    eventually("both connections open", || open() == 2).await;

    // Well past the idle limit, only the live one is left.
    eventually("the mute connection to be dropped", || open() == 1).await;
    assert!(
        closed_by_server(&mut mute).await,
        "the mute client's socket stayed open"
    );
    let list = new_playlist(&live, "Still syncing", 2).await;
    live.pushed(&list).await;
    assert_eq!(open(), 1, "the live client was dropped too");
    live.stop().await;
}

/// A device with many playlists syncs them all at once: frames flow both ways in bursts
/// (more than the server's per-connection queues hold), and none of it stalls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_documents_syncs_both_ways_without_stalling() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let server = Server::start(&music_copy(dir.path()), &data);

    let laptop = Client::connect(&server, &ana, "ana-laptop").await;
    let mut made = Vec::new();
    for i in 0..150 {
        made.push(new_playlist(&laptop, &format!("List {i}"), 3).await);
    }
    for handle in &made {
        laptop.pushed(handle).await;
    }

    // A second device asks for all of them at once.
    let phone = Client::connect(&server, &ana, "ana-phone").await;
    let finds = made
        .iter()
        .map(|h| phone.repo.find(h.document_id().clone()));
    let found = tokio::time::timeout(WAIT, futures::future::join_all(finds))
        .await
        .expect("every playlist found in time");
    let found = found
        .into_iter()
        .filter(|f| matches!(f, Ok(Some(_))))
        .count();
    assert_eq!(found, made.len());
    laptop.stop().await;
    phone.stop().await;
}
