//! Opening the database: WAL mode, foreign keys, and the numbered migrations.

use rusqlite::Connection;

use crate::{LibraryError, Result};

/// The migrations in `migrations/`, in order. Index `i` upgrades schema `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_initial.sql"),
    include_str!("../../../migrations/0002_track_details.sql"),
    include_str!("../../../migrations/0003_name_search.sql"),
    include_str!("../../../migrations/0004_remote.sql"),
    include_str!("../../../migrations/0005_plays.sql"),
    include_str!("../../../migrations/0006_history.sql"),
    include_str!("../../../migrations/0007_name_search_rows.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Sets the connection up the way every Offbeat connection must be.
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    // WAL lets the UI read while a scan writes, and survives a crash at any point.
    conn.pragma_update(None, "page_size", 16384)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    // Temporary b-trees and statement journals in memory, not temporary files written page
    // by page (when listen figures were kept by a trigger, every insert kept a statement
    // journal, and that file was a third of an import's time).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // `rarray(?)`: a list of values as a table, for queries given many ids at once.
    rusqlite::vtab::array::load_module(conn)?;
    Ok(())
}

/// Brings the schema up to [`SCHEMA_VERSION`], one migration per transaction.
pub(crate) fn migrate(conn: &mut Connection, path_for_errors: &str) -> Result<()> {
    let mut version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(LibraryError::SchemaTooNew {
            path: path_for_errors.to_owned(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    while version < SCHEMA_VERSION {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        version += 1;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_database_migrates_to_current_version_and_is_idempotent() -> Result<()> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrate(&mut conn, ":memory:")?;
        migrate(&mut conn, ":memory:")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        assert_eq!(version, SCHEMA_VERSION);
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('tracks','files','artists','albums','track_search')",
            [],
            |row| row.get(0),
        )?;
        assert_eq!(tables, 5);
        Ok(())
    }

    #[test]
    fn every_older_schema_upgrades_and_keeps_its_rows() -> Result<()> {
        for start in 1..SCHEMA_VERSION {
            let mut conn = Connection::open_in_memory()?;
            configure(&conn)?;
            for migration in &MIGRATIONS[..start as usize] {
                conn.execute_batch(migration)?;
            }
            conn.pragma_update(None, "user_version", start)?;
            conn.execute_batch(
                "INSERT INTO folders (id, path, added_at) VALUES (1, '/m', 0);
                 INSERT INTO files (id, folder_id, raw_path, path, size, mtime_ns)
                 VALUES (1, 1, X'2F6D2F612E666C6163', '/m/a.flac', 10, 1);
                 INSERT INTO artists (id, name) VALUES (1, 'A');
                 INSERT INTO albums (id, title, album_artist_id) VALUES (1, 'B', 1);
                 INSERT INTO tracks (id, file_id, uid, title, artist_id, album_id, duration_ms, format)
                 VALUES (1, 1, 'h:1', 'T', 1, 1, 1000, 'FLAC');",
            )?;
            migrate(&mut conn, ":memory:")?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
            assert_eq!(version, SCHEMA_VERSION);
            let title: String =
                conn.query_row("SELECT title FROM tracks WHERE id = 1", [], |r| r.get(0))?;
            assert_eq!(title, "T", "upgrading from schema {start} kept the track");
        }
        Ok(())
    }

    #[test]
    fn newer_schema_is_refused_not_clobbered() -> Result<()> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)?;
        let err = migrate(&mut conn, "x.db");
        assert!(matches!(err, Err(LibraryError::SchemaTooNew { .. })));
        Ok(())
    }
}
