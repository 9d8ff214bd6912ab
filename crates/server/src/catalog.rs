//! The music folder: scanned with the library crate (the desktop app's own scanner) into
//! `<data>/library.db`, watched for changes, published as a change log (`catalog` in the
//! server database), and served: files with Range, covers as thumbnails.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use offbeat_library::{CoverCache, FolderWatcher, Library};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::app::{error, Config, Paging, State};
use crate::auth::Authed;
use crate::db::Db;

type AppState = axum::extract::State<Arc<State>>;

/// Bytes read from disk per chunk of a streamed file.
const STREAM_CHUNK: usize = 1 << 20;

/// A track as the catalog API sends it (the server's file path stays private): the
/// library's own description of a server track, so both ends read one type.
pub use offbeat_library::RemoteTrack as CatalogTrack;

#[derive(Debug)]
pub struct Catalog {
    music: PathBuf,
    library_path: PathBuf,
    db_path: PathBuf,
    /// For lookups by request handlers (scans write through their own connection).
    reader: Mutex<Library>,
    covers: CoverCache,
    scanning: Arc<AtomicBool>,
    rescan: Mutex<Option<mpsc::Sender<()>>>,
    watcher: Mutex<Option<FolderWatcher>>,
    /// SHA-256s of files already streamed, by path, valid while length and mtime match.
    digests: Mutex<HashMap<PathBuf, (u64, u128, String)>>,
}

impl Catalog {
    pub fn open(config: &Config) -> anyhow::Result<Catalog> {
        let music = config
            .music
            .canonicalize()
            .map_err(|e| anyhow::anyhow!("the music folder {}: {e}", config.music.display()))?;
        if !music.is_dir() {
            anyhow::bail!("the music folder {} is not a folder", music.display());
        }
        let library_path = config.data.join("library.db");
        let reader = Library::open(&library_path)?;
        Ok(Catalog {
            music,
            library_path,
            db_path: config.data.join("server.db"),
            reader: Mutex::new(reader),
            covers: CoverCache::new(config.data.join("covers")),
            scanning: Arc::default(),
            rescan: Mutex::default(),
            watcher: Mutex::default(),
            digests: Mutex::default(),
        })
    }

    /// The file's SHA-256 (base64), read once per length and mtime and then remembered.
    async fn digest(&self, path: &Path, len: u64, mtime: u128) -> std::io::Result<String> {
        /// Beyond this many remembered files (a few MB), start again.
        const MAX_REMEMBERED: usize = 250_000;
        if let Some((l, m, d)) = self
            .digests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
        {
            if (*l, *m) == (len, mtime) {
                return Ok(d.clone());
            }
        }
        let owned = path.to_path_buf();
        let digest = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use base64::Engine as _;
            use sha2::Digest as _;
            let mut file = std::fs::File::open(&owned)?;
            let mut hasher = sha2::Sha256::new();
            std::io::copy(&mut file, &mut hasher)?;
            Ok(base64::engine::general_purpose::STANDARD.encode(hasher.finalize()))
        })
        .await
        .map_err(std::io::Error::other)??;
        let mut digests = self.digests.lock().unwrap_or_else(PoisonError::into_inner);
        if digests.len() >= MAX_REMEMBERED {
            digests.clear();
        }
        digests.insert(path.to_path_buf(), (len, mtime, digest.clone()));
        Ok(digest)
    }

    pub fn scanning(&self) -> bool {
        self.scanning.load(Ordering::Relaxed)
    }

    /// Scans now and whenever the folder changes, on a thread of its own; each scan
    /// updates the change log.
    pub fn start(&self, _state: Arc<State>) {
        let (tx, rx) = mpsc::channel::<()>();
        let music = self.music.clone();
        let library_path = self.library_path.clone();
        let db_path = self.db_path.clone();
        let scanning = self.scanning.clone();
        scanning.store(true, Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name("offbeat-scan".into())
            .spawn(move || {
                let mut library = match Library::open(&library_path) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("cannot open the library to scan: {e}");
                        scanning.store(false, Ordering::Relaxed);
                        return;
                    }
                };
                // Its own connection: a rescan's long transaction must not hold the lock
                // every request's token lookup takes (WAL lets them read meanwhile).
                let db = match Db::open(&db_path) {
                    Ok(db) => db,
                    Err(e) => {
                        tracing::error!("cannot open the server database to scan: {e}");
                        scanning.store(false, Ordering::Relaxed);
                        return;
                    }
                };
                loop {
                    scanning.store(true, Ordering::Relaxed);
                    scan_once(&mut library, &music, &db);
                    scanning.store(false, Ordering::Relaxed);
                    // Wait for a change; several at once make one rescan.
                    if rx.recv().is_err() {
                        return;
                    }
                    while rx.try_recv().is_ok() {}
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the scanner: {e}");
            return;
        }
        let notify = tx.clone();
        match FolderWatcher::start(move |_| {
            let _ = notify.send(());
        }) {
            Ok(mut watcher) => {
                if let Err(e) = watcher.watch(&self.music) {
                    tracing::warn!("the music folder will not be watched: {e}");
                }
                *self.watcher.lock().unwrap_or_else(PoisonError::into_inner) = Some(watcher);
            }
            Err(e) => tracing::warn!("the music folder will not be watched: {e}"),
        }
        *self.rescan.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    }

    /// Stops watching; the scan thread ends after the scan it is in.
    pub fn stop(&self) {
        self.watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.rescan
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// The file of a track, if the library has it and it is inside the music folder.
    fn file_of(&self, uid: &str) -> Result<Option<PathBuf>, String> {
        let reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        let found = reader.tracks_by_uid(&[uid]).map_err(|e| e.to_string())?;
        let Some(track) = found.get(uid) else {
            return Ok(None);
        };
        let Some(path) = reader.track_file(track.id).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        drop(reader);
        // Never a file outside the music folder, whatever the database says.
        Ok(path
            .canonicalize()
            .ok()
            .filter(|p| p.starts_with(&self.music) && p.is_file()))
    }
}

fn scan_once(library: &mut Library, music: &Path, db: &Db) {
    match library.scan_folder(music) {
        Ok(report) => tracing::info!(
            added = report.added,
            updated = report.updated,
            removed = report.removed,
            problems = report.problems.len(),
            "scanned {}",
            music.display()
        ),
        Err(e) => tracing::error!("scanning {}: {e}", music.display()),
    }
    let tracks = match library.tracks() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("reading the library: {e}");
            return;
        }
    };
    let sizes = library.file_sizes().unwrap_or_default();
    let rows: Vec<(String, String)> = tracks
        .into_iter()
        .filter_map(|t| {
            let size = sizes.get(&t.id).copied();
            let body = CatalogTrack {
                track_uid: t.uid.as_str().to_owned(),
                title: t.title,
                artist: t.artist,
                album: t.album,
                album_artist: t.album_artist,
                track_number: t.track_number,
                disc_number: t.disc_number,
                year: t.year,
                genre: t.genre,
                duration_ms: t.duration_ms,
                format: t.format,
                size,
            };
            Some((body.track_uid.clone(), serde_json::to_string(&body).ok()?))
        })
        .collect();
    match db.sync_catalog(&rows) {
        Ok((changed, deleted)) => tracing::info!(changed, deleted, "catalog updated"),
        Err(e) => tracing::error!("updating the catalog: {e}"),
    }
}

/// A track uid as the library makes them (`h:<hex>`, `mb:<uuid>`): letters, digits,
/// dashes and colons only, so nothing that could name a path gets near the file system.
fn valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 128
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':')
}

/// `GET /api/v1/catalog?since=CURSOR&limit=N`: tracks added, changed or deleted since the
/// cursor, oldest change first, each once at its newest.
pub async fn changes(
    _: Authed,
    axum::extract::State(state): AppState,
    Query(paging): Query<Paging>,
) -> Response {
    let Some((since, limit)) = paging.parse(5000) else {
        return crate::app::bad_cursor();
    };
    let db = state.db.clone();
    let page = match tokio::task::spawn_blocking(move || db.catalog(since, limit)).await {
        Ok(Ok(page)) => page,
        Ok(Err(crate::db::DbError::UnknownCursor)) => return crate::app::bad_cursor(),
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let (page, uids) = page;
    let mut body = String::with_capacity(page.rows.iter().map(|r| r.2.len() + 64).sum());
    body.push_str("{\"changes\":[");
    for (i, ((_, deleted, track), uid)) in page.rows.iter().zip(&uids).enumerate() {
        if i > 0 {
            body.push(',');
        }
        if *deleted {
            body.push_str(&serde_json::json!({ "track_uid": uid, "deleted": true }).to_string());
        } else {
            body.push_str("{\"deleted\":false,\"track\":");
            body.push_str(track);
            body.push('}');
        }
    }
    body.push_str(&format!(
        "],\"cursor\":\"{}\",\"more\":{}}}",
        page.cursor, page.more
    ));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// What a `Range` header asks for, given the file's length.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    /// Inclusive byte range.
    Part(u64, u64),
    Unsatisfiable,
}

fn wanted(range: Option<&HeaderValue>, len: u64) -> Wanted {
    let Some(range) = range else {
        return Wanted::Whole;
    };
    // RFC 9110 (14.2): a Range in a unit the server does not understand is ignored, and
    // the whole file sent. Units compare case-insensitively; only `bytes` is ours.
    let Some((unit, spec)) = range.to_str().ok().and_then(|r| r.trim().split_once('=')) else {
        return Wanted::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Wanted::Whole;
    }
    if spec.contains(',') {
        // Several ranges at once: allowed to be answered with the whole file.
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Wanted::Unsatisfiable;
    };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (start.trim(), end.trim()) {
        ("", suffix) => match number(suffix) {
            Some(n) if n > 0 && len > 0 => Wanted::Part(len.saturating_sub(n), len - 1),
            _ => Wanted::Unsatisfiable,
        },
        (start, "") => match number(start) {
            Some(s) if s < len => Wanted::Part(s, len - 1),
            _ => Wanted::Unsatisfiable,
        },
        (start, end) => match (number(start), number(end)) {
            (Some(s), Some(e)) if s <= e && s < len => Wanted::Part(s, e.min(len - 1)),
            _ => Wanted::Unsatisfiable,
        },
    }
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("flac") => "audio/flac",
        Some("mp3" | "mp2" | "mp1" | "mpa") => "audio/mpeg",
        Some("ogg" | "oga") => "audio/ogg",
        Some("opus") => "audio/ogg; codecs=opus",
        Some("m4a" | "mp4" | "aac") => "audio/mp4",
        Some("wav") => "audio/wav",
        Some("aif" | "aiff") => "audio/aiff",
        _ => "application/octet-stream",
    }
}

/// `GET /api/v1/tracks/{track_uid}/file`: the original file, with `Range` (206),
/// `ETag`/`If-None-Match` (304) and `Content-Length`.
pub async fn file(
    _: Authed,
    axum::extract::State(state): AppState,
    UrlPath(uid): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if !valid_uid(&uid) {
        return error(StatusCode::BAD_REQUEST, "not a track uid");
    }
    let path = match state.catalog.file_of(&uid) {
        Ok(Some(p)) => p,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no track with that uid"),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!("cannot open {}: {e}", path.display());
            return error(StatusCode::NOT_FOUND, "the track's file cannot be read");
        }
    };
    let meta = match file.metadata().await {
        Ok(m) => m,
        Err(_) => return error(StatusCode::NOT_FOUND, "the track's file cannot be read"),
    };
    let len = meta.len();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("\"{len:x}-{mtime:x}\"");
    let digest = match state.catalog.digest(&path, len, mtime).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", path.display());
            return error(StatusCode::NOT_FOUND, "the track's file cannot be read");
        }
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256=:{digest}:")) {
        response_headers.insert("repr-digest", v);
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
            })
        })
    {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    // A resumed download whose file changed since gets the whole new file, not a mix.
    let range = headers.get(header::RANGE).filter(|_| {
        headers
            .get(header::IF_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() == etag)
    });
    let (status, start, count) = match wanted(range, len) {
        Wanted::Whole => (StatusCode::OK, 0, len),
        Wanted::Part(s, e) => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {s}-{e}/{len}")) {
                response_headers.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, s, e - s + 1)
        }
        Wanted::Unsatisfiable => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response_headers.insert(header::CONTENT_RANGE, v);
            }
            let mut r = error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "the range is not in the file",
            );
            r.headers_mut().extend(response_headers);
            return r;
        }
    };
    if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "cannot seek in the file");
    }
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        file.take(count),
        STREAM_CHUNK,
    ));
    (status, response_headers, body).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ArtQuery {
    size: Option<u32>,
}

/// `GET /api/v1/art/{track_uid}?size=96|300`: the track's cover as a JPEG thumbnail.
pub async fn art(
    _: Authed,
    axum::extract::State(state): AppState,
    UrlPath(uid): UrlPath<String>,
    Query(query): Query<ArtQuery>,
) -> Response {
    if !valid_uid(&uid) {
        return error(StatusCode::BAD_REQUEST, "not a track uid");
    }
    let size = query.size.unwrap_or(300);
    if !offbeat_library::COVER_SIZES.contains(&size) {
        return error(StatusCode::BAD_REQUEST, "size must be 96 or 300");
    }
    let path = match state.catalog.file_of(&uid) {
        Ok(Some(p)) => p,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no track with that uid"),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let covers = state.catalog.covers.clone();
    let thumb = tokio::task::spawn_blocking(move || covers.thumbnail(&path, size)).await;
    let thumb = match thumb {
        Ok(Ok(Some(t))) => t,
        Ok(Ok(None)) => return error(StatusCode::NOT_FOUND, "the track has no cover"),
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    match tokio::fs::read(&thumb).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, max-age=86400"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str, len: u64) -> Wanted {
        wanted(
            Some(&HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""))),
            len,
        )
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(range("bytes=0-3", 10), Wanted::Part(0, 3));
        assert_eq!(range("bytes=4-", 10), Wanted::Part(4, 9));
        assert_eq!(range("bytes=-3", 10), Wanted::Part(7, 9));
        assert_eq!(range("bytes=-30", 10), Wanted::Part(0, 9));
        assert_eq!(range("bytes=8-100", 10), Wanted::Part(8, 9));
        assert_eq!(range("Bytes=0-3", 10), Wanted::Part(0, 3));
        assert_eq!(range("bytes=0-1,4-5", 10), Wanted::Whole);
        // Units the server does not know (or none at all) are ignored.
        for other in ["items=0-1", "lines=1-2", "0-1", ""] {
            assert_eq!(range(other, 10), Wanted::Whole, "{other}");
        }
        for bad in [
            "bytes=10-",
            "bytes=5-2",
            "bytes=-0",
            "bytes=a-b",
            "bytes=",
            "bytes=+1-2",
        ] {
            assert_eq!(range(bad, 10), Wanted::Unsatisfiable, "{bad}");
        }
    }

    #[test]
    fn only_plain_uids_are_looked_up() {
        assert!(valid_uid("0f3a-9c"));
        assert!(valid_uid("h:fef0988b4c166c4be204f6a1c97c393c"));
        assert!(valid_uid("h:fef0988b4c166c4be204f6a1c97c393c"));
        for bad in ["", "../etc/passwd", "a/b", "%2e%2e", "a b", "..", "a.b"] {
            assert!(!valid_uid(bad), "{bad}");
        }
    }
}
