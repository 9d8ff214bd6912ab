//! Plays: recorded on this device, waiting in an outbox until the paired server has them,
//! and merged in from other devices through the server. Ids are made by the device that
//! played, so a retried upload or a re-read page stores nothing twice.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::rewind::Keyed;
use crate::{Library, Result};

/// One play of a track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Play {
    pub id: String,
    pub track_uid: Option<String>,
    /// Unix milliseconds when it started.
    pub played_at: i64,
    pub ms_played: i64,
    #[serde(default)]
    pub skipped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The local time's offset from UTC where it was played, minutes east.
    #[serde(default)]
    pub utc_offset_min: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    /// Where the audio came from: `local`, `cached` or `stream` (`None`: imported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The service an imported play came from (`spotify`, `listenbrainz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Counts as a listen (half the track or four minutes); `None` from older devices,
    /// which means "not skipped".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album_artist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// MusicBrainz recording id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbid: Option<String>,
}

/// How a play ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Played to its end.
    Finished,
    /// The user moved on to another track.
    Skipped,
    /// Playback stopped (or the app closed).
    Stopped,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::Finished => "finished",
            EndReason::Skipped => "skipped",
            EndReason::Stopped => "stopped",
        }
    }

    fn parse(s: &str) -> Option<EndReason> {
        match s {
            "finished" => Some(EndReason::Finished),
            "skipped" => Some(EndReason::Skipped),
            "stopped" => Some(EndReason::Stopped),
            _ => None,
        }
    }
}

/// The local time's offset from UTC at `ms` (Unix ms), in minutes east: what a play made
/// here, or imported with only a UTC time, is stored with.
pub fn utc_offset_min(ms: i64) -> i32 {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.offset().local_minus_utc() / 60)
        .unwrap_or(0)
}

/// The scrobbling convention: a play is a listen at half the track or four minutes.
pub fn is_listen(ms_played: i64, duration_ms: Option<i64>) -> bool {
    ms_played >= 240_000 || duration_ms.is_some_and(|d| d > 0 && ms_played * 2 >= d)
}

/// The grouping keys of a play: its track, artist and album, folded as identity is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys {
    pub(crate) track: Option<String>,
    pub(crate) artist: Option<String>,
    pub(crate) album: Option<String>,
}

impl Keys {
    /// The keys of a play with these names: a library track's is its uid; any other
    /// track's is its folded artist and title.
    pub(crate) fn of(
        track_uid: Option<&str>,
        title: Option<&str>,
        artist: Option<&str>,
        album: Option<&str>,
        album_artist: Option<&str>,
    ) -> Keys {
        let folded = |s: Option<&str>| {
            s.map(offbeat_model::normalize_for_identity)
                .filter(|k| !k.is_empty())
        };
        // A library track's title is not part of its key: not folded.
        let title = track_uid.is_none().then(|| folded(title)).flatten();
        Keys::of_folded(
            track_uid,
            title.as_deref(),
            folded(artist),
            folded(album).as_deref(),
            folded(album_artist).as_deref(),
        )
    }

    /// [`Keys::of`] from names already folded, an empty one given as `None`.
    pub(crate) fn of_folded(
        track_uid: Option<&str>,
        title: Option<&str>,
        artist: Option<String>,
        album: Option<&str>,
        album_artist: Option<&str>,
    ) -> Keys {
        let track = match track_uid {
            Some(uid) => Some(uid.to_owned()),
            None => title.map(|t| format!("m:{}\u{1f}{t}", artist.as_deref().unwrap_or(""))),
        };
        let album = album.and_then(|album| {
            let by = album_artist.or(artist.as_deref())?;
            Some(format!("{by}\u{1f}{album}"))
        });
        Keys {
            track,
            artist,
            album,
        }
    }

    fn of_play(play: &Play) -> Keys {
        Keys::of(
            play.track_uid.as_deref(),
            play.title.as_deref(),
            play.artist.as_deref(),
            play.album.as_deref(),
            play.album_artist.as_deref(),
        )
    }
}

/// One play as [`INSERT_PLAY`] stores it: borrowed from wherever it was read (an import
/// makes no `String` per entry), with its grouping keys already worked out.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlayRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) track_uid: Option<&'a str>,
    pub(crate) played_at: i64,
    pub(crate) ms_played: i64,
    pub(crate) skipped: bool,
    pub(crate) device: Option<&'a str>,
    pub(crate) utc_offset_min: i32,
    pub(crate) end_reason: Option<EndReason>,
    pub(crate) source: Option<&'a str>,
    pub(crate) origin: Option<&'a str>,
    pub(crate) listen: bool,
    pub(crate) title: Option<&'a str>,
    pub(crate) artist: Option<&'a str>,
    pub(crate) album: Option<&'a str>,
    pub(crate) album_artist: Option<&'a str>,
    pub(crate) genre: Option<&'a str>,
    pub(crate) mbid: Option<&'a str>,
    pub(crate) track_key: Option<&'a str>,
    pub(crate) artist_key: Option<&'a str>,
    pub(crate) album_key: Option<&'a str>,
}

impl<'a> PlayRow<'a> {
    /// The wall-clock time where it was played, counted like Unix ms.
    pub(crate) fn local_at(&self) -> i64 {
        self.played_at + i64::from(self.utc_offset_min) * 60_000
    }

    fn of(play: &'a Play, keys: &'a Keys) -> PlayRow<'a> {
        PlayRow {
            id: &play.id,
            track_uid: play.track_uid.as_deref(),
            played_at: play.played_at,
            ms_played: play.ms_played,
            skipped: play.skipped,
            device: play.device.as_deref(),
            utc_offset_min: play.utc_offset_min,
            end_reason: play.end_reason,
            source: play.source.as_deref(),
            origin: play.origin.as_deref(),
            listen: play.listen.unwrap_or(!play.skipped),
            title: play.title.as_deref(),
            artist: play.artist.as_deref(),
            album: play.album.as_deref(),
            album_artist: play.album_artist.as_deref(),
            genre: play.genre.as_deref(),
            mbid: play.mbid.as_deref(),
            track_key: keys.track.as_deref(),
            artist_key: keys.artist.as_deref(),
            album_key: keys.album.as_deref(),
        }
    }
}

/// The one statement every play goes in by; `?22` says whether it is already uploaded.
pub(crate) const INSERT_PLAY: &str = "INSERT OR IGNORE INTO plays (
        id, track_uid, played_at, ms_played, skipped, device, utc_offset_min, local_at,
        end_reason, source, origin, listen, title, artist, album, album_artist, genre, mbid,
        track_key, artist_key, album_key, uploaded)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22)";

/// Listens' figures gathered over a transaction and written once per key at its end (an
/// import of thousands of plays of the same few hundred songs writes each song's row once).
///
/// Each key is counted in a slot, kept as long as this value is: either numbered by the
/// caller ([`ListenFigures::count_in`]: an import numbers its songs' keys as it meets
/// them, on the thread that reads the file), or given here the first time the key is
/// counted ([`ListenFigures::count`]). A caller uses one or the other.
#[derive(Debug, Default)]
pub(crate) struct ListenFigures {
    /// The slots given here ([`ListenFigures::count`]).
    slots: SlotNumbers,
    /// By slot; `None` until counted in.
    figures: Vec<Option<Figure>>,
    /// The slots counted in since the last flush.
    counted: Vec<usize>,
}

#[derive(Debug)]
struct Figure {
    kind: u8,
    key: String,
    first_at: i64,
    last_at: i64,
    /// 0 since the last flush: nothing to write.
    listens: i64,
    ms: i64,
    /// Title, artist, album and track uid, as last seen.
    names: [Option<String>; 4],
    /// Where `names` came from (see [`ListenFigures::count_in`]); 0: not known.
    names_from: u64,
}

/// A play's slots for its track, artist and album figures.
pub(crate) type Slots = [Option<usize>; 3];

/// Slot numbers for track, artist and album keys, given in the order the keys are first
/// met: the same key of the same kind always gets the same number.
#[derive(Debug, Default)]
pub(crate) struct SlotNumbers {
    /// By key, for tracks, artists and albums (the index).
    numbered: [Keyed<String, usize>; 3],
    /// How many numbers were given.
    given: usize,
}

impl SlotNumbers {
    /// The slots of a play's track, artist and album keys (`None` where it has no key).
    pub(crate) fn number(&mut self, keys: [Option<&str>; 3]) -> Slots {
        let mut slots = [None; 3];
        for ((key, slot), numbered) in keys.into_iter().zip(&mut slots).zip(&mut self.numbered) {
            *slot = key.map(|key| match numbered.get(key) {
                Some(&slot) => slot,
                None => {
                    let slot = self.given;
                    self.given += 1;
                    numbered.insert(key.to_owned(), slot);
                    slot
                }
            });
        }
        slots
    }
}

impl ListenFigures {
    /// Counts a play just stored, if it is a listen.
    pub(crate) fn count(&mut self, play: &PlayRow<'_>) {
        if !play.listen {
            return;
        }
        let slots = self
            .slots
            .number([play.track_key, play.artist_key, play.album_key]);
        self.count_in(slots, play, 0);
    }

    /// Counts a play just stored, if it is a listen, in the slots the caller numbered
    /// for its track, artist and album keys (one number, one key, of any kind).
    /// `names_from` is not 0 when the caller knows every play it gives with that number
    /// has the same names: they are then compared once, not at every play.
    pub(crate) fn count_in(&mut self, slots: Slots, play: &PlayRow<'_>, names_from: u64) {
        if !play.listen {
            return;
        }
        let at = play.local_at();
        let by = play.album_artist.or(play.artist);
        let keys = [play.track_key, play.artist_key, play.album_key];
        let names = [
            [play.title, play.artist, play.album, play.track_uid],
            [None, play.artist, None, None],
            [None, by, play.album, None],
        ];
        for (kind, ((slot, key), names)) in slots.into_iter().zip(keys).zip(names).enumerate() {
            let (Some(slot), Some(key)) = (slot, key) else {
                continue;
            };
            if self.figures.len() <= slot {
                self.figures.resize_with(slot + 1, || None);
            }
            let Some(figure) = self.figures.get_mut(slot) else {
                continue;
            };
            let f = figure.get_or_insert_with(|| Figure {
                kind: kind as u8,
                key: key.to_owned(),
                first_at: at,
                last_at: at,
                listens: 0,
                ms: 0,
                names: Default::default(),
                names_from: 0,
            });
            if f.listens == 0 {
                self.counted.push(slot);
                f.first_at = at;
                f.last_at = at;
            } else {
                f.first_at = f.first_at.min(at);
                f.last_at = f.last_at.max(at);
            }
            f.listens += 1;
            f.ms += play.ms_played;
            if names_from != 0 && f.names_from == names_from {
                continue;
            }
            // The names last seen win, as in the table.
            for (kept, seen) in f.names.iter_mut().zip(names) {
                if let Some(seen) = seen.filter(|s| kept.as_deref() != Some(*s)) {
                    *kept = Some(seen.to_owned());
                }
            }
            f.names_from = names_from;
        }
    }

    /// Writes what was counted into `listen_stats`.
    pub(crate) fn flush(&mut self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let mut update = conn.prepare_cached(UPDATE_LISTENS)?;
        let mut add = conn.prepare_cached(ADD_LISTENS)?;
        let mut counted = std::mem::take(&mut self.counted);
        // In key order, as the table keeps them: each lookup walks pages the one before
        // it left in the cache.
        let figures = &mut self.figures;
        counted.sort_unstable_by(|&a, &b| {
            let key = |i: usize| {
                figures
                    .get(i)
                    .and_then(Option::as_ref)
                    .map(|f| (f.kind, &f.key))
            };
            key(a).cmp(&key(b))
        });
        for &slot in &counted {
            let Some(Some(f)) = figures.get_mut(slot) else {
                continue;
            };
            let [title, artist, album, uid] = &f.names;
            let row = params![
                f.kind, f.key, f.first_at, f.last_at, f.listens, f.ms, title, artist, album, uid
            ];
            // Most rows are already there and were first heard before: then their
            // first-listen index entry is left alone (the upsert rewrites it).
            if update.execute(row)? == 0 {
                add.execute(row)?;
            }
            f.listens = 0;
            f.ms = 0;
            f.names = Default::default();
            f.names_from = 0;
        }
        counted.clear();
        self.counted = counted;
        Ok(())
    }
}

/// Adds listens to a track's (kind 0), artist's (1) or album's (2) figures when its
/// first listen stays as it is; changes nothing otherwise.
const UPDATE_LISTENS: &str = "UPDATE listen_stats SET
        last_at = max(last_at, ?4),
        listens = listens + ?5,
        ms = ms + ?6,
        title = coalesce(?7, title),
        artist = coalesce(?8, artist),
        album = coalesce(?9, album),
        track_uid = coalesce(?10, track_uid)
    WHERE kind = ?1 AND key = ?2 AND first_at <= ?3";

/// Adds listens to a track's (kind 0), artist's (1) or album's (2) figures.
const ADD_LISTENS: &str = "INSERT INTO listen_stats
        (kind, key, first_at, last_at, listens, ms, title, artist, album, track_uid)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (kind, key) DO UPDATE SET
        first_at = min(first_at, excluded.first_at),
        last_at = max(last_at, excluded.last_at),
        listens = listens + excluded.listens,
        ms = ms + excluded.ms,
        title = coalesce(excluded.title, title),
        artist = coalesce(excluded.artist, artist),
        album = coalesce(excluded.album, album),
        track_uid = coalesce(excluded.track_uid, track_uid)";

/// Stores one play through a prepared [`INSERT_PLAY`], counting a listen in `figures`
/// (the caller flushes them before committing); true if the play was new.
pub(crate) fn insert_play(
    stmt: &mut rusqlite::CachedStatement<'_>,
    play: &Play,
    uploaded: bool,
    figures: &mut ListenFigures,
) -> rusqlite::Result<bool> {
    let keys = Keys::of_play(play);
    let row = PlayRow::of(play, &keys);
    let new = insert_row(stmt, &row, uploaded)?;
    if new {
        figures.count(&row);
    }
    Ok(new)
}

/// Stores one play in its stored form through a prepared [`INSERT_PLAY`], not counting
/// it; true if it was new.
pub(crate) fn insert_row(
    stmt: &mut rusqlite::CachedStatement<'_>,
    play: &PlayRow<'_>,
    uploaded: bool,
) -> rusqlite::Result<bool> {
    let n = stmt.execute(params![
        play.id,
        play.track_uid,
        play.played_at,
        play.ms_played,
        play.skipped,
        play.device,
        play.utc_offset_min,
        play.local_at(),
        play.end_reason.map(EndReason::as_str),
        play.source,
        play.origin,
        play.listen,
        play.title,
        play.artist,
        play.album,
        play.album_artist,
        play.genre,
        play.mbid,
        play.track_key,
        play.artist_key,
        play.album_key,
        uploaded,
    ])?;
    Ok(n > 0)
}

impl Library {
    /// Records a play of this device's; it waits in the outbox until uploaded.
    pub fn record_play(&self, play: &Play) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        self.store_plays(&tx, std::slice::from_ref(play), false)?;
        tx.commit()?;
        Ok(())
    }

    /// Records many plays of this device's in one transaction (a restored session's, a
    /// benchmark's); plays already here are left alone. Returns how many were new.
    pub fn record_plays(&mut self, plays: &[Play]) -> Result<usize> {
        let tx = self.conn.unchecked_transaction()?;
        let new = self.store_plays(&tx, plays, false)?;
        tx.commit()?;
        Ok(new)
    }

    /// Stores plays, their names filled in from the library, and their listens' figures,
    /// inside the caller's transaction `tx`; returns how many were new.
    fn store_plays(
        &self,
        tx: &rusqlite::Transaction<'_>,
        plays: &[Play],
        uploaded: bool,
    ) -> Result<usize> {
        let mut stmt = tx.prepare_cached(INSERT_PLAY)?;
        let mut figures = ListenFigures::default();
        let mut new = 0;
        for p in plays {
            let p = self.with_names(p.clone())?;
            new += usize::from(insert_play(&mut stmt, &p, uploaded, &mut figures)?);
        }
        figures.flush(tx)?;
        Ok(new)
    }

    /// Fills in a play's names (and genre) from the library when it has only a track uid
    /// (plays from devices that sent no names).
    fn with_names(&self, mut play: Play) -> Result<Play> {
        use rusqlite::OptionalExtension;
        let Some(uid) = play.track_uid.as_deref().filter(|_| play.title.is_none()) else {
            return Ok(play);
        };
        let names = self
            .conn
            .prepare_cached(
                "SELECT t.title, a.name, al.title, aa.name, t.genre, t.mb_recording_id
                 FROM tracks t JOIN artists a ON a.id = t.artist_id
                 JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.album_artist_id
                 WHERE t.uid = ?1 LIMIT 1",
            )?
            .query_row([uid], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?;
        if let Some((title, artist, album, album_artist, genre, mbid)) = names {
            play.title = Some(title);
            play.artist = Some(artist);
            play.album = Some(album);
            play.album_artist = Some(album_artist);
            play.genre = play.genre.or(genre);
            play.mbid = play.mbid.or(mbid);
        }
        Ok(play)
    }

    /// The oldest plays not yet on the server, at most `limit`.
    pub fn outbox(&self, limit: u32) -> Result<Vec<Play>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PLAY_COLUMNS} FROM plays WHERE uploaded = 0 ORDER BY played_at, id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], play_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many plays wait for upload.
    pub fn outbox_len(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM plays WHERE uploaded = 0", [], |r| {
                r.get(0)
            })?)
    }

    /// Marks plays as on the server.
    pub fn mark_uploaded(&mut self, ids: &[String]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE plays SET uploaded = 1 WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores plays read from the server (any device's; ones already here are left alone)
    /// and where the reading stopped, in one transaction.
    pub fn merge_plays(&mut self, server_id: &str, plays: &[Play], cursor: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        self.store_plays(&tx, plays, true)?;
        tx.execute(
            "INSERT INTO remote_state (server_id, history_cursor) VALUES (?1, ?2)
             ON CONFLICT(server_id) DO UPDATE SET history_cursor = excluded.history_cursor",
            params![server_id, cursor],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Where reading the server's history stopped.
    pub fn history_cursor(&self, server_id: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT history_cursor FROM remote_state WHERE server_id = ?1",
                [server_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Every play, oldest first (history views, tests).
    pub fn plays(&self) -> Result<Vec<Play>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PLAY_COLUMNS} FROM plays ORDER BY played_at, id"
        ))?;
        let rows = stmt.query_map([], play_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

const PLAY_COLUMNS: &str = "id, track_uid, played_at, ms_played, skipped, device, utc_offset_min,
    end_reason, source, origin, listen, title, artist, album, album_artist, genre, mbid";

fn play_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Play> {
    Ok(Play {
        id: r.get(0)?,
        track_uid: r.get(1)?,
        played_at: r.get(2)?,
        ms_played: r.get(3)?,
        skipped: r.get(4)?,
        device: r.get(5)?,
        utc_offset_min: r.get(6)?,
        end_reason: r
            .get::<_, Option<String>>(7)?
            .as_deref()
            .and_then(EndReason::parse),
        source: r.get(8)?,
        origin: r.get(9)?,
        listen: Some(r.get(10)?),
        title: r.get(11)?,
        artist: r.get(12)?,
        album: r.get(13)?,
        album_artist: r.get(14)?,
        genre: r.get(15)?,
        mbid: r.get(16)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn play(id: &str, at: i64) -> Play {
        Play {
            id: id.into(),
            track_uid: Some("h:1".into()),
            played_at: at,
            ms_played: 1000,
            skipped: false,
            device: Some("laptop".into()),
            ..Play::default()
        }
    }

    #[test]
    fn plays_wait_in_the_outbox_until_uploaded_and_merge_once() {
        let mut library = Library::open_in_memory().unwrap();
        library.record_play(&play("a", 2)).unwrap();
        library.record_play(&play("b", 1)).unwrap();
        library.record_play(&play("a", 2)).unwrap();
        assert_eq!(library.outbox_len().unwrap(), 2);
        let out: Vec<String> = library
            .outbox(10)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(out, ["b", "a"]);
        library.mark_uploaded(&["b".into()]).unwrap();
        assert_eq!(library.outbox_len().unwrap(), 1);
        // The server gives back ours and another device's: each stored once, none to send.
        library
            .merge_plays("s", &[play("b", 1), play("phone-1", 3)], "7")
            .unwrap();
        assert_eq!(library.plays().unwrap().len(), 3);
        assert_eq!(library.outbox_len().unwrap(), 1);
        assert_eq!(library.history_cursor("s").unwrap().as_deref(), Some("7"));
    }
}
