//! Makes a playlist in a playlists folder, for tests that need one the UI cannot make:
//! entries whose tracks are not on the device.
//!
//! ```text
//! seed_playlist <playlists dir> <demo manifest.json> <name> <entry>...
//!   entry: demo:<index in the manifest> | absent:<title>
//! ```

use std::path::Path;
use std::process::ExitCode;

use offbeat_model::{TrackUid, UidInputs};
use offbeat_playlists::{Place, Store, TrackRef};

fn run(args: &[String]) -> Result<(), String> {
    let [dir, manifest, name, entries @ ..] = args else {
        return Err("usage: seed_playlist <playlists dir> <manifest.json> <name> <demo:N | absent:TITLE>...".into());
    };
    let manifest: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(manifest).map_err(|e| format!("{manifest}: {e}"))?)
            .map_err(|e| format!("{manifest}: {e}"))?;
    let mut tracks = Vec::new();
    for entry in entries {
        let track = if let Some(i) = entry.strip_prefix("demo:") {
            let t = i
                .parse::<usize>()
                .ok()
                .and_then(|i| manifest.get(i))
                .ok_or_else(|| format!("no demo track {i}"))?;
            let text = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            let number = |k: &str| t[k].as_u64().and_then(|n| u32::try_from(n).ok());
            let (album_artist, album, title) = (text("album_artist"), text("album"), text("title"));
            let uid = TrackUid::derive(&UidInputs {
                musicbrainz_recording_id: None,
                album_artist: &album_artist,
                album: &album,
                disc_number: number("disc_number"),
                track_number: number("track_number"),
                title: &title,
            });
            TrackRef {
                track_uid: uid.as_str().to_owned(),
                title,
                artist: text("artist"),
                album,
                duration_ms: number("duration_ms").unwrap_or(0),
            }
        } else if let Some(title) = entry.strip_prefix("absent:") {
            TrackRef {
                track_uid: format!("h:absent-{}", title.to_lowercase().replace(' ', "-")),
                title: title.to_owned(),
                artist: "Nobody Here".into(),
                album: "Not On This Device".into(),
                duration_ms: 200_000,
            }
        } else {
            return Err(format!("not an entry: {entry}"));
        };
        tracks.push(track);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let store = Store::open(Path::new(dir), now).map_err(|e| e.to_string())?;
    let id = store.create(name, now).map_err(|e| e.to_string())?;
    store
        .add(&id, &tracks, Place::End, now)
        .map_err(|e| e.to_string())?;
    store.close().map_err(|e| e.to_string())?;
    println!("{id}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed_playlist: {e}");
            ExitCode::FAILURE
        }
    }
}
