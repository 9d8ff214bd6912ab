//! Watching a folder, and files moved or renamed inside the library.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use offbeat_library::{FolderWatcher, Library};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn demo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/demo")
        .join(relative)
}

#[test]
fn a_file_added_to_a_watched_folder_is_reported_and_indexed_by_a_rescan() -> TestResult {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().canonicalize()?;
    let (changed, changes) = mpsc::channel();
    let mut watcher = FolderWatcher::start(move |root| {
        let _ = changed.send(root.to_path_buf());
    })?;
    watcher.watch(&folder)?;
    let mut library = Library::open_in_memory()?;
    library.scan_folder(&folder)?;
    assert_eq!(library.track_count()?, 0);

    std::fs::create_dir(folder.join("new album"))?;
    std::fs::copy(
        demo_file("Aurora Fields/Northern Lights/01 Aurora.flac"),
        folder.join("new album/01.flac"),
    )?;
    // Generous: the debounce is under a second; a loaded CI machine may be slow.
    let root = changes.recv_timeout(Duration::from_secs(30))?;
    assert_eq!(root, folder);
    let report = library.scan_folder(&root)?;
    assert_eq!(report.added, 1);

    std::fs::remove_file(folder.join("new album/01.flac"))?;
    let root = changes.recv_timeout(Duration::from_secs(30))?;
    assert_eq!(library.scan_folder(&root)?.removed, 1);
    assert_eq!(library.track_count()?, 0);
    Ok(())
}

#[test]
fn a_moved_or_renamed_file_keeps_its_track_uid() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("a"))?;
    std::fs::copy(
        demo_file("The Lanterns/Tidal Rooms/01 Driftwood.mp3"),
        dir.path().join("a/01.mp3"),
    )?;
    let mut library = Library::open_in_memory()?;
    library.scan_folder(dir.path())?;
    let before = library.tracks()?;

    std::fs::create_dir_all(dir.path().join("b/c"))?;
    std::fs::rename(
        dir.path().join("a/01.mp3"),
        dir.path().join("b/c/Driftwood (renamed).mp3"),
    )?;
    let report = library.scan_folder(dir.path())?;
    assert_eq!((report.added, report.removed), (1, 1));
    let after = library.tracks()?;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].uid, before[0].uid);
    assert!(after[0].path.ends_with("b/c/Driftwood (renamed).mp3"));
    Ok(())
}

#[test]
fn reading_files_in_a_watched_folder_is_not_a_change() -> TestResult {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().canonicalize()?;
    let file = folder.join("01.flac");
    std::fs::copy(
        demo_file("Aurora Fields/Northern Lights/01 Aurora.flac"),
        &file,
    )?;
    let (changed, changes) = mpsc::channel();
    let mut watcher = FolderWatcher::start(move |root| {
        let _ = changed.send(root.to_path_buf());
    })?;
    watcher.watch(&folder)?;
    // A scan reads every new file's tags; playing or streaming reads it again.
    let mut library = Library::open_in_memory()?;
    library.scan_folder(&folder)?;
    for _ in 0..3 {
        std::fs::read(&file)?;
    }
    assert!(
        changes.recv_timeout(Duration::from_secs(3)).is_err(),
        "reading was reported as a change"
    );
    Ok(())
}
