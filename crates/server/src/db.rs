//! The server's own database (`<data>/server.db`, SQLite in WAL mode): users and their
//! tokens (hashed), who owns which playlist document and which sync peer, listening
//! history, the catalog's change log, and settings such as the operator message.
//!
//! The library (tracks, covers) is the library crate's own database beside it.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// Migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &["
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,          -- ms since the epoch
    revoked_at INTEGER
);
-- A token is stored as its SHA-256: tokens are 256 random bits, so a slow password hash
-- would add no safety and would make every request (and every failed guess) expensive.
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE documents (
    doc_id     TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX documents_user ON documents(user_id);
-- A sync peer id belongs to the first user who connected with it.
CREATE TABLE peers (
    peer_id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id)
);
CREATE TABLE history (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER NOT NULL REFERENCES users(id),
    event_id  TEXT NOT NULL,
    body      TEXT NOT NULL,              -- the event as the client sent it (JSON)
    UNIQUE (user_id, event_id)
);
CREATE INDEX history_user ON history(user_id, seq);
-- One row per track uid, its latest state; seq grows with every change, so a client
-- asking for changes since a seq gets each changed track once, at its newest.
CREATE TABLE catalog (
    uid     TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    body    TEXT NOT NULL                 -- the track as the API sends it (JSON)
);
CREATE INDEX catalog_seq ON catalog(seq);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the server database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the server database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("there is already a user named {0}")]
    UserExists(String),
    #[error("there is no user named {0}")]
    NoSuchUser(String),
    #[error("the cursor is past anything this server has given out")]
    UnknownCursor,
    #[error("no randomness from the operating system: {0}")]
    Random(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, DbError>;

/// A user, as a request's token identifies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRow {
    pub name: String,
    pub created_at: i64,
    pub active_tokens: u32,
    pub revoked: bool,
}

/// What a document's ownership claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// It is (now) this user's.
    Ours,
    /// Another user's.
    Theirs,
}

/// One page of changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// (seq, deleted, body) in seq order.
    pub rows: Vec<(i64, bool, String)>,
    /// The seq to ask from next (the last row's, or the one asked from).
    pub cursor: i64,
    pub more: bool,
}

/// The database, one connection behind a lock (every statement is short).
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new token: 256 random bits from the operating system, as 64 hex characters.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Db {
    pub fn open(path: &Path) -> Result<Db> {
        let open = || -> rusqlite::Result<Connection> {
            let mut conn = Connection::open(path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
                let tx = conn.transaction()?;
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", i as i64 + 1)?;
                tx.commit()?;
            }
            Ok(conn)
        };
        let conn = open().map_err(|source| DbError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // --- Users and tokens ------------------------------------------------------------

    /// Adds a user and returns their first token (shown once, stored hashed).
    pub fn add_user(&self, name: &str) -> Result<String> {
        let token = new_token()
            .map_err(|e| DbError::Sql(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists: Option<i64> = tx
            .query_row("SELECT id FROM users WHERE name = ?", [name], |r| r.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(DbError::UserExists(name.to_owned()));
        }
        let now = now_ms();
        tx.execute(
            "INSERT INTO users (name, created_at) VALUES (?, ?)",
            params![name, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)",
            params![token_hash(&token), id, now],
        )?;
        tx.commit()?;
        Ok(token)
    }

    /// Revokes every token of a user; their requests are refused from now on.
    pub fn revoke_user(&self, name: &str) -> Result<()> {
        let conn = self.conn();
        let now = now_ms();
        let changed = conn.execute(
            "UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            params![now, name],
        )?;
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(DbError::NoSuchUser(name.to_owned()));
        }
        if changed > 0 {
            conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL
                 AND user_id = (SELECT id FROM users WHERE name = ?)",
                params![now, name],
            )?;
        }
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT u.name, u.created_at, u.revoked_at IS NOT NULL,
                    (SELECT COUNT(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL)
             FROM users u ORDER BY u.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(UserRow {
                name: r.get(0)?,
                created_at: r.get(1)?,
                revoked: r.get(2)?,
                active_tokens: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The user a token belongs to, if it is current.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT u.id, u.name FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = ? AND t.revoked_at IS NULL AND u.revoked_at IS NULL",
        )?;
        Ok(stmt
            .query_row([token_hash(token)], |r| {
                Ok(User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()?)
    }

    // --- Documents and peers ---------------------------------------------------------

    /// Records `doc_id` as `user`'s unless someone already owns it.
    pub fn claim_document(&self, doc_id: &str, user: i64) -> Result<Claim> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO documents (doc_id, user_id, created_at) VALUES (?, ?, ?)",
            params![doc_id, user, now_ms()],
        )?;
        let owner: i64 = conn.query_row(
            "SELECT user_id FROM documents WHERE doc_id = ?",
            [doc_id],
            |r| r.get(0),
        )?;
        Ok(if owner == user {
            Claim::Ours
        } else {
            Claim::Theirs
        })
    }

    pub fn document_owner(&self, doc_id: &str) -> Result<Option<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT user_id FROM documents WHERE doc_id = ?")?;
        Ok(stmt.query_row([doc_id], |r| r.get(0)).optional()?)
    }

    pub fn documents(&self, user: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT doc_id FROM documents WHERE user_id = ? ORDER BY created_at")?;
        let rows = stmt.query_map([user], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Binds a sync peer id to `user` if it is new; false if another user holds it.
    pub fn claim_peer(&self, peer_id: &str, user: i64) -> Result<bool> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO peers (peer_id, user_id) VALUES (?, ?)",
            params![peer_id, user],
        )?;
        let owner: i64 = conn.query_row(
            "SELECT user_id FROM peers WHERE peer_id = ?",
            [peer_id],
            |r| r.get(0),
        )?;
        Ok(owner == user)
    }

    /// Whether a user may still connect (not revoked).
    pub fn user_active(&self, user: i64) -> Result<bool> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND revoked_at IS NULL)",
        )?;
        Ok(stmt.query_row([user], |r| r.get(0))?)
    }

    pub fn peer_user(&self, peer_id: &str) -> Result<Option<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT user_id FROM peers WHERE peer_id = ?")?;
        Ok(stmt.query_row([peer_id], |r| r.get(0)).optional()?)
    }

    // --- History ---------------------------------------------------------------------

    /// Stores events (id, body) for a user; one already stored (same id) is skipped.
    /// Returns how many were new. All or none: one transaction.
    pub fn add_history(&self, user: i64, events: &[(String, String)]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO history (user_id, event_id, body) VALUES (?, ?, ?)",
            )?;
            for (id, body) in events {
                added += stmt.execute(params![user, id, body])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    pub fn history(&self, user: i64, since: i64, limit: u32) -> Result<Page> {
        let conn = self.conn();
        known_cursor(&conn, "history", since)?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, body FROM history WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )?;
        let rows: Vec<(i64, bool, String)> = stmt
            .query_map(params![user, since, i64::from(limit) + 1], |r| {
                Ok((r.get(0)?, false, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(page(rows, since, limit))
    }

    // --- Catalog ---------------------------------------------------------------------

    /// Makes the catalog match `tracks` (uid, body): changed or new ones get a new seq,
    /// ones no longer present become deletions. Returns (changed, deleted).
    pub fn sync_catalog(&self, tracks: &[(String, String)]) -> Result<(usize, usize)> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM catalog", [], |r| {
            r.get(0)
        })?;
        let current: std::collections::HashMap<String, (bool, String)> = {
            let mut stmt = tx.prepare("SELECT uid, deleted, body FROM catalog")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let (mut changed, mut deleted) = (0, 0);
        let mut present = std::collections::HashSet::new();
        {
            let mut put = tx.prepare(
                "INSERT INTO catalog (uid, seq, deleted, body) VALUES (?, ?, 0, ?)
                 ON CONFLICT (uid) DO UPDATE SET seq = excluded.seq, deleted = 0, body = excluded.body",
            )?;
            for (uid, body) in tracks {
                if !present.insert(uid.as_str()) {
                    continue; // A second file with the same uid: the first one stands.
                }
                if current.get(uid) != Some(&(false, body.clone())) {
                    seq += 1;
                    put.execute(params![uid, seq, body])?;
                    changed += 1;
                }
            }
            let mut gone = tx.prepare("UPDATE catalog SET seq = ?, deleted = 1 WHERE uid = ?")?;
            for (uid, (was_deleted, _)) in &current {
                if !was_deleted && !present.contains(uid.as_str()) {
                    seq += 1;
                    gone.execute(params![seq, uid])?;
                    deleted += 1;
                }
            }
        }
        tx.commit()?;
        Ok((changed, deleted))
    }

    /// Catalog changes after `since`: (uid-bearing body or a deletion) in seq order.
    pub fn catalog(&self, since: i64, limit: u32) -> Result<(Page, Vec<String>)> {
        let conn = self.conn();
        known_cursor(&conn, "catalog", since)?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, deleted, body, uid FROM catalog WHERE seq > ? ORDER BY seq LIMIT ?",
        )?;
        let mut uids = Vec::new();
        let rows: Vec<(i64, bool, String)> = stmt
            .query_map(params![since, i64::from(limit) + 1], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
            })?
            .map(|row| {
                row.map(|(seq, deleted, body, uid)| {
                    uids.push(uid);
                    (seq, deleted, body)
                })
            })
            .collect::<rusqlite::Result<_>>()?;
        uids.truncate(limit as usize);
        Ok((page(rows, since, limit), uids))
    }

    pub fn catalog_size(&self) -> Result<u64> {
        let conn = self.conn();
        Ok(
            conn.query_row("SELECT COUNT(*) FROM catalog WHERE deleted = 0", [], |r| {
                r.get(0)
            })?,
        )
    }

    // --- Settings --------------------------------------------------------------------

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT value FROM settings WHERE key = ?")?;
        Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
    }

    /// This server's id: made once, at first start, and kept. Clients use it to know two
    /// addresses (LAN, WAN) of one server for the same server.
    pub fn server_id(&self) -> Result<String> {
        if let Some(id) = self.setting("server_id")? {
            return Ok(id);
        }
        let id = new_token()?[..32].to_owned();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('server_id', ?) ON CONFLICT (key) DO NOTHING",
            [&id],
        )?;
        Ok(conn.query_row(
            "SELECT value FROM settings WHERE key = 'server_id'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Sets `key` unless it is set already; returns the value that holds.
    pub fn set_setting_once(&self, key: &str, value: &str) -> Result<String> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            params![key, value],
        )?;
        Ok(
            conn.query_row("SELECT value FROM settings WHERE key = ?", [key], |r| {
                r.get(0)
            })?,
        )
    }

    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        let conn = self.conn();
        match value {
            Some(value) => conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?,
            None => conn.execute("DELETE FROM settings WHERE key = ?", [key])?,
        };
        Ok(())
    }
}

/// Refuses a cursor past anything `table`'s log has given out (the database was reset or
/// restored): the client must start again rather than silently miss changes.
fn known_cursor(conn: &Connection, table: &str, since: i64) -> Result<()> {
    let newest: i64 = conn.query_row(
        &format!("SELECT COALESCE(MAX(seq), 0) FROM {table}"),
        [],
        |r| r.get(0),
    )?;
    if since > newest {
        return Err(DbError::UnknownCursor);
    }
    Ok(())
}

/// Trims a query's `limit + 1` rows to a page, saying whether there is more.
fn page(mut rows: Vec<(i64, bool, String)>, since: i64, limit: u32) -> Page {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let cursor = rows.last().map_or(since, |r| r.0);
    Page { rows, cursor, more }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("server.db")).unwrap();
        (dir, db)
    }

    #[test]
    fn a_token_finds_its_user_until_revoked() {
        let (_dir, db) = db();
        let token = db.add_user("ana").unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(db.user_for_token(&token).unwrap().unwrap().name, "ana");
        assert!(db.user_for_token("not-a-token").unwrap().is_none());
        assert!(matches!(db.add_user("ana"), Err(DbError::UserExists(_))));
        db.revoke_user("ana").unwrap();
        assert!(db.user_for_token(&token).unwrap().is_none());
        assert!(matches!(db.revoke_user("bo"), Err(DbError::NoSuchUser(_))));
        assert!(db.users().unwrap()[0].revoked);
    }

    #[test]
    fn the_catalog_pages_changes_once_each_at_their_newest() {
        let (_dir, db) = db();
        let t = |uid: &str, v: &str| (uid.to_owned(), format!("{{\"v\":\"{v}\"}}"));
        db.sync_catalog(&[t("a", "1"), t("b", "1"), t("c", "1")])
            .unwrap();
        let (first, uids) = db.catalog(0, 2).unwrap();
        assert_eq!(uids, ["a", "b"]);
        assert!(first.more);
        // b changes and a goes before the client asks for the next page.
        assert_eq!(
            db.sync_catalog(&[t("b", "2"), t("c", "1")]).unwrap(),
            (1, 1)
        );
        let (next, uids) = db.catalog(first.cursor, 10).unwrap();
        assert_eq!(uids, ["c", "b", "a"]);
        assert!(!next.more);
        assert!(next.rows[2].1, "a is a deletion");
        assert_eq!(db.catalog(next.cursor, 10).unwrap().0.rows, []);
        assert_eq!(db.catalog_size().unwrap(), 2);
    }

    #[test]
    fn history_stores_an_event_once() {
        let (_dir, db) = db();
        db.add_user("ana").unwrap();
        let events = vec![
            ("e1".to_owned(), "{}".to_owned()),
            ("e2".to_owned(), "{}".to_owned()),
        ];
        assert_eq!(db.add_history(1, &events).unwrap(), 2);
        assert_eq!(db.add_history(1, &events).unwrap(), 0);
        assert_eq!(db.history(1, 0, 10).unwrap().rows.len(), 2);
    }
}
