//! M3U/M3U8 and XSPF, both directions, and matching what a file lists to library tracks.
//!
//! Reading never trusts the file: it is size-limited, a line that is not UTF-8 is read as
//! Latin-1 (and said so), absurdly long lines are skipped and reported, XML is read with
//! no DTD and no entity expansion beyond the five predefined ones. What could not be
//! read or matched comes back as a list of [`ImportProblem`]s, line by line, so nothing is
//! half-imported without saying so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use offbeat_model::{normalize_for_identity, Track};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde::Serialize;

use crate::doc::TrackRef;

/// Files larger than this are refused rather than read.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Lines longer than this are skipped (no real path or title is this long).
const MAX_LINE_BYTES: usize = 16 * 1024;

/// One track a playlist file lists, before it is matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListedTrack {
    /// Where in the file (line number for M3U, track number for XSPF), for reports.
    pub line: usize,
    pub location: Option<PathBuf>,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub duration_ms: Option<u32>,
}

/// Something in the file that did not become a playlist entry, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportProblem {
    /// 1-based line (M3U) or track number (XSPF); 0 for the file as a whole.
    pub line: u32,
    /// What the line said (shortened), so the user can find it.
    pub text: String,
    pub reason: String,
}

/// A playlist file as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub title: Option<String>,
    pub tracks: Vec<ListedTrack>,
    pub problems: Vec<ImportProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("the file is {0} bytes; playlists over 32 MB are not read")]
    TooLarge(usize),
    #[error("not a playlist file Offbeat reads: {0}")]
    Unrecognised(String),
    #[error("the XSPF file is not well-formed XML: {0}")]
    Xml(String),
    #[error("cannot read {0}")]
    Unreadable(String),
}

/// A playlist file read and matched against the library, ready to become a playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The file's own title, else its name without the extension.
    pub name: String,
    /// The matched tracks, in the file's order.
    pub tracks: Vec<TrackRef>,
    /// Every line that did not become an entry, and why, in file order.
    pub problems: Vec<ImportProblem>,
}

/// Reads the playlist file at `path` (refusing files over [`MAX_FILE_BYTES`]) and matches
/// what it lists to `library`.
pub fn import_file(path: &Path, library: &[Track]) -> Result<Import, ExchangeError> {
    let cannot = |e: std::io::Error| ExchangeError::Unreadable(format!("{}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(ExchangeError::TooLarge(
            usize::try_from(size).unwrap_or(usize::MAX),
        ));
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    let listing = read_listing(path, &bytes)?;
    let mut problems = listing.problems;
    let mut tracks = Vec::new();
    for m in match_tracks(&listing.tracks, library) {
        match m {
            Matched::Track(t) => tracks.push(t),
            Matched::Unmatched(p) => problems.push(p),
        }
    }
    problems.sort_by_key(|p| p.line);
    let name = listing.title.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Imported".into())
    });
    Ok(Import {
        name,
        tracks,
        problems,
    })
}

/// Reads an M3U or XSPF file's bytes, by its extension (then by its content).
pub fn read_listing(path: &Path, bytes: &[u8]) -> Result<Listing, ExchangeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ExchangeError::TooLarge(bytes.len()));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let base = path.parent().unwrap_or(Path::new("/"));
    match ext.as_deref() {
        Some("xspf") => read_xspf(bytes, base),
        Some("m3u") | Some("m3u8") => Ok(read_m3u(bytes, base)),
        _ if bytes.trim_ascii_start().starts_with(b"<") => read_xspf(bytes, base),
        _ if bytes.trim_ascii_start().starts_with(b"#EXTM3U") => Ok(read_m3u(bytes, base)),
        _ => Err(ExchangeError::Unrecognised(
            "expected .m3u, .m3u8 or .xspf".into(),
        )),
    }
}

/// Reads M3U/M3U8: `#EXTINF:<seconds>,<artist> - <title>` and `#EXTALB:<album>` describe
/// the location line that follows; other `#` lines are comments. Relative locations are
/// resolved against the playlist's folder; `file://` URLs are decoded.
pub fn read_m3u(bytes: &[u8], base: &Path) -> Listing {
    let mut listing = Listing::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut pending = ListedTrack::default();
    let mut latin1_noted = false;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE_BYTES {
            listing.problems.push(problem(
                line_no,
                &String::from_utf8_lossy(&raw[..80]),
                &format!("line is {} bytes long; skipped", raw.len()),
            ));
            pending = ListedTrack::default();
            continue;
        }
        let line = match std::str::from_utf8(raw) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                if !latin1_noted {
                    latin1_noted = true;
                    listing.problems.push(problem(
                        line_no,
                        "",
                        "not UTF-8: read as Latin-1 (names may look wrong)",
                    ));
                }
                raw.iter().map(|&b| char::from(b)).collect()
            }
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(info) = line.strip_prefix("#EXTINF:") {
            let (secs, label) = info.split_once(',').unwrap_or((info, ""));
            pending.duration_ms = secs
                .split_whitespace()
                .next()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|s| *s > 0.0 && *s < 1e7)
                .map(|s| (s * 1000.0) as u32);
            match label.split_once(" - ") {
                Some((artist, title)) => {
                    pending.artist = non_empty(artist);
                    pending.title = non_empty(title);
                }
                None => pending.title = non_empty(label),
            }
        } else if let Some(album) = line.strip_prefix("#EXTALB:") {
            pending.album = non_empty(album);
        } else if let Some(title) = line.strip_prefix("#PLAYLIST:") {
            listing.title = non_empty(title);
        } else if line.starts_with('#') {
            continue;
        } else {
            let mut track = std::mem::take(&mut pending);
            track.line = line_no;
            match location(line, base) {
                Some(path) => track.location = Some(path),
                None => {
                    listing.problems.push(problem(
                        line_no,
                        line,
                        "not a file path (streams and web addresses are not imported)",
                    ));
                    continue;
                }
            }
            listing.tracks.push(track);
        }
    }
    listing
}

/// Reads XSPF (`playlist/title`, `trackList/track/{location,title,creator,album,duration}`).
/// Only the five predefined XML entities and character references are understood; a
/// DTD is ignored, never expanded.
pub fn read_xspf(bytes: &[u8], base: &Path) -> Result<Listing, ExchangeError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| ExchangeError::Xml(format!("not UTF-8 ({e})")))?;
    let mut reader = Reader::from_str(text);
    let mut listing = Listing::default();
    let mut path: Vec<String> = Vec::new();
    let mut track: Option<ListedTrack> = None;
    let mut count = 0usize;
    let mut saw_playlist = false;
    // The text of the innermost element so far: text and entity references arrive as
    // separate events.
    let mut value = String::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            ExchangeError::Xml(format!("at byte {}: {e}", reader.buffer_position()))
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                if name == "playlist" {
                    saw_playlist = true;
                }
                if name == "track" && path.last().is_some_and(|p| p == "trackList") {
                    count += 1;
                    track = Some(ListedTrack {
                        line: count,
                        ..ListedTrack::default()
                    });
                }
                path.push(name);
                value.clear();
            }
            Event::Text(t) if value.len() < MAX_LINE_BYTES => {
                value.push_str(&t.xml10_content());
            }
            Event::CData(t) if value.len() < MAX_LINE_BYTES => {
                value.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                match resolve_entity(&name) {
                    Some(c) => value.push(c),
                    None => {
                        listing.problems.push(problem(
                            track.as_ref().map_or(0, |t| t.line),
                            &format!("&{name};"),
                            "unknown XML entity: kept as written, not expanded",
                        ));
                        value.push_str(&format!("&{name};"));
                    }
                }
            }
            Event::End(_) => {
                let field = path.last().map(String::as_str);
                let parent = path.len().checked_sub(2).map(|i| path[i].as_str());
                let text = value.trim();
                match (&mut track, parent, field) {
                    (Some(t), Some("track"), Some("location")) => {
                        t.location = location(text, base);
                        if t.location.is_none() {
                            listing.problems.push(problem(
                                t.line,
                                text,
                                "not a file location (streams are not imported)",
                            ));
                        }
                    }
                    (Some(t), Some("track"), Some("title")) => t.title = non_empty(text),
                    (Some(t), Some("track"), Some("creator")) => t.artist = non_empty(text),
                    (Some(t), Some("track"), Some("album")) => t.album = non_empty(text),
                    (Some(t), Some("track"), Some("duration")) => {
                        t.duration_ms = text.parse::<u32>().ok()
                    }
                    (None, Some("playlist"), Some("title")) => listing.title = non_empty(text),
                    _ => {}
                }
                value.clear();
                if path.pop().as_deref() == Some("track") {
                    if let Some(t) = track.take() {
                        if t.location.is_none() && t.title.is_none() {
                            listing.problems.push(problem(
                                t.line,
                                "",
                                "track has neither a location nor a title",
                            ));
                        } else {
                            listing.tracks.push(t);
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_playlist {
        return Err(ExchangeError::Unrecognised(
            "no <playlist> element: not XSPF".into(),
        ));
    }
    Ok(listing)
}

/// A character reference (`#65`, `#x41`) or one of XML's five predefined entities;
/// anything else (entities a DTD would define) is not expanded.
fn resolve_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// A listed track matched to the library, or the reason it was not.
#[derive(Debug, Clone, PartialEq)]
pub enum Matched {
    Track(TrackRef),
    Unmatched(ImportProblem),
}

/// Matches listed tracks to library tracks: by path first, then by artist + title (+ album
/// when both sides have one), folded for case and diacritics.
pub fn match_tracks(listed: &[ListedTrack], library: &[Track]) -> Vec<Matched> {
    let by_path: HashMap<&str, &Track> = library.iter().map(|t| (t.path.as_str(), t)).collect();
    let mut by_tags: HashMap<(String, String), Vec<&Track>> = HashMap::new();
    for t in library {
        by_tags
            .entry((
                normalize_for_identity(&t.artist),
                normalize_for_identity(&t.title),
            ))
            .or_default()
            .push(t);
        if t.album_artist != t.artist {
            by_tags
                .entry((
                    normalize_for_identity(&t.album_artist),
                    normalize_for_identity(&t.title),
                ))
                .or_default()
                .push(t);
        }
    }
    listed
        .iter()
        .map(|item| {
            let by_location = item
                .location
                .as_ref()
                .and_then(|p| p.to_str())
                .and_then(|p| by_path.get(p).copied());
            let by_tag = || {
                let key = (
                    normalize_for_identity(item.artist.as_deref()?),
                    normalize_for_identity(item.title.as_deref()?),
                );
                let candidates = by_tags.get(&key)?;
                let album = item.album.as_deref().map(normalize_for_identity);
                candidates
                    .iter()
                    .find(|t| album.as_deref() == Some(normalize_for_identity(&t.album).as_str()))
                    .or_else(|| candidates.first())
                    .copied()
            };
            match by_location.or_else(by_tag) {
                Some(t) => Matched::Track(track_ref(t)),
                None => Matched::Unmatched(problem(
                    item.line,
                    &describe(item),
                    if item.artist.is_none() || item.title.is_none() {
                        "no track at that path, and no artist and title to look for"
                    } else {
                        "no track in the library at that path or with that artist and title"
                    },
                )),
            }
        })
        .collect()
}

/// What a playlist entry remembers of a library track.
pub fn track_ref(t: &Track) -> TrackRef {
    TrackRef {
        track_uid: t.uid.as_str().to_owned(),
        title: t.title.clone(),
        artist: t.artist.clone(),
        album: t.album.clone(),
        duration_ms: t.duration_ms,
    }
}

/// One entry to export: what the playlist remembers, and the local file if there is one.
#[derive(Debug, Clone)]
pub struct ExportEntry<'a> {
    pub track: &'a TrackRef,
    pub path: Option<&'a str>,
}

/// Writes M3U8. Entries with no local file cannot be listed by location: they are left
/// out, and their count returned so the caller can say so.
pub fn write_m3u8(title: &str, entries: &[ExportEntry<'_>]) -> (String, usize) {
    let mut out = String::from("#EXTM3U\n");
    out.push_str(&format!("#PLAYLIST:{}\n", one_line(title)));
    let mut skipped = 0;
    for e in entries {
        let Some(path) = e.path else {
            skipped += 1;
            continue;
        };
        out.push_str(&format!(
            "#EXTINF:{},{} - {}\n",
            e.track.duration_ms / 1000,
            one_line(&e.track.artist),
            one_line(&e.track.title)
        ));
        if !e.track.album.is_empty() {
            out.push_str(&format!("#EXTALB:{}\n", one_line(&e.track.album)));
        }
        out.push_str(&one_line(path));
        out.push('\n');
    }
    (out, skipped)
}

/// Writes XSPF. Every entry is written; one with no local file has no `<location>` but
/// keeps its title, artist, album and duration (and Offbeat's track id) so another
/// player or device can still find it.
pub fn write_xspf(title: &str, entries: &[ExportEntry<'_>]) -> String {
    use quick_xml::escape::escape;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<playlist version=\"1\" xmlns=\"http://xspf.org/ns/0/\">\n",
    );
    out.push_str(&format!(
        "  <title>{}</title>\n  <trackList>\n",
        escape(title)
    ));
    for e in entries {
        out.push_str("    <track>\n");
        if let Some(path) = e.path {
            out.push_str(&format!(
                "      <location>{}</location>\n",
                escape(file_url(path))
            ));
        }
        out.push_str(&format!(
            "      <identifier>offbeat:track:{}</identifier>\n",
            escape(&e.track.track_uid)
        ));
        for (tag, value) in [
            ("title", &e.track.title),
            ("creator", &e.track.artist),
            ("album", &e.track.album),
        ] {
            if !value.is_empty() {
                out.push_str(&format!(
                    "      <{tag}>{}</{tag}>\n",
                    escape(value.as_str())
                ));
            }
        }
        out.push_str(&format!(
            "      <duration>{}</duration>\n    </track>\n",
            e.track.duration_ms
        ));
    }
    out.push_str("  </trackList>\n</playlist>\n");
    out
}

/// A `file://` URL for a path (bytes outside unreserved ASCII and `/` percent-encoded).
fn file_url(path: &str) -> String {
    let mut out = String::from("file://");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A location as a path: `file://` URLs decoded, relative paths under `base`. Other URL
/// schemes (http, rtsp, ...) are not files.
fn location(value: &str, base: &Path) -> Option<PathBuf> {
    if let Some(rest) = value.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        let decoded = percent_decode(rest)?;
        return Some(PathBuf::from(decoded));
    }
    if value.contains("://") {
        return None;
    }
    let path = Path::new(value);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn describe(item: &ListedTrack) -> String {
    match (&item.artist, &item.title, &item.location) {
        (Some(a), Some(t), _) => format!("{a} - {t}"),
        (None, Some(t), _) => t.clone(),
        (_, _, Some(p)) => p.display().to_string(),
        _ => String::new(),
    }
}

fn problem(line: usize, text: &str, reason: &str) -> ImportProblem {
    let mut text = text.to_owned();
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    ImportProblem {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        text,
        reason: reason.to_owned(),
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A value on one line (M3U has no escaping).
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}
