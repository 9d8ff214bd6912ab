//! Reading tracks back out of the library.

use offbeat_model::{
    MusicBrainzIds, ReplayGain, Track, TrackDetails, TrackId, TrackSource, TrackUid,
};
use rusqlite::{OptionalExtension, Row};

use crate::{Library, Result};

/// Where a track `t` in folder `fo` plays from, as a number [`source_from_code`] reads:
/// 0 a local file, 1 a cached copy of a server's file, 2 only on the server.
macro_rules! track_source {
    () => {
        "CASE WHEN fo.server_id IS NULL THEN 0
              WHEN EXISTS (SELECT 1 FROM cached_files c WHERE c.uid = t.uid) THEN 1 ELSE 2 END"
    };
}

/// The columns every track query selects, in the order [`track_from_row`] reads them.
pub(crate) const TRACK_COLUMNS: &str = concat!(
    "t.id, t.uid, f.path, t.title, ar.name, al.title, aa.name,
     t.track_number, t.disc_number, t.year, t.genre, t.duration_ms, t.format, ",
    track_source!()
);

/// The [`TrackSource`] of a [`track_source!`] column.
fn source_from_code(code: i64) -> TrackSource {
    match code {
        0 => TrackSource::Local,
        1 => TrackSource::Cached,
        _ => TrackSource::Server,
    }
}

/// The joins that go with [`TRACK_COLUMNS`].
pub(crate) const TRACK_JOINS: &str = "tracks t
     JOIN files f ON f.id = t.file_id
     JOIN folders fo ON fo.id = f.folder_id
     JOIN artists ar ON ar.id = t.artist_id
     JOIN albums al ON al.id = t.album_id
     JOIN artists aa ON aa.id = al.album_artist_id";

/// The library's default order: by album artist, album, disc, track, then title.
pub(crate) const TRACK_ORDER: &str =
    "aa.sort_name, al.sort_title, t.disc_number, t.track_number, t.title COLLATE NOCASE";

pub(crate) fn track_from_row(r: &Row<'_>) -> rusqlite::Result<Track> {
    Ok(Track {
        id: r.get(0)?,
        uid: TrackUid::from_stored(r.get(1)?),
        path: r.get(2)?,
        title: r.get(3)?,
        artist: r.get(4)?,
        album: r.get(5)?,
        album_artist: r.get(6)?,
        track_number: r.get(7)?,
        disc_number: r.get(8)?,
        year: r.get(9)?,
        genre: r.get(10)?,
        duration_ms: r.get(11)?,
        format: r.get(12)?,
        source: source_from_code(r.get(13)?),
    })
}

/// Calls `each` with `uids` (repeats dropped) in batches of at most 500, and the batch's
/// `?` placeholders for an `IN (…)` list: a 10,000-entry playlist is 20 queries, not
/// 10,000.
pub(crate) fn in_uid_batches(
    uids: &[&str],
    mut each: impl FnMut(&[&str], &str) -> Result<()>,
) -> Result<()> {
    const BATCH: usize = 500;
    let mut wanted: Vec<&str> = uids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    for batch in wanted.chunks(BATCH) {
        let marks = vec!["?"; batch.len()].join(",");
        each(batch, &marks)?;
    }
    Ok(())
}

impl Library {
    /// Every track, in the library's default order.
    pub fn tracks(&self) -> Result<Vec<Track>> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} ORDER BY {TRACK_ORDER}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The library's tracks with these uids (one per uid: the first in the default order
    /// when a uid is on several files), by uid. Uids not in the library are left out.
    /// Asked in batches, so a 10,000-entry playlist resolves in a few queries.
    pub fn tracks_by_uid(&self, uids: &[&str]) -> Result<std::collections::HashMap<String, Track>> {
        let mut out = std::collections::HashMap::with_capacity(uids.len());
        in_uid_batches(uids, |batch, marks| {
            // Default order, so the first row per uid is the one kept.
            let sql = format!(
                "SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE t.uid IN ({marks}) ORDER BY {TRACK_ORDER}"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(batch.iter()), track_from_row)?;
            for track in rows {
                let track = track?;
                out.entry(track.uid.as_str().to_owned()).or_insert(track);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Where each of these uids plays from: its track's id and source, by uid (uids not in
    /// the library are left out). What a playlist needs to show its entries, without
    /// reading whole tracks: a 10,000-entry playlist resolves in a few index lookups per
    /// entry. A local file comes before a server's copy; then the oldest track.
    pub fn resolve_uids(
        &self,
        uids: &[&str],
    ) -> Result<std::collections::HashMap<String, (TrackId, TrackSource)>> {
        let mut out = std::collections::HashMap::with_capacity(uids.len());
        in_uid_batches(uids, |batch, marks| {
            let sql = format!(
                "SELECT t.uid, t.id, {}
                 FROM tracks t JOIN files f ON f.id = t.file_id JOIN folders fo ON fo.id = f.folder_id
                 WHERE t.uid IN ({marks}) ORDER BY fo.server_id IS NOT NULL, t.id",
                track_source!()
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(batch.iter()))?;
            while let Some(row) = rows.next()? {
                let uid: String = row.get(0)?;
                out.entry(uid)
                    .or_insert((row.get(1)?, source_from_code(row.get(2)?)));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Every track's file length in bytes, by track id.
    pub fn file_sizes(&self) -> Result<std::collections::HashMap<TrackId, u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT t.id, f.size FROM tracks t JOIN files f ON f.id = t.file_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One track by its row id, or `None` if it is no longer in the library.
    pub fn track(&self, id: TrackId) -> Result<Option<Track>> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE t.id = ?1");
        Ok(self.conn.query_row(&sql, [id], track_from_row).optional()?)
    }

    /// The file of a track, exactly as the file system names it (use this to open it;
    /// `Track::path` is for display), or `None` if it is no longer in the library.
    pub fn track_file(&self, id: TrackId) -> Result<Option<std::path::PathBuf>> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT f.raw_path FROM tracks t JOIN files f ON f.id = t.file_id WHERE t.id = ?1",
            )?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(bytes.map(crate::paths::path_from_bytes))
    }

    /// What the player needs to play tracks: each file as the file system names it and
    /// its ReplayGain tags, in the order asked for. Ids no longer in the library are left
    /// out.
    pub fn playable(
        &self,
        ids: &[TrackId],
    ) -> Result<Vec<(TrackId, std::path::PathBuf, offbeat_model::ReplayGain)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.raw_path, t.rg_track_gain, t.rg_track_peak, t.rg_album_gain, t.rg_album_peak
             FROM tracks t JOIN files f ON f.id = t.file_id WHERE t.id = ?1",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let row = stmt
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        offbeat_model::ReplayGain {
                            track_gain_db: r.get(1)?,
                            track_peak: r.get(2)?,
                            album_gain_db: r.get(3)?,
                            album_peak: r.get(4)?,
                        },
                    ))
                })
                .optional()?;
            if let Some((path, replay_gain)) = row {
                out.push((id, crate::paths::path_from_bytes(path), replay_gain));
            }
        }
        Ok(out)
    }

    /// Everything known about one track, or `None` if it is no longer in the library.
    pub fn track_details(&self, id: TrackId) -> Result<Option<TrackDetails>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS}, t.track_total, t.disc_total, t.original_year, t.compilation,
             t.bitrate_kbps, t.sample_rate, t.channels, t.bit_depth, t.mb_recording_id, t.mb_release_id,
             t.mb_artist_id, t.rg_track_gain, t.rg_track_peak, t.rg_album_gain, t.rg_album_peak, t.has_lyrics
             FROM {TRACK_JOINS} WHERE t.id = ?1"
        );
        let details = self
            .conn
            .query_row(&sql, [id], |r| {
                Ok(TrackDetails {
                    track: track_from_row(r)?,
                    artists: Vec::new(),
                    genres: Vec::new(),
                    track_total: r.get(14)?,
                    disc_total: r.get(15)?,
                    original_year: r.get(16)?,
                    compilation: r.get(17)?,
                    bitrate_kbps: r.get(18)?,
                    sample_rate: r.get(19)?,
                    channels: r.get(20)?,
                    bit_depth: r.get(21)?,
                    musicbrainz: MusicBrainzIds {
                        recording: r.get(22)?,
                        release: r.get(23)?,
                        artist: r.get(24)?,
                    },
                    replay_gain: ReplayGain {
                        track_gain_db: r.get(25)?,
                        track_peak: r.get(26)?,
                        album_gain_db: r.get(27)?,
                        album_peak: r.get(28)?,
                    },
                    has_lyrics: r.get(29)?,
                })
            })
            .optional()?;
        let Some(mut details) = details else {
            return Ok(None);
        };
        let mut artists = self.conn.prepare_cached(
            "SELECT a.name FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
             WHERE ta.track_id = ?1 ORDER BY ta.position",
        )?;
        details.artists = artists
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut genres = self.conn.prepare_cached(
            "SELECT genre FROM track_genres WHERE track_id = ?1 ORDER BY position",
        )?;
        details.genres = genres
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(details))
    }

    /// The number of tracks in the library.
    pub fn track_count(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM tracks", [], |r| r.get(0))?)
    }

    /// The files the last scans could not index, with their reasons.
    pub fn problems(&self) -> Result<Vec<offbeat_model::ScanProblem>> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, kind, reason FROM scan_problems ORDER BY path")?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(1)?;
            Ok(offbeat_model::ScanProblem {
                path: r.get(0)?,
                kind: crate::problem_kind_from_name(&kind),
                reason: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
