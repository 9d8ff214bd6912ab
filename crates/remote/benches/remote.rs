//! Paired-mode benchmark, against the real `offbeat-server` (release) on loopback:
//!
//! - `mirror_100k_catalog_s`: a first full mirror of a 100,000-track catalog into a new
//!   library, against `catalog_download_s`, reading the same pages with no library at all.
//! - `offline_switch_ms`: from the server dying (SIGKILL) to the health saying offline,
//!   with a live sync connection, against `refused_connect_ms`, how long a bare TCP
//!   connect to the dead port takes to fail.
//! - `converge_after_restart_ms`: two devices edit one playlist while the server is down;
//!   from its restart (the spawn) until both hold the merged playlist, against
//!   `server_start_ms`, the restarted server's own time to listen.
//!
//! The 100,000-file folder is made once by tests/support/make-music.py into
//! target/bench-corpus/remote-100k.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: failing loudly is right.

#[path = "../../server/tests/common/mod.rs"]
mod common;
#[path = "../../../benches/report.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{add_user, music_copy, Server};
use offbeat_playlists::{Place, Store};
use offbeat_remote::{pair, Api, HealthState, Pairing, Remote, RemoteOptions, CATALOG_PAGE};
use report::{Figure, Target};
use support::{block_on, song, titles, wait_until as wait};

const CATALOG: usize = 100_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The 100,000 tiny tagged WAV files, made once.
fn corpus() -> PathBuf {
    let dir = repo().join("target/bench-corpus/remote-100k");
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        println!("making {CATALOG} files in {} (once)", dir.display());
        let status = std::process::Command::new("python3")
            .arg(repo().join("tests/support/make-music.py"))
            .arg(&dir)
            .arg(CATALOG.to_string())
            .args(["--seconds", "0.05", "--prefix", "Bench"])
            .status()
            .unwrap();
        assert!(status.success(), "make-music.py failed");
        std::fs::write(&done, b"").unwrap();
    }
    dir
}

fn options(pairing: &Pairing, dir: &Path) -> RemoteOptions {
    support::options(pairing, dir, Duration::from_secs(30))
}

fn mirror(work: &Path) -> (f64, f64) {
    let music = corpus();
    let data = work.join("server-100k");
    let token = add_user(&data, "bench");
    let started = Instant::now();
    let server = Server::start(&music, &data);
    println!(
        "server scanned {CATALOG} files in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pairing = block_on(pair(None, &server.base(), &token)).unwrap().0;

    // Baseline: the same pages, read and parsed, stored nowhere.
    let api = Api::new(&pairing.urls, &token).unwrap();
    let started = Instant::now();
    let mut tracks = 0;
    block_on(async {
        let mut cursor: Option<String> = None;
        loop {
            let page = api.catalog(cursor.as_deref(), CATALOG_PAGE).await.unwrap();
            tracks += page.changes.len();
            cursor = Some(page.cursor);
            if !page.more {
                break;
            }
        }
    });
    let download = started.elapsed().as_secs_f64();
    assert_eq!(tracks, CATALOG);

    let client = work.join("client-100k");
    std::fs::create_dir_all(&client).unwrap();
    let started = Instant::now();
    let remote = Remote::start(options(&pairing, &client)).unwrap();
    wait("the mirror caught up", 300, || {
        let h = remote.health();
        h.catalog_tracks as usize == CATALOG && h.catalog_mirrored_ms.is_some()
    });
    let mirrored = started.elapsed().as_secs_f64();
    let library = offbeat_library::Library::open(&client.join("library.db")).unwrap();
    assert_eq!(library.track_count().unwrap() as usize, CATALOG);
    drop(remote);
    (mirrored, download)
}

/// (offline switch, refused connect, converge after restart, server start), in ms.
fn outage(work: &Path) -> (f64, f64, f64, f64) {
    let music = music_copy(work);
    let data = work.join("server-small");
    add_user(&data, "harness");
    let token = add_user(&data, "ana");
    let mut server = Server::start(&music, &data);
    let port = server.port;
    let pairing = block_on(pair(None, &server.base(), &token)).unwrap().0;

    let a_dir = work.join("a");
    let b_dir = work.join("b");
    let a = Arc::new(Store::open(&a_dir.join("playlists"), 1).unwrap());
    let trip = a.create("Road trip", 2).unwrap();
    a.add(&trip, &[song(1), song(2), song(3)], Place::End, 3)
        .unwrap();
    let b = Arc::new(Store::open(&b_dir.join("playlists"), 1).unwrap());
    let remote_a = Remote::start(options(&pairing, &a_dir)).unwrap();
    remote_a.sync_playlists(a.clone()).unwrap();
    wait("A synced", 30, || {
        remote_a.health().state == HealthState::Online
    });
    let remote_b = Remote::start(options(&pairing, &b_dir)).unwrap();
    remote_b.sync_playlists(b.clone()).unwrap();
    wait("B has the playlist", 30, || titles(&b, &trip).len() == 3);
    wait("both online", 30, || {
        remote_a.health().state == HealthState::Online
            && remote_b.health().state == HealthState::Online
    });

    // The server dies with both connections live.
    let killed = Instant::now();
    server.kill();
    wait("A offline", 30, || {
        remote_a.health().state == HealthState::Offline
    });
    let offline_switch = killed.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let refused = started.elapsed().as_secs_f64() * 1000.0;
    wait("B offline", 30, || {
        remote_b.health().state == HealthState::Offline
    });

    // Both edit the playlist offline.
    a.add(&trip, &[song(4)], Place::End, 10).unwrap();
    let second = b.get(&trip).unwrap().entries[1].id.clone();
    b.remove(&trip, &[second], 11).unwrap();
    b.rename(&trip, "Road trip 2026", 12).unwrap();
    let merged = ["Song 1", "Song 3", "Song 4"];

    let restarted = Instant::now();
    let server = Server::start_at(&music, &data, None, &format!("127.0.0.1:{port}"));
    let server_start = restarted.elapsed().as_secs_f64() * 1000.0;
    remote_a.wake();
    remote_b.wake();
    wait("both merged", 60, || {
        titles(&a, &trip) == merged && titles(&b, &trip) == merged
    });
    let converge = restarted.elapsed().as_secs_f64() * 1000.0;
    drop((remote_a, remote_b, server));
    (offline_switch, refused, converge, server_start)
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let (mirrored, download) = mirror(work.path());
    let (offline_switch, refused, converge, server_start) = outage(work.path());
    let figures = [
        Figure {
            name: "mirror_100k_catalog_s",
            value: mirrored,
            unit: "s",
            note: format!("{:.1}x reading the pages alone", mirrored / download),
        },
        Figure {
            name: "catalog_download_s",
            value: download,
            unit: "s",
            note: "baseline: the same pages, stored nowhere".into(),
        },
        Figure {
            name: "offline_switch_ms",
            value: offline_switch,
            unit: "ms",
            note: format!(
                "{:.0}x a refused connect",
                offline_switch / refused.max(0.001)
            ),
        },
        Figure {
            name: "refused_connect_ms",
            value: refused,
            unit: "ms",
            note: "baseline: a bare TCP connect to the dead port".into(),
        },
        Figure {
            name: "converge_after_restart_ms",
            value: converge,
            unit: "ms",
            note: format!("{:.1}x the server's own start", converge / server_start),
        },
        Figure {
            name: "server_start_ms",
            value: server_start,
            unit: "ms",
            note: "baseline: spawn to listening (and its rescan)".into(),
        },
    ];
    report::report_against(
        "remote",
        &figures,
        &[
            ("mirror_100k_catalog_s", Target::Below(10.0)),
            ("offline_switch_ms", Target::Below(5000.0)),
            ("converge_after_restart_ms", Target::Below(2000.0)),
        ],
    )
    .unwrap();
}
