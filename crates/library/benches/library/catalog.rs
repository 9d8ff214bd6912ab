//! A large catalog without large folders: a scanned library's rows are copied with SQL
//! until it holds the wanted number of tracks. Copy `k` renames every artist and album
//! ("Abbey Road" becomes "Abbey Road 2"), moves every file under "Copy k/", and offsets
//! every id, so the copies are distinct artists, albums, files and tracks whose search
//! rows have the same shape as the scanner's.
//!
//! The tables are read from the schema, not listed here: a column added by a later
//! migration is copied as it is (with a suffix if it is unique on its own), and a table
//! that hangs off tracks, files, albums or artists (by a foreign key) is copied with its
//! references moved to the copies.

use std::collections::HashMap;
use std::error::Error;
use std::path::Path;

use rusqlite::{Connection, Transaction};

/// The tables every copy starts from; others are copied when they reference one of these.
const CORE: &[&str] = &["artists", "albums", "files", "tracks"];
/// The full-text index over tracks (rowid = track id).
const SEARCH: &str = "track_search";

/// What the catalog holds once built.
#[derive(Debug)]
pub struct Catalog {
    pub tracks: i64,
    pub albums: i64,
    pub artists: i64,
    /// How many copies of the scanned library it is made of (the original included).
    pub copies: i64,
    /// The tables copied besides the search index, in the order they were copied.
    pub tables: Vec<String>,
}

struct Table {
    name: String,
    /// Each column with whether it is the table's INTEGER PRIMARY KEY.
    columns: Vec<(String, bool)>,
    /// Column -> table it references.
    references: HashMap<String, String>,
    /// The columns of each UNIQUE index (primary keys included).
    unique: Vec<Vec<String>>,
    /// Rows with a rowid up to this are the originals.
    max_rowid: i64,
}

/// Grows the library database at `db` to at least `at_least` tracks.
pub fn multiply(db: &Path, at_least: i64) -> Result<Catalog, Box<dyn Error>> {
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let originals: i64 = conn.query_row("SELECT count(*) FROM tracks", [], |r| r.get(0))?;
    if originals == 0 {
        return Err("the scanned library has no tracks to copy".into());
    }
    let copies = (at_least + originals - 1) / originals;
    let tables = tables_to_copy(&conn)?;
    let offsets: HashMap<String, i64> = tables
        .iter()
        .map(|t| (t.name.clone(), t.max_rowid))
        .collect();
    let track_offset = *offsets.get("tracks").ok_or("no tracks table")?;
    let search_columns = columns(&conn, SEARCH)?;

    let tx = conn.transaction()?;
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE search_rows AS SELECT rowid AS original_rowid, * FROM {SEARCH}"
    ))?;
    for k in 1..copies {
        for table in &tables {
            tx.execute(&copy_rows(table, k, &offsets), [])?;
        }
        copy_search_rows(&tx, &search_columns, k, track_offset)?;
    }
    // The name indexes, whose rows the scanner writes with each new artist and album.
    tx.execute(
        "INSERT INTO artist_search (rowid, name) SELECT id, name FROM artists WHERE id > ?1",
        [offsets.get("artists").ok_or("no artists table")?],
    )?;
    tx.execute(
        "INSERT INTO album_search (rowid, title, artist)
         SELECT al.id, al.title, aa.name FROM albums al JOIN artists aa ON aa.id = al.album_artist_id
         WHERE al.id > ?1",
        [offsets.get("albums").ok_or("no albums table")?],
    )?;
    tx.execute_batch("DROP TABLE temp.search_rows")?;
    tx.commit()?;

    check_consistency(&conn)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    Ok(Catalog {
        tracks: count("SELECT count(*) FROM tracks")?,
        albums: count("SELECT count(*) FROM albums")?,
        artists: count("SELECT count(*) FROM artists")?,
        copies,
        tables: tables.into_iter().map(|t| t.name).collect(),
    })
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<(String, bool)>> {
    let mut stmt = conn.prepare("SELECT name, upper(type), pk FROM pragma_table_info(?1)")?;
    let rows: Vec<(String, String, i64)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let keys = rows.iter().filter(|(_, _, pk)| *pk > 0).count();
    Ok(rows
        .into_iter()
        .map(|(name, ty, pk)| (name, keys == 1 && pk == 1 && ty == "INTEGER"))
        .collect())
}

fn unique_indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Vec<String>>> {
    let mut list = conn.prepare("SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1")?;
    let names: Vec<String> = list
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut info = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    names
        .iter()
        .map(|index| info.query_map([index], |r| r.get(0))?.collect())
        .collect()
}

/// The core tables and every table referencing one of them, referenced tables first.
fn tables_to_copy(conn: &Connection) -> Result<Vec<Table>, Box<dyn Error>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master m WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND sql NOT LIKE '%WITHOUT ROWID%'
         AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%'
                         AND m.name LIKE replace(v.name, '_', '\\_') || '\\_%' ESCAPE '\\')
         ORDER BY name",
    )?;
    // (Shadow tables of a full-text index are skipped: they are filled through the index.
    // So are tables without rowids, such as the
    // listening figures: copies are told apart by rowid, and none of them is a track's.)
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut all = Vec::new();
    for name in names {
        let mut fks =
            conn.prepare("SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?1)")?;
        let references: HashMap<String, String> = fks
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let max_rowid = conn.query_row(
            &format!("SELECT coalesce(max(rowid), 0) FROM \"{name}\""),
            [],
            |r| r.get(0),
        )?;
        all.push(Table {
            columns: columns(conn, &name)?,
            unique: unique_indexes(conn, &name)?,
            name,
            references,
            max_rowid,
        });
    }
    // The core tables and whatever references them, directly or through another copied
    // table.
    let mut copied: Vec<String> = CORE.iter().map(|c| (*c).to_owned()).collect();
    while let Some(t) = all
        .iter()
        .find(|t| !copied.contains(&t.name) && t.references.values().any(|to| copied.contains(to)))
    {
        copied.push(t.name.clone());
    }
    all.retain(|t| copied.contains(&t.name));
    // Referenced tables first.
    let mut ordered: Vec<Table> = Vec::new();
    while let Some(i) = all.iter().position(|t| {
        t.references.values().all(|to| {
            to == &t.name || !copied.contains(to) || ordered.iter().any(|o| &o.name == to)
        })
    }) {
        ordered.push(all.remove(i));
    }
    if !all.is_empty() {
        return Err("tables that reference each other: cannot order the copy".into());
    }
    for core in CORE {
        if !ordered.iter().any(|t| t.name == *core) {
            return Err(format!("the library has no {core} table").into());
        }
    }
    Ok(ordered)
}

/// `INSERT INTO t SELECT ...` for copy `k` of the original rows of one table.
fn copy_rows(table: &Table, k: i64, offsets: &HashMap<String, i64>) -> String {
    let label = k + 1;
    let folder = "(SELECT fo.path FROM folders fo WHERE fo.id = src.folder_id)";
    let moved =
        |path: &str| format!("{folder} || '/Copy {label}' || substr({path}, length({folder}) + 1)");
    let shift = |column: &str, is_key: bool| {
        if is_key {
            offsets.get(&table.name)
        } else {
            table.references.get(column).and_then(|t| offsets.get(t))
        }
    };
    // A UNIQUE index none of whose columns is shifted would collide with the original.
    let colliding: Vec<&String> = table
        .unique
        .iter()
        .filter(|index| {
            !index.iter().any(|c| {
                let is_key = table.columns.iter().any(|(name, key)| name == c && *key);
                shift(c, is_key).is_some()
            })
        })
        .flatten()
        .collect();
    let exprs: Vec<String> = table
        .columns
        .iter()
        .map(|(column, is_key)| {
            if let Some(offset) = shift(column, *is_key) {
                return format!("src.\"{column}\" + {}", k * offset);
            }
            let named = column.contains("name") || column.contains("title");
            match (table.name.as_str(), column.as_str()) {
                // Names and their sort keys: "Abbey Road 2" sorts as "abbey road 2".
                ("artists" | "albums", _) if named => {
                    format!("src.\"{column}\" || ' {label}'")
                }
                ("files", "path") => moved("src.path"),
                ("files", "raw_path") => {
                    format!("CAST({} AS BLOB)", moved("CAST(src.raw_path AS TEXT)"))
                }
                ("tracks", "uid") => format!("src.uid || '#{label}'"),
                _ if colliding.contains(&column) => format!("src.\"{column}\" || '#{label}'"),
                _ => format!("src.\"{column}\""),
            }
        })
        .collect();
    let names: Vec<String> = table
        .columns
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect();
    format!(
        "INSERT INTO \"{name}\" ({cols}) SELECT {exprs} FROM \"{name}\" AS src WHERE src.rowid <= {max}",
        name = table.name,
        cols = names.join(", "),
        exprs = exprs.join(", "),
        max = table.max_rowid,
    )
}

fn copy_search_rows(
    tx: &Transaction<'_>,
    columns: &[(String, bool)],
    k: i64,
    track_offset: i64,
) -> rusqlite::Result<usize> {
    let names: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    let exprs: Vec<String> = columns
        .iter()
        .map(|(c, _)| match c.as_str() {
            "artist" | "album" => format!("\"{c}\" || ' {}'", k + 1),
            _ => format!("\"{c}\""),
        })
        .collect();
    tx.execute(
        &format!(
            "INSERT INTO {SEARCH} (rowid, {}) SELECT original_rowid + {}, {} FROM temp.search_rows",
            names.join(", "),
            k * track_offset,
            exprs.join(", ")
        ),
        [],
    )
}

/// Every track has its file and its search row, and no reference dangles.
fn check_consistency(conn: &Connection) -> Result<(), Box<dyn Error>> {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    let no_file = count(
        "SELECT count(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = t.file_id)",
    )?;
    let no_search = count(&format!(
        "SELECT count(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM {SEARCH} s WHERE s.rowid = t.id)"
    ))?;
    let search_rows = count(&format!("SELECT count(*) FROM {SEARCH}"))?;
    let tracks = count("SELECT count(*) FROM tracks")?;
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let dangling = stmt.query_map([], |_| Ok(()))?.count();
    if no_file != 0 || no_search != 0 || search_rows != tracks || dangling != 0 {
        return Err(format!(
            "inconsistent catalog: {no_file} tracks without a file, {no_search} without a search \
             row, {search_rows} search rows for {tracks} tracks, {dangling} dangling references"
        )
        .into());
    }
    for (table, index) in [("artists", "artist_search"), ("albums", "album_search")] {
        let rows = count(&format!("SELECT count(*) FROM {table}"))?;
        let indexed = count(&format!("SELECT count(*) FROM {index}"))?;
        if rows != indexed {
            return Err(
                format!("inconsistent catalog: {indexed} {index} rows for {rows} {table}").into(),
            );
        }
    }
    Ok(())
}
