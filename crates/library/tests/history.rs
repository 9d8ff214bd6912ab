//! Listening history: imports from Spotify and ListenBrainz (hand-made fixtures in each
//! export's schema, malformed entries included), recording, and the Rewind views.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use offbeat_library::rewind::{period_bounds, DAY_MS};
use offbeat_library::{EndReason, Library, Play};
use offbeat_model::ListenKind;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/history")
        .join(name)
}

/// Local ms of a date at noon.
fn noon(year: i32, month: u32, day: u32) -> i64 {
    let (start, _) = period_bounds(year, Some(month)).unwrap();
    start + i64::from(day - 1) * DAY_MS + DAY_MS / 2
}

/// The demo library scanned, with Polar Night given the MusicBrainz id the ListenBrainz
/// fixture names (its title there differs, so only the id can match it).
fn demo_library(dir: &Path) -> Library {
    let music = dir.join("music");
    common::copy_demo(&music).unwrap();
    let db = dir.join("library.db");
    let mut library = Library::open(&db).unwrap();
    library.scan_folder(&music).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n = conn
        .execute(
            "UPDATE tracks SET mb_recording_id = '8f3471b5-7e6a-48da-86a9-c1c07a0f47ae'
             WHERE title = 'Polar Night'",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    library
}

fn import(library: &mut Library, name: &str) -> offbeat_model::HistoryImportReport {
    let mut seen = Vec::new();
    let report = library
        .import_history(&fixture(name), |done, total| seen.push((done, total)))
        .unwrap();
    if report.entries > 0 {
        assert_eq!(seen.first(), Some(&(0, report.entries)));
        assert_eq!(seen.last(), Some(&(report.entries, report.entries)));
    }
    report
}

fn play(id: &str, uid: &str, at: i64, ms: i64) -> Play {
    Play {
        id: id.into(),
        track_uid: Some(uid.into()),
        played_at: at,
        ms_played: ms,
        device: Some("laptop".into()),
        end_reason: Some(EndReason::Finished),
        source: Some("local".into()),
        listen: Some(true),
        ..Play::default()
    }
}

fn uid_of(library: &Library, title: &str) -> String {
    library
        .tracks()
        .unwrap()
        .into_iter()
        .find(|t| t.title == title)
        .unwrap()
        .uid
        .as_str()
        .to_owned()
}

#[test]
fn spotify_import_matches_keeps_the_unmatched_reports_the_malformed_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let mut library = demo_library(dir.path());
    let report = import(&mut library, "Streaming_History_Audio_2019-2024_0.json");
    assert_eq!(report.format, "Spotify");
    assert_eq!(report.entries, 10);
    assert_eq!(report.imported, 5, "{report:?}");
    assert_eq!(report.already_had, 1, "the repeated entry is one play");
    assert_eq!(report.matched, 4, "{report:?}");
    assert_eq!(report.skipped, 4);
    let reasons: Vec<(u32, &str)> = report
        .issues
        .iter()
        .map(|i| (i.entry, i.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4);
    assert_eq!(reasons[0].0, 5);
    assert!(reasons[0].1.contains("podcast"), "{reasons:?}");
    assert_eq!(reasons[1].0, 6);
    assert!(reasons[1].1.contains("ts"), "{reasons:?}");
    assert_eq!(reasons[2].0, 7);
    assert!(reasons[2].1.contains("ms_played"), "{reasons:?}");
    assert_eq!(reasons[3], (8, "not an object"));

    let plays = library.plays().unwrap();
    assert_eq!(plays.len(), 5);
    // The unmatched listen is kept with its names and counts as a listen.
    let halo = plays
        .iter()
        .find(|p| p.title.as_deref() == Some("Halo"))
        .unwrap();
    assert_eq!(halo.track_uid, None);
    assert_eq!(halo.artist.as_deref(), Some("Beyoncé"));
    assert_eq!(halo.listen, Some(true));
    assert_eq!(halo.origin.as_deref(), Some("spotify"));
    // ts is when the stream ended: the play started ms_played before.
    assert_eq!(halo.played_at, 1_606_562_061_000 - 261_000);
    // Folded names match: "ÉLODIE MARCHAND" / "minuit" / "Café Nocturne".
    let minuit = plays
        .iter()
        .find(|p| p.title.as_deref() == Some("Minuit"))
        .expect("matched to the library's Minuit, with its names");
    assert_eq!(
        minuit.track_uid.as_deref(),
        Some(uid_of(&library, "Minuit").as_str())
    );
    assert_eq!(minuit.end_reason, Some(EndReason::Stopped));
    // A skip is a play but not a listen.
    let undertow = plays
        .iter()
        .find(|p| p.title.as_deref() == Some("Undertow"))
        .unwrap();
    assert!(undertow.skipped);
    assert_eq!(undertow.listen, Some(false));
    assert_eq!(undertow.end_reason, Some(EndReason::Skipped));

    let again = import(&mut library, "Streaming_History_Audio_2019-2024_0.json");
    assert_eq!(again.imported, 0, "re-importing adds nothing");
    assert_eq!(again.already_had, 6);
    assert_eq!(library.plays().unwrap().len(), 5);
    let halo_artist = library.artist_figures("beyonce").unwrap();
    assert_eq!(halo_artist.listens, 1, "counted once, after two imports");
}

#[test]
fn listenbrainz_imports_match_by_recording_id_then_names_and_survive_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut library = demo_library(dir.path());
    let report = import(&mut library, "listens.jsonl");
    assert_eq!(report.format, "ListenBrainz");
    assert_eq!(report.entries, 6);
    assert_eq!(report.imported, 3, "{report:?}");
    assert_eq!(report.matched, 2, "{report:?}");
    assert_eq!(report.skipped, 3);
    assert!(
        report.issues[0].reason.contains("line 4 is not JSON"),
        "{report:?}"
    );
    assert!(
        report.issues[1].reason.contains("listened_at"),
        "{report:?}"
    );
    assert!(
        report.issues[2].reason.contains("track_metadata"),
        "{report:?}"
    );

    let plays = library.plays().unwrap();
    let polar = plays
        .iter()
        .find(|p| p.mbid.as_deref() == Some("8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"))
        .unwrap();
    assert_eq!(
        polar.track_uid.as_deref(),
        Some(uid_of(&library, "Polar Night").as_str())
    );
    assert_eq!(
        polar.title.as_deref(),
        Some("Polar Night"),
        "the library's names"
    );
    assert_eq!(polar.ms_played, 21_500);
    let ace = plays
        .iter()
        .find(|p| p.title.as_deref() == Some("Ace of Spades"))
        .unwrap();
    assert_eq!(ace.track_uid, None);
    assert_eq!(ace.ms_played, 169_000);
    assert_eq!(ace.played_at, 1_701_172_800_000);

    let array = import(&mut library, "listenbrainz_export.json");
    assert_eq!(
        (array.entries, array.imported, array.matched, array.skipped),
        (3, 2, 2, 1)
    );
    assert_eq!(import(&mut library, "listens.jsonl").imported, 0);
    assert_eq!(import(&mut library, "listenbrainz_export.json").imported, 0);
}

#[test]
fn a_broken_or_foreign_file_is_reported_and_nothing_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let mut library = demo_library(dir.path());
    let truncated = import(&mut library, "truncated_spotify.json");
    assert_eq!(truncated.imported, 0);
    assert_eq!(truncated.issues.len(), 1);
    assert_eq!(truncated.issues[0].entry, 0);
    assert!(
        truncated.issues[0].reason.contains("not complete JSON"),
        "{truncated:?}"
    );

    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/manifest.json");
    let foreign = library.import_history(&manifest, |_, _| {}).unwrap();
    assert!(
        foreign.issues[0].reason.contains("neither a Spotify"),
        "{foreign:?}"
    );
    let missing = library
        .import_history(&dir.path().join("nope.json"), |_, _| {})
        .unwrap();
    assert!(
        missing.issues[0].reason.contains("cannot read"),
        "{missing:?}"
    );
    assert!(library.plays().unwrap().is_empty());
}

#[test]
fn rewind_views_answer_from_recorded_and_imported_listens() {
    let dir = tempfile::tempdir().unwrap();
    let mut library = demo_library(dir.path());
    for name in [
        "Streaming_History_Audio_2019-2024_0.json",
        "listens.jsonl",
        "listenbrainz_export.json",
    ] {
        import(&mut library, name);
    }
    let aurora = uid_of(&library, "Aurora");
    let driftwood = uid_of(&library, "Driftwood");
    // Aurora heard again last week; Driftwood loved in 2023, then not for years.
    library
        .record_play(&play("p-1", &aurora, noon(2026, 11, 20), 19_982))
        .unwrap();
    for day in 1..=6 {
        library
            .record_play(&play(
                &format!("d-{day}"),
                &driftwood,
                noon(2023, 3, day),
                21_029,
            ))
            .unwrap();
    }
    let now = noon(2026, 11, 28);

    // On this day: every earlier 28 November, newest year first.
    let days = library.on_this_day(now, 50).unwrap();
    let years: Vec<i32> = days.iter().map(|d| d.year).collect();
    assert_eq!(years, [2024, 2023, 2022, 2020, 2019]);
    let y2020: Vec<&str> = days[3]
        .tracks
        .iter()
        .map(|t| t.title.as_deref().unwrap())
        .collect();
    assert_eq!(y2020, ["Driftwood", "Halo", "Polar Night"]);
    assert!(days[3].tracks[0].track_id.is_some(), "playable as a queue");
    assert_eq!(
        days[3].tracks[1].track_id, None,
        "Halo is not in the library"
    );

    // Anniversaries: Aurora Fields first heard 28 Nov 2019 and heard again this month.
    let anniversaries = library.anniversaries(now, 10).unwrap();
    let names: Vec<(u32, ListenKind, Option<&str>)> = anniversaries
        .iter()
        .map(|a| {
            (
                a.years,
                a.item.kind,
                a.item.album.as_deref().or(a.item.artist.as_deref()),
            )
        })
        .collect();
    assert!(
        names.contains(&(7, ListenKind::Artist, Some("Aurora Fields"))),
        "{names:?}"
    );
    assert!(
        names.contains(&(7, ListenKind::Album, Some("Northern Lights"))),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|(_, _, n)| *n == Some("Beyoncé")),
        "not heard in the last year: no anniversary"
    );

    // Forgotten favourites: Driftwood, 7 listens, the last in 2023.
    let forgotten = library.forgotten_favourites(now, 10).unwrap();
    assert_eq!(forgotten.len(), 1);
    assert_eq!(forgotten[0].title.as_deref(), Some("Driftwood"));
    assert_eq!(forgotten[0].listens, 7);
    assert!(forgotten[0].track_id.is_some());

    // First listens: the newest first; Aurora's first is still 2019 after hearing it again.
    let firsts = library.first_listens(now, 20).unwrap();
    assert_eq!(firsts.artists[0].artist.as_deref(), Some("Élodie Marchand"));
    assert_eq!(firsts.this_week.tracks, 0);
    assert_eq!(firsts.this_month.tracks, 0, "Aurora was heard before");
    let aurora_figures = library.track_figures(&aurora).unwrap();
    assert_eq!(aurora_figures.listens, 2);
    assert_eq!(
        aurora_figures.first_at,
        Some(noon(2019, 11, 28) + 20_000 - 19_982 + offset_of(&library, "Aurora", 2019))
    );
    assert_eq!(aurora_figures.last_at, Some(noon(2026, 11, 20)));
    let album = library
        .album_figures("Aurora Fields", "Northern Lights")
        .unwrap();
    assert_eq!(album.listens, 4, "Aurora twice, Polar Night, Snowfield");

    // Wrap-up of 2020, against 2019.
    let wrap = library.wrap_up(2020, None, 5).unwrap();
    assert_eq!(wrap.totals.listens, 3);
    assert_eq!(wrap.totals.minutes, (21_029 + 261_000 + 21_500) / 60_000);
    assert_eq!(wrap.totals.artists, 3);
    assert_eq!(wrap.previous.listens, 1);
    assert_eq!(wrap.minutes_by_part.len(), 12);
    assert_eq!(
        wrap.minutes_by_part[10], wrap.totals.minutes,
        "all in November"
    );
    assert_eq!(
        wrap.top_tracks[0].title.as_deref(),
        Some("Halo"),
        "the most minutes"
    );
    assert_eq!(wrap.clock.iter().sum::<u32>(), 3);
    // 28 Nov 2020 was a Saturday (weekday 5); the listens were around noon UTC.
    assert_eq!(wrap.clock[5 * 24..6 * 24].iter().sum::<u32>(), 3);
    assert_eq!(wrap.longest_streak_days, 1);
    assert_eq!(wrap.discoveries.artists, 2, "The Lanterns and Beyoncé");
    let genres: Vec<&str> = wrap.top_genres.iter().map(|g| g.genre.as_str()).collect();
    assert_eq!(genres, ["Ambient", "Electronic"], "Halo has no genre");

    // A month's wrap-up: March 2023 had six days in a row.
    let march = library.wrap_up(2023, Some(3), 5).unwrap();
    assert_eq!(march.longest_streak_days, 6);
    assert_eq!(march.streak_start, Some(noon(2023, 3, 1) - DAY_MS / 2));
    assert_eq!(march.minutes_by_part.len(), 31);

    // Suggest Essentials: the library tracks heard most in the last year.
    let loved = library.most_loved(now, 10).unwrap();
    assert_eq!(loved.len(), 1);
    assert_eq!(loved[0].title.as_deref(), Some("Aurora"));
}

/// The offset the import gave a fixture listen (the machine's zone at that time), in ms.
fn offset_of(library: &Library, title: &str, year: i32) -> i64 {
    let p = library
        .plays()
        .unwrap()
        .into_iter()
        .find(|p| p.title.as_deref() == Some(title) && chrono_year(p.played_at) == year)
        .unwrap();
    i64::from(p.utc_offset_min) * 60_000
}

fn chrono_year(ms: i64) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp_millis(ms).unwrap().year()
}

#[test]
fn a_query_past_its_deadline_is_stopped_with_a_clear_error() {
    let library = Library::open_in_memory().unwrap();
    for i in 0..3_000 {
        let at = noon(2020, 1 + (i % 12) as u32, 1 + (i % 28) as u32) + i64::from(i);
        library
            .record_play(&play(
                &format!("p-{i}"),
                &format!("h:{}", i % 300),
                at,
                200_000,
            ))
            .unwrap();
    }
    let past = std::time::Instant::now();
    let err = library
        .with_deadline(past, |l| l.wrap_up(2020, None, 5))
        .unwrap_err();
    assert!(
        matches!(err, offbeat_library::LibraryError::TimedOut),
        "{err:?}"
    );
    // The connection works again afterwards.
    assert_eq!(
        library.wrap_up(2020, None, 5).unwrap().totals.listens,
        3_000
    );
}
