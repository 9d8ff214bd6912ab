//! Prefix search across titles, artists and albums with FTS5.
//!
//! Ranking is by *where* the first typed word matches, best first: the start of a title,
//! of an artist, of an album, then a later word of a title, of an artist, anything else.
//! Each tier is one column-filtered FTS5 query that reads only the index, and the tiers
//! stop as soon as enough tracks are found, so ranking costs about the same for "kin"
//! (5,000 matches in a 100k library) as for "kingdom of heaven". (bm25 has to visit every
//! match to score it: 10 ms for "kin", and reading every match's text costs more still.)
//! Within a tier, tracks come in library order.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use offbeat_model::{normalize_for_identity, SearchResults, Track};
use rusqlite::params;
use rusqlite::types::Value;

use crate::browse::{album_from_row, artist_from_row, ALBUM_SELECT, ARTIST_SELECT};
use crate::tracks::{track_from_row, TRACK_COLUMNS, TRACK_JOINS, TRACK_ORDER};
use crate::{Library, Result};

/// Below this many letters in the query, results come in library order: a one- or
/// two-letter prefix matches most of the library, and no order says much about it.
const MIN_LETTERS_FOR_RANKING: usize = 3;

/// Matching tracks are counted up to this many; past it the count reads "1,000 or more".
pub const MATCH_COUNT_LIMIT: u32 = 1_000;

/// Artists, and albums, a grouped search counts at most ("24 or more artists").
pub const NAME_MATCH_LIMIT: u32 = 24;

/// Artists, and albums, a grouped search returns in full, with their counts: the UI shows
/// a row of at most six of each. Counting an artist's tracks is most of a name search's
/// cost, so the rest are only counted as matches.
pub const NAME_SHOWN: u32 = 6;

/// Names each tier of an artist or album search considers: enough to fill the list after
/// the uncredited are dropped, few enough that sorting them costs nothing.
const NAME_CANDIDATES: u32 = 100;

/// The best credited artists for a name query. ?1 asks for names starting with the first
/// word, ?2 for names with it anywhere; the first tier comes first, then by name. Artists
/// only named as a whole credit ("A feat. B") are left out, as the Artists view leaves
/// them out.
const ARTIST_PICK: &str = "WITH cand(id, tier) AS (
        SELECT * FROM (SELECT rowid, 0 FROM artist_search WHERE artist_search MATCH ?1 LIMIT ?3)
        UNION ALL
        SELECT * FROM (SELECT rowid, 1 FROM artist_search WHERE artist_search MATCH ?2 LIMIT ?3)),
    pick(id, tier) AS (
        SELECT c.id, min(c.tier) AS tier FROM cand c JOIN artists a ON a.id = c.id
        WHERE EXISTS (SELECT 1 FROM albums WHERE album_artist_id = a.id)
           OR EXISTS (SELECT 1 FROM track_artists WHERE artist_id = a.id)
        GROUP BY c.id ORDER BY tier, a.sort_name, a.name LIMIT ?4)";

/// The same for albums: ?1 asks for titles starting with the first word, ?2 for the words
/// anywhere in the title or the album artist's name.
const ALBUM_PICK: &str = "WITH cand(id, tier) AS (
        SELECT * FROM (SELECT rowid, 0 FROM album_search WHERE album_search MATCH ?1 LIMIT ?3)
        UNION ALL
        SELECT * FROM (SELECT rowid, 1 FROM album_search WHERE album_search MATCH ?2 LIMIT ?3)),
    pick(id, tier) AS (
        SELECT c.id, min(c.tier) AS tier FROM cand c
        JOIN albums al ON al.id = c.id JOIN artists aa ON aa.id = al.album_artist_id
        GROUP BY c.id ORDER BY tier, al.sort_title, aa.sort_name LIMIT ?4)";

/// The typed words, split the way the index tokenizer splits them (on anything that is
/// not a letter or digit).
fn words(input: &str) -> Vec<&str> {
    input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// A word as a quoted FTS5 prefix term, so FTS5 syntax in the input (`AND`, `"`, `*`,
/// `:`) is searched for literally rather than interpreted. Words never contain quotes:
/// [`words`] splits on them.
fn term(word: &str) -> String {
    format!("\"{word}\"*")
}

/// Turns what a person typed into an FTS5 query: every word must match the start of a
/// word in the title, artist or album. Returns `None` when there is nothing to search for.
pub fn fts_query(input: &str) -> Option<String> {
    let words = words(input);
    (!words.is_empty()).then(|| words.iter().map(|w| term(w)).collect::<Vec<_>>().join(" "))
}

/// A column of the track search index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Title,
    /// The track's artist and its album artist.
    Artist,
    Album,
}

/// Where the first typed word matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// At the start of the column.
    Start(Column),
    /// At the start of any word of the column.
    Word(Column),
    /// Anywhere.
    Anywhere,
}

/// The ranking tiers, best first.
const TIERS: [Place; 6] = [
    Place::Start(Column::Title),
    Place::Start(Column::Artist),
    Place::Start(Column::Album),
    Place::Word(Column::Title),
    Place::Word(Column::Artist),
    Place::Anywhere,
];

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Title => "title",
            Column::Artist => "artist",
            Column::Album => "album",
        }
    }

    /// The column's words for a track, as the scanner indexes it (the artist column is
    /// the artist then the album artist) and the index tokenizer splits it: on anything
    /// not a letter or digit.
    fn words(self, track: &Track) -> impl Iterator<Item = &str> {
        let (text, more) = match self {
            Column::Title => (track.title.as_str(), ""),
            Column::Artist => (track.artist.as_str(), track.album_artist.as_str()),
            Column::Album => (track.album.as_str(), ""),
        };
        let split = |text| str::split(text, |c: char| !c.is_alphanumeric());
        split(text).chain(split(more)).filter(|w| !w.is_empty())
    }
}

impl Place {
    /// The FTS5 query for tracks matching every word with the first one here.
    fn query(self, words: &[&str]) -> String {
        let terms: Vec<String> = words.iter().map(|w| term(w)).collect();
        let all = terms.join(" ");
        match self {
            Place::Start(column) => format!("{{{}}}: ^{all}", column.name()),
            Place::Word(column) => format!("{{{}}}: {all}", column.name()),
            Place::Anywhere => all,
        }
    }

    /// Whether `word` (folded) is here in a track: the same test as [`Place::query`]
    /// for the first word, made on text already at hand.
    fn holds(self, track: &Track, word: &str) -> bool {
        match self {
            Place::Start(column) => column
                .words(track)
                .next()
                .is_some_and(|t| folded_starts_with(t, word)),
            Place::Word(column) => column.words(track).any(|t| folded_starts_with(t, word)),
            Place::Anywhere => true,
        }
    }
}

/// Whether `token`, folded as the index folds it (case and diacritics dropped), starts
/// with `prefix` (already folded). ASCII is compared as it is, without a folded copy:
/// ranking a page of tracks tests a few words of each against up to six places.
fn folded_starts_with(token: &str, prefix: &str) -> bool {
    if token.is_ascii() && prefix.is_ascii() {
        token.len() >= prefix.len()
            && token.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    } else {
        normalize_for_identity(token).starts_with(prefix)
    }
}

impl Library {
    /// Search results grouped by kind: the artists and albums whose names match every
    /// typed word by prefix (an album also by its artist's name: "miles kind" finds Kind
    /// of Blue), names starting with the first word first; the best `limit` matching
    /// tracks; and how many tracks match in all.
    pub fn search_grouped(&self, query: &str, limit: u32) -> Result<SearchResults> {
        let words = words(query);
        let Some((first, rest)) = words.split_first() else {
            return Ok(SearchResults::default());
        };
        let rest: String = rest.iter().map(|w| format!(" {}", term(w))).collect();
        let all = format!("{}{rest}", term(first));

        let (artists, artist_matches, more_artists) = self.names(
            ARTIST_PICK,
            &format!("{ARTIST_SELECT} JOIN json_each(?1) j ON a.id = j.value ORDER BY j.key"),
            &format!("^{all}"),
            &all,
            artist_from_row,
        )?;
        let (albums, album_matches, more_albums) = self.names(
            ALBUM_PICK,
            &format!("{ALBUM_SELECT} JOIN json_each(?1) j ON al.id = j.value ORDER BY j.key"),
            &format!("{{title}}: ^{all}"),
            &all,
            album_from_row,
        )?;
        let tracks = self.search(query, limit)?;
        let found = tracks.len() as u32;
        // The count stops at MATCH_COUNT_LIMIT; "Show all" may have found more than that.
        let (track_matches, track_matches_capped) = if found < limit {
            (found, false)
        } else {
            let counted = self.search_count(query)?;
            (counted.max(found), counted >= MATCH_COUNT_LIMIT)
        };
        Ok(SearchResults {
            artists,
            artist_matches,
            more_artists,
            albums,
            album_matches,
            more_albums,
            tracks,
            track_matches,
            track_matches_capped,
        })
    }

    /// Runs a name search (`pick`: [`ARTIST_PICK`] or [`ALBUM_PICK`]) for names that start
    /// with the query (`starts`) or hold its words (`all`): the first [`NAME_SHOWN`] in
    /// full (`select`, given their ids as a JSON array), how many match up to
    /// [`NAME_MATCH_LIMIT`], and whether there are more.
    fn names<T>(
        &self,
        pick: &str,
        select: &str,
        starts: &str,
        all: &str,
        from_row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<(Vec<T>, u32, bool)> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(&format!("{pick} SELECT id FROM pick"))?
            .query_map(
                params![starts, all, NAME_CANDIDATES, NAME_MATCH_LIMIT + 1],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let more = ids.len() > NAME_MATCH_LIMIT as usize;
        let matches = ids.len().min(NAME_MATCH_LIMIT as usize) as u32;
        let shown: Vec<String> = ids
            .iter()
            .take(NAME_SHOWN as usize)
            .map(i64::to_string)
            .collect();
        let mut stmt = self.conn.prepare_cached(select)?;
        let rows = stmt.query_map([format!("[{}]", shown.join(","))], from_row)?;
        Ok((rows.collect::<rusqlite::Result<_>>()?, matches, more))
    }

    /// Tracks matching every word of `query` by prefix, best matches first (see the
    /// module documentation), at most `limit`.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<Track>> {
        let words = words(query);
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let letters: usize = words.iter().map(|w| w.chars().count()).sum();
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid FROM track_search WHERE track_search MATCH ?1 LIMIT ?2",
        )?;
        let all = Place::Anywhere.query(&words);
        if letters < MIN_LETTERS_FOR_RANKING {
            let ids = stmt.query_map(params![all, limit], |r| r.get::<_, i64>(0))?;
            let picked: Vec<(i64, usize)> = ids
                .map(|id| id.map(|id| (id, 0)))
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            return self.tracks_ranked(&picked);
        }

        // When every match fits, they are fetched at once and ranked on their text: one
        // query, where a tier query per place would each read the index again (a
        // costly repeat for a one-letter word, as in "kind o").
        let ids: Vec<i64> = stmt
            .query_map(params![all, i64::from(limit) + 1], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if ids.len() <= limit as usize {
            drop(stmt);
            let picked: Vec<(i64, usize)> = ids.into_iter().map(|id| (id, 0)).collect();
            let mut tracks = self.tracks_ranked(&picked)?;
            let first = normalize_for_identity(words[0]);
            let tier = |track: &Track| TIERS.iter().position(|place| place.holds(track, &first));
            // Stable: within a tier, library order stays.
            tracks.sort_by_cached_key(|t| tier(t).unwrap_or(TIERS.len()));
            return Ok(tracks);
        }

        // More match than are wanted: ids by tier, best first, until `limit` are found.
        // A later tier also matches the tracks earlier ones found, so each is asked for
        // `limit` in all: enough for those plus the ones still wanted.
        let wanted = limit as usize;
        let mut picked: Vec<(i64, usize)> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        for (tier, place) in TIERS.iter().enumerate() {
            let ids =
                stmt.query_map(params![place.query(&words), limit], |r| r.get::<_, i64>(0))?;
            for id in ids {
                let id = id?;
                if seen.insert(id) {
                    picked.push((id, tier));
                    if picked.len() == wanted {
                        break;
                    }
                }
            }
            if picked.len() == wanted {
                break;
            }
        }
        drop(stmt);
        self.tracks_ranked(&picked)
    }

    /// How many tracks match `query`, counted up to [`MATCH_COUNT_LIMIT`].
    pub fn search_count(&self, query: &str) -> Result<u32> {
        let Some(fts) = fts_query(query) else {
            return Ok(0);
        };
        Ok(self.conn.prepare_cached(
            "SELECT count(*) FROM (SELECT rowid FROM track_search WHERE track_search MATCH ?1 LIMIT ?2)",
        )?
        .query_row(params![fts, MATCH_COUNT_LIMIT], |r| r.get(0))?)
    }

    /// The tracks with the given ids, by rank (the second of each pair) and then in
    /// library order. The ids go to SQLite as an array (`rarray`), not as JSON: taking
    /// 200 ids apart from a JSON text was a tenth of a slow keystroke.
    fn tracks_ranked(&self, ranked: &[(i64, usize)]) -> Result<Vec<Track>> {
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Value> = ranked.iter().map(|(id, _)| Value::Integer(*id)).collect();
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE t.id IN rarray(?1) ORDER BY {TRACK_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([Rc::new(ids)], track_from_row)?;
        let mut tracks: Vec<Track> = rows.collect::<rusqlite::Result<_>>()?;
        // By rank; stable, so library order stays within a rank.
        let rank: HashMap<i64, usize> = ranked.iter().copied().collect();
        tracks.sort_by_key(|t| rank.get(&t.id).copied().unwrap_or(usize::MAX));
        Ok(tracks)
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

    #[test]
    fn tiers_put_the_first_word_in_ever_weaker_places() {
        let queries: Vec<String> = TIERS.iter().map(|p| p.query(&["kind", "blue"])).collect();
        assert_eq!(
            queries,
            [
                "{title}: ^\"kind\"* \"blue\"*",
                "{artist}: ^\"kind\"* \"blue\"*",
                "{album}: ^\"kind\"* \"blue\"*",
                "{title}: \"kind\"* \"blue\"*",
                "{artist}: \"kind\"* \"blue\"*",
                "\"kind\"* \"blue\"*",
            ]
        );
    }

    #[test]
    fn a_place_holds_a_word_as_the_index_splits_and_folds_it() {
        let track = Track {
            id: 1,
            uid: offbeat_model::TrackUid::from_stored("x".into()),
            path: "/m/x.flac".into(),
            title: "Mötley-Crüe Kickstart".into(),
            artist: "AC/DC".into(),
            album: "The Album".into(),
            album_artist: "Beyoncé".into(),
            track_number: None,
            disc_number: None,
            year: None,
            genre: None,
            duration_ms: 0,
            format: "FLAC".into(),
            source: offbeat_model::TrackSource::Local,
        };
        let tier = |word: &str| TIERS.iter().position(|p| p.holds(&track, word));
        assert_eq!(tier("mot"), Some(0));
        assert_eq!(tier("ac"), Some(1));
        assert_eq!(tier("the"), Some(2));
        assert_eq!(tier("crue"), Some(3));
        assert_eq!(tier("dc"), Some(4));
        assert_eq!(tier("bey"), Some(4));
        assert_eq!(tier("alb"), Some(5));
    }
}
