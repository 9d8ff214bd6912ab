//! The store on a real folder: what persists, Essentials, pins, quarantine, and kill -9.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use offbeat_playlists::doc::{Place, PlaylistKind};

mod common;
use common::track;
use offbeat_playlists::{Store, StoreError};

fn titles(store: &Store, id: &str) -> Vec<String> {
    store
        .get(id)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.track.title)
        .collect()
}

#[test]
fn essentials_exists_from_the_first_launch_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let list = store.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].meta.kind, PlaylistKind::Essentials);
    assert_eq!(list[0].meta.name, "Emergency Essentials");
    assert!(list[0].pinned);
    let id = store.essentials_id().to_owned();
    assert!(matches!(
        store.delete(&id, 2),
        Err(StoreError::EssentialsIsPermanent)
    ));
    store.close().unwrap();

    let store = Store::open(dir.path(), 3).unwrap();
    assert_eq!(store.essentials_id(), id);
    assert_eq!(store.list().len(), 1);
    store.close().unwrap();
}

#[test]
fn every_change_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let road = store.create("Road trip", 2).unwrap();
    let added = store
        .add(&road, &(0..5).map(track).collect::<Vec<_>>(), Place::End, 3)
        .unwrap();
    store.add(&road, &[track(9)], Place::At(2), 4).unwrap();
    store.remove(&road, &[added[0].clone()], 5).unwrap();
    store
        .move_entries(&road, &[added[4].clone()], Place::At(0), 6)
        .unwrap();
    store.rename(&road, "Long drive", 7).unwrap();
    store.set_description(&road, "Coast to coast", 8).unwrap();
    let copy = store.duplicate(&road, 9).unwrap();
    let gone = store.create("Temporary", 10).unwrap();
    store.delete(&gone, 11).unwrap();
    store.set_pinned(&road, true).unwrap();
    let want = ["Song 4", "Song 1", "Song 9", "Song 2", "Song 3"];
    assert_eq!(titles(&store, &road), want);
    store.close().unwrap();

    let store = Store::open(dir.path(), 12).unwrap();
    assert_eq!(titles(&store, &road), want);
    assert_eq!(titles(&store, &copy), want);
    let list = store.list();
    let names: Vec<&str> = list.iter().map(|p| p.meta.name.as_str()).collect();
    assert_eq!(
        names,
        ["Emergency Essentials", "Long drive", "Long drive (copy)"]
    );
    let long = &list[1];
    assert_eq!(long.meta.description, "Coast to coast");
    // Made at 2, last changed by the description at 8; the copy is new at 9.
    assert_eq!((long.meta.created_at, long.meta.updated_at), (2, 8));
    assert_eq!(list[2].meta.created_at, 9);
    assert_eq!(long.entry_count, 5);
    assert_eq!(long.duration_ms, 300_000.0);
    assert!(long.pinned, "the pin is kept on this device");
    assert!(!list[2].pinned);
    // Deleted, and brought back whole.
    store.undelete(&gone).unwrap();
    assert_eq!(store.list().len(), 4);
    store.close().unwrap();
}

#[test]
fn a_pin_is_this_devices_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let id = store.create("Gym", 2).unwrap();
    let before = store.get(&id).unwrap();
    store.set_pinned(&id, true).unwrap();
    // The document is untouched: another device does not see this pin.
    assert_eq!(store.get(&id).unwrap(), before);
    let device = std::fs::read_to_string(dir.path().join("device.json")).unwrap();
    assert!(device.contains(&id));
    store.close().unwrap();
}

/// Every chunk file of a document.
fn chunk_files(repo: &Path, id: &str) -> Vec<std::path::PathBuf> {
    let dir = repo.join(&id[..2]).join(&id[2..]);
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn a_corrupt_playlist_is_quarantined_by_name_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let keep = store.create("Keep me", 2).unwrap();
    store.add(&keep, &[track(1)], Place::End, 3).unwrap();
    let broken = store.create("Broken one", 4).unwrap();
    store
        .add(&broken, &[track(2), track(3)], Place::End, 5)
        .unwrap();
    let keep2 = store.create("Cut short", 5).unwrap();
    let essentials = store.essentials_id().to_owned();
    store.close().unwrap();

    // One damaged byte in one file is enough (automerge alone would skip that file and
    // load the rest without a word).
    let files = chunk_files(&dir.path().join("repo"), &broken);
    let file = files.iter().max().unwrap();
    let mut garbled = std::fs::read(file).unwrap();
    let n = garbled.len();
    garbled[n / 2] ^= 0x5A;
    std::fs::write(file, garbled).unwrap();
    // And another playlist's file cut short.
    let cut = chunk_files(&dir.path().join("repo"), &keep2)
        .into_iter()
        .max()
        .unwrap();
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();

    let store = Store::open(dir.path(), 6).unwrap();
    let q = store.quarantined();
    assert_eq!(q.len(), 2, "{q:?}");
    let mut names: Vec<_> = q
        .iter()
        .map(|q| q.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, ["Broken one", "Cut short"]);
    assert!(q.iter().any(|q| q.id == broken));
    assert!(q.iter().all(|q| Path::new(&q.moved_to).is_dir()));
    assert_eq!(titles(&store, &keep), ["Song 1"]);
    assert_eq!(store.essentials_id(), essentials);
    let names: Vec<String> = store.list().into_iter().map(|p| p.meta.name).collect();
    assert_eq!(names, ["Emergency Essentials", "Keep me"]);
    store.close().unwrap();
}

/// Copies every file under `from` that `to` lacks (another device's documents arriving,
/// as a sync would bring them).
fn copy_missing(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_missing(&e.path(), &target);
        } else if !target.exists() {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn adopting_another_devices_index_switches_the_list_and_essentials_together() {
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let a = Store::open(&a_dir, 1).unwrap();
    let trip = a.create("Road trip", 2).unwrap();
    a.add(&a.essentials_id(), &[track(1)], Place::End, 3)
        .unwrap();
    let (shared, shared_essentials) = (a.index_id(), a.essentials_id());
    a.close().unwrap();
    let b = Store::open(&b_dir, 1).unwrap();
    let mine = b.create("Mine", 2).unwrap();
    let old_essentials = b.essentials_id();
    b.add(&old_essentials, &[track(9), track(1)], Place::End, 3)
        .unwrap();
    copy_missing(&a_dir.join("repo"), &b_dir.join("repo"));

    // While B adopts A's index, whoever reads B's list sees the shared one only with the
    // shared Essentials (never one that is not listed, and could be deleted).
    let adopted = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            while !adopted.load(Ordering::Acquire) {
                if b.index_id() == shared {
                    assert_eq!(b.essentials_id(), shared_essentials, "a half-adopted store");
                }
            }
        });
        b.adopt_index(&shared, 4).unwrap();
        adopted.store(true, Ordering::Release);
        reader.join().unwrap();
    });
    assert_eq!(b.index_id(), shared);
    assert_eq!(b.essentials_id(), shared_essentials);
    let ids = |store: &Store| {
        let mut ids: Vec<String> = store.list().into_iter().map(|p| p.id).collect();
        ids.sort();
        ids
    };
    let mut expected = vec![shared_essentials.clone(), trip, mine];
    expected.sort();
    assert_eq!(ids(&b), expected);
    // One Essentials, with both devices' songs, each once.
    assert_eq!(titles(&b, &shared_essentials), ["Song 1", "Song 9"]);
    b.close().unwrap();
    // The old Essentials is retired, not found again as a stray.
    let b = Store::open(&b_dir, 5).unwrap();
    assert_eq!(b.index_id(), shared);
    assert_eq!(ids(&b), expected);
    b.close().unwrap();
}

#[test]
fn losing_device_json_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let id = store.create("Still here", 2).unwrap();
    let essentials = store.essentials_id().to_owned();
    store.close().unwrap();
    std::fs::write(dir.path().join("device.json"), b"{ not json").unwrap();
    let store = Store::open(dir.path(), 3).unwrap();
    assert_eq!(store.essentials_id(), essentials);
    let ids: Vec<String> = store.list().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, [essentials, id]);
    store.close().unwrap();
}

#[test]
fn a_playlist_reads_the_same_from_the_cache_as_from_its_document() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let id = store.create("Cached", 2).unwrap();
    let tracks: Vec<_> = (0..1200).map(track).collect();
    store.add(&id, &tracks, Place::End, 3).unwrap();
    let written = store.get(&id).unwrap();
    store.close().unwrap();
    assert!(dir
        .path()
        .join("cache")
        .join(format!("{id}.json"))
        .is_file());

    let store = Store::open(dir.path(), 4).unwrap();
    let first = store.get(&id).unwrap();
    let listed = store.list().into_iter().find(|p| p.id == id).unwrap();
    // An (empty) edit waits for samod's copy; reads come from it after that.
    store.add(&id, &[], Place::End, 5).unwrap();
    assert_eq!(first, written);
    assert_eq!(store.get(&id).unwrap(), written);
    assert_eq!(listed.entry_count, 1200);
    assert_eq!(store.list().into_iter().find(|p| p.id == id), Some(listed));
    store.close().unwrap();
}

#[test]
fn a_cache_that_is_out_of_date_or_damaged_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let cache = |id: &str| dir.path().join("cache").join(format!("{id}.json"));
    let store = Store::open(dir.path(), 1).unwrap();
    let id = store.create("Changing", 2).unwrap();
    store.add(&id, &[track(1)], Place::End, 3).unwrap();
    store.close().unwrap();
    let old = std::fs::read(cache(&id)).unwrap();

    let store = Store::open(dir.path(), 4).unwrap();
    store.add(&id, &[track(2)], Place::End, 5).unwrap();
    store.close().unwrap();
    // The cache of before the second add, as if the app had been killed before saving.
    std::fs::write(cache(&id), &old).unwrap();
    let store = Store::open(dir.path(), 6).unwrap();
    assert_eq!(titles(&store, &id), ["Song 1", "Song 2"]);
    store.close().unwrap();

    std::fs::write(cache(&id), b"{ \"version\": 1, \"files\": [").unwrap();
    let store = Store::open(dir.path(), 7).unwrap();
    assert_eq!(titles(&store, &id), ["Song 1", "Song 2"]);
    store.close().unwrap();
    // Saved again on close, and current.
    let store = Store::open(dir.path(), 8).unwrap();
    assert_eq!(titles(&store, &id), ["Song 1", "Song 2"]);
    store.close().unwrap();
}

/// The child half of the kill -9 test: adds tracks one by one, printing each id once the
/// store has acknowledged it, until it is killed.
#[test]
fn child_adds_until_killed() {
    let Ok(dir) = std::env::var("OFFBEAT_KILL_TEST_DIR") else {
        return;
    };
    let store = Store::open(Path::new(&dir), 1).unwrap();
    let id = store.create("Crash test", 2).unwrap();
    println!("playlist {id}");
    for n in 0.. {
        let ids = store.add(&id, &[track(n)], Place::End, 3).unwrap();
        println!("ack {}", ids[0]);
    }
}

#[test]
fn kill_9_during_edits_keeps_every_acknowledged_edit() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_adds_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OFFBEAT_KILL_TEST_DIR", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut playlist = String::new();
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // (libtest may print "test child_adds_until_killed ... " on the same line.)
        if let Some((_, id)) = line.split_once("playlist ") {
            playlist = id.trim().to_owned();
        } else if let Some(id) = line.strip_prefix("ack ") {
            acked.push(id.to_owned());
            if acked.len() == 40 {
                // SIGKILL, mid-stream: the child is in the middle of its next add.
                child.kill().unwrap();
                break;
            }
        }
    }
    let _ = child.wait();
    assert_eq!(acked.len(), 40);

    let store = Store::open(dir.path(), 4).unwrap();
    let present: Vec<String> = store
        .get(&playlist)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    for id in &acked {
        assert!(present.contains(id), "acknowledged entry {id} lost");
    }
    assert!(store.quarantined().is_empty());
    store.close().unwrap();
}
