//! Scanning a folder into the library: new and changed files are read, unchanged files
//! (same size and mtime) are skipped, and files that disappeared are removed.
//!
//! Tags are read on worker threads (one per core) while this thread writes results in
//! batches, one transaction per batch, so tracks appear while a scan runs and a crash
//! loses at most one batch. A batch closes after half a second or 5,000 files: few
//! commits while files come fast (each commit also flushes the search index), and
//! steady progress while they come slowly. Artist and album ids are cached for the whole
//! scan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, UNIX_EPOCH};

use offbeat_model::{normalize_for_identity, ScanProblem, ScanProgress, ScanReport};
use rusqlite::{params, OptionalExtension, Transaction};
use walkdir::WalkDir;

use crate::paths::path_bytes;
use crate::tags::{self, TrackTags, Unreadable};
use crate::{Library, LibraryError, Result};

/// The most files written per transaction.
const MAX_BATCH: usize = 5_000;
/// The longest a read file waits to be written (and shown).
const BATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Read files that may wait for the writer; readers block beyond it. Room for more than a
/// whole batch: while the writer commits one (up to MAX_BATCH files, ~0.4 s), readers keep
/// reading instead of stalling after a few hundred files (~16 MB of tags at most).
const READ_AHEAD: usize = 16_384;
/// Tag readers at most; the machine's core count bounds it too.
const MAX_READERS: usize = 8;

/// What the scanner knows about a file already in the library.
struct KnownFile {
    id: i64,
    size: i64,
    mtime_ns: i64,
}

/// A file that is new or changed since the last scan, and so must be read.
pub(crate) struct Candidate {
    pub path: PathBuf,
    pub size: i64,
    pub mtime_ns: i64,
    /// The file's row, when the library already has it.
    pub existing: Option<i64>,
}

impl Library {
    /// Scans `folder` (recursively) into the library and reports what changed.
    ///
    /// An unreadable file is listed in the report's problems with a plain reason and the
    /// rest of the folder is still indexed. Only a folder that cannot be opened at all is
    /// an error.
    pub fn scan_folder(&mut self, folder: &Path) -> Result<ScanReport> {
        self.scan_folder_with(folder, &mut |_| {}, &AtomicBool::new(false))
    }

    /// [`Library::scan_folder`], reporting progress after every batch and stopping early
    /// (with [`LibraryError::Cancelled`], keeping what was written) once `cancel` is set.
    pub fn scan_folder_with(
        &mut self,
        folder: &Path,
        progress: &mut dyn FnMut(&ScanProgress),
        cancel: &AtomicBool,
    ) -> Result<ScanReport> {
        let folder = folder
            .canonicalize()
            .map_err(|source| LibraryError::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        if !folder.is_dir() {
            return Err(LibraryError::NotAFolder { path: folder });
        }
        std::fs::read_dir(&folder).map_err(|source| LibraryError::Folder {
            path: folder.clone(),
            source,
        })?;
        let folder_str = folder.to_string_lossy().into_owned();
        let mut report = ScanReport {
            folder: folder_str.clone(),
            ..ScanReport::default()
        };

        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO folders (path, added_at) VALUES (?1, strftime('%s','now')) ON CONFLICT(path) DO NOTHING",
            [&folder_str],
        )?;
        let folder_id: i64 = tx.query_row(
            "SELECT id FROM folders WHERE path = ?1",
            [&folder_str],
            |r| r.get(0),
        )?;
        let known = known_files(&tx, folder_id)?;
        tx.commit()?;

        // The walk, the tag readers and the writer (this thread) run at once: files are
        // read as they are found, and written as they are read.
        let found = AtomicU32::new(0);
        let unchanged = AtomicU32::new(0);
        // Reports say "done of found", and only the last has done = found: one is sent
        // after each commit while the walk is ahead of the writer, and one at the end.
        let mut status = ScanProgress {
            files_found: 0,
            files_done: 0,
            current_folder: folder_str.clone(),
        };

        let mut writer = Writer::default();
        let readers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, MAX_READERS);
        // Files that vanished between the walk and their reading: not seen after all.
        let mut vanished = 0;
        let (to_read, candidates) = mpsc::sync_channel::<Candidate>(READ_AHEAD);
        // Taken away to stop early: the walk's next send then fails, and each reader finds
        // nothing more to read.
        let candidates = Mutex::new(Some(candidates));
        let write_result = std::thread::scope(|scope| -> Result<Walked> {
            let walker = {
                let (folder, found, unchanged) = (&folder, &found, &unchanged);
                scope.spawn(move || {
                    run_in_background();
                    walk(folder, known, found, unchanged, &mut |candidate| {
                        to_read.send(candidate).is_ok()
                    })
                })
            };
            let (results, received) = mpsc::sync_channel(READ_AHEAD);
            for _ in 0..readers {
                let results = results.clone();
                let candidates = &candidates;
                scope.spawn(move || {
                    run_in_background();
                    loop {
                        // The lock is held only to take the next file, not to read it.
                        let next = match &*candidates.lock().unwrap_or_else(PoisonError::into_inner)
                        {
                            Some(candidates) => candidates.recv().ok(),
                            None => None,
                        };
                        let Some(candidate) = next else {
                            break;
                        };
                        let read = tags::read_tags(&candidate.path);
                        if results.send((candidate, read)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(results);
            let outcome = (|| -> Result<()> {
                // A transaction is opened by the first file read and committed after
                // MAX_BATCH files or BATCH_INTERVAL: the writer starts at once instead of
                // waiting for a batch to gather, and what is written shows within the
                // interval.
                let mut open: Option<(Transaction<'_>, Instant, usize)> = None;
                let mut last: Option<Candidate> = None;
                loop {
                    let next = match &open {
                        Some((_, started, _)) => {
                            received.recv_timeout(BATCH_INTERVAL.saturating_sub(started.elapsed()))
                        }
                        None => received.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    let done = match next {
                        Ok((candidate, read)) => {
                            let (tx, _, written) = match &mut open {
                                Some(open) => open,
                                None => open.insert((
                                    self.conn.unchecked_transaction()?,
                                    Instant::now(),
                                    0,
                                )),
                            };
                            write_read_file(
                                tx,
                                &mut writer,
                                folder_id,
                                &candidate,
                                read,
                                &mut report,
                                &mut vanished,
                            )?;
                            *written += 1;
                            last = Some(candidate);
                            false
                        }
                        Err(RecvTimeoutError::Timeout) => false,
                        Err(RecvTimeoutError::Disconnected) => true,
                    };
                    let due = open.as_ref().is_some_and(|(_, started, written)| {
                        done || *written >= MAX_BATCH || started.elapsed() >= BATCH_INTERVAL
                    });
                    if let Some((tx, _, _)) = open.take_if(|_| due) {
                        tx.commit()?;
                        if let Some(parent) = last.as_ref().and_then(|c| c.path.parent()) {
                            status.current_folder = parent.to_string_lossy().into_owned();
                        }
                        status.files_found = found.load(Ordering::Relaxed).saturating_sub(vanished);
                        status.files_done = unchanged.load(Ordering::Relaxed)
                            + report.added
                            + report.updated
                            + report.problems.len() as u32;
                        if status.files_done < status.files_found {
                            progress(&status);
                        }
                        if cancel.load(Ordering::Relaxed) {
                            return Err(LibraryError::Cancelled);
                        }
                    }
                    if done {
                        return Ok(());
                    }
                }
            })();
            // On an error, readers stop at their next file, and the walk at its next one;
            // draining unblocks any sender.
            candidates
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            for _ in received.iter() {}
            // The walk only reads directories: a panic there is a bug, and stays one.
            let walked = walker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            outcome.map(|()| walked)
        });
        let walked = write_result?;
        let known = walked.known;
        report.files_seen = walked.files_seen.saturating_sub(vanished);
        report.unchanged = walked.unchanged;
        report.problems.extend(walked.problems);

        // Whatever was known but not seen again is gone from disk.
        let tx = self.conn.transaction()?;
        for file in known.values() {
            delete_file(&tx, file.id)?;
            report.removed += 1;
        }
        tx.execute(
            "DELETE FROM scan_problems WHERE folder_id = ?1",
            [folder_id],
        )?;
        for problem in &report.problems {
            tx.execute(
                "INSERT OR REPLACE INTO scan_problems (path, folder_id, kind, reason) VALUES (?1, ?2, ?3, ?4)",
                params![problem.path, folder_id, crate::problem_kind_name(problem.kind), problem.reason],
            )?;
        }
        // A local file hides the server's copy of the same track; a local file gone shows it again.
        crate::remote::reconcile(&tx)?;
        remove_orphans(&tx)?;
        tx.commit()?;
        // Readers finish in any order; report problems in a stable one.
        report.problems.sort_by(|a, b| a.path.cmp(&b.path));
        status.files_found = report.files_seen;
        status.files_done = report.files_seen;
        progress(&status);
        Ok(report)
    }
}

/// Writes one read file (its tags, or its problem) in the scan's open transaction;
/// `vanished` counts files gone from disk since they were found.
fn write_read_file(
    tx: &Transaction<'_>,
    writer: &mut Writer,
    folder_id: i64,
    candidate: &Candidate,
    read: std::result::Result<TrackTags, Unreadable>,
    report: &mut ScanReport,
    vanished: &mut u32,
) -> Result<()> {
    match read {
        Ok(tags) => {
            writer.upsert(tx, folder_id, candidate, &tags)?;
            if candidate.existing.is_some() {
                report.updated += 1;
            } else {
                report.added += 1;
            }
        }
        Err(problem) => {
            // A file that became unreadable, or vanished mid-scan, no longer plays: take it
            // out. Only one that is still there is a problem to show.
            if let Some(id) = candidate.existing {
                delete_file(tx, id)?;
                report.removed += 1;
            }
            if candidate.path.symlink_metadata().is_ok() {
                push_problem(report, &candidate.path, problem);
            } else {
                *vanished += 1;
            }
        }
    }
    Ok(())
}

/// Lowers this thread's scheduling priority (nice 10), so that a scan's walk and tag
/// readers, which would take every core, leave room for the UI (the webview, the audio).
/// The writer runs on the caller's thread, which is not ours to lower. Best effort: where
/// it is refused, the scan runs as it is.
fn run_in_background() {
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
}

/// What a walk saw: the files it found and how many were unchanged, what it could not
/// open, and the known files it did not find (gone from disk).
struct Walked {
    files_seen: u32,
    unchanged: u32,
    problems: Vec<ScanProblem>,
    known: HashMap<Vec<u8>, KnownFile>,
}

/// Walks `folder`: unchanged files are counted and dropped from `known`, walk errors become
/// problems, and new or changed files go to `read` as they are found (the walk stops when
/// it returns false). `found` and `unchanged` count as it goes, for progress.
fn walk(
    folder: &Path,
    mut known: HashMap<Vec<u8>, KnownFile>,
    found: &AtomicU32,
    unchanged: &AtomicU32,
    read: &mut dyn FnMut(Candidate) -> bool,
) -> Walked {
    let mut report = ScanReport::default();
    for entry in WalkDir::new(folder).follow_links(true).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            // A symlink back to an ancestor is walked once already: nothing to report.
            Err(err) if err.loop_ancestor().is_some() => continue,
            // Gone since the folder was listed (or a dangling link): nothing to index.
            Err(err) if is_not_found(&err) => continue,
            Err(err) => {
                let path = err
                    .path()
                    .map_or_else(|| folder.to_path_buf(), Path::to_path_buf);
                push_problem(&mut report, &path, walk_problem(&err));
                continue;
            }
        };
        if !entry.file_type().is_file() || tags::is_ignored(entry.path()) {
            continue;
        }
        report.files_seen += 1;
        found.fetch_add(1, Ordering::Relaxed);
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(err) if is_not_found(&err) => {
                report.files_seen -= 1;
                found.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            Err(err) => {
                push_problem(&mut report, entry.path(), walk_problem(&err));
                continue;
            }
        };
        let (size, mtime_ns) = (meta.len() as i64, mtime_ns(&meta));
        let existing = known.remove(&path_bytes(entry.path()));
        if existing
            .as_ref()
            .is_some_and(|f| f.size == size && f.mtime_ns == mtime_ns)
        {
            report.unchanged += 1;
            unchanged.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let candidate = Candidate {
            path: entry.into_path(),
            size,
            mtime_ns,
            existing: existing.map(|f| f.id),
        };
        if !read(candidate) {
            break;
        }
    }
    Walked {
        files_seen: report.files_seen,
        unchanged: report.unchanged,
        problems: report.problems,
        known,
    }
}

fn is_not_found(err: &walkdir::Error) -> bool {
    err.io_error()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

fn walk_problem(err: &walkdir::Error) -> Unreadable {
    match err.io_error() {
        Some(io) => tags::io_problem(io),
        None => tags::io_problem(&std::io::Error::other(err.to_string())),
    }
}

fn push_problem(report: &mut ScanReport, path: &Path, problem: Unreadable) {
    report.problems.push(ScanProblem {
        path: path.to_string_lossy().into_owned(),
        kind: problem.kind,
        reason: problem.reason,
    });
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

fn known_files(tx: &Transaction<'_>, folder_id: i64) -> Result<HashMap<Vec<u8>, KnownFile>> {
    let mut stmt =
        tx.prepare("SELECT id, raw_path, size, mtime_ns FROM files WHERE folder_id = ?1")?;
    let rows = stmt.query_map([folder_id], |r| {
        Ok((
            r.get::<_, Vec<u8>>(1)?,
            KnownFile {
                id: r.get(0)?,
                size: r.get(2)?,
                mtime_ns: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Writes tracks, remembering artist and album ids for the length of a scan.
#[derive(Default)]
pub(crate) struct Writer {
    artists: HashMap<String, i64>,
    albums: HashMap<(i64, String), i64>,
}

impl Writer {
    /// The artist's id, adding the artist (and its search row) if it is new.
    fn artist_id(&mut self, tx: &Transaction<'_>, name: &str) -> Result<i64> {
        if let Some(id) = self.artists.get(name) {
            return Ok(*id);
        }
        let found = tx
            .prepare_cached("SELECT id FROM artists WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                tx.prepare_cached("INSERT INTO artists (name, sort_name) VALUES (?1, ?2)")?
                    .execute([name, &normalize_for_identity(name)])?;
                let id = tx.last_insert_rowid();
                tx.prepare_cached("INSERT INTO artist_search (rowid, name) VALUES (?1, ?2)")?
                    .execute(params![id, name])?;
                id
            }
        };
        self.artists.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The album's id, adding the album (and its search row) if it is new; an album
    /// without a year takes the first one a scan finds.
    fn album_id(&mut self, tx: &Transaction<'_>, tags: &TrackTags) -> Result<i64> {
        let album_artist = self.artist_id(tx, &tags.album_artist)?;
        let key = (album_artist, tags.album.clone());
        if let Some(id) = self.albums.get(&key) {
            return Ok(*id);
        }
        let found: Option<(i64, Option<i32>)> = tx
            .prepare_cached(
                "SELECT id, year FROM albums WHERE album_artist_id = ?1 AND title = ?2",
            )?
            .query_row(params![album_artist, tags.album], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let id = match found {
            Some((id, year)) => {
                if year.is_none() && tags.year.is_some() {
                    tx.prepare_cached("UPDATE albums SET year = ?2 WHERE id = ?1")?
                        .execute(params![id, tags.year])?;
                }
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO albums (title, album_artist_id, year, sort_title) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![tags.album, album_artist, tags.year, normalize_for_identity(&tags.album)])?;
                let id = tx.last_insert_rowid();
                tx.prepare_cached(
                    "INSERT INTO album_search (rowid, title, artist) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, tags.album, tags.album_artist])?;
                id
            }
        };
        self.albums.insert(key, id);
        Ok(id)
    }

    pub(crate) fn upsert(
        &mut self,
        tx: &Transaction<'_>,
        folder_id: i64,
        file: &Candidate,
        tags: &TrackTags,
    ) -> Result<()> {
        let artist = self.artist_id(tx, &tags.artist)?;
        let album = self.album_id(tx, tags)?;
        let file_id = match file.existing {
            Some(id) => {
                tx.prepare_cached("UPDATE files SET size = ?2, mtime_ns = ?3 WHERE id = ?1")?
                    .execute(params![id, file.size, file.mtime_ns])?;
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO files (folder_id, raw_path, path, size, mtime_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    folder_id,
                    path_bytes(&file.path),
                    file.path.to_string_lossy(),
                    file.size,
                    file.mtime_ns
                ])?;
                tx.last_insert_rowid()
            }
        };
        let existing_track: Option<i64> = match file.existing {
            Some(_) => tx
                .prepare_cached("SELECT id FROM tracks WHERE file_id = ?1")?
                .query_row([file_id], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let values = params![
            file_id,
            tags.uid.as_str(),
            tags.title,
            artist,
            album,
            tags.track_number,
            tags.disc_number,
            tags.year,
            tags.genre,
            tags.duration_ms,
            tags.format,
            tags.track_total,
            tags.disc_total,
            tags.original_year,
            tags.compilation,
            tags.bitrate_kbps,
            tags.sample_rate,
            tags.channels,
            tags.bit_depth,
            tags.mb_recording_id,
            tags.mb_release_id,
            tags.mb_artist_id,
            tags.rg_track_gain,
            tags.rg_track_peak,
            tags.rg_album_gain,
            tags.rg_album_peak,
            tags.has_lyrics
        ];
        let track_id = match existing_track {
            Some(id) => {
                tx.prepare_cached(
                    "UPDATE tracks SET uid = ?2, title = ?3, artist_id = ?4, album_id = ?5,
                     track_number = ?6, disc_number = ?7, year = ?8, genre = ?9, duration_ms = ?10, format = ?11,
                     track_total = ?12, disc_total = ?13, original_year = ?14, compilation = ?15,
                     bitrate_kbps = ?16, sample_rate = ?17, channels = ?18, bit_depth = ?19,
                     mb_recording_id = ?20, mb_release_id = ?21, mb_artist_id = ?22, rg_track_gain = ?23,
                     rg_track_peak = ?24, rg_album_gain = ?25, rg_album_peak = ?26, has_lyrics = ?27
                     WHERE file_id = ?1",
                )?
                .execute(values)?;
                tx.prepare_cached("DELETE FROM track_search WHERE rowid = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM track_artists WHERE track_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM track_genres WHERE track_id = ?1")?
                    .execute([id])?;
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO tracks (file_id, uid, title, artist_id, album_id, track_number, disc_number,
                     year, genre, duration_ms, format, track_total, disc_total, original_year, compilation,
                     bitrate_kbps, sample_rate, channels, bit_depth, mb_recording_id, mb_release_id,
                     mb_artist_id, rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, has_lyrics,
                     added_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, strftime('%s','now'))",
                )?
                .execute(values)?;
                tx.last_insert_rowid()
            }
        };
        for (position, name) in tags.artists.iter().enumerate() {
            let artist_id = self.artist_id(tx, name)?;
            tx.prepare_cached(
                "INSERT INTO track_artists (track_id, position, artist_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![track_id, position, artist_id])?;
        }
        for (position, genre) in tags.genres.iter().enumerate() {
            tx.prepare_cached(
                "INSERT INTO track_genres (track_id, position, genre) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![track_id, position, genre])?;
        }
        // The album artist is searchable too, so a track whose artist tag names a featured
        // guest is still found by the band's name.
        let artists = if tags.album_artist == tags.artist {
            tags.artist.clone()
        } else {
            format!("{} {}", tags.artist, tags.album_artist)
        };
        tx.prepare_cached(
            "INSERT INTO track_search (rowid, title, artist, album) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![track_id, tags.title, artists, tags.album])?;
        Ok(())
    }
}

pub(crate) fn delete_file(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM track_search WHERE rowid IN (SELECT id FROM tracks WHERE file_id = ?1)",
    )?
    .execute([file_id])?;
    tx.prepare_cached("DELETE FROM files WHERE id = ?1")?
        .execute([file_id])?;
    Ok(())
}

pub(crate) fn remove_orphans(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "DELETE FROM albums WHERE id NOT IN (SELECT album_id FROM tracks)",
        [],
    )?;
    tx.execute(
        "DELETE FROM artists WHERE id NOT IN (SELECT artist_id FROM tracks)
         AND id NOT IN (SELECT album_artist_id FROM albums)
         AND id NOT IN (SELECT artist_id FROM track_artists)",
        [],
    )?;
    Ok(())
}
