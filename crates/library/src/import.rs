//! Importing listening history from other services: Spotify's "Extended streaming
//! history" (`Streaming_History_Audio_*.json`) and ListenBrainz exports (a JSON array of
//! listens, one listen per line, or an API `payload`). Each listen is matched to a library
//! track by MusicBrainz recording id, then by artist + title + album, then by artist +
//! title; one that matches nothing is kept with its names and counts in every figure.
//!
//! Every imported play gets an id made from the entry itself, so importing the same file
//! again stores nothing new. A malformed entry is skipped and named in the report; the
//! rest of the file is imported.

use std::collections::HashMap;
use std::path::Path;

use offbeat_model::{normalize_for_identity, HistoryImportIssue, HistoryImportReport};
use serde_json::Value;

use crate::plays::{insert_play, is_listen, EndReason, Play, INSERT_PLAY};
use crate::{Library, Result};

/// How many plays go in per transaction (and between progress reports).
const BATCH: usize = 5_000;
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

fn spotify_entry(v: &Value, m: &Matcher) -> Entry {
    let Some(o) = v.as_object() else {
        return Entry::Skip("not an object".into());
    };
    let Some(ts) = o.get("ts") else {
        return Entry::Skip("no \"ts\" (when it played)".into());
    };
    let Some(end) = ts.as_str().and_then(unix_ms_of_rfc3339) else {
        return Entry::Skip(format!("\"ts\" is not a date and time: {ts}"));
    };
    let ms_played = match o.get("ms_played").and_then(Value::as_i64) {
        Some(ms) if ms >= 0 => ms,
        _ => return Entry::Skip("\"ms_played\" is missing or not a count of milliseconds".into()),
    };
    let Some(title) = text(o.get("master_metadata_track_name")) else {
        return Entry::Skip(
            if text(o.get("episode_name")).is_some() || text(o.get("audiobook_title")).is_some() {
                "a podcast episode or audiobook, not a song".into()
            } else {
                "no track name".into()
            },
        );
    };
    let artist = text(o.get("master_metadata_album_artist_name")).unwrap_or("Unknown Artist");
    let album = text(o.get("master_metadata_album_album_name"));
    let uri = text(o.get("spotify_track_uri"));
    let reason_end = text(o.get("reason_end"));
    let end_reason = match reason_end {
        Some("trackdone") => Some(EndReason::Finished),
        Some("fwdbtn" | "backbtn" | "clickrow" | "remote" | "playbtn") => Some(EndReason::Skipped),
        Some(_) => Some(EndReason::Stopped),
        None => None,
    };
    let skipped_flag = o.get("skipped").and_then(Value::as_bool).unwrap_or(false);
    let played_at = end - ms_played;
    let mut play = Play {
        id: format!(
            "spotify:{}:{}:{ms_played}",
            ts.as_str().unwrap_or_default(),
            uri.map(str::to_owned)
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
    play.skipped = !listen && (skipped_flag || end_reason == Some(EndReason::Skipped));
    Entry::Play(Box::new(play))
}

fn listenbrainz_entry(v: &Value, m: &Matcher) -> Entry {
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
        let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let mut line_issues: Vec<HistoryImportIssue> = Vec::new();
        let entries: Vec<Value> = match first {
            Some(b'[') | Some(b'{') => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(items)) => items,
                Ok(Value::Object(mut o)) => {
                    // A ListenBrainz API page: {"payload": {"listens": [...]}}.
                    match o
                        .get_mut("payload")
                        .and_then(|p| p.get_mut("listens"))
                        .map(Value::take)
                    {
                        Some(Value::Array(items)) => items,
                        _ => vec![Value::Object(o)],
                    }
                }
                Ok(_) => Vec::new(),
                Err(e) if first == Some(b'{') => {
                    // One listen per line (ListenBrainz's listens.jsonl).
                    let _ = e;
                    let mut items = Vec::new();
                    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
                        if line.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        match serde_json::from_slice::<Value>(line) {
                            Ok(v) => items.push(v),
                            Err(e) => {
                                items.push(Value::Null);
                                line_issues.push(HistoryImportIssue {
                                    entry: n as u32 + 1,
                                    reason: format!("line {} is not JSON: {e}", n + 1),
                                });
                            }
                        }
                    }
                    items
                }
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
            _ => {
                file_issue(
                    &mut report,
                    format!("{} is not a JSON export", path.display()),
                );
                return Ok(report);
            }
        };
        let Some(format) = entries.iter().find_map(looks_like) else {
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
        let total = entries.len() as u32;
        progress(0, total);
        let mut line_issues = line_issues.into_iter().peekable();
        for (batch_no, batch) in entries.chunks(BATCH).enumerate() {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(INSERT_PLAY)?;
                for (i, v) in batch.iter().enumerate() {
                    let n = (batch_no * BATCH + i) as u32 + 1;
                    let entry = if v.is_null() && line_issues.peek().is_some() {
                        let why = line_issues.next().map(|i| i.reason).unwrap_or_default();
                        Entry::Skip(why)
                    } else if format == "Spotify" {
                        spotify_entry(v, &matcher)
                    } else {
                        listenbrainz_entry(v, &matcher)
                    };
                    match entry {
                        Entry::Play(play) => {
                            if insert_play(&mut stmt, &play, false)? {
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
            }
            tx.commit()?;
            progress(((batch_no + 1) * BATCH).min(entries.len()) as u32, total);
        }
        Ok(report)
    }
}
