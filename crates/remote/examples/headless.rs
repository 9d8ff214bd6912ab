//! A second Offbeat device without a window, for the cross-process outage scenario
//! (`tests/e2e/outage.test.mjs`): the same crates as the app (library, playlists, remote),
//! driven by one command per line on stdin, each answered by one JSON line on stdout.
//!
//! Usage: headless DATA_DIR SERVER_URL TOKEN
//!
//! Commands:
//! - `health`: the health (as the app's indicator gets it)
//! - `states`: every state the indicator has shown, in order (repeats collapsed)
//! - `playlists`: `[{id, name, entries}]`
//! - `titles ID`: the playlist's entry titles, in order
//! - `create NAME|UID,UID,...`: a playlist of those catalog tracks; answers its id
//! - `add ID UID`, `remove ID INDEX`, `move ID FROM TO`, `rename ID NAME`
//! - `play UID MS`: records a play of MS milliseconds, as the app does when one ends
//! - `quit`

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use offbeat_library::{Library, Play};
use offbeat_playlists::{Place, Store, TrackRef};
use offbeat_remote::{pair, HealthState, Remote, RemoteOptions};
use serde_json::{json, Value};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, url, token] = args.as_slice() else {
        eprintln!("usage: headless DATA_DIR SERVER_URL TOKEN");
        std::process::exit(2);
    };
    if let Err(e) = run(PathBuf::from(data), url, token) {
        eprintln!("headless: {e}");
        std::process::exit(1);
    }
}

fn run(data: PathBuf, url: &str, token: &str) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&data)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (pairing, _) = rt.block_on(pair(None, url, token))?;
    let library_path = data.join("library.db");
    let library = Library::open(&library_path)?;
    let store = Arc::new(Store::open(&data.join("playlists"), now_ms())?);
    let remote = Remote::start(RemoteOptions {
        pairing,
        library: library_path,
        cache_dir: data.join("cache"),
        cache_budget_bytes: 1 << 30,
        poll: std::time::Duration::from_secs(30),
    })?;
    remote.sync_playlists(store.clone())?;

    // Every state shown, in order, as the indicator would have shown it.
    let states: Arc<Mutex<Vec<HealthState>>> = Arc::default();
    {
        let states = states.clone();
        let mut health = remote.subscribe();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(rt) = rt else { return };
            rt.block_on(async move {
                loop {
                    let state = health.borrow_and_update().state;
                    {
                        let mut seen = states.lock().unwrap_or_else(|e| e.into_inner());
                        if seen.last() != Some(&state) {
                            seen.push(state);
                        }
                    }
                    if health.changed().await.is_err() {
                        break;
                    }
                }
            });
        });
    }

    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line?;
        let (command, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        let answer = match command {
            "quit" => break,
            "health" => serde_json::to_value(remote.health()).map_err(|e| e.to_string()),
            "states" => {
                let seen = states.lock().unwrap_or_else(|e| e.into_inner()).clone();
                serde_json::to_value(seen).map_err(|e| e.to_string())
            }
            other => edit(other, rest, &store, &library, &remote),
        };
        let line = match answer {
            Ok(v) => json!({ "ok": v }),
            Err(e) => json!({ "error": e }),
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    let _ = store.flush();
    Ok(())
}

fn track(library: &Library, uid: &str) -> Result<TrackRef, String> {
    let found = library.tracks_by_uid(&[uid]).map_err(|e| e.to_string())?;
    let t = found.get(uid).ok_or(format!("no track {uid}"))?;
    Ok(TrackRef {
        track_uid: uid.to_owned(),
        title: t.title.clone(),
        artist: t.artist.clone(),
        album: t.album.clone(),
        duration_ms: t.duration_ms,
    })
}

fn entry_at(store: &Store, id: &str, i: usize) -> Result<String, String> {
    let playlist = store.get(id).map_err(|e| e.to_string())?;
    playlist
        .entries
        .get(i)
        .map(|x| x.id.clone())
        .ok_or(format!("no entry {i}"))
}

fn edit(
    command: &str,
    rest: &str,
    store: &Store,
    library: &Library,
    remote: &Remote,
) -> Result<Value, String> {
    let e = |e: offbeat_playlists::StoreError| e.to_string();
    let words: Vec<&str> = rest.split_whitespace().collect();
    let index = |i: usize| -> Result<usize, String> {
        words
            .get(i)
            .and_then(|w| w.parse().ok())
            .ok_or(format!("{command}: a number expected"))
    };
    let id = words.first().copied().unwrap_or_default();
    match command {
        "playlists" => Ok(Value::Array(
            store
                .list()
                .into_iter()
                .map(|p| json!({ "id": p.id, "name": p.meta.name, "entries": p.entry_count }))
                .collect(),
        )),
        "titles" => Ok(json!(store
            .get(id)
            .map_err(e)?
            .entries
            .into_iter()
            .map(|x| x.track.title)
            .collect::<Vec<_>>())),
        "create" => {
            let (name, uids) = rest.split_once('|').ok_or("create NAME|UID,UID")?;
            let tracks = uids
                .split(',')
                .filter(|u| !u.is_empty())
                .map(|u| track(library, u))
                .collect::<Result<Vec<_>, _>>()?;
            let id = store.create(name, now_ms()).map_err(e)?;
            store.add(&id, &tracks, Place::End, now_ms()).map_err(e)?;
            Ok(json!(id))
        }
        "add" => {
            let t = track(library, words.get(1).copied().unwrap_or_default())?;
            store.add(id, &[t], Place::End, now_ms()).map_err(e)?;
            Ok(json!(true))
        }
        "remove" => {
            let entry = entry_at(store, id, index(1)?)?;
            store.remove(id, &[entry], now_ms()).map_err(e)?;
            Ok(json!(true))
        }
        "move" => {
            let entry = entry_at(store, id, index(1)?)?;
            store
                .move_entries(id, &[entry], Place::At(index(2)?), now_ms())
                .map_err(e)?;
            Ok(json!(true))
        }
        "rename" => {
            let name = rest.split_once(' ').map(|(_, n)| n).unwrap_or_default();
            store.rename(id, name, now_ms()).map_err(e)?;
            Ok(json!(true))
        }
        "play" => {
            let ms: i64 = words
                .get(1)
                .and_then(|w| w.parse().ok())
                .ok_or("play UID MS")?;
            let at = now_ms();
            library
                .record_play(&Play {
                    id: format!("headless-{at}-{}", fastrand::u32(..)),
                    track_uid: Some(id.to_owned()),
                    played_at: at,
                    ms_played: ms,
                    skipped: false,
                    device: Some("headless".into()),
                    ..Default::default()
                })
                .map_err(|e| e.to_string())?;
            remote.wake();
            Ok(json!(true))
        }
        other => Err(format!("unknown command {other}")),
    }
}
