//! Plays: recorded on this device, waiting in an outbox until the paired server has them,
//! and merged in from other devices through the server. Ids are made by the device that
//! played, so a retried upload or a re-read page stores nothing twice.

use std::collections::HashMap;

use rusqlite::params;
use serde::{Deserialize, Serialize};

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

/// The scrobbling convention: a play is a listen at half the track or four minutes.
pub fn is_listen(ms_played: i64, duration_ms: Option<i64>) -> bool {
    ms_played >= 240_000 || duration_ms.is_some_and(|d| d > 0 && ms_played * 2 >= d)
}

/// The grouping keys of a play: its track, artist and album, folded as identity is.
pub(crate) fn keys(play: &Play) -> (Option<String>, Option<String>, Option<String>) {
    let fold = |s: &Option<String>| {
        s.as_deref()
            .map(offbeat_model::normalize_for_identity)
            .filter(|k| !k.is_empty())
    };
    let artist = fold(&play.artist);
    let track = play.track_uid.clone().or_else(|| {
        fold(&play.title).map(|t| format!("m:{}\u{1f}{t}", artist.as_deref().unwrap_or("")))
    });
    let album = fold(&play.album).and_then(|album| {
        let by = fold(&play.album_artist).or_else(|| artist.clone())?;
        Some(format!("{by}\u{1f}{album}"))
    });
    (track, artist, album)
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
#[derive(Debug, Default)]
pub(crate) struct ListenFigures {
    rows: HashMap<(u8, String), Figure>,
}

#[derive(Debug)]
struct Figure {
    first_at: i64,
    last_at: i64,
    listens: i64,
    ms: i64,
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    track_uid: Option<String>,
}

impl ListenFigures {
    fn add(&mut self, kind: u8, key: &str, at: i64, ms: i64, names: [Option<&String>; 4]) {
        let [title, artist, album, uid] = names.map(|n| n.cloned());
        match self.rows.get_mut(&(kind, key.to_owned())) {
            Some(f) => {
                f.first_at = f.first_at.min(at);
                f.last_at = f.last_at.max(at);
                f.listens += 1;
                f.ms += ms;
                // The names last seen win, as in the table.
                f.title = title.or(f.title.take());
                f.artist = artist.or(f.artist.take());
                f.album = album.or(f.album.take());
                f.track_uid = uid.or(f.track_uid.take());
            }
            None => {
                self.rows.insert(
                    (kind, key.to_owned()),
                    Figure {
                        first_at: at,
                        last_at: at,
                        listens: 1,
                        ms,
                        title,
                        artist,
                        album,
                        track_uid: uid,
                    },
                );
            }
        }
    }

    /// Writes what was gathered into `listen_stats`.
    pub(crate) fn flush(&mut self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let mut add = conn.prepare_cached(ADD_LISTENS)?;
        for ((kind, key), f) in self.rows.drain() {
            add.execute(params![
                kind,
                key,
                f.first_at,
                f.last_at,
                f.listens,
                f.ms,
                f.title,
                f.artist,
                f.album,
                f.track_uid
            ])?;
        }
        Ok(())
    }
}

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

/// Stores one play through a prepared [`INSERT_PLAY`], gathering a listen's figures into
/// `figures` (the caller flushes them before committing); true if the play was new.
pub(crate) fn insert_play(
    stmt: &mut rusqlite::CachedStatement<'_>,
    play: &Play,
    uploaded: bool,
    figures: &mut ListenFigures,
) -> rusqlite::Result<bool> {
    let (track_key, artist_key, album_key) = keys(play);
    let local_at = play.played_at + i64::from(play.utc_offset_min) * 60_000;
    let listen = play.listen.unwrap_or(!play.skipped);
    let n = stmt.execute(params![
        play.id,
        play.track_uid,
        play.played_at,
        play.ms_played,
        play.skipped,
        play.device,
        play.utc_offset_min,
        local_at,
        play.end_reason.map(EndReason::as_str),
        play.source,
        play.origin,
        listen,
        play.title,
        play.artist,
        play.album,
        play.album_artist,
        play.genre,
        play.mbid,
        track_key,
        artist_key,
        album_key,
        uploaded,
    ])?;
    if n == 0 {
        return Ok(false);
    }
    if listen {
        let ms = play.ms_played;
        if let Some(key) = &track_key {
            let names = [
                play.title.as_ref(),
                play.artist.as_ref(),
                play.album.as_ref(),
                play.track_uid.as_ref(),
            ];
            figures.add(0, key, local_at, ms, names);
        }
        if let Some(key) = &artist_key {
            figures.add(
                1,
                key,
                local_at,
                ms,
                [None, play.artist.as_ref(), None, None],
            );
        }
        if let Some(key) = &album_key {
            let by = play.album_artist.as_ref().or(play.artist.as_ref());
            figures.add(2, key, local_at, ms, [None, by, play.album.as_ref(), None]);
        }
    }
    Ok(true)
}

impl Library {
    /// Records a play of this device's; it waits in the outbox until uploaded.
    pub fn record_play(&self, play: &Play) -> Result<()> {
        let play = self.with_names(play.clone())?;
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(INSERT_PLAY)?;
            let mut figures = ListenFigures::default();
            insert_play(&mut stmt, &play, false, &mut figures)?;
            figures.flush(&tx)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records many plays of this device's in one transaction (a restored session's, a
    /// benchmark's); plays already here are left alone. Returns how many were new.
    pub fn record_plays(&mut self, plays: &[Play]) -> Result<usize> {
        let named = plays
            .iter()
            .map(|p| self.with_names(p.clone()))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction()?;
        let mut new = 0;
        {
            let mut stmt = tx.prepare_cached(INSERT_PLAY)?;
            let mut figures = ListenFigures::default();
            for p in &named {
                new += usize::from(insert_play(&mut stmt, p, false, &mut figures)?);
            }
            figures.flush(&tx)?;
        }
        tx.commit()?;
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
        let named = plays
            .iter()
            .map(|p| self.with_names(p.clone()))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(INSERT_PLAY)?;
            let mut figures = ListenFigures::default();
            for p in &named {
                insert_play(&mut stmt, p, true, &mut figures)?;
            }
            figures.flush(&tx)?;
        }
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
