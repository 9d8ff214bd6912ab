//! Prefix search across titles, artists and albums with FTS5.

use offbeat_model::Track;

use crate::tracks::{track_from_row, TRACK_COLUMNS, TRACK_JOINS, TRACK_ORDER};
use crate::{Library, Result};

/// Below this many letters in the query, results come in library order: ranking a one- or
/// two-letter prefix touches most of the index and costs tens of milliseconds.
const MIN_LETTERS_FOR_RANKING: usize = 3;

/// Turns what a person typed into an FTS5 query: every word must match the start of a
/// word in the title, artist or album. Returns `None` when there is nothing to search for.
///
/// Words are split the way the index tokenizer splits them (on anything that is not a
/// letter or digit), and each is quoted, so FTS5 syntax in the input (`AND`, `"`, `*`,
/// `:`) is searched for literally rather than interpreted.
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl Library {
    /// Tracks matching every word of `query` by prefix, best matches first.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<Track>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let letters = query.chars().filter(|c| c.is_alphanumeric()).count();
        // The inner query picks at most `limit` matches straight from the index (best
        // first from three letters on; in index order below that, which costs nothing);
        // only those few rows are joined and put in library order.
        let pick = if letters >= MIN_LETTERS_FOR_RANKING {
            "SELECT rowid AS id, bm25(track_search, 10.0, 5.0, 3.0) AS score FROM track_search
             WHERE track_search MATCH ?1 ORDER BY score LIMIT ?2"
        } else {
            "SELECT rowid AS id, 0 AS score FROM track_search WHERE track_search MATCH ?1 LIMIT ?2"
        };
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} JOIN ({pick}) m ON m.id = t.id
             ORDER BY m.score, {TRACK_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params![fts, limit], track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_prefix_terms() {
        let check =
            |input: &str, expected: Option<&str>| assert_eq!(fts_query(input).as_deref(), expected);
        check("miles kind", Some("\"miles\"* \"kind\"*"));
        check("  AC/DC ", Some("\"AC\"* \"DC\"*"));
        check("\"a\" OR b*", Some("\"a\"* \"OR\"* \"b\"*"));
        check("Beyoncé", Some("\"Beyoncé\"*"));
        check(" -*- ", None);
    }
}
