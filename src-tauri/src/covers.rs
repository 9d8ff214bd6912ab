//! The `cover:` URI scheme: album-cover thumbnails for the webview, which has no
//! file-system access. `cover://localhost/track/<id>/<size>` answers with a JPEG (or 404).

use std::borrow::Cow;
use std::path::Path;

use offbeat_library::{CoverCache, COVER_SIZES};
use tauri::http::{Request, Response, StatusCode};
use tauri::{Manager, UriSchemeContext, UriSchemeResponder};

use crate::app::AppState;

/// Handles one request off the main thread.
pub fn handle(
    ctx: UriSchemeContext<'_, tauri::Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_owned();
    std::thread::spawn(move || {
        let state = app.state::<AppState>();
        responder.respond(respond(&state, &path));
    });
}

fn respond(state: &AppState, path: &str) -> Response<Cow<'static, [u8]>> {
    let Some((track_id, size)) = parse(path) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let track_path = match state.library().and_then(|l| Ok(l.track_file(track_id)?)) {
        Ok(Some(path)) => path,
        _ => return status(StatusCode::NOT_FOUND),
    };
    // A server's track: its cached copy has the cover; without one, the server's
    // thumbnail (kept once fetched).
    let track_path = if crate::remote::is_server_path(&track_path) {
        match crate::remote::cached_copy(state, track_id) {
            Some(path) => path,
            None => {
                return match crate::remote::server_art(state, track_id, size)
                    .and_then(|p| std::fs::read(p).ok())
                {
                    Some(bytes) => jpeg(bytes),
                    None => status(StatusCode::NOT_FOUND),
                }
            }
        }
    } else {
        track_path
    };
    match state.covers.thumbnail(&track_path, size) {
        Ok(Some(file)) => match std::fs::read(file) {
            Ok(bytes) => jpeg(bytes),
            Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
        },
        Ok(None) => status(StatusCode::NOT_FOUND),
        Err(e) => {
            eprintln!("offbeat: cover for track {track_id}: {e}");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// `/track/<id>/<size>` with a size the UI uses.
fn parse(path: &str) -> Option<(i64, u32)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let (kind, id, size) = (parts.next()?, parts.next()?, parts.next()?);
    let size: u32 = size.parse().ok()?;
    (kind == "track" && parts.next().is_none() && COVER_SIZES.contains(&size))
        .then_some((id.parse().ok()?, size))
}

fn jpeg(bytes: Vec<u8>) -> Response<Cow<'static, [u8]>> {
    Response::builder()
        .header("Content-Type", "image/jpeg")
        .header("Cache-Control", "max-age=86400")
        .body(Cow::Owned(bytes))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response<Cow<'static, [u8]>> {
    let mut response = Response::new(Cow::Borrowed(&[][..]));
    *response.status_mut() = code;
    response
}

/// Where thumbnails are kept.
pub fn cache(data_dir: &Path) -> CoverCache {
    CoverCache::new(data_dir.join("covers"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_cover_paths_are_accepted() {
        let check =
            |path: &str, expected: Option<(i64, u32)>| assert_eq!(parse(path), expected, "{path}");
        check("/track/12/96", Some((12, 96)));
        check("/track/7/300", Some((7, 300)));
        check("/track/7/301", None);
        check("/track/x/96", None);
        check("/album/7/96", None);
        check("/track/7/96/extra", None);
        check("/../../etc/passwd", None);
    }
}
