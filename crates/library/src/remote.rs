//! A paired server's catalog, mirrored into the library beside the local files, and the
//! index of the server files cached on this device.
//!
//! The catalog is kept as the server sent it (`remote_tracks`) and shown through the
//! ordinary tables: each server track without a local file of the same `track_uid` gets a
//! row under the server's folder (`offbeat-server:<id>`), so browse and search see local
//! and server tracks together, one row per uid. A local file always wins: scanning one in
//! hides the server's row, and deleting it brings the server's row back
//! ([`reconcile`], run at the end of every scan and every mirrored page).

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::scan::{delete_file, remove_orphans, Candidate, Writer};
use crate::tags::TrackTags;
use crate::{Library, Result};

/// How a server's folder and its files are named in `folders.path` and `files.path`.
pub const SERVER_FOLDER_PREFIX: &str = "offbeat-server:";

/// A track as a server's catalog describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteTrack {
    pub track_uid: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub album_artist: String,
    pub track_number: Option<u32>,
    pub disc_number: Option<u32>,
    pub year: Option<i32>,
    pub genre: Option<String>,
    pub duration_ms: u32,
    pub format: String,
    /// The file's length in bytes.
    #[serde(default)]
    pub size: Option<u64>,
}

/// One entry of a server's change log.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteChange {
    Upsert(RemoteTrack),
    Delete(String),
}

/// A complete, verified copy of a server file in the cache folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedFile {
    pub uid: String,
    /// The file's name inside the cache folder.
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub last_used_ms: i64,
}

/// What the library knows of a server's track that has no local file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub server_id: String,
    pub uid: String,
    pub size: Option<u64>,
    pub format: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn server_folder(tx: &Transaction<'_>, server_id: &str) -> Result<i64> {
    let path = format!("{SERVER_FOLDER_PREFIX}{server_id}");
    tx.prepare_cached(
        "INSERT INTO folders (path, added_at, server_id) VALUES (?1, strftime('%s','now'), ?2)
         ON CONFLICT(path) DO NOTHING",
    )?
    .execute(params![path, server_id])?;
    Ok(tx
        .prepare_cached("SELECT id FROM folders WHERE path = ?1")?
        .query_row([&path], |r| r.get(0))?)
}

fn tags_of(track: &RemoteTrack) -> TrackTags {
    let split = |s: &str| -> Vec<String> {
        s.split(", ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    TrackTags {
        uid: offbeat_model::TrackUid::from_stored(track.track_uid.clone()),
        title: track.title.clone(),
        artist: track.artist.clone(),
        artists: vec![track.artist.clone()],
        album: track.album.clone(),
        album_artist: track.album_artist.clone(),
        track_number: track.track_number,
        track_total: None,
        disc_number: track.disc_number,
        disc_total: None,
        year: track.year,
        original_year: None,
        genre: track.genre.clone(),
        genres: track.genre.as_deref().map(split).unwrap_or_default(),
        compilation: false,
        duration_ms: track.duration_ms,
        format: track.format.clone().into(),
        bitrate_kbps: None,
        sample_rate: None,
        channels: None,
        bit_depth: None,
        mb_recording_id: None,
        mb_release_id: None,
        mb_artist_id: None,
        rg_track_gain: None,
        rg_track_peak: None,
        rg_album_gain: None,
        rg_album_peak: None,
        has_lyrics: false,
    }
}

/// Shows a server track under its server's folder, unless a local file has its uid.
fn materialize(
    tx: &Transaction<'_>,
    writer: &mut Writer,
    folder_id: i64,
    server_id: &str,
    track: &RemoteTrack,
) -> Result<()> {
    let local: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM tracks t JOIN files f ON f.id = t.file_id
             JOIN folders fo ON fo.id = f.folder_id WHERE t.uid = ?1 AND fo.server_id IS NULL)",
        )?
        .query_row([&track.track_uid], |r| r.get(0))?;
    let name = server_file_name(server_id, &track.track_uid);
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM files WHERE raw_path = ?1")?
        .query_row([name.as_bytes()], |r| r.get(0))
        .optional()?;
    place(tx, writer, folder_id, server_id, track, local, existing)
}

fn server_file_name(server_id: &str, uid: &str) -> String {
    format!("{SERVER_FOLDER_PREFIX}{server_id}/{uid}")
}

/// [`materialize`] with what it needs to know already looked up: whether a local file has
/// the uid, and the server row's file if it has one.
fn place(
    tx: &Transaction<'_>,
    writer: &mut Writer,
    folder_id: i64,
    server_id: &str,
    track: &RemoteTrack,
    local: bool,
    existing: Option<i64>,
) -> Result<()> {
    if local {
        if let Some(id) = existing {
            delete_file(tx, id)?;
        }
        return Ok(());
    }
    let candidate = Candidate {
        path: PathBuf::from(server_file_name(server_id, &track.track_uid)),
        size: track.size.map_or(0, |s| s as i64),
        mtime_ns: 0,
        existing,
    };
    writer.upsert(tx, folder_id, &candidate, &tags_of(track))
}

/// For a page of server tracks, in a few batched queries: the uids a local file has, and
/// the files already shown for the server's tracks (by uid).
fn lookups(
    tx: &Transaction<'_>,
    server_id: &str,
    uids: &[&str],
) -> Result<(
    std::collections::HashSet<String>,
    std::collections::HashMap<String, i64>,
)> {
    const BATCH: usize = 500;
    let mut local = std::collections::HashSet::new();
    let mut shown = std::collections::HashMap::new();
    let prefix = server_file_name(server_id, "");
    for batch in uids.chunks(BATCH) {
        let marks = vec!["?"; batch.len()].join(",");
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT t.uid FROM tracks t JOIN files f ON f.id = t.file_id
             JOIN folders fo ON fo.id = f.folder_id
             WHERE fo.server_id IS NULL AND t.uid IN ({marks})"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(batch.iter()), |r| r.get(0))?;
        for uid in rows {
            local.insert(uid?);
        }
        let names: Vec<Vec<u8>> = batch
            .iter()
            .map(|u| format!("{prefix}{u}").into_bytes())
            .collect();
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT raw_path, id FROM files WHERE raw_path IN ({marks})"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(names.iter()), |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (raw, id) = row?;
            if let Some(uid) = raw.strip_prefix(prefix.as_bytes()) {
                shown.insert(String::from_utf8_lossy(uid).into_owned(), id);
            }
        }
    }
    Ok((local, shown))
}

/// Makes the shown rows match the rule "one row per uid, a local file wins": server rows
/// whose uid now has a local file go, and kept server tracks with no row get one.
pub(crate) fn reconcile(tx: &Transaction<'_>) -> Result<()> {
    let any: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM remote_tracks)", [], |r| {
        r.get(0)
    })?;
    if !any {
        return Ok(());
    }
    let hidden: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT f.id FROM files f JOIN folders fo ON fo.id = f.folder_id
             JOIN tracks t ON t.file_id = f.id
             WHERE fo.server_id IS NOT NULL AND t.uid IN (
                SELECT t2.uid FROM tracks t2 JOIN files f2 ON f2.id = t2.file_id
                JOIN folders fo2 ON fo2.id = f2.folder_id WHERE fo2.server_id IS NULL)",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for id in hidden {
        delete_file(tx, id)?;
    }
    let missing: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT server_id, body FROM remote_tracks r
             WHERE NOT EXISTS (SELECT 1 FROM tracks t WHERE t.uid = r.uid)",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut writer = Writer::default();
    for (server_id, body) in missing {
        let Ok(track) = serde_json::from_str::<RemoteTrack>(&body) else {
            continue;
        };
        let folder = server_folder(tx, &server_id)?;
        materialize(tx, &mut writer, folder, &server_id, &track)?;
    }
    Ok(())
}

impl Library {
    /// Where the mirror of `server_id`'s catalog stopped reading (`None`: from the start).
    pub fn remote_cursor(&self, server_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM remote_state WHERE server_id = ?1",
                [server_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// When the mirror of `server_id` last caught up with the server (unix ms), and how many
    /// of its tracks the library holds.
    pub fn remote_summary(&self, server_id: &str) -> Result<(Option<i64>, u64)> {
        let at: Option<i64> = self
            .conn
            .query_row(
                "SELECT mirrored_at FROM remote_state WHERE server_id = ?1",
                [server_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let count: u64 = self.conn.query_row(
            "SELECT COUNT(*) FROM remote_tracks WHERE server_id = ?1",
            [server_id],
            |r| r.get(0),
        )?;
        Ok((at, count))
    }

    /// Applies one page of `server_id`'s change log and remembers `cursor`, in one
    /// transaction (a page half applied is never recorded as read). `caught_up` marks the
    /// mirror as current as of now.
    pub fn apply_remote_changes(
        &mut self,
        server_id: &str,
        changes: &[RemoteChange],
        cursor: &str,
        caught_up: bool,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let folder = server_folder(&tx, server_id)?;
        let mut writer = Writer::default();
        let mut removed = false;
        let uids: Vec<&str> = changes
            .iter()
            .filter_map(|c| match c {
                RemoteChange::Upsert(t) => Some(t.track_uid.as_str()),
                RemoteChange::Delete(_) => None,
            })
            .collect();
        let (local, shown) = lookups(&tx, server_id, &uids)?;
        for change in changes {
            match change {
                RemoteChange::Upsert(track) => {
                    let body = serde_json::to_string(track).unwrap_or_default();
                    tx.prepare_cached(
                        "INSERT INTO remote_tracks (uid, server_id, body, size) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT(uid) DO UPDATE SET server_id = excluded.server_id,
                         body = excluded.body, size = excluded.size",
                    )?
                    .execute(params![track.track_uid, server_id, body, track.size.map(|s| s as i64)])?;
                    place(
                        &tx,
                        &mut writer,
                        folder,
                        server_id,
                        track,
                        local.contains(&track.track_uid),
                        shown.get(&track.track_uid).copied(),
                    )?;
                }
                RemoteChange::Delete(uid) => {
                    tx.prepare_cached(
                        "DELETE FROM remote_tracks WHERE uid = ?1 AND server_id = ?2",
                    )?
                    .execute([uid, server_id])?;
                    let name = format!("{SERVER_FOLDER_PREFIX}{server_id}/{uid}");
                    let id: Option<i64> = tx
                        .prepare_cached("SELECT id FROM files WHERE raw_path = ?1")?
                        .query_row([name.as_bytes()], |r| r.get(0))
                        .optional()?;
                    if let Some(id) = id {
                        delete_file(&tx, id)?;
                    }
                    removed = true;
                }
            }
        }
        if removed {
            remove_orphans(&tx)?;
        }
        tx.execute(
            "INSERT INTO remote_state (server_id, cursor, mirrored_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(server_id) DO UPDATE SET cursor = excluded.cursor,
             mirrored_at = coalesce(excluded.mirrored_at, remote_state.mirrored_at)",
            params![server_id, cursor, caught_up.then(now_ms)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Many pages to store (a first mirror, an import), or writes that must not wait (the
    /// play recorder): `true` stops this connection checkpointing the write-ahead log after
    /// every few megabytes, which costs about a third of the time of a large mirror and is
    /// what makes one play in a hundred slow to record; the caller then [`checkpoints`] at
    /// a time of its choosing. `false` goes back to the default and checkpoints what piled up.
    ///
    /// [`checkpoints`]: Library::checkpoint
    pub fn set_bulk_writes(&self, on: bool) -> Result<()> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", if on { 0 } else { 1000 })?;
        if !on {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Copies what the write-ahead log holds into the database, as far as readers allow.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Forgets a server's catalog (unpairing, or a server whose log restarted): its rows,
    /// its mirror state, and the cache index (the caller deletes the cached files).
    pub fn forget_server(&mut self, server_id: &str) -> Result<Vec<CachedFile>> {
        let tx = self.conn.transaction()?;
        let cached = {
            let mut stmt = tx.prepare(
                "SELECT c.uid, c.file, c.size, c.sha256, c.last_used FROM cached_files c
                 JOIN remote_tracks r ON r.uid = c.uid WHERE r.server_id = ?1",
            )?;
            let rows = stmt.query_map([server_id], cached_from_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        for c in &cached {
            tx.execute("DELETE FROM cached_files WHERE uid = ?1", [&c.uid])?;
        }
        tx.execute(
            "DELETE FROM track_search WHERE rowid IN (SELECT t.id FROM tracks t
             JOIN files f ON f.id = t.file_id JOIN folders fo ON fo.id = f.folder_id
             WHERE fo.server_id = ?1)",
            [server_id],
        )?;
        tx.execute("DELETE FROM folders WHERE server_id = ?1", [server_id])?;
        tx.execute(
            "DELETE FROM remote_tracks WHERE server_id = ?1",
            [server_id],
        )?;
        tx.execute("DELETE FROM remote_state WHERE server_id = ?1", [server_id])?;
        remove_orphans(&tx)?;
        tx.commit()?;
        Ok(cached)
    }

    /// The server file behind a track row that has no local file, or `None` for a local
    /// track (or one no longer in the library).
    pub fn remote_file(&self, track_id: offbeat_model::TrackId) -> Result<Option<RemoteFile>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT fo.server_id, t.uid, r.size, t.format FROM tracks t
                 JOIN files f ON f.id = t.file_id JOIN folders fo ON fo.id = f.folder_id
                 LEFT JOIN remote_tracks r ON r.uid = t.uid
                 WHERE t.id = ?1 AND fo.server_id IS NOT NULL",
            )?
            .query_row([track_id], |r| {
                Ok(RemoteFile {
                    server_id: r.get(0)?,
                    uid: r.get(1)?,
                    size: r.get::<_, Option<i64>>(2)?.map(|s| s as u64),
                    format: r.get(3)?,
                })
            })
            .optional()?)
    }

    /// Whether a paired server's catalog has this track.
    pub fn remote_tracked(&self, uid: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM remote_tracks WHERE uid = ?1)")?
            .query_row([uid], |r| r.get(0))?)
    }

    /// The cached copy of a server track, if this device has a verified one.
    pub fn cached_file(&self, uid: &str) -> Result<Option<CachedFile>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT uid, file, size, sha256, last_used FROM cached_files WHERE uid = ?1",
            )?
            .query_row([uid], cached_from_row)
            .optional()?)
    }

    /// Records a complete, verified download.
    pub fn record_cached(&self, file: &CachedFile) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO cached_files (uid, file, size, sha256, last_used) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(uid) DO UPDATE SET file = excluded.file, size = excluded.size,
                 sha256 = excluded.sha256, last_used = excluded.last_used",
            )?
            .execute(params![file.uid, file.file, file.size as i64, file.sha256, file.last_used_ms])?;
        Ok(())
    }

    /// Marks a cached file as just used (it is then the last to be evicted).
    pub fn touch_cached(&self, uid: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE cached_files SET last_used = ?2 WHERE uid = ?1")?
            .execute(params![uid, now_ms()])?;
        Ok(())
    }

    /// Forgets a cached file (the caller deletes it).
    pub fn remove_cached(&self, uid: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM cached_files WHERE uid = ?1")?
            .execute([uid])?;
        Ok(())
    }

    /// Every cached file, least recently used first.
    pub fn cached_files(&self) -> Result<Vec<CachedFile>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT uid, file, size, sha256, last_used FROM cached_files ORDER BY last_used, uid",
        )?;
        let rows = stmt.query_map([], cached_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Of these uids, the ones that would play with no server: a local file or a cached copy.
    /// Asked in batches, like [`Library::tracks_by_uid`]: a 10,000-entry playlist is a
    /// few queries, not one per entry.
    pub fn on_device(&self, uids: &[&str]) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        crate::tracks::in_uid_batches(uids, |batch, marks| {
            let sql = format!(
                "SELECT t.uid FROM tracks t JOIN files f ON f.id = t.file_id
                 JOIN folders fo ON fo.id = f.folder_id
                 WHERE t.uid IN ({marks}) AND fo.server_id IS NULL
                 UNION SELECT uid FROM cached_files WHERE uid IN ({marks})"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let params = batch.iter().chain(batch.iter());
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(0)
            })?;
            for uid in rows {
                out.insert(uid?);
            }
            Ok(())
        })?;
        Ok(out)
    }
}

fn cached_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CachedFile> {
    Ok(CachedFile {
        uid: r.get(0)?,
        file: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        sha256: r.get(3)?,
        last_used_ms: r.get(4)?,
    })
}
