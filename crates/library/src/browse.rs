//! Browsing: artists, albums, genres, years and recently added.

use offbeat_model::{AlbumSummary, ArtistSummary, GenreSummary, Track, YearSummary};
use rusqlite::{params, Row};

use crate::tracks::{track_from_row, TRACK_COLUMNS, TRACK_JOINS, TRACK_ORDER};
use crate::{Library, Result};

/// Albums with their counts. The counts are per-row subqueries on the `tracks(album_id)`
/// index, so a page of albums costs only its own rows, not an aggregate over the library.
pub(crate) const ALBUM_SELECT: &str = "SELECT al.id, al.title, aa.name, aa.id, al.year,
       (SELECT count(*) FROM tracks t WHERE t.album_id = al.id),
       (SELECT coalesce(sum(t.duration_ms), 0) FROM tracks t WHERE t.album_id = al.id),
       (SELECT min(t.id) FROM tracks t WHERE t.album_id = al.id)
     FROM albums al JOIN artists aa ON aa.id = al.album_artist_id";

pub(crate) fn album_from_row(r: &Row<'_>) -> rusqlite::Result<AlbumSummary> {
    Ok(AlbumSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        album_artist: r.get(2)?,
        album_artist_id: r.get(3)?,
        year: r.get(4)?,
        track_count: r.get(5)?,
        duration_ms: r.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
        cover_track_id: r.get::<_, Option<i64>>(7)?.unwrap_or_default(),
    })
}

/// Artists with their counts. A track counts once for an artist credited on it in any
/// way (album artist, track artist, or one of several artists); each part of the union is
/// an index lookup, so listing every artist stays linear in the library.
pub(crate) const ARTIST_SELECT: &str = "SELECT a.id, a.name,
       (SELECT count(*) FROM albums al WHERE al.album_artist_id = a.id),
       (SELECT count(*) FROM (
            SELECT t.id FROM albums al JOIN tracks t ON t.album_id = al.id WHERE al.album_artist_id = a.id
            UNION SELECT t.id FROM tracks t WHERE t.artist_id = a.id
            UNION SELECT ta.track_id FROM track_artists ta WHERE ta.artist_id = a.id))
     FROM artists a";

pub(crate) fn artist_from_row(r: &Row<'_>) -> rusqlite::Result<ArtistSummary> {
    Ok(ArtistSummary {
        id: r.get(0)?,
        name: r.get(1)?,
        album_count: r.get(2)?,
        track_count: r.get(3)?,
    })
}

impl Library {
    /// Every artist credited on a track or an album, by name.
    pub fn artists(&self) -> Result<Vec<ArtistSummary>> {
        let sql = format!(
            "{ARTIST_SELECT} WHERE a.id IN (SELECT album_artist_id FROM albums)
                OR a.id IN (SELECT artist_id FROM track_artists)
             ORDER BY a.sort_name, a.name"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], artist_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// An artist's albums, oldest first.
    pub fn artist_albums(&self, artist_id: i64) -> Result<Vec<AlbumSummary>> {
        let sql = format!(
            "{ALBUM_SELECT} WHERE al.album_artist_id = ?1
             ORDER BY al.year IS NULL, al.year, al.sort_title"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([artist_id], album_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A page of albums ordered by album artist, then title.
    pub fn albums(&self, offset: u32, limit: u32) -> Result<Vec<AlbumSummary>> {
        let sql = format!("{ALBUM_SELECT} ORDER BY aa.sort_name, al.sort_title LIMIT ?1 OFFSET ?2");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![limit, offset], album_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// An album's tracks in disc and track order.
    pub fn album_tracks(&self, album_id: i64) -> Result<Vec<Track>> {
        self.tracks_where("t.album_id = ?1", album_id)
    }

    /// Every genre with its track count, by name.
    pub fn genres(&self) -> Result<Vec<GenreSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT genre, count(DISTINCT track_id) FROM track_genres GROUP BY genre COLLATE NOCASE
             ORDER BY genre COLLATE NOCASE",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(GenreSummary {
                name: r.get(0)?,
                track_count: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tracks of one genre.
    pub fn genre_tracks(&self, genre: &str) -> Result<Vec<Track>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS}
             WHERE t.id IN (SELECT track_id FROM track_genres WHERE genre = ?1 COLLATE NOCASE)
             ORDER BY {TRACK_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([genre], track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every release year with its track count, newest first.
    pub fn years(&self) -> Result<Vec<YearSummary>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT year, count(*) FROM tracks WHERE year IS NOT NULL GROUP BY year ORDER BY year DESC")?;
        let rows = stmt.query_map([], |r| {
            Ok(YearSummary {
                year: r.get(0)?,
                track_count: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tracks released in `from..=to` (one year, or a decade).
    pub fn year_tracks(&self, from: i32, to: i32) -> Result<Vec<Track>> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE t.year BETWEEN ?1 AND ?2 ORDER BY {TRACK_ORDER}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![from, to], track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The most recently added tracks first.
    pub fn recently_added(&self, limit: u32) -> Result<Vec<Track>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} ORDER BY t.added_at DESC, t.id DESC LIMIT ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([limit], track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn tracks_where(&self, condition: &str, value: i64) -> Result<Vec<Track>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE {condition} ORDER BY {TRACK_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([value], track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
