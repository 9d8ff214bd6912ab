//! Scanning a folder into the library: new and changed files are read, unchanged files
//! (same size and mtime) are skipped, and files that disappeared are removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use offbeat_model::{ScanProblem, ScanReport};
use rusqlite::{params, OptionalExtension, Transaction};
use walkdir::WalkDir;

use crate::tags::{self, TrackTags, Unreadable};
use crate::{Library, LibraryError, Result};

/// How many files are written per transaction, so results appear while a scan runs.
const BATCH: usize = 200;

/// What the scanner knows about a file already in the library.
struct KnownFile {
    id: i64,
    size: i64,
    mtime_ns: i64,
}

/// A file that was read (or failed to read) and waits to be written in the next batch.
struct Pending {
    path: PathBuf,
    size: i64,
    mtime_ns: i64,
    existing: Option<i64>,
    read: Result<TrackTags, Unreadable>,
}

impl Library {
    /// Scans `folder` (recursively) into the library and reports what changed.
    ///
    /// An unreadable file is listed in the report's problems with a plain reason and the
    /// rest of the folder is still indexed. Only a folder that cannot be opened at all is
    /// an error.
    pub fn scan_folder(&mut self, folder: &Path) -> Result<ScanReport> {
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
        let mut known = known_files(&tx, folder_id)?;
        tx.commit()?;

        let mut pending: Vec<Pending> = Vec::new();
        for entry in WalkDir::new(&folder).follow_links(true).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let path = err
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| folder.clone());
                    let problem = match err.io_error() {
                        Some(io) => tags::io_problem(io),
                        None => tags::io_problem(&std::io::Error::other(err.to_string())),
                    };
                    push_problem(&mut report, &path, problem);
                    continue;
                }
            };
            if !entry.file_type().is_file() || tags::is_ignored(entry.path()) {
                continue;
            }
            report.files_seen += 1;
            let path = entry.path().to_path_buf();
            let path_str = path.to_string_lossy().into_owned();
            let (size, mtime_ns) = match entry.metadata() {
                Ok(meta) => (meta.len() as i64, mtime_ns(&meta)),
                Err(err) => {
                    let problem = match err.io_error() {
                        Some(io) => tags::io_problem(io),
                        None => tags::io_problem(&std::io::Error::other(err.to_string())),
                    };
                    push_problem(&mut report, &path, problem);
                    continue;
                }
            };
            let existing = known.remove(&path_str);
            if let Some(file) = &existing {
                if file.size == size && file.mtime_ns == mtime_ns {
                    report.unchanged += 1;
                    continue;
                }
            }
            let read = tags::read_tags(&path);
            pending.push(Pending {
                path,
                size,
                mtime_ns,
                existing: existing.map(|f| f.id),
                read,
            });
            if pending.len() >= BATCH {
                self.write_batch(folder_id, &mut pending, &mut report)?;
            }
        }
        self.write_batch(folder_id, &mut pending, &mut report)?;

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
        remove_orphans(&tx)?;
        tx.commit()?;
        Ok(report)
    }

    fn write_batch(
        &mut self,
        folder_id: i64,
        pending: &mut Vec<Pending>,
        report: &mut ScanReport,
    ) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        for Pending {
            path,
            size,
            mtime_ns,
            existing,
            read,
        } in pending.drain(..)
        {
            match read {
                Ok(tags) => {
                    upsert(&tx, folder_id, &path, size, mtime_ns, existing, &tags)?;
                    if existing.is_some() {
                        report.updated += 1;
                    } else {
                        report.added += 1;
                    }
                }
                Err(problem) => {
                    // A file that became unreadable no longer plays: take it out.
                    if let Some(id) = existing {
                        delete_file(&tx, id)?;
                        report.removed += 1;
                    }
                    push_problem(report, &path, problem);
                }
            }
        }
        tx.commit()?;
        Ok(())
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

fn known_files(tx: &Transaction<'_>, folder_id: i64) -> Result<HashMap<String, KnownFile>> {
    let mut stmt = tx.prepare("SELECT id, path, size, mtime_ns FROM files WHERE folder_id = ?1")?;
    let rows = stmt.query_map([folder_id], |r| {
        Ok((
            r.get::<_, String>(1)?,
            KnownFile {
                id: r.get(0)?,
                size: r.get(2)?,
                mtime_ns: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn artist_id(tx: &Transaction<'_>, name: &str) -> Result<i64> {
    tx.execute(
        "INSERT INTO artists (name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
        [name],
    )?;
    Ok(
        tx.query_row("SELECT id FROM artists WHERE name = ?1", [name], |r| {
            r.get(0)
        })?,
    )
}

fn album_id(tx: &Transaction<'_>, tags: &TrackTags) -> Result<i64> {
    let album_artist = artist_id(tx, &tags.album_artist)?;
    tx.execute(
        "INSERT INTO albums (title, album_artist_id, year) VALUES (?1, ?2, ?3)
         ON CONFLICT(album_artist_id, title) DO UPDATE SET year = coalesce(albums.year, excluded.year)",
        params![tags.album, album_artist, tags.year],
    )?;
    Ok(tx.query_row(
        "SELECT id FROM albums WHERE album_artist_id = ?1 AND title = ?2",
        params![album_artist, tags.album],
        |r| r.get(0),
    )?)
}

fn upsert(
    tx: &Transaction<'_>,
    folder_id: i64,
    path: &Path,
    size: i64,
    mtime_ns: i64,
    existing: Option<i64>,
    tags: &TrackTags,
) -> Result<()> {
    let path = path.to_string_lossy();
    let artist = artist_id(tx, &tags.artist)?;
    let album = album_id(tx, tags)?;
    let file_id = match existing {
        Some(id) => {
            tx.execute(
                "UPDATE files SET size = ?2, mtime_ns = ?3 WHERE id = ?1",
                params![id, size, mtime_ns],
            )?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO files (folder_id, path, size, mtime_ns) VALUES (?1, ?2, ?3, ?4)",
                params![folder_id, path, size, mtime_ns],
            )?;
            tx.last_insert_rowid()
        }
    };
    let track_id: Option<i64> = tx
        .query_row("SELECT id FROM tracks WHERE file_id = ?1", [file_id], |r| {
            r.get(0)
        })
        .optional()?;
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
        tags.format
    ];
    let track_id = match track_id {
        Some(id) => {
            tx.execute(
                "UPDATE tracks SET file_id = ?1, uid = ?2, title = ?3, artist_id = ?4, album_id = ?5,
                 track_number = ?6, disc_number = ?7, year = ?8, genre = ?9, duration_ms = ?10, format = ?11
                 WHERE file_id = ?1",
                values,
            )?;
            tx.execute("DELETE FROM track_search WHERE rowid = ?1", [id])?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO tracks (file_id, uid, title, artist_id, album_id, track_number, disc_number,
                 year, genre, duration_ms, format) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                values,
            )?;
            tx.last_insert_rowid()
        }
    };
    // The album artist is searchable too: "aurora" should find a track whose artist tag
    // names a featured guest.
    let artists = if tags.album_artist == tags.artist {
        tags.artist.clone()
    } else {
        format!("{} {}", tags.artist, tags.album_artist)
    };
    tx.execute(
        "INSERT INTO track_search (rowid, title, artist, album) VALUES (?1, ?2, ?3, ?4)",
        params![track_id, tags.title, artists, tags.album],
    )?;
    Ok(())
}

fn delete_file(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM track_search WHERE rowid IN (SELECT id FROM tracks WHERE file_id = ?1)",
        [file_id],
    )?;
    tx.execute("DELETE FROM files WHERE id = ?1", [file_id])?;
    Ok(())
}

fn remove_orphans(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "DELETE FROM albums WHERE id NOT IN (SELECT album_id FROM tracks)",
        [],
    )?;
    tx.execute(
        "DELETE FROM artists WHERE id NOT IN (SELECT artist_id FROM tracks)
         AND id NOT IN (SELECT album_artist_id FROM albums)",
        [],
    )?;
    Ok(())
}
