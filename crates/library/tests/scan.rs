//! Scanning the demo library and messy folders through the public API.

use std::path::Path;

use offbeat_library::Library;
use offbeat_model::{ProblemKind, Track};
use serde_json::Value;

mod common;

use common::{copy_demo, demo_dir};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn manifest() -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(demo_dir().join("manifest.json"))?;
    Ok(serde_json::from_str(&text)?)
}

fn by_title<'a>(tracks: &'a [Track], title: &str) -> Option<&'a Track> {
    tracks.iter().find(|t| t.title == title)
}

#[test]
fn scanning_the_demo_reads_every_field() -> TestResult {
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&demo_dir())?;
    let expected = manifest()?;
    assert_eq!(report.added as usize, expected.len());
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    let tracks = library.tracks()?;
    assert_eq!(tracks.len(), expected.len());
    for want in &expected {
        let title = want["title"].as_str().unwrap_or_default();
        let track = by_title(&tracks, title).ok_or(format!("{title} missing"))?;
        assert_eq!(
            track.artist,
            want["artist"].as_str().unwrap_or_default(),
            "{title}"
        );
        assert_eq!(
            track.album,
            want["album"].as_str().unwrap_or_default(),
            "{title}"
        );
        assert_eq!(
            track.album_artist,
            want["album_artist"].as_str().unwrap_or_default(),
            "{title}"
        );
        assert_eq!(
            track.track_number.map(u64::from),
            want["track_number"].as_u64(),
            "{title}"
        );
        assert_eq!(
            track.disc_number.map(u64::from),
            want["disc_number"].as_u64(),
            "{title}"
        );
        assert_eq!(track.year.map(i64::from), want["year"].as_i64(), "{title}");
        assert_eq!(track.genre.as_deref(), want["genre"].as_str(), "{title}");
        assert_eq!(
            track.format,
            want["format"].as_str().unwrap_or_default(),
            "{title}"
        );
        let duration = want["duration_ms"].as_i64().unwrap_or_default();
        assert!(
            (i64::from(track.duration_ms) - duration).abs() < 150,
            "{title}: duration {} vs {duration}",
            track.duration_ms
        );
        assert!(
            track.uid.as_str().starts_with("h:"),
            "{title}: {}",
            track.uid
        );
        assert!(
            track
                .path
                .ends_with(want["path"].as_str().unwrap_or_default()),
            "{}",
            track.path
        );
    }
    Ok(())
}

#[test]
fn rescanning_an_unchanged_folder_changes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut library = Library::open(&dir.path().join("library.db"))?;
    assert_eq!(library.journal_mode()?, "wal");
    library.scan_folder(&demo_dir())?;
    let before = library.tracks()?;
    let again = library.scan_folder(&demo_dir())?;
    assert_eq!((again.added, again.updated, again.removed), (0, 0, 0));
    assert_eq!(again.unchanged as usize, before.len());
    assert_eq!(library.tracks()?, before);
    Ok(())
}

#[test]
fn rescans_pick_up_changed_and_deleted_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    copy_demo(dir.path())?;
    let mut library = Library::open_in_memory()?;
    library.scan_folder(dir.path())?;
    let before = library.tracks()?;

    let gone = by_title(&before, "Undertow").ok_or("Undertow missing")?;
    std::fs::remove_file(&gone.path)?;
    // Appending bytes changes size and mtime; the file still reads.
    let changed = by_title(&before, "Aurora").ok_or("Aurora missing")?;
    let mut bytes = std::fs::read(&changed.path)?;
    bytes.extend_from_slice(&[0u8; 16]);
    std::fs::write(&changed.path, bytes)?;

    let report = library.scan_folder(dir.path())?;
    assert_eq!((report.removed, report.updated, report.added), (1, 1, 0));
    let after = library.tracks()?;
    assert_eq!(after.len(), before.len() - 1);
    assert!(by_title(&after, "Undertow").is_none());
    // The changed file keeps its row (and so anything that refers to it).
    assert_eq!(by_title(&after, "Aurora").map(|t| t.id), Some(changed.id));
    assert!(
        library.search("undertow", 10)?.is_empty(),
        "deleted tracks leave the search index"
    );
    Ok(())
}

#[test]
fn track_uid_is_the_same_for_copies_at_different_paths() -> TestResult {
    let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    copy_demo(&a.path().join("Music"))?;
    copy_demo(&b.path().join("elsewhere/else"))?;
    let uids = |dir: &Path| -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
        let mut library = Library::open_in_memory()?;
        library.scan_folder(dir)?;
        let mut uids: Vec<_> = library
            .tracks()?
            .into_iter()
            .map(|t| (t.title, t.uid.to_string()))
            .collect();
        uids.sort();
        Ok(uids)
    };
    let (first, second) = (uids(a.path())?, uids(b.path())?);
    assert_eq!(first.len(), 8);
    assert_eq!(first, second);
    let mut distinct: Vec<_> = first.iter().map(|(_, uid)| uid).collect();
    distinct.dedup();
    assert_eq!(distinct.len(), first.len(), "every track has its own uid");
    Ok(())
}

#[test]
fn search_matches_the_start_of_any_word_in_title_artist_or_album() -> TestResult {
    let mut library = Library::open_in_memory()?;
    library.scan_folder(&demo_dir())?;
    let check = |query: &str, expected: &[&str]| -> TestResult {
        let mut titles: Vec<String> = library
            .search(query, 100)?
            .into_iter()
            .map(|t| t.title)
            .collect();
        titles.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(titles, expected, "query {query:?}");
        Ok(())
    };
    check("drift", &["Driftwood"])?; // title prefix
    check("POLAR ni", &["Polar Night"])?; // two words, any case
    check("lantern", &["Driftwood", "Undertow", "Saltwater"])?; // artist, second word
    check("noct", &["Minuit", "Velours"])?; // album, second word
    check("cafe", &["Minuit", "Velours"])?; // "Café" without the accent
    check("élo", &["Minuit", "Velours"])?; // with the accent
    check("mira", &["Undertow"])?; // featured artist
    check("north aur", &["Aurora", "Polar Night", "Snowfield"])?; // words across fields
    check("wood", &[])?; // not the start of a word
    check("\"*", &[])?; // punctuation alone searches nothing, and does not error
    Ok(())
}

#[test]
fn unreadable_files_are_reported_and_the_rest_is_indexed() -> TestResult {
    let dir = tempfile::tempdir()?;
    copy_demo(dir.path())?;
    let album = dir.path().join("Aurora Fields/Northern Lights");
    // A FLAC cut off inside its metadata: corrupt.
    let flac = std::fs::read(album.join("01 Aurora.flac"))?;
    std::fs::write(album.join("04 Broken.flac"), &flac[..60])?;
    // A text file named like a song: not audio.
    std::fs::write(
        album.join("05 Notes.mp3"),
        "liner notes, not music\n".repeat(40),
    )?;
    // Something that is not music at all, with no known extension.
    std::fs::write(
        dir.path().join("setup.bin"),
        [0x7fu8, b'E', b'L', b'F', 2, 1, 1, 0].repeat(50),
    )?;

    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(dir.path())?;
    assert_eq!(report.added, 8, "every good file is indexed: {report:?}");
    let kinds: Vec<(String, ProblemKind)> = report
        .problems
        .iter()
        .map(|p| {
            (
                Path::new(&p.path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                p.kind,
            )
        })
        .collect();
    assert!(
        kinds.contains(&("04 Broken.flac".into(), ProblemKind::Corrupt)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("05 Notes.mp3".into(), ProblemKind::NotAudio)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("setup.bin".into(), ProblemKind::NotAudio)),
        "{kinds:?}"
    );
    assert!(report.problems.iter().all(|p| !p.reason.is_empty()));
    assert_eq!(library.problems()?.len(), 3, "problems are kept for the UI");
    Ok(())
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_reported_as_permission_denied() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("locked.flac");
    std::fs::copy(
        demo_dir().join("Aurora Fields/Northern Lights/01 Aurora.flac"),
        &path,
    )?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000))?;
    if std::fs::File::open(&path).is_ok() {
        // Running as root: permissions do not apply, so there is nothing to observe.
        return Ok(());
    }
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(dir.path())?;
    assert_eq!(
        report.problems.first().map(|p| p.kind),
        Some(ProblemKind::PermissionDenied)
    );
    Ok(())
}

#[test]
fn a_missing_folder_is_a_clear_error() -> TestResult {
    let mut library = Library::open_in_memory()?;
    let err = library
        .scan_folder(Path::new("/no/such/folder"))
        .err()
        .ok_or("expected an error")?;
    assert!(err.to_string().contains("/no/such/folder"), "{err}");
    Ok(())
}

#[test]
fn progress_rises_and_only_the_last_report_says_done() -> TestResult {
    // Over 5,000 files (more than one transaction): the demo's, linked into 650 folders.
    let mut demo = Library::open_in_memory()?;
    demo.scan_folder(&demo_dir())?;
    let originals: Vec<std::path::PathBuf> =
        demo.tracks()?.into_iter().map(|t| t.path.into()).collect();
    let dir = tempfile::tempdir()?;
    for i in 0..650 {
        let folder = dir.path().join(format!("music/copy {i:03}"));
        std::fs::create_dir_all(&folder)?;
        for path in &originals {
            std::fs::hard_link(path, folder.join(path.file_name().ok_or("a name")?))?;
        }
    }
    let total = (originals.len() * 650) as u32;
    let mut library = Library::open(&dir.path().join("library.db"))?;
    let mut reports = Vec::new();
    library.scan_folder_with(
        &dir.path().join("music"),
        &mut |p| reports.push(p.clone()),
        &std::sync::atomic::AtomicBool::new(false),
    )?;
    let (last, before) = reports.split_last().ok_or("no progress reported")?;
    assert_eq!((last.files_done, last.files_found), (total, total));
    assert!(!before.is_empty(), "progress before the end");
    for p in before {
        assert!(
            p.files_done < p.files_found && p.files_found <= total,
            "only the last report is complete: {p:?}"
        );
    }
    assert!(before
        .windows(2)
        .all(|w| w[0].files_done <= w[1].files_done));
    Ok(())
}
