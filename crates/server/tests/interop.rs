//! Interop: a JavaScript automerge-repo client (npm `@automerge/automerge-repo` and its
//! WebSocket adapter, run by node: tests/interop/client.mjs) and the desktop app's Rust
//! client edit the same playlists through a real `offbeat-server`, in both directions.
//! `make test` installs the npm packages (`tests/interop/node_modules`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use automerge::Automerge;
use common::{add_user, music_copy, Server};
use offbeat_playlists::doc::{self, Place, PlaylistKind, TrackRef};
use offbeat_playlists::pos::RandomJitter;
use offbeat_playlists::remote::ServerDialer;
use samod::{BackoffConfig, DocHandle, DocumentId, PeerId, Repo};

const WAIT: Duration = Duration::from_secs(15);

fn interop_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop");
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").is_dir(),
        "the JavaScript client's packages are missing: run `make test` (or `npm ci` in {})",
        dir.display()
    );
    dir
}

/// Runs the JavaScript client; returns what it printed.
fn js(server: &Server, token: &str, peer: &str, args: &[&str]) -> String {
    let dir = interop_dir();
    let out = Command::new("node")
        .current_dir(&dir)
        .arg("client.mjs")
        .arg(args[0])
        .arg(server.port.to_string())
        .arg(token)
        .arg(peer)
        .args(&args[1..])
        .output()
        .expect("node runs (apt install nodejs)");
    assert!(
        out.status.success(),
        "node client.mjs {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn titles(handle: &DocHandle) -> Vec<String> {
    handle.with_document(|d| {
        doc::read(d)
            .map(|p| p.entries.into_iter().map(|e| e.track.title).collect())
            .unwrap_or_default()
    })
}

fn js_titles(json: &str) -> (String, Vec<String>) {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut entries: Vec<(String, String)> = doc["entries"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, e)| {
            (
                format!("{}\u{0}{id}", e["pos"].as_str().unwrap()),
                e["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    entries.sort();
    (
        doc["name"].as_str().unwrap().to_owned(),
        entries.into_iter().map(|(_, t)| t).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_client_and_the_rust_client_edit_the_same_playlists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music_copy(dir.path()), &data);

    // The Rust client: the desktop app's repo and dialer.
    let peer = PeerId::from("ana-rust");
    let repo = Repo::build_tokio().with_peer_id(peer.clone()).load().await;
    let dialer = Arc::new(ServerDialer::new(&server.base(), &token, &peer).unwrap());
    let dialer = repo.dial(BackoffConfig::default(), dialer).unwrap();
    tokio::time::timeout(WAIT, dialer.established())
        .await
        .unwrap()
        .unwrap();
    let conn = dialer.connection_id().unwrap();

    // JavaScript makes a playlist; Rust reads it (JS strings arrive as Text) and adds one.
    let id = js(
        &server,
        &token,
        "ana-js-1",
        &["create", "From JS", "JS 1", "JS 2"],
    );
    let doc_id: DocumentId = id.parse().unwrap();
    let from_js = tokio::time::timeout(WAIT, repo.find(doc_id))
        .await
        .unwrap()
        .unwrap()
        .expect("Rust finds the JavaScript client's playlist");
    let meta = from_js.with_document(|d| doc::read_meta(d).unwrap());
    assert_eq!(meta.name, "From JS");
    assert_eq!(meta.kind, PlaylistKind::Playlist);
    assert_eq!(titles(&from_js), ["JS 1", "JS 2"]);
    let rust_track = TrackRef {
        track_uid: "h:rust".into(),
        title: "Rust 1".into(),
        artist: "Rust Artist".into(),
        album: "Rust Album".into(),
        duration_ms: 1000,
    };
    from_js.with_document(|d| {
        doc::add(
            d,
            std::slice::from_ref(&rust_track),
            Place::End,
            5,
            &mut RandomJitter::seeded(1),
        )
        .unwrap();
    });
    tokio::time::timeout(WAIT, from_js.they_have_our_changes(conn))
        .await
        .unwrap();
    let (name, seen) = js_titles(&js(&server, &token, "ana-js-2", &["read", &id]));
    assert_eq!(name, "From JS");
    assert_eq!(seen, ["JS 1", "JS 2", "Rust 1"]);

    // The reverse: Rust makes one, JavaScript reads it and adds one, Rust sees it.
    let mut d = Automerge::new();
    doc::init(&mut d, PlaylistKind::Playlist, "From Rust", 1).unwrap();
    let tracks: Vec<TrackRef> = (1..=2)
        .map(|n| TrackRef {
            title: format!("Rust {n}"),
            track_uid: format!("h:r{n}"),
            ..rust_track.clone()
        })
        .collect();
    doc::add(&mut d, &tracks, Place::End, 2, &mut RandomJitter::seeded(2)).unwrap();
    let from_rust = repo.create(d).await.unwrap();
    tokio::time::timeout(WAIT, from_rust.they_have_our_changes(conn))
        .await
        .unwrap();
    let rust_id = from_rust.document_id().to_string();
    let (name, seen) = js_titles(&js(&server, &token, "ana-js-3", &["read", &rust_id]));
    assert_eq!(name, "From Rust");
    assert_eq!(seen, ["Rust 1", "Rust 2"]);
    js(&server, &token, "ana-js-4", &["add", &rust_id, "JS 3"]);
    let deadline = tokio::time::Instant::now() + WAIT;
    while titles(&from_rust) != ["Rust 1", "Rust 2", "JS 3"] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Rust never saw the JavaScript edit: {:?}",
            titles(&from_rust)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Another user's JavaScript client cannot read it.
    let bo = add_user(&data, "bo");
    let out = Command::new("node")
        .current_dir(interop_dir())
        .args([
            "client.mjs",
            "read",
            &server.port.to_string(),
            &bo,
            "bo-js",
            &rust_id,
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "bo's JavaScript client read ana's playlist"
    );
    repo.stop().await;
}
