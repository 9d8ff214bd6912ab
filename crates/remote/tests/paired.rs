//! Paired mode against the real `offbeat-server` on loopback: pairing, the catalog
//! mirrored into a real library file, verified and resumed downloads, pinned tracks kept,
//! the health states from real outcomes (offline after SIGKILL, degraded on 503,
//! unauthorized after revocation), and playlist sync through the heartbeat dialer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests.

#[path = "../../server/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{add_user, cli, music_copy, Server};
use offbeat_library::Library;
use offbeat_model::TrackSource;
use offbeat_remote::{pair, ApiError, HealthState, PairError, Pairing, Remote, RemoteOptions};
use support::{block_on, song, titles};

/// Waits (up to 30 s) until the health satisfies `ok`.
fn wait_health(remote: &Remote, what: &str, ok: impl Fn(&offbeat_remote::Health) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = remote.health();
        if ok(&health) {
            return;
        }
        assert!(Instant::now() < deadline, "never {what}: {health:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn options(pairing: &Pairing, dir: &Path) -> RemoteOptions {
    support::options(pairing, dir, Duration::from_millis(300))
}

fn wait_until(what: &str, ok: impl Fn() -> bool) {
    support::wait_until(what, 30, ok);
}

fn paired(server: &Server, token: &str) -> Pairing {
    block_on(pair(None, &server.base(), token)).unwrap().0
}

#[test]
fn pairing_checks_the_token_and_counts_two_addresses_of_one_server_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music, &data);

    let refused = block_on(pair(None, &server.base(), "not-the-token"));
    assert!(
        matches!(refused, Err(PairError::Api(ApiError::Unauthorized))),
        "{refused:?}"
    );
    let nobody = block_on(pair(None, "127.0.0.1:1", &token));
    assert!(
        matches!(nobody, Err(PairError::Api(ApiError::Unreachable(_)))),
        "{nobody:?}"
    );

    let (first, status) =
        block_on(pair(None, &format!("127.0.0.1:{}", server.port), &token)).unwrap();
    assert_eq!(status.catalog_tracks, 8);
    assert_eq!(first.server_id, status.server_id);
    // The same server by another name is the same pairing, with both addresses.
    let (both, _) = block_on(pair(
        Some(&first),
        &format!("http://localhost:{}/", server.port),
        &token,
    ))
    .unwrap();
    assert_eq!(both.server_id, first.server_id);
    assert_eq!(
        both.urls,
        [
            format!("http://127.0.0.1:{}", server.port),
            format!("http://localhost:{}", server.port)
        ]
    );
    // A different server is refused while one is paired.
    let other_dir = dir.path().join("other");
    let other_token = add_user(&other_dir, "bo");
    let other = Server::start(&music, &other_dir);
    let clash = block_on(pair(Some(&first), &other.base(), &other_token));
    assert!(matches!(clash, Err(PairError::OtherServer(_))), "{clash:?}");
}

#[test]
fn the_catalog_is_mirrored_and_files_come_down_verified_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music, &data);
    let client = dir.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let pairing = paired(&server, &token);
    let remote = Remote::start(options(&pairing, &client)).unwrap();
    wait_health(&remote, "online with the catalog", |h| {
        h.state == HealthState::Online && h.catalog_tracks == 8 && h.catalog_mirrored_ms.is_some()
    });

    let library = Library::open(&client.join("library.db")).unwrap();
    let tracks = library.tracks().unwrap();
    assert_eq!(tracks.len(), 8);
    assert!(tracks.iter().all(|t| t.source == TrackSource::Server));
    assert!(library
        .search("aurora", 10)
        .unwrap()
        .iter()
        .any(|t| t.title == "Aurora"));

    // Covers come from the server's thumbnails, kept once fetched.
    let art = remote.art(tracks[0].uid.as_str(), 96).expect("a cover");
    assert_eq!(&std::fs::read(&art).unwrap()[..2], b"\xff\xd8", "a JPEG");
    assert_eq!(remote.art(tracks[0].uid.as_str(), 96), Some(art));

    // A download is byte-for-byte the server's file, and the track is then "cached".
    let aurora = tracks.iter().find(|t| t.title == "Aurora").unwrap().clone();
    let original = std::fs::read(music.join("01 Aurora.flac")).unwrap();
    let path = block_on(remote.fetch(aurora.uid.as_str(), &aurora.format)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), original);
    assert_eq!(
        library.track(aurora.id).unwrap().unwrap().source,
        TrackSource::Cached
    );
    assert_eq!(remote.cached(aurora.uid.as_str()), Some(path.clone()));

    // A copy that went missing is not trusted, and comes down again.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(remote.cached(aurora.uid.as_str()), None);
    assert_eq!(
        library.track(aurora.id).unwrap().unwrap().source,
        TrackSource::Server
    );

    // A partial download resumes from where it stopped (Range + If-Range).
    let cache = client.join("cache");
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    let etag = server
        .get(
            &format!("/api/v1/tracks/{}/file", aurora.uid.as_str()),
            Some(&token),
        )
        .header("etag")
        .unwrap()
        .to_owned();
    std::fs::write(
        cache.join(format!("{name}.part")),
        &original[..original.len() / 2],
    )
    .unwrap();
    std::fs::write(cache.join(format!("{name}.part.etag")), &etag).unwrap();
    let path = block_on(remote.fetch(aurora.uid.as_str(), &aurora.format)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), original);

    // A part that is not what the server has fails the checksum and is never used.
    let minuit = tracks.iter().find(|t| t.title == "Minuit").unwrap().clone();
    let name = offbeat_remote::cache::file_name(minuit.uid.as_str(), &minuit.format);
    let etag = server
        .get(
            &format!("/api/v1/tracks/{}/file", minuit.uid.as_str()),
            Some(&token),
        )
        .header("etag")
        .unwrap()
        .to_owned();
    std::fs::write(cache.join(format!("{name}.part")), vec![7u8; 100]).unwrap();
    std::fs::write(cache.join(format!("{name}.part.etag")), &etag).unwrap();
    let corrupt = block_on(remote.fetch(minuit.uid.as_str(), &minuit.format));
    assert!(
        matches!(corrupt, Err(offbeat_remote::DownloadError::Corrupt)),
        "{corrupt:?}"
    );
    assert!(!cache.join(&name).exists());
    assert_eq!(
        library.track(minuit.id).unwrap().unwrap().source,
        TrackSource::Server
    );
    // The next attempt starts clean and succeeds.
    block_on(remote.fetch(minuit.uid.as_str(), &minuit.format)).unwrap();
    assert_eq!(
        library.track(minuit.id).unwrap().unwrap().source,
        TrackSource::Cached
    );
}

#[test]
fn pinned_tracks_download_by_themselves_and_survive_eviction() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music, &data);
    let client = dir.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let pairing = paired(&server, &token);
    let mut opts = options(&pairing, &client);
    opts.cache_budget_bytes = 1; // Nothing unpinned may stay.
    let remote = Remote::start(opts).unwrap();
    wait_health(&remote, "mirrored", |h| h.catalog_tracks == 8);
    let library = Library::open(&client.join("library.db")).unwrap();
    let tracks = library.tracks().unwrap();
    let pinned: HashMap<String, String> = tracks
        .iter()
        .take(3)
        .map(|t| (t.uid.as_str().to_owned(), t.format.clone()))
        .collect();
    remote.set_pinned(pinned.clone());
    wait_health(&remote, "pinned downloaded", |_| {
        let uids: Vec<&str> = pinned.keys().map(String::as_str).collect();
        library.on_device(&uids).unwrap().len() == 3
    });
    // An unpinned download is evicted at once (budget 1 byte); the pinned stay.
    let other = &tracks[5];
    block_on(remote.fetch(other.uid.as_str(), &other.format)).unwrap();
    let uids: Vec<&str> = pinned.keys().map(String::as_str).collect();
    assert_eq!(library.on_device(&uids).unwrap().len(), 3);
    assert!(library.cached_file(other.uid.as_str()).unwrap().is_none());
    // Unpinned, they may go.
    remote.set_pinned(HashMap::new());
    wait_health(&remote, "evicted", |h| h.cache_bytes == 0.0);
}

#[test]
fn health_goes_offline_when_the_server_dies_and_back_online_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    add_user(&data, "harness"); // The harness's own token, which stays valid.
    let token = add_user(&data, "ana");
    let mut server = Server::start(&music, &data);
    let port = server.port;
    let client = dir.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let pairing = paired(&server, &token);
    let remote = Remote::start(options(&pairing, &client)).unwrap();
    wait_health(&remote, "online", |h| h.state == HealthState::Online);

    server.kill();
    wait_health(&remote, "offline", |h| {
        h.state == HealthState::Offline && h.reason.is_some() && h.retry_in_s.is_some()
    });
    // The mirrored catalog is all still there.
    let library = Library::open(&client.join("library.db")).unwrap();
    assert!(library
        .search("aurora", 10)
        .unwrap()
        .iter()
        .any(|t| t.title == "Aurora"));

    let server = Server::start_at(&music, &data, None, &format!("127.0.0.1:{port}"));
    remote.wake();
    wait_health(&remote, "online again", |h| h.state == HealthState::Online);
    drop(server);

    // Revoked: "unauthorized", not "offline".
    cli(&data, &["user", "revoke", "ana"]);
    let _server = Server::start_at(&music, &data, None, &format!("127.0.0.1:{port}"));
    remote.wake();
    wait_health(&remote, "unauthorized", |h| {
        h.state == HealthState::Unauthorized
    });
}

#[test]
fn a_server_shedding_load_shows_degraded_with_its_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "[limits]\nmax_in_flight = 0\n").unwrap();
    // Pair while it answers, then restart it shedding every request.
    let mut server = Server::start(&music, &data);
    let pairing = paired(&server, &token);
    let port = server.port;
    server.stop();
    let server = Server::start_at(&music, &data, Some(&config), &format!("127.0.0.1:{port}"));
    let client = dir.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let remote = Remote::start(options(&pairing, &client)).unwrap();
    wait_health(&remote, "degraded", |h| {
        h.state == HealthState::Degraded && h.retry_in_s.is_some_and(|s| s >= 1)
    });
    // Still degraded (not offline: the server answers) a while later; the wait before the
    // next attempt is never shorter than the server's Retry-After (1-3 s), as the backoff's
    // own test checks.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(remote.health().state, HealthState::Degraded);
    drop(server);
}

#[test]
fn playlists_sync_through_the_dialer_and_the_state_passes_through_syncing() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music, &data);
    let client = dir.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let store = Arc::new(offbeat_playlists::Store::open(&client.join("playlists"), 1).unwrap());
    let id = store.create("Road trip", 2).unwrap();
    let pairing = paired(&server, &token);
    let remote = Remote::start(options(&pairing, &client)).unwrap();
    remote.sync_playlists(store.clone()).unwrap();
    wait_health(&remote, "synced", |h| {
        h.state == HealthState::Online && h.sync_connected && h.last_sync_ms.is_some()
    });
    // The server holds the playlist now, as this user's.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let docs = server.get("/api/v1/documents", Some(&token)).json();
        let has = docs["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.as_str() == Some(id.as_str()));
        if has {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the playlist never reached the server: {docs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_devices_share_one_playlist_list_and_their_offline_edits_merge() {
    use offbeat_playlists::{Place, Store};
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    add_user(&data, "harness");
    let token = add_user(&data, "ana");
    let mut server = Server::start(&music, &data);
    let port = server.port;
    let pairing = paired(&server, &token);

    // Device A has a playlist and an Essentials song; device B its own Essentials song.
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    let a = Arc::new(Store::open(&a_dir.join("playlists"), 1).unwrap());
    let trip = a.create("Road trip", 2).unwrap();
    a.add(&trip, &[song(1), song(2), song(3)], Place::End, 3)
        .unwrap();
    a.add(&a.essentials_id(), &[song(1)], Place::End, 3)
        .unwrap();
    let b = Arc::new(Store::open(&b_dir.join("playlists"), 1).unwrap());
    b.add(&b.essentials_id(), &[song(9), song(1)], Place::End, 3)
        .unwrap();

    let remote_a = Remote::start(options(&pairing, &a_dir)).unwrap();
    remote_a.sync_playlists(a.clone()).unwrap();
    wait_health(&remote_a, "A synced", |h| {
        h.last_sync_ms.is_some() && h.sync_connected
    });
    // A came first: its list is the user's (the health can say "synced" from the catalog
    // round before A's connection has offered its index; then B could come first).
    wait_until("A's index is the user's", || {
        server.get("/api/v1/index", Some(&token)).json()["index"].as_str()
            == Some(a.index_id().as_str())
    });
    let remote_b = Remote::start(options(&pairing, &b_dir)).unwrap();
    remote_b.sync_playlists(b.clone()).unwrap();

    // B adopts the shared list: A's playlist shows there, and one Essentials holds both
    // devices' songs, each once.
    wait_until("B lists Road trip", || {
        b.list().iter().any(|p| p.id == trip)
    });
    assert_eq!(b.index_id(), a.index_id());
    assert_eq!(b.essentials_id(), a.essentials_id());
    let essentials = a.essentials_id();
    wait_until("Essentials merged on A", || {
        let mut t = titles(&a, &essentials);
        t.sort();
        t == ["Song 1", "Song 9"]
    });
    assert_eq!(
        b.list()
            .iter()
            .filter(|p| p.meta.kind == offbeat_playlists::PlaylistKind::Essentials)
            .count(),
        1
    );
    wait_until("B has the playlist's songs", || {
        titles(&b, &trip) == ["Song 1", "Song 2", "Song 3"]
    });

    // The server dies; both edit the same playlist offline.
    server.kill();
    wait_health(&remote_a, "A offline", |h| h.state == HealthState::Offline);
    wait_health(&remote_b, "B offline", |h| h.state == HealthState::Offline);
    a.add(&trip, &[song(4)], Place::End, 10).unwrap();
    let second = b.get(&trip).unwrap().entries[1].id.clone();
    b.remove(&trip, &[second], 11).unwrap();
    b.add(&trip, &[song(5)], Place::At(0), 12).unwrap();
    a.rename(&trip, "Road trip 2026", 13).unwrap();

    // It returns: both hold the same merged playlist, every edit kept.
    let _server = Server::start_at(&music, &data, None, &format!("127.0.0.1:{port}"));
    remote_a.wake();
    remote_b.wake();
    let merged = ["Song 5", "Song 1", "Song 3", "Song 4"];
    wait_until("A merged", || titles(&a, &trip) == merged);
    wait_until("B merged", || titles(&b, &trip) == merged);
    wait_until("B renamed", || {
        b.get(&trip).map(|p| p.meta.name).ok().as_deref() == Some("Road trip 2026")
    });
    wait_health(&remote_a, "A online", |h| h.state == HealthState::Online);
    wait_health(&remote_b, "B online", |h| h.state == HealthState::Online);
}

/// Copies a folder, leaving out the paths under it for which `skip` holds.
fn copy_dir(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if skip(&path) {
            continue;
        }
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target, skip);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn a_listed_playlist_the_server_lacks_at_first_is_fetched_soon_after_it_arrives() {
    use offbeat_playlists::{Place, Store};
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music, &data);
    let pairing = paired(&server, &token);

    // Device D makes a playlist offline. Device A is D's folder without that playlist's
    // document (nor D's storage id): A lists a playlist that nobody connected has yet.
    let d_dir = dir.path().join("d");
    let a_dir = dir.path().join("a");
    let trip = {
        let d = Store::open(&d_dir.join("playlists"), 1).unwrap();
        let trip = d.create("Road trip", 2).unwrap();
        d.add(&trip, &[song(1), song(2)], Place::End, 3).unwrap();
        d.flush().unwrap();
        trip
    };
    let (head, rest) = trip.split_at(2);
    let lacking = [
        d_dir.join("playlists/repo").join(head).join(rest),
        d_dir.join("playlists/repo/st/orage-adapter-id"),
        d_dir.join("playlists/cache"),
    ];
    assert!(
        lacking[0].is_dir(),
        "the playlist's files are not at {lacking:?}"
    );
    copy_dir(&d_dir, &a_dir, &|p| lacking.iter().any(|l| l == p));
    let a = Arc::new(Store::open(&a_dir.join("playlists"), 1).unwrap());
    assert!(a.get(&trip).is_err(), "A already holds the playlist");

    // A connects and finds the playlist missing. Its rounds are a minute apart, so only a
    // prompt retry can fetch it once D brings it.
    let slow = support::options(&pairing, &a_dir, Duration::from_secs(60));
    let remote_a = Remote::start(slow).unwrap();
    remote_a.sync_playlists(a.clone()).unwrap();
    wait_health(&remote_a, "A synced", |h| {
        h.last_sync_ms.is_some() && h.sync_connected
    });
    let d = Arc::new(Store::open(&d_dir.join("playlists"), 1).unwrap());
    let remote_d = Remote::start(options(&pairing, &d_dir)).unwrap();
    remote_d.sync_playlists(d.clone()).unwrap();

    support::wait_until("A holds the playlist D brought", 20, || {
        titles(&a, &trip) == ["Song 1", "Song 2"]
    });
}

#[test]
fn plays_go_up_once_from_the_outbox_and_come_down_on_other_devices() {
    let dir = tempfile::tempdir().unwrap();
    let music = music_copy(dir.path());
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let mut server = Server::start(&music, &data);
    let port = server.port;
    let pairing = paired(&server, &token);
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let a_library = Library::open(&a_dir.join("library.db")).unwrap();
    let play = |id: &str, at: i64| offbeat_library::Play {
        id: id.into(),
        track_uid: Some("h:1".into()),
        played_at: at,
        ms_played: 30_000,
        skipped: false,
        device: Some("a".into()),
        ..Default::default()
    };
    a_library.record_play(&play("a-1", 1)).unwrap();
    let remote_a = Remote::start(options(&pairing, &a_dir)).unwrap();
    wait_health(&remote_a, "uploaded", |h| {
        h.state == HealthState::Online && h.pending_uploads == 0
    });

    // Offline, plays wait; back online, they go up, and a retry stores nothing twice.
    server.kill();
    wait_health(&remote_a, "offline", |h| h.state == HealthState::Offline);
    a_library.record_play(&play("a-2", 2)).unwrap();
    a_library.record_play(&play("a-3", 3)).unwrap();
    remote_a.wake();
    wait_health(&remote_a, "two waiting", |h| h.pending_uploads == 2);
    let server = Server::start_at(&music, &data, None, &format!("127.0.0.1:{port}"));
    remote_a.wake();
    wait_health(&remote_a, "all up", |h| {
        h.state == HealthState::Online && h.pending_uploads == 0
    });
    let resent = server.request(
        "POST",
        "/api/v1/history",
        Some(&token),
        &[("content-type", "application/json")],
        br#"{"events": [{"id": "a-2", "played_at": 2, "ms_played": 30000}]}"#,
    );
    assert_eq!(resent.json()["duplicates"], 1);
    let stored = server.get("/api/v1/history", Some(&token)).json();
    assert_eq!(stored["events"].as_array().unwrap().len(), 3);

    // Another device gets every play, once.
    let remote_b = Remote::start(options(&pairing, &b_dir)).unwrap();
    let b_library = Library::open(&b_dir.join("library.db")).unwrap();
    wait_until("B has the plays", || b_library.plays().unwrap().len() == 3);
    assert_eq!(b_library.outbox_len().unwrap(), 0);
    drop(remote_b);
}
