//! Plays: recorded on this device, waiting in an outbox until the paired server has them,
//! and merged in from other devices through the server. Ids are made by the device that
//! played, so a retried upload or a re-read page stores nothing twice.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{Library, Result};

/// One play of a track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Play {
    pub id: String,
    pub track_uid: Option<String>,
    /// Unix milliseconds when it started.
    pub played_at: i64,
    pub ms_played: i64,
    pub skipped: bool,
    pub device: Option<String>,
}

impl Library {
    /// Records a play of this device's; it waits in the outbox until uploaded.
    pub fn record_play(&self, play: &Play) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO plays (id, track_uid, played_at, ms_played, skipped, device, uploaded)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
            )?
            .execute(params![
                play.id,
                play.track_uid,
                play.played_at,
                play.ms_played,
                play.skipped,
                play.device
            ])?;
        Ok(())
    }

    /// The oldest plays not yet on the server, at most `limit`.
    pub fn outbox(&self, limit: u32) -> Result<Vec<Play>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, track_uid, played_at, ms_played, skipped, device FROM plays
             WHERE uploaded = 0 ORDER BY played_at, id LIMIT ?1",
        )?;
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
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO plays (id, track_uid, played_at, ms_played, skipped, device, uploaded)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
            )?;
            for p in plays {
                stmt.execute(params![
                    p.id,
                    p.track_uid,
                    p.played_at,
                    p.ms_played,
                    p.skipped,
                    p.device
                ])?;
            }
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, track_uid, played_at, ms_played, skipped, device FROM plays ORDER BY played_at, id",
        )?;
        let rows = stmt.query_map([], play_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn play_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Play> {
    Ok(Play {
        id: r.get(0)?,
        track_uid: r.get(1)?,
        played_at: r.get(2)?,
        ms_played: r.get(3)?,
        skipped: r.get(4)?,
        device: r.get(5)?,
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
