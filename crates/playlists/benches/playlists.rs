//! Playlists benchmark: opening a 10,000-entry playlist from disk to the list the app
//! sends its webview (every entry resolved in a library of its songs), adding 1,000 tracks
//! in one operation, and merging two forks that each made 500 edits; each against bare
//! automerge doing the underlying work in the same run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: failing loudly is right.

#[path = "../../../benches/report.rs"]
mod report;

use std::time::Duration;

use automerge::transaction::Transactable;
use std::collections::HashMap;

use automerge::{hydrate, Automerge, ObjType, ScalarValue, ROOT};
use offbeat_library::{Library, RemoteChange, RemoteTrack};
use offbeat_playlists::doc::{self, Place, PlaylistKind, TrackRef};
use offbeat_playlists::pos::RandomJitter;
use offbeat_playlists::Store;
use report::{median_time, Figure, Target};

fn tracks(from: usize, n: usize) -> Vec<TrackRef> {
    (from..from + n)
        .map(|i| TrackRef {
            track_uid: format!("{:032x}", i * 7919),
            title: format!("Song number {i}"),
            artist: format!("Artist {}", i % 97),
            album: format!("Album {}", i % 401),
            duration_ms: 180_000 + (i as u32 % 60_000),
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut figures = Vec::new();
    let dir = tempfile::tempdir().unwrap();

    // Open: a store holding a 10k-entry playlist, and a library holding its 10k songs.
    let id = {
        let store = Store::open(dir.path(), 1).unwrap();
        let id = store.create("Big", 1).unwrap();
        store.add(&id, &tracks(0, 10_000), Place::End, 2).unwrap();
        store.close().unwrap();
        id
    };
    let mut library = Library::open(&dir.path().join("library.db")).unwrap();
    let changes: Vec<RemoteChange> = tracks(0, 10_000)
        .into_iter()
        .map(|t| {
            RemoteChange::Upsert(RemoteTrack {
                track_uid: t.track_uid,
                title: t.title,
                album_artist: t.artist.clone(),
                artist: t.artist,
                album: t.album,
                track_number: None,
                disc_number: None,
                year: None,
                genre: None,
                duration_ms: t.duration_ms,
                format: "FLAC".into(),
                size: Some(30_000_000),
            })
        })
        .collect();
    library
        .apply_remote_changes("bench", &changes, "1", true)
        .unwrap();
    // From disk to the first page, as the app's `playlist` command serves it: the store
    // opened, the playlist read, every entry resolved to a library track (its id, and
    // whether it plays from a local file, a cached copy or the server), and the whole list
    // turned into the JSON the webview receives.
    // With the read cache the last quit saved, and without it (after a crash), when the
    // store loads the document itself.
    let open_median = |cached: bool| {
        let mut opens: Vec<Duration> = (0..5)
            .map(|_| {
                if !cached {
                    let _ = std::fs::remove_dir_all(dir.path().join("cache"));
                }
                let start = std::time::Instant::now();
                let store = Store::open(dir.path(), 3).unwrap();
                let list = store.get(&id).unwrap();
                let uids: Vec<&str> = list
                    .entries
                    .iter()
                    .map(|e| e.track.track_uid.as_str())
                    .collect();
                let found = library.resolve_uids(&uids).unwrap();
                let view: Vec<_> = list
                    .entries
                    .iter()
                    .map(|e| (e, found.get(&e.track.track_uid)))
                    .collect();
                assert_eq!(found.len(), 10_000, "every entry resolves");
                let json = serde_json::to_string(&view).unwrap();
                std::hint::black_box((&json, &view[..100]));
                let took = start.elapsed();
                // Closing (samod compacts what it loaded) is not part of opening.
                store.close().unwrap();
                took
            })
            .collect();
        opens.sort();
        opens[2]
    };
    let open = open_median(true);
    let open_uncached = open_median(false);
    let saved = {
        let mut d = Automerge::new();
        doc::init(&mut d, PlaylistKind::Playlist, "Big", 1).unwrap();
        doc::add(
            &mut d,
            &tracks(0, 10_000),
            Place::End,
            2,
            &mut RandomJitter::seeded(1),
        )
        .unwrap();
        d.save()
    };
    let bare_load = median_time(5, || {
        std::hint::black_box(Automerge::load(&saved).unwrap());
    });
    figures.push(Figure {
        name: "open_10k_entry_playlist_uncached_ms",
        value: ms(open_uncached),
        unit: "ms",
        note: format!(
            "as above with no read cache (after a crash): the store loads the document; ratio to bare load {:.1}",
            open_uncached.as_secs_f64() / bare_load.as_secs_f64()
        ),
    });
    figures.push(Figure {
        name: "open_10k_entry_playlist_ms",
        value: ms(open),
        unit: "ms",
        note: format!(
            "store open, read, every entry resolved in the library and sent as JSON, read cache current (as after a quit); bare Automerge::load {:.1} ms, ratio {:.1}",
            ms(bare_load),
            open.as_secs_f64() / bare_load.as_secs_f64()
        ),
    });

    // Add 1000 in one operation, written to disk before it returns.
    let store = Store::open(dir.path(), 4).unwrap();
    let small = store.create("Small", 4).unwrap();
    let batch = tracks(20_000, 1000);
    let add = median_time(5, || {
        store.add(&small, &batch, Place::End, 5).unwrap();
    });
    store.close().unwrap();
    // The baseline: the same entries written by bare automerge (one batch per entry, as
    // the store does), in memory.
    let bare_add = median_time(5, || {
        let mut d = Automerge::new();
        d.transact::<_, _, automerge::AutomergeError>(|tx| {
            let entries = tx.put_object(ROOT, "entries", ObjType::Map)?;
            for (i, t) in batch.iter().enumerate() {
                let text = |s: &str| hydrate::Value::Scalar(ScalarValue::Str(s.into()));
                let fields: HashMap<&str, hydrate::Value> = [
                    ("track_uid", text(&t.track_uid)),
                    ("title", text(&t.title)),
                    ("artist", text(&t.artist)),
                    ("album", text(&t.album)),
                    (
                        "duration_ms",
                        hydrate::Value::Scalar(ScalarValue::Int(i64::from(t.duration_ms))),
                    ),
                    ("pos", text(&format!("{i:08}"))),
                    ("added_at", hydrate::Value::Scalar(ScalarValue::Int(5))),
                ]
                .into_iter()
                .collect();
                tx.batch_create_object(&entries, format!("{i:032x}"), &fields.into(), false)?;
            }
            Ok(())
        })
        .unwrap();
        std::hint::black_box(d);
    });
    figures.push(Figure {
        name: "add_1000_tracks_ms",
        value: ms(add),
        unit: "ms",
        note: format!(
            "one add, on disk when it returns; bare automerge (same batches, in memory) {:.1} ms, ratio {:.1}",
            ms(bare_add),
            add.as_secs_f64() / bare_add.as_secs_f64()
        ),
    });

    // Merge: two forks of a 1000-entry playlist, 500 edits each (adds, moves, removes,
    // renames), one transaction per edit; merged and read in order.
    let mut base = Automerge::new();
    doc::init(&mut base, PlaylistKind::Playlist, "Shared", 1).unwrap();
    let mut j = RandomJitter::seeded(2);
    doc::add(&mut base, &tracks(0, 1000), Place::End, 2, &mut j).unwrap();
    let ids: Vec<String> = doc::read(&base)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    let edit = |d: &mut Automerge, seed: u64, from: usize| {
        let mut j = RandomJitter::seeded(seed);
        for k in 0..500 {
            let pick = &ids[(k * 7 + from) % ids.len()];
            match k % 4 {
                0 => drop(doc::add(d, &tracks(from + k, 1), Place::At(k), 3, &mut j).unwrap()),
                1 => doc::move_entries(d, std::slice::from_ref(pick), Place::At(k), 3, &mut j)
                    .unwrap(),
                2 => drop(doc::remove(d, std::slice::from_ref(pick), 3).unwrap()),
                _ => doc::rename(d, &format!("Shared {k}"), 3).unwrap(),
            }
        }
    };
    let mut a = base.fork();
    let mut b = base.fork();
    edit(&mut a, 10, 5000);
    edit(&mut b, 11, 6000);
    let merge = median_time(5, || {
        let mut left = a.fork();
        left.merge(&mut b.fork()).unwrap();
        std::hint::black_box(doc::read(&left).unwrap());
    });
    let forks = median_time(5, || {
        std::hint::black_box((a.fork(), b.fork()));
    });
    let bare_merge = median_time(5, || {
        let mut left = a.fork();
        left.merge(&mut b.fork()).unwrap();
        std::hint::black_box(left);
    });
    let merge = merge.saturating_sub(forks);
    let bare_merge = bare_merge.saturating_sub(forks);
    figures.push(Figure {
        name: "merge_two_forks_1000_concurrent_ops_ms",
        value: ms(merge),
        unit: "ms",
        note: format!(
            "merge + read in order (copying the forks excluded); bare merge {:.1} ms, ratio {:.1}",
            ms(bare_merge),
            merge.as_secs_f64() / bare_merge.as_secs_f64().max(1e-9)
        ),
    });

    report::report_against(
        "playlists",
        &figures,
        &[
            ("open_10k_entry_playlist_ms", Target::Below(150.0)),
            ("add_1000_tracks_ms", Target::Below(200.0)),
            (
                "merge_two_forks_1000_concurrent_ops_ms",
                Target::Below(100.0),
            ),
        ],
    )
    .unwrap();
}
