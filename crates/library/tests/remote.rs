//! A paired server's catalog mirrored into the library: local and server tracks side by
//! side, one row per `track_uid`, a local file always winning, and the cache index.

use offbeat_library::{CachedFile, Library, RemoteChange, RemoteTrack};
use offbeat_model::TrackSource;

mod common;

use common::{copy_demo, demo_dir};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn server_track(uid: &str, title: &str) -> RemoteTrack {
    RemoteTrack {
        track_uid: uid.to_owned(),
        title: title.to_owned(),
        artist: "Server Band".to_owned(),
        album: "Only On The Server".to_owned(),
        album_artist: "Server Band".to_owned(),
        track_number: Some(1),
        disc_number: Some(1),
        year: Some(2020),
        genre: Some("Ambient, Drone".to_owned()),
        duration_ms: 120_000,
        format: "FLAC".to_owned(),
        size: Some(1234),
    }
}

#[test]
fn server_tracks_show_beside_local_ones_once_per_uid_and_a_local_file_wins() -> TestResult {
    let dir = tempfile::tempdir()?;
    let music = dir.path().join("music");
    copy_demo(&music)?;
    let mut library = Library::open(&dir.path().join("library.db"))?;
    library.scan_folder(&music)?;
    let local = library.tracks()?;
    let aurora = local
        .iter()
        .find(|t| t.title == "Aurora")
        .ok_or("demo has Aurora")?
        .clone();

    // The server has Aurora too (same uid), and two tracks this device lacks.
    let mut aurora_there = server_track(aurora.uid.as_str(), "Aurora");
    aurora_there.artist = aurora.artist.clone();
    library.apply_remote_changes(
        "srv1",
        &[
            RemoteChange::Upsert(aurora_there),
            RemoteChange::Upsert(server_track("h:aaaa", "Glacier Song")),
            RemoteChange::Upsert(server_track("h:bbbb", "Ice Shelf")),
        ],
        "3",
        true,
    )?;
    assert_eq!(library.remote_cursor("srv1")?.as_deref(), Some("3"));
    let all = library.tracks()?;
    assert_eq!(all.len(), local.len() + 2, "one row per uid");
    let by_title = |title: &str| all.iter().find(|t| t.title == title).cloned();
    assert_eq!(
        by_title("Aurora").ok_or("aurora")?.source,
        TrackSource::Local
    );
    let glacier = by_title("Glacier Song").ok_or("glacier")?;
    assert_eq!(glacier.source, TrackSource::Server);
    assert_eq!(glacier.artist, "Server Band");

    // Search and browse see server tracks; the server's folder is not a folder to scan.
    let found = library.search("glacier", 10)?;
    assert_eq!(found.len(), 1);
    assert!(library
        .folders()?
        .iter()
        .all(|f| !f.starts_with("offbeat-server:")));
    let remote = library.remote_file(glacier.id)?.ok_or("remote file")?;
    assert_eq!(
        (remote.server_id.as_str(), remote.uid.as_str()),
        ("srv1", "h:aaaa")
    );
    assert_eq!(remote.size, Some(1234));
    assert!(library.remote_file(aurora.id)?.is_none(), "a local track");

    // A verified cached copy makes the server track "cached", and it counts as on device.
    library.record_cached(&CachedFile {
        uid: "h:aaaa".into(),
        file: "h_aaaa.flac".into(),
        size: 1234,
        sha256: "00".into(),
        last_used_ms: 1,
    })?;
    let glacier = library.track(glacier.id)?.ok_or("still there")?;
    assert_eq!(glacier.source, TrackSource::Cached);
    let on_device = library.on_device(&["h:aaaa", "h:bbbb", aurora.uid.as_str()])?;
    assert!(on_device.contains("h:aaaa") && on_device.contains(aurora.uid.as_str()));
    assert!(!on_device.contains("h:bbbb"));
    // A playlist resolves its entries to the same tracks and sources; an unknown uid is
    // left out.
    let resolved = library.resolve_uids(&["h:aaaa", "h:bbbb", aurora.uid.as_str(), "h:none"])?;
    assert_eq!(resolved.len(), 3);
    assert_eq!(resolved["h:aaaa"], (glacier.id, TrackSource::Cached));
    assert_eq!(resolved["h:bbbb"].1, TrackSource::Server);
    assert_eq!(
        resolved[aurora.uid.as_str()],
        (aurora.id, TrackSource::Local)
    );

    // The local Aurora goes: the server's copy shows in its place.
    let aurora_file = library.track_file(aurora.id)?.ok_or("file")?;
    std::fs::remove_file(&aurora_file)?;
    library.scan_folder(&music)?;
    let aurora_now = library
        .tracks()?
        .into_iter()
        .find(|t| t.title == "Aurora")
        .ok_or("aurora from the server")?;
    assert_eq!(aurora_now.source, TrackSource::Server);
    assert_eq!(aurora_now.uid, aurora.uid);

    // And comes back: the local file wins again, still one row.
    std::fs::copy(
        demo_dir().join("Aurora Fields/Northern Lights/01 Aurora.flac"),
        &aurora_file,
    )?;
    library.scan_folder(&music)?;
    let auroras: Vec<_> = library
        .tracks()?
        .into_iter()
        .filter(|t| t.title == "Aurora")
        .collect();
    assert_eq!(auroras.len(), 1);
    assert_eq!(auroras[0].source, TrackSource::Local);

    // Deletions in the change log remove the row; artists and albums left empty go too.
    library.apply_remote_changes("srv1", &[RemoteChange::Delete("h:bbbb".into())], "4", true)?;
    assert!(library.search("ice shelf", 10)?.is_empty());
    assert_eq!(library.tracks()?.len(), local.len() + 1);

    // Unpairing forgets the catalog and hands back the cached files to delete.
    let cached = library.forget_server("srv1")?;
    assert_eq!(cached.len(), 1);
    assert_eq!(library.tracks()?.len(), local.len());
    assert!(library.artists()?.iter().all(|a| a.name != "Server Band"));
    assert_eq!(library.remote_cursor("srv1")?, None);
    Ok(())
}

#[test]
fn a_changed_server_track_is_updated_in_place() -> TestResult {
    let mut library = Library::open_in_memory()?;
    library.apply_remote_changes(
        "s",
        &[RemoteChange::Upsert(server_track("h:1", "Old"))],
        "1",
        false,
    )?;
    let id = library.tracks()?[0].id;
    assert_eq!(library.remote_summary("s")?, (None, 1));
    library.apply_remote_changes(
        "s",
        &[RemoteChange::Upsert(server_track("h:1", "New"))],
        "2",
        true,
    )?;
    let tracks = library.tracks()?;
    assert_eq!(tracks.len(), 1);
    assert_eq!((tracks[0].id, tracks[0].title.as_str()), (id, "New"));
    assert!(library.search("old", 5)?.is_empty());
    assert_eq!(library.search("new", 5)?.len(), 1);
    assert!(library.remote_summary("s")?.0.is_some());
    Ok(())
}

#[test]
fn a_search_returns_a_row_of_names_in_full_and_counts_the_rest() -> TestResult {
    let mut library = Library::open_in_memory()?;
    // Thirty bands named "Echo …", each with an album "Echo …" and one track.
    let changes: Vec<RemoteChange> = (0..30)
        .map(|i| {
            let mut track = server_track(&format!("h:echo{i:02}"), &format!("Song {i}"));
            track.artist = format!("Echo Band {i:02}");
            track.album_artist = track.artist.clone();
            track.album = format!("Echo Album {i:02}");
            RemoteChange::Upsert(track)
        })
        .collect();
    library.apply_remote_changes("srv1", &changes, "1", true)?;
    let results = library.search_grouped("echo", 200)?;
    let shown = offbeat_library::NAME_SHOWN as usize;
    assert_eq!(results.artists.len(), shown);
    assert_eq!(results.albums.len(), shown);
    // The first by name, each with its counts.
    let names: Vec<&str> = results.artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        (0..shown)
            .map(|i| format!("Echo Band {i:02}"))
            .collect::<Vec<_>>()
    );
    assert!(results
        .artists
        .iter()
        .all(|a| (a.album_count, a.track_count) == (1, 1)));
    assert_eq!(results.albums[0].title, "Echo Album 00");
    assert_eq!(results.albums[0].track_count, 1);
    // Matches are counted up to the limit, and more are flagged.
    let limit = offbeat_library::NAME_MATCH_LIMIT;
    assert_eq!(
        (results.artist_matches, results.more_artists),
        (limit, true)
    );
    assert_eq!((results.album_matches, results.more_albums), (limit, true));
    // Fewer than a row: all of them, counted exactly.
    let results = library.search_grouped("echo band 07", 200)?;
    assert_eq!(results.artists.len(), 1);
    assert_eq!((results.artist_matches, results.more_artists), (1, false));
    assert_eq!((results.album_matches, results.more_albums), (1, false));
    Ok(())
}
