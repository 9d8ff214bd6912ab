//! Importing listening history from other services: Spotify's "Extended streaming
//! history" (`Streaming_History_Audio_*.json`) and ListenBrainz exports (a JSON array of
//! listens, one listen per line, or an API `payload`). Each listen is matched to a library
//! track by MusicBrainz recording id, then by artist + title + album, then by artist +
//! title; one that matches nothing is kept with its names and counts in every figure.
//!
//! Every imported play gets an id made from the entry itself, so importing the same file
//! again stores nothing new. A malformed entry is skipped and named in the report; the
//! rest of the file is imported.
//!
//! Entries are read and matched on a thread of their own, each song once however often
//! the export names it, while the calling thread stores what was read: storing (SQLite's
//! share) is most of an import, and the two go on side by side.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use offbeat_model::{normalize_for_identity, HistoryImportIssue, HistoryImportReport};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::plays::{
    insert_row, is_listen, utc_offset_min, EndReason, Keys, ListenFigures, PlayRow, SlotNumbers,
    Slots, INSERT_PLAY,
};
use crate::rewind::Keyed;
use crate::{Library, Result};

/// How many plays go in per transaction. Every commit rewrites every page the transaction
/// touched: the figures' and the time index's, nearly all of which an import of past
/// years touches, however few plays it holds. And each transaction keeps the player's
/// recorder (another connection) waiting: at this size, about a second.
const BATCH: usize = 50_000;
/// Entries read ahead per hand-over to the storing thread, and hand-overs in flight.
const CHUNK: usize = 1_024;
const CHUNKS_AHEAD: usize = 8;
/// Entries between progress reports.
const PROGRESS_EVERY: usize = 2_000;
/// How many skipped entries the report names (the rest are only counted).
const ISSUES_NAMED: usize = 20;

/// A library track as matching sees it.
#[derive(Debug, Clone)]
struct Candidate {
    uid: String,
    title: String,
    artist: String,
    album: String,
    album_artist: String,
    genre: Option<String>,
    mbid: Option<String>,
    duration_ms: i64,
}

/// The library's tracks, indexed the ways imports look them up.
#[derive(Debug, Default)]
struct Matcher {
    tracks: Vec<Candidate>,
    /// The grouping keys of each track's plays, worked out with the folding matching
    /// does anyway.
    keys: Vec<Keys>,
    by_mbid: HashMap<String, usize>,
    /// By folded artist, title and album, joined by U+001F (folding drops it, so no name
    /// runs into the next): one string, which a lookup builds without allocating.
    by_artist_title_album: Keyed<String, usize>,
    /// By folded artist and title, joined the same way.
    by_artist_title: Keyed<String, usize>,
}

impl Matcher {
    fn new(library: &Library) -> Result<Matcher> {
        let mut stmt = library.conn.prepare(
            "SELECT t.uid, t.title, a.name, al.title, aa.name, t.genre, t.mb_recording_id, t.duration_ms
             FROM tracks t JOIN artists a ON a.id = t.artist_id
             JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.album_artist_id
             ORDER BY t.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Candidate {
                uid: r.get(0)?,
                title: r.get(1)?,
                artist: r.get(2)?,
                album: r.get(3)?,
                album_artist: r.get(4)?,
                genre: r.get(5)?,
                mbid: r.get(6)?,
                duration_ms: r.get(7)?,
            })
        })?;
        let mut m = Matcher::default();
        let mut key = String::new();
        for c in rows {
            let c = c?;
            let i = m.tracks.len();
            if let Some(mbid) = c.mbid.as_deref().filter(|s| !s.is_empty()) {
                m.by_mbid.entry(mbid.to_ascii_lowercase()).or_insert(i);
            }
            let title = normalize_for_identity(&c.title);
            let album = normalize_for_identity(&c.album);
            let artist = normalize_for_identity(&c.artist);
            // Services name the main artist ("The Lanterns" for "The Lanterns feat.
            // Mira"): the album artist is a key too (most often the same one).
            let album_artist =
                (c.album_artist != c.artist).then(|| normalize_for_identity(&c.album_artist));
            m.keys.push(Keys::of_folded(
                Some(&c.uid),
                None,
                given(&artist).map(str::to_owned),
                given(&album),
                given(album_artist.as_ref().unwrap_or(&artist)),
            ));
            for artist in std::iter::once(&artist).chain(album_artist.as_ref()) {
                names_key(&mut key, artist, &title, Some(&album));
                if !m.by_artist_title_album.contains_key(&key) {
                    m.by_artist_title_album.insert(key.clone(), i);
                }
                names_key(&mut key, artist, &title, None);
                if !m.by_artist_title.contains_key(&key) {
                    m.by_artist_title.insert(key.clone(), i);
                }
            }
            m.tracks.push(c);
        }
        Ok(m)
    }

    /// The library track an entry is of, by recording id, then by folded artist, title
    /// and album, then by artist and title.
    fn find(
        &self,
        mbid: Option<&str>,
        artist: &str,
        title: &str,
        album: Option<&str>,
    ) -> Option<usize> {
        if let Some(&i) = mbid.and_then(|m| self.by_mbid.get(&m.to_ascii_lowercase())) {
            return Some(i);
        }
        let artist = normalize_for_identity(artist);
        let title = normalize_for_identity(title);
        let mut key = String::new();
        if let Some(album) = album {
            names_key(
                &mut key,
                &artist,
                &title,
                Some(&normalize_for_identity(album)),
            );
            if let Some(&i) = self.by_artist_title_album.get(&key) {
                return Some(i);
            }
        }
        names_key(&mut key, &artist, &title, None);
        self.by_artist_title.get(&key).copied()
    }
}

/// A folded name, `None` if folding left nothing.
fn given(folded: &str) -> Option<&str> {
    (!folded.is_empty()).then_some(folded)
}

/// Writes the matcher's key of folded names into `key`.
fn names_key(key: &mut String, artist: &str, title: &str, album: Option<&str>) {
    key.clear();
    key.push_str(artist);
    key.push('\u{1f}');
    key.push_str(title);
    if let Some(album) = album {
        key.push('\u{1f}');
        key.push_str(album);
    }
}

/// What an import worked out about a song, once: the library track it is, else the
/// export's names for it, and its plays' grouping keys and their slots in the figures.
#[derive(Debug)]
struct Song<'m> {
    track: Option<&'m Candidate>,
    keys: Cow<'m, Keys>,
    /// The export's title, artist and album (kept only for a song not in the library).
    title: String,
    artist: String,
    album: Option<String>,
    /// The recording id the export gave.
    mbid: Option<String>,
    slots: Slots,
    /// Which song this is, counted from 1 in the order met (what the figures are told
    /// its plays' names came from).
    number: u64,
}

impl Song<'_> {
    /// Its plays' names and keys, as stored.
    fn row(&self) -> PlayRow<'_> {
        let keys = PlayRow {
            track_key: self.keys.track.as_deref(),
            artist_key: self.keys.artist.as_deref(),
            album_key: self.keys.album.as_deref(),
            ..PlayRow::default()
        };
        match self.track {
            // The library's names (and genre and recording id) for a matched track.
            Some(c) => PlayRow {
                track_uid: Some(&c.uid),
                title: Some(&c.title),
                artist: Some(&c.artist),
                album: Some(&c.album),
                album_artist: Some(&c.album_artist),
                genre: c.genre.as_deref(),
                mbid: self.mbid.as_deref().or(c.mbid.as_deref()),
                ..keys
            },
            None => PlayRow {
                title: Some(&self.title),
                artist: Some(&self.artist),
                album: self.album.as_deref(),
                mbid: self.mbid.as_deref(),
                ..keys
            },
        }
    }
}

/// The songs an import has met, by the names (and recording id) the export gives: an
/// export names the same songs again and again, and folding names is most of matching.
#[derive(Debug, Default)]
struct Songs<'m> {
    by_names: Keyed<Vec<u8>, Arc<Song<'m>>>,
    /// The key being looked up, kept so a lookup allocates nothing.
    key: Vec<u8>,
    /// The figures' slots for the songs' keys, numbered here so the storing thread does
    /// not look keys up.
    slots: SlotNumbers,
}

impl<'m> Songs<'m> {
    fn get(
        &mut self,
        m: &'m Matcher,
        mbid: Option<&str>,
        artist: &str,
        title: &str,
        album: Option<&str>,
    ) -> Arc<Song<'m>> {
        // Each part with its length first, so no name can run into the next; a 0 byte
        // for a part not given.
        self.key.clear();
        for part in [mbid, Some(artist), Some(title), album] {
            match part {
                Some(part) => {
                    self.key.push(1);
                    self.key.extend_from_slice(&part.len().to_le_bytes());
                    self.key.extend_from_slice(part.as_bytes());
                }
                None => self.key.push(0),
            }
        }
        if let Some(song) = self.by_names.get(&self.key) {
            return Arc::clone(song);
        }
        let track = m.find(mbid, artist, title, album);
        let number = self.by_names.len() as u64 + 1;
        let mut song = match track.and_then(|i| m.tracks.get(i).zip(m.keys.get(i))) {
            Some((track, keys)) => Song {
                track: Some(track),
                keys: Cow::Borrowed(keys),
                title: String::new(),
                artist: String::new(),
                album: None,
                mbid: mbid.map(str::to_owned),
                slots: [None; 3],
                number,
            },
            None => Song {
                track: None,
                keys: Cow::Owned(Keys::of(None, Some(title), Some(artist), album, None)),
                title: title.to_owned(),
                artist: artist.to_owned(),
                album: album.map(str::to_owned),
                mbid: mbid.map(str::to_owned),
                slots: [None; 3],
                number,
            },
        };
        let keys = [&song.keys.track, &song.keys.artist, &song.keys.album];
        song.slots = self.slots.number(keys.map(Option::as_deref));
        let song = Arc::new(song);
        self.by_names.insert(self.key.clone(), Arc::clone(&song));
        song
    }
}

/// An entry as read, for the thread that stores it.
#[derive(Debug)]
enum Entry<'m> {
    Play(ReadPlay<'m>),
    /// Not taken, and why.
    Skip(String),
}

/// A play read from an entry: its song, and what is its own.
#[derive(Debug)]
struct ReadPlay<'m> {
    song: Arc<Song<'m>>,
    /// Its id, in its chunk's `ids`.
    id: Range<usize>,
    played_at: i64,
    ms_played: i64,
    utc_offset_min: i32,
    end_reason: Option<EndReason>,
    listen: bool,
    skipped: bool,
    origin: &'static str,
}

/// Entries read, in file order, and their plays' ids in one string.
#[derive(Debug, Default)]
struct Chunk<'m> {
    entries: Vec<Entry<'m>>,
    ids: String,
}

/// What reading entries carries from one to the next.
#[derive(Debug)]
struct Reader<'m> {
    matcher: &'m Matcher,
    songs: Songs<'m>,
}

/// Reads every entry, matching each to the library, and hands them over a chunk at a
/// time to the storing thread, in order, until done or the storing thread stops.
fn read_entries<'m>(
    entries: &[Option<&str>],
    format: &str,
    matcher: &'m Matcher,
    mut bad_lines: HashMap<usize, String>,
    out: SyncSender<Chunk<'m>>,
) {
    let mut reader = Reader {
        matcher,
        songs: Songs::default(),
    };
    for (n, raws) in entries.chunks(CHUNK).enumerate() {
        let mut chunk = Chunk {
            entries: Vec::with_capacity(raws.len()),
            ids: String::new(),
        };
        for (i, raw) in raws.iter().enumerate() {
            let entry = match raw {
                None => Entry::Skip(bad_lines.remove(&(n * CHUNK + i)).unwrap_or_default()),
                Some(raw) if format == "Spotify" => spotify_entry(raw, &mut reader, &mut chunk.ids),
                Some(raw) => listenbrainz_entry(raw, &mut reader, &mut chunk.ids),
            };
            chunk.entries.push(entry);
        }
        if out.send(chunk).is_err() {
            return;
        }
    }
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn unix_ms_of_rfc3339(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A Spotify entry's fields, however they were read.
#[derive(Debug, Default)]
struct SpotifyFields<'a> {
    ts: &'a str,
    ms_played: i64,
    title: Option<&'a str>,
    artist: Option<&'a str>,
    album: Option<&'a str>,
    uri: Option<&'a str>,
    reason_end: Option<&'a str>,
    /// A podcast episode or audiobook chapter.
    spoken: bool,
    skipped: Option<bool>,
}

/// The fast way in: an entry as Spotify writes it, borrowed from the file's text.
#[derive(serde::Deserialize)]
struct SpotifyRow<'a> {
    #[serde(borrow)]
    ts: Cow<'a, str>,
    ms_played: i64,
    #[serde(borrow, default)]
    master_metadata_track_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    master_metadata_album_artist_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    master_metadata_album_album_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    spotify_track_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reason_end: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    episode_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    audiobook_title: Option<Cow<'a, str>>,
    #[serde(default)]
    skipped: Option<bool>,
}

fn some_text<'a>(s: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn spotify_entry<'m>(raw: &str, cx: &mut Reader<'m>, ids: &mut String) -> Entry<'m> {
    if let Ok(row) = serde_json::from_str::<SpotifyRow<'_>>(raw) {
        return spotify_play(
            SpotifyFields {
                ts: &row.ts,
                ms_played: row.ms_played,
                title: some_text(&row.master_metadata_track_name),
                artist: some_text(&row.master_metadata_album_artist_name),
                album: some_text(&row.master_metadata_album_album_name),
                uri: some_text(&row.spotify_track_uri),
                reason_end: some_text(&row.reason_end),
                spoken: some_text(&row.episode_name).is_some()
                    || some_text(&row.audiobook_title).is_some(),
                skipped: row.skipped,
            },
            cx,
            ids,
        );
    }
    // Not the usual shape: read it loosely to say what is wrong, or to take it anyway.
    let v: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => return Entry::Skip(format!("not JSON: {e}")),
    };
    let Some(o) = v.as_object() else {
        return Entry::Skip("not an object".into());
    };
    let Some(ts) = o.get("ts") else {
        return Entry::Skip("no \"ts\" (when it played)".into());
    };
    let Some(ts_text) = ts.as_str() else {
        return Entry::Skip(format!("\"ts\" is not a date and time: {ts}"));
    };
    let Some(ms_played) = o.get("ms_played").and_then(Value::as_i64) else {
        return Entry::Skip("\"ms_played\" is missing or not a count of milliseconds".into());
    };
    spotify_play(
        SpotifyFields {
            ts: ts_text,
            ms_played,
            title: text(o.get("master_metadata_track_name")),
            artist: text(o.get("master_metadata_album_artist_name")),
            album: text(o.get("master_metadata_album_album_name")),
            uri: text(o.get("spotify_track_uri")),
            reason_end: text(o.get("reason_end")),
            spoken: text(o.get("episode_name")).is_some()
                || text(o.get("audiobook_title")).is_some(),
            skipped: o.get("skipped").and_then(Value::as_bool),
        },
        cx,
        ids,
    )
}

fn spotify_play<'m>(f: SpotifyFields<'_>, cx: &mut Reader<'m>, ids: &mut String) -> Entry<'m> {
    let Some(end) = unix_ms_of_rfc3339(f.ts) else {
        return Entry::Skip(format!("\"ts\" is not a date and time: {:?}", f.ts));
    };
    if f.ms_played < 0 {
        return Entry::Skip("\"ms_played\" is missing or not a count of milliseconds".into());
    }
    let ms_played = f.ms_played;
    let Some(title) = f.title else {
        return Entry::Skip(if f.spoken {
            "a podcast episode or audiobook, not a song".into()
        } else {
            "no track name".into()
        });
    };
    let artist = f.artist.unwrap_or("Unknown Artist");
    let album = f.album;
    let end_reason = match f.reason_end {
        Some("trackdone") => Some(EndReason::Finished),
        Some("fwdbtn" | "backbtn" | "clickrow" | "remote" | "playbtn") => Some(EndReason::Skipped),
        Some(_) => Some(EndReason::Stopped),
        None => None,
    };
    let played_at = end - ms_played;
    let id_start = ids.len();
    let _ = write!(ids, "spotify:{}:", f.ts);
    match f.uri {
        Some(uri) => ids.push_str(uri),
        None => ids.push_str(&normalize_for_identity(&format!("{artist} {title}"))),
    }
    let _ = write!(ids, ":{ms_played}");
    let song = cx.songs.get(cx.matcher, None, artist, title, album);
    let duration = song.track.map(|c| c.duration_ms);
    let listen = is_listen(ms_played, duration)
        || (duration.is_none() && end_reason == Some(EndReason::Finished) && ms_played >= 30_000);
    let skipped = !listen && (f.skipped.unwrap_or(false) || end_reason == Some(EndReason::Skipped));
    Entry::Play(ReadPlay {
        song,
        id: id_start..ids.len(),
        played_at,
        ms_played,
        utc_offset_min: utc_offset_min(played_at),
        end_reason,
        listen,
        skipped,
        origin: "spotify",
    })
}

fn listenbrainz_entry<'m>(raw: &str, cx: &mut Reader<'m>, ids: &mut String) -> Entry<'m> {
    let v: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => return Entry::Skip(format!("not JSON: {e}")),
    };
    let Some(o) = v.as_object() else {
        return Entry::Skip("not an object".into());
    };
    let at = match o.get("listened_at") {
        Some(Value::Number(n)) => n.as_i64().map(|s| s * 1000),
        Some(Value::String(s)) => {
            unix_ms_of_rfc3339(s).or_else(|| s.parse::<i64>().ok().map(|s| s * 1000))
        }
        _ => None,
    };
    let Some(played_at) = at.filter(|&t| t > 0) else {
        return Entry::Skip("\"listened_at\" is missing or not a time".into());
    };
    let Some(meta) = o.get("track_metadata").and_then(Value::as_object) else {
        return Entry::Skip("no \"track_metadata\"".into());
    };
    let (Some(artist), Some(title)) = (text(meta.get("artist_name")), text(meta.get("track_name")))
    else {
        return Entry::Skip("no artist or track name".into());
    };
    let album = text(meta.get("release_name"));
    let info = meta.get("additional_info").and_then(Value::as_object);
    let mapping = meta.get("mbid_mapping").and_then(Value::as_object);
    let mbid = text(info.and_then(|i| i.get("recording_mbid")))
        .or_else(|| text(mapping.and_then(|i| i.get("recording_mbid"))));
    let msid =
        text(info.and_then(|i| i.get("recording_msid"))).or_else(|| text(o.get("recording_msid")));
    let duration = info.and_then(|i| {
        i.get("duration_ms")
            .and_then(Value::as_i64)
            .or_else(|| i.get("duration").and_then(Value::as_i64).map(|s| s * 1000))
    });
    let id_start = ids.len();
    let _ = write!(ids, "lb:{}:", played_at / 1000);
    match msid {
        Some(msid) => ids.push_str(msid),
        None => ids.push_str(&normalize_for_identity(&format!("{artist} {title}"))),
    }
    let song = cx.songs.get(cx.matcher, mbid, artist, title, album);
    Entry::Play(ReadPlay {
        id: id_start..ids.len(),
        played_at,
        ms_played: duration
            .or(song.track.map(|c| c.duration_ms))
            .unwrap_or(0)
            .max(0),
        utc_offset_min: utc_offset_min(played_at),
        end_reason: None,
        // A listen submitted to ListenBrainz is a listen by its rules.
        listen: true,
        skipped: false,
        origin: "listenbrainz",
        song,
    })
}

/// Which service wrote a file, by the first object's fields.
fn looks_like(v: &Value) -> Option<&'static str> {
    let o = v.as_object()?;
    if o.contains_key("ts") && o.contains_key("ms_played") {
        Some("Spotify")
    } else if o.contains_key("listened_at") || o.contains_key("track_metadata") {
        Some("ListenBrainz")
    } else {
        None
    }
}

/// An export's entries, each its own JSON text (`None`: a line that is not JSON, named
/// in `bad_lines`), and which service wrote it.
struct Export<'a> {
    entries: Vec<Option<&'a str>>,
    bad_lines: HashMap<usize, String>,
    format: &'static str,
}

/// Splits an export into its entries; `Err`: why nothing can be imported from it.
fn split_export<'a>(path: &Path, body: &'a str) -> std::result::Result<Export<'a>, String> {
    // Each entry's own JSON text (`None`: a line that is not JSON, named in `bad_lines`).
    let mut bad_lines: HashMap<usize, String> = HashMap::new();
    let entries: Vec<Option<&str>> = match body.trim_start().as_bytes().first() {
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(body) {
            Ok(items) => items.into_iter().map(|r| Some(r.get())).collect(),
            Err(e) => {
                return Err(format!(
                    "{} is not complete JSON ({e}); nothing was imported from it",
                    path.display()
                ));
            }
        },
        Some(b'{') => {
            #[derive(serde::Deserialize)]
            struct Page<'a> {
                #[serde(borrow)]
                payload: Listens<'a>,
            }
            #[derive(serde::Deserialize)]
            struct Listens<'a> {
                #[serde(borrow)]
                listens: Vec<&'a RawValue>,
            }
            if let Ok(page) = serde_json::from_str::<Page<'_>>(body) {
                // A ListenBrainz API page: {"payload": {"listens": [...]}}.
                page.payload
                    .listens
                    .into_iter()
                    .map(|r| Some(r.get()))
                    .collect()
            } else {
                // One listen per line (ListenBrainz's listens.jsonl).
                let mut items = Vec::new();
                for (n, line) in body.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<&RawValue>(line) {
                        Ok(r) => items.push(Some(r.get())),
                        Err(e) => {
                            bad_lines
                                .insert(items.len(), format!("line {} is not JSON: {e}", n + 1));
                            items.push(None);
                        }
                    }
                }
                items
            }
        }
        _ => {
            return Err(format!("{} is not a JSON export", path.display()));
        }
    };
    let format = entries.iter().flatten().take(100).find_map(|raw| {
        serde_json::from_str::<Value>(raw)
            .ok()
            .as_ref()
            .and_then(looks_like)
    });
    let Some(format) = format else {
        return Err(format!(
            "{} is neither a Spotify extended streaming history nor a ListenBrainz export",
            path.display()
        ));
    };
    Ok(Export {
        entries,
        bad_lines,
        format,
    })
}

impl Library {
    /// Imports a Spotify or ListenBrainz export file. `progress` is told entries done and
    /// the total as the import goes. Problems with the file itself (unreadable, not JSON,
    /// not a known export) are in the report, not errors; errors are the database's.
    pub fn import_history(
        &mut self,
        path: &Path,
        mut progress: impl FnMut(u32, u32),
    ) -> Result<HistoryImportReport> {
        let mut report = HistoryImportReport::default();
        let file_issue = |report: &mut HistoryImportReport, reason: String| {
            report.issues.push(HistoryImportIssue { entry: 0, reason });
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                file_issue(&mut report, format!("cannot read {}: {e}", path.display()));
                return Ok(report);
            }
        };
        let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        let Ok(body) = std::str::from_utf8(body) else {
            file_issue(&mut report, format!("{} is not UTF-8 text", path.display()));
            return Ok(report);
        };
        // Reading the file's entries and the library's tracks go on side by side.
        let (export, matcher) = std::thread::scope(|scope| {
            let splitting = scope.spawn(|| split_export(path, body));
            let matcher = Matcher::new(self);
            (splitting.join(), matcher)
        });
        let export = match export {
            Ok(export) => export,
            Err(panicked) => std::panic::resume_unwind(panicked),
        };
        let Export {
            entries,
            bad_lines,
            format,
        } = match export {
            Ok(export) => export,
            Err(reason) => {
                file_issue(&mut report, reason);
                return Ok(report);
            }
        };
        let matcher = matcher?;
        report.format = format.to_owned();
        report.entries = entries.len() as u32;
        progress(0, entries.len() as u32);
        // One checkpoint at the end, not one every few megabytes.
        self.set_bulk_writes(true)?;
        let stored = self.store_entries(
            &entries,
            format,
            &matcher,
            bad_lines,
            &mut report,
            &mut progress,
        );
        self.set_bulk_writes(false)?;
        stored?;
        Ok(report)
    }

    /// Stores the entries, read and matched on a thread of their own, in transactions of
    /// [`BATCH`], each with its figures.
    fn store_entries(
        &mut self,
        entries: &[Option<&str>],
        format: &str,
        matcher: &Matcher,
        bad_lines: HashMap<usize, String>,
        report: &mut HistoryImportReport,
        progress: &mut impl FnMut(u32, u32),
    ) -> Result<()> {
        std::thread::scope(|scope| {
            let (send, chunks) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
            scope.spawn(move || read_entries(entries, format, matcher, bad_lines, send));
            // Returning drops `chunks`, which stops the reading thread if it is not done.
            self.store_chunks(chunks, entries.len(), report, progress)
        })
    }

    /// Stores what the reading thread hands over, in order, until it is done.
    fn store_chunks<'m>(
        &self,
        chunks: std::sync::mpsc::Receiver<Chunk<'m>>,
        total: usize,
        report: &mut HistoryImportReport,
        progress: &mut impl FnMut(u32, u32),
    ) -> Result<()> {
        let conn = &self.conn;
        let mut stmt = conn.prepare_cached(INSERT_PLAY)?;
        let mut figures = ListenFigures::default();
        let mut index = 0usize;
        let mut tx = conn.unchecked_transaction()?;
        for chunk in chunks {
            for entry in chunk.entries {
                if index > 0 && index.is_multiple_of(BATCH) {
                    figures.flush(conn)?;
                    tx.commit()?;
                    tx = conn.unchecked_transaction()?;
                }
                if index > 0 && index.is_multiple_of(PROGRESS_EVERY) {
                    progress(index as u32, total as u32);
                }
                index += 1;
                let play = match entry {
                    Entry::Play(play) => play,
                    Entry::Skip(reason) => {
                        report.skipped += 1;
                        if report.issues.len() < ISSUES_NAMED {
                            let entry = index as u32;
                            report.issues.push(HistoryImportIssue { entry, reason });
                        }
                        continue;
                    }
                };
                let song = &play.song;
                let row = PlayRow {
                    id: chunk.ids.get(play.id.clone()).unwrap_or_default(),
                    played_at: play.played_at,
                    ms_played: play.ms_played,
                    skipped: play.skipped,
                    utc_offset_min: play.utc_offset_min,
                    end_reason: play.end_reason,
                    origin: Some(play.origin),
                    listen: play.listen,
                    ..song.row()
                };
                if !insert_row(&mut stmt, &row, false)? {
                    report.already_had += 1;
                    continue;
                }
                report.imported += 1;
                report.matched += u32::from(song.track.is_some());
                // All plays of a song have its names: the figures compare them once.
                figures.count_in(song.slots, &row, song.number);
            }
        }
        figures.flush(conn)?;
        tx.commit()?;
        progress(index as u32, total as u32);
        Ok(())
    }
}
