//! Importing listening history from other services: Spotify's "Extended streaming
//! history" (`Streaming_History_Audio_*.json`) and ListenBrainz exports (a JSON array of
//! listens, one listen per line, or an API `payload`). Each listen is matched to a library
//! track by MusicBrainz recording id, then by artist + title + album, then by artist +
//! title; one that matches nothing is kept with its names and counts in every figure.
//!
//! Every imported play gets an id made from the entry itself, so importing the same file
//! again stores nothing new. A malformed entry is skipped and named in the report; the
//! rest of the file is imported.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use offbeat_model::{normalize_for_identity, HistoryImportIssue, HistoryImportReport};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::plays::{insert_play, is_listen, EndReason, ListenFigures, Play, INSERT_PLAY};
use crate::{Library, Result};

/// How many plays go in per transaction: every commit rewrites the figures' pages.
const BATCH: usize = 20_000;
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
    by_mbid: HashMap<String, usize>,
    by_artist_title_album: HashMap<(String, String, String), usize>,
    by_artist_title: HashMap<(String, String), usize>,
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
        for c in rows {
            let c = c?;
            let i = m.tracks.len();
            if let Some(mbid) = c.mbid.as_deref().filter(|s| !s.is_empty()) {
                m.by_mbid.entry(mbid.to_ascii_lowercase()).or_insert(i);
            }
            let title = normalize_for_identity(&c.title);
            let album = normalize_for_identity(&c.album);
            // Services name the main artist ("The Lanterns" for "The Lanterns feat.
            // Mira"): the album artist is a key too.
            for artist in [&c.artist, &c.album_artist] {
                let artist = normalize_for_identity(artist);
                m.by_artist_title_album
                    .entry((artist.clone(), title.clone(), album.clone()))
                    .or_insert(i);
                m.by_artist_title
                    .entry((artist, title.clone()))
                    .or_insert(i);
            }
            m.tracks.push(c);
        }
        Ok(m)
    }

    fn find(
        &self,
        mbid: Option<&str>,
        artist: &str,
        title: &str,
        album: Option<&str>,
    ) -> Option<&Candidate> {
        if let Some(&i) = mbid.and_then(|m| self.by_mbid.get(&m.to_ascii_lowercase())) {
            return self.tracks.get(i);
        }
        let artist = normalize_for_identity(artist);
        let title = normalize_for_identity(title);
        if let Some(album) = album {
            let key = (artist.clone(), title.clone(), normalize_for_identity(album));
            if let Some(&i) = self.by_artist_title_album.get(&key) {
                return self.tracks.get(i);
            }
        }
        self.by_artist_title
            .get(&(artist, title))
            .and_then(|&i| self.tracks.get(i))
    }
}

/// What an entry became.
enum Entry {
    Play(Box<Play>),
    /// Not taken, and why.
    Skip(String),
}

/// The local offset at a Unix-ms time, minutes east (imports say only UTC).
fn offset_at(ms: i64) -> i32 {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.offset().local_minus_utc() / 60)
        .unwrap_or(0)
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

/// Fills in what the library knows of a matched track.
fn matched(play: &mut Play, c: &Candidate) {
    play.track_uid = Some(c.uid.clone());
    play.title = Some(c.title.clone());
    play.artist = Some(c.artist.clone());
    play.album = Some(c.album.clone());
    play.album_artist = Some(c.album_artist.clone());
    play.genre = c.genre.clone();
    play.mbid = play.mbid.take().or_else(|| c.mbid.clone());
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

fn spotify_entry(raw: &str, m: &Matcher) -> Entry {
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
            m,
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
        m,
    )
}

fn spotify_play(f: SpotifyFields<'_>, m: &Matcher) -> Entry {
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
    let mut play = Play {
        id: format!(
            "spotify:{}:{}:{ms_played}",
            f.ts,
            f.uri
                .map(str::to_owned)
                .unwrap_or_else(|| normalize_for_identity(&format!("{artist} {title}")))
        ),
        played_at,
        ms_played,
        utc_offset_min: offset_at(played_at),
        end_reason,
        origin: Some("spotify".into()),
        title: Some(title.to_owned()),
        artist: Some(artist.to_owned()),
        album: album.map(str::to_owned),
        ..Play::default()
    };
    let duration = match m.find(None, artist, title, album) {
        Some(c) => {
            matched(&mut play, c);
            Some(c.duration_ms)
        }
        None => None,
    };
    let listen = is_listen(ms_played, duration)
        || (duration.is_none() && end_reason == Some(EndReason::Finished) && ms_played >= 30_000);
    play.listen = Some(listen);
    play.skipped =
        !listen && (f.skipped.unwrap_or(false) || end_reason == Some(EndReason::Skipped));
    Entry::Play(Box::new(play))
}

fn listenbrainz_entry(raw: &str, m: &Matcher) -> Entry {
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
    let mut play = Play {
        id: format!(
            "lb:{}:{}",
            played_at / 1000,
            msid.map(str::to_owned)
                .unwrap_or_else(|| normalize_for_identity(&format!("{artist} {title}")))
        ),
        played_at,
        utc_offset_min: offset_at(played_at),
        origin: Some("listenbrainz".into()),
        title: Some(title.to_owned()),
        artist: Some(artist.to_owned()),
        album: album.map(str::to_owned),
        mbid: mbid.map(str::to_owned),
        // A listen submitted to ListenBrainz is a listen by its rules.
        listen: Some(true),
        ..Play::default()
    };
    let library_ms = m.find(mbid, artist, title, album).map(|c| {
        matched(&mut play, c);
        c.duration_ms
    });
    play.ms_played = duration.or(library_ms).unwrap_or(0).max(0);
    Entry::Play(Box::new(play))
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
        // Each entry's own JSON text (`None`: a line that is not JSON, named in `bad_lines`).
        let mut bad_lines: HashMap<usize, String> = HashMap::new();
        let entries: Vec<Option<&str>> = match body.trim_start().as_bytes().first() {
            Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(body) {
                Ok(items) => items.into_iter().map(|r| Some(r.get())).collect(),
                Err(e) => {
                    file_issue(
                        &mut report,
                        format!(
                            "{} is not complete JSON ({e}); nothing was imported from it",
                            path.display()
                        ),
                    );
                    return Ok(report);
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
                                bad_lines.insert(
                                    items.len(),
                                    format!("line {} is not JSON: {e}", n + 1),
                                );
                                items.push(None);
                            }
                        }
                    }
                    items
                }
            }
            _ => {
                file_issue(
                    &mut report,
                    format!("{} is not a JSON export", path.display()),
                );
                return Ok(report);
            }
        };
        let format = entries.iter().flatten().take(100).find_map(|raw| {
            serde_json::from_str::<Value>(raw)
                .ok()
                .as_ref()
                .and_then(looks_like)
        });
        let Some(format) = format else {
            file_issue(
                &mut report,
                format!(
                    "{} is neither a Spotify extended streaming history nor a ListenBrainz export",
                    path.display()
                ),
            );
            return Ok(report);
        };
        report.format = format.to_owned();
        report.entries = entries.len() as u32;
        let matcher = Matcher::new(self)?;
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

    fn store_entries(
        &mut self,
        entries: &[Option<&str>],
        format: &str,
        matcher: &Matcher,
        mut bad_lines: HashMap<usize, String>,
        report: &mut HistoryImportReport,
        progress: &mut impl FnMut(u32, u32),
    ) -> Result<()> {
        let total = entries.len() as u32;
        for (batch_no, batch) in entries.chunks(BATCH).enumerate() {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(INSERT_PLAY)?;
                let mut figures = ListenFigures::default();
                for (i, raw) in batch.iter().enumerate() {
                    let index = batch_no * BATCH + i;
                    let n = index as u32 + 1;
                    if index > 0 && index.is_multiple_of(PROGRESS_EVERY) {
                        progress(index as u32, total);
                    }
                    let entry = match raw {
                        None => Entry::Skip(bad_lines.remove(&index).unwrap_or_default()),
                        Some(raw) if format == "Spotify" => spotify_entry(raw, matcher),
                        Some(raw) => listenbrainz_entry(raw, matcher),
                    };
                    match entry {
                        Entry::Play(play) => {
                            if insert_play(&mut stmt, &play, false, &mut figures)? {
                                report.imported += 1;
                                report.matched += u32::from(play.track_uid.is_some());
                            } else {
                                report.already_had += 1;
                            }
                        }
                        Entry::Skip(reason) => {
                            report.skipped += 1;
                            if report.issues.len() < ISSUES_NAMED {
                                report.issues.push(HistoryImportIssue { entry: n, reason });
                            }
                        }
                    }
                }
                figures.flush(&tx)?;
            }
            tx.commit()?;
            progress(((batch_no + 1) * BATCH).min(entries.len()) as u32, total);
        }
        Ok(())
    }
}
