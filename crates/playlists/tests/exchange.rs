//! M3U8 and XSPF: reading well-formed and hostile files, matching, and round trips.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::Path;

use offbeat_model::{Track, TrackUid};
use offbeat_playlists::doc::TrackRef;
use offbeat_playlists::exchange::{
    match_tracks, read_listing, write_m3u8, write_xspf, ExportEntry, Matched,
};

fn lib_track(id: i64, path: &str, artist: &str, title: &str, album: &str) -> Track {
    Track {
        id,
        uid: TrackUid::from_stored(format!("uid-{id}")),
        path: path.into(),
        title: title.into(),
        artist: artist.into(),
        album: album.into(),
        album_artist: artist.into(),
        track_number: None,
        disc_number: None,
        year: None,
        genre: None,
        duration_ms: 200_000,
        format: "FLAC".into(),
        source: offbeat_model::TrackSource::Local,
    }
}

fn library() -> Vec<Track> {
    vec![
        lib_track(
            1,
            "/music/Beyoncé/Halo.flac",
            "Beyoncé",
            "Halo",
            "I Am... Sasha Fierce",
        ),
        lib_track(
            2,
            "/music/Motörhead/Ace.flac",
            "Motörhead",
            "Ace of Spades",
            "Ace of Spades",
        ),
        lib_track(
            3,
            "/music/Live/Ace.flac",
            "Motörhead",
            "Ace of Spades",
            "No Sleep 'til Hammersmith",
        ),
    ]
}

fn uids(matched: &[Matched]) -> Vec<Option<String>> {
    matched
        .iter()
        .map(|m| match m {
            Matched::Track(t) => Some(t.track_uid.clone()),
            Matched::Unmatched(_) => None,
        })
        .collect()
}

#[test]
fn m3u8_matches_by_path_then_by_tags_ignoring_case_and_accents() {
    let text = "#EXTM3U\n#PLAYLIST:Mix\n#EXTINF:261,Beyonce - HALO\n/elsewhere/halo.mp3\n\
                #EXTINF:169,Motorhead - Ace of Spades\n#EXTALB:No Sleep 'til Hammersmith\nx.flac\n\
                Beyoncé/Halo.flac\n#EXTINF:10,Nobody - Nothing\nmissing.mp3\nhttp://radio.example/stream\n";
    let listing = read_listing(Path::new("/music/mix.m3u8"), text.as_bytes()).unwrap();
    assert_eq!(listing.title.as_deref(), Some("Mix"));
    assert_eq!(listing.tracks.len(), 4);
    assert_eq!(listing.tracks[0].duration_ms, Some(261_000));
    // The stream line is reported, not imported.
    assert_eq!(listing.problems.len(), 1);
    assert_eq!(listing.problems[0].line, 11);

    let matched = match_tracks(&listing.tracks, &library());
    assert_eq!(
        uids(&matched),
        [
            Some("uid-1".to_owned()), // tags: Beyonce/HALO
            Some("uid-3".to_owned()), // tags, and the album picks the live one
            Some("uid-1".to_owned()), // relative path under the playlist's folder
            None,
        ]
    );
    let Matched::Unmatched(p) = &matched[3] else {
        panic!("expected unmatched")
    };
    assert_eq!(p.line, 10);
    assert_eq!(p.text, "Nobody - Nothing");
}

#[test]
fn latin1_m3u_is_read_and_said_so() {
    let mut bytes = b"#EXTINF:1,Mot".to_vec();
    bytes.push(0xF6); // ö in Latin-1
    bytes.extend_from_slice(b"rhead - Ace of Spades\n/nowhere.flac\n");
    let listing = read_listing(Path::new("/x/a.m3u"), &bytes).unwrap();
    assert_eq!(listing.tracks[0].artist.as_deref(), Some("Motörhead"));
    assert!(listing.problems[0].reason.contains("Latin-1"));
    assert_eq!(
        uids(&match_tracks(&listing.tracks, &library())),
        [Some("uid-2".to_owned())]
    );
}

#[test]
fn huge_lines_are_skipped_and_reported() {
    let mut text = String::from("#EXTM3U\n");
    text.push_str(&"a".repeat(100_000));
    text.push_str("\n/music/Beyoncé/Halo.flac\n");
    let listing = read_listing(Path::new("/x/a.m3u8"), text.as_bytes()).unwrap();
    assert_eq!(listing.tracks.len(), 1);
    assert_eq!(listing.problems.len(), 1);
    assert!(listing.problems[0].text.len() <= 201);
}

#[test]
fn xspf_reads_tracks_and_refuses_entity_tricks() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE playlist [ <!ENTITY lol "lol"> <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;"> ]>
<playlist version="1" xmlns="http://xspf.org/ns/0/">
  <title>Rock &amp; Roll</title>
  <trackList>
    <track><location>file:///music/Beyonc%C3%A9/Halo.flac</location><title>Halo</title></track>
    <track><creator>Mot&#246;rhead</creator><title>Ace of Spades</title><album>Ace of Spades</album><duration>169000</duration></track>
    <track><title>&lol2;</title><creator>x</creator></track>
    <track><location>https://example.com/a.mp3</location></track>
  </trackList>
</playlist>"#;
    let listing = read_listing(Path::new("/x/p.xspf"), xml.as_bytes()).unwrap();
    assert_eq!(listing.title.as_deref(), Some("Rock & Roll"));
    assert_eq!(listing.tracks.len(), 3);
    assert_eq!(listing.tracks[1].artist.as_deref(), Some("Motörhead"));
    assert_eq!(listing.tracks[1].duration_ms, Some(169_000));
    // The custom entity is not expanded: kept literally, and reported.
    assert_eq!(listing.tracks[2].title.as_deref(), Some("&lol2;"));
    assert!(listing.problems.iter().any(|p| p.reason.contains("entity")));
    // The web stream: reported, and with no title it is not a track.
    assert!(listing.problems.iter().any(|p| p.line == 4));
    let matched = match_tracks(&listing.tracks, &library());
    assert_eq!(
        uids(&matched),
        [Some("uid-1".to_owned()), Some("uid-2".to_owned()), None]
    );
}

#[test]
fn malformed_files_give_a_clear_error() {
    for (name, bytes) in [
        ("a.xspf", &b"<playlist><trackList><track></playlist>"[..]),
        ("a.xspf", &b"<html><body>hi</body></html>"[..]),
        ("a.xspf", &b"\xff\xfe<\x00p\x00"[..]),
        ("a.txt", &b"just some words"[..]),
    ] {
        let err = read_listing(Path::new(name), bytes).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn export_round_trips_through_both_formats() {
    let refs: Vec<TrackRef> = library()
        .iter()
        .map(offbeat_playlists::exchange::track_ref)
        .collect();
    let entries: Vec<ExportEntry<'_>> = library()
        .iter()
        .zip(&refs)
        .map(|(t, r)| ExportEntry {
            track: r,
            path: Some(Box::leak(t.path.clone().into_boxed_str())),
        })
        .chain(std::iter::once(ExportEntry {
            track: &refs[0],
            path: None,
        }))
        .collect();

    let (m3u, skipped) = write_m3u8("Mix & <Match>", &entries);
    assert_eq!(skipped, 1);
    let listing = read_listing(Path::new("/tmp/out.m3u8"), m3u.as_bytes()).unwrap();
    assert_eq!(listing.title.as_deref(), Some("Mix & <Match>"));
    assert_eq!(
        uids(&match_tracks(&listing.tracks, &library())),
        ["uid-1", "uid-2", "uid-3"].map(|u| Some(u.to_owned()))
    );

    let xspf = write_xspf("Mix & <Match>", &entries);
    let listing = read_listing(Path::new("/tmp/out.xspf"), xspf.as_bytes()).unwrap();
    assert_eq!(listing.title.as_deref(), Some("Mix & <Match>"));
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(
        uids(&match_tracks(&listing.tracks, &library())),
        ["uid-1", "uid-2", "uid-3", "uid-1"].map(|u| Some(u.to_owned()))
    );
}

#[test]
fn a_file_is_imported_with_its_name_and_every_problem_in_order() {
    use offbeat_playlists::exchange::{import_file, ExchangeError};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Road trip.m3u8");
    std::fs::write(
        &file,
        "#EXTINF:1,Nobody - Nothing\n/nowhere.mp3\n/music/Beyoncé/Halo.flac\nftp://x/y.mp3\n",
    )
    .unwrap();
    let import = import_file(&file, &library()).unwrap();
    assert_eq!(import.name, "Road trip");
    assert_eq!(import.tracks.len(), 1);
    assert_eq!(import.tracks[0].track_uid, "uid-1");
    let lines: Vec<u32> = import.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [2, 4]);

    let huge = dir.path().join("huge.m3u");
    std::fs::write(&huge, vec![b'#'; 33 * 1024 * 1024]).unwrap();
    assert!(matches!(
        import_file(&huge, &library()),
        Err(ExchangeError::TooLarge(_))
    ));
    assert!(matches!(
        import_file(&dir.path().join("missing.xspf"), &library()),
        Err(ExchangeError::Unreadable(_))
    ));
}
