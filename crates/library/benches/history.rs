//! History benchmark: 1,000,000 plays over ten years across 50,000 tracks, then the Rewind
//! views (against a bare SQLite scan of the same year), recording a play (against a bare
//! insert), and importing a Spotify export (against bare JSON parsing of the file).

#[path = "../../../benches/report.rs"]
mod report;

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use offbeat_library::rewind::{period_bounds, DAY_MS};
use offbeat_library::{Library, Play, RemoteChange, RemoteTrack};
use report::{Figure, Target};

const TRACKS: usize = 50_000;
/// The history; `OFFBEAT_HISTORY_BENCH_PLAYS` makes it smaller for a quick look.
const PLAYS: usize = 1_000_000;
const YEARS: i64 = 10;
const GENRES: &[&str] = &[
    "Rock",
    "Pop",
    "Jazz",
    "Ambient",
    "Electronic",
    "Folk",
    "Classical",
    "Hip-Hop",
    "Soul",
    "Metal",
    "Blues",
    "Reggae",
    "Punk",
    "Country",
    "Latin",
    "Funk",
    "House",
    "Techno",
    "Indie",
    "World",
];
const VIEW_RUNS: usize = 7;
const RECORDS: usize = 5_000;
const SPOTIFY_ENTRIES: usize = 100_000;

fn track(t: usize) -> RemoteTrack {
    let album = t / 10;
    RemoteTrack {
        track_uid: format!("bench:{t}"),
        title: format!("Song {t}"),
        artist: format!("Artist {album}"),
        album: format!("Album {album}"),
        album_artist: format!("Artist {album}"),
        track_number: Some((t % 10) as u32 + 1),
        disc_number: Some(1),
        year: Some(1970 + (album % 55) as i32),
        genre: Some(GENRES[album % GENRES.len()].to_owned()),
        duration_ms: 180_000 + (t % 120) as u32 * 1000,
        format: "FLAC".into(),
        size: Some(30_000_000),
    }
}

/// A track picked the way people listen: a few very often, most rarely.
fn popular(rng: &mut fastrand::Rng) -> usize {
    let u = rng.f64();
    ((u * u * u) * TRACKS as f64) as usize % TRACKS
}

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("bench-corpus/history");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("library.db");
    let mut library = Library::open(&db)?;
    let changes: Vec<RemoteChange> = (0..TRACKS)
        .map(|t| RemoteChange::Upsert(track(t)))
        .collect();
    library.apply_remote_changes("bench", &changes, "1", true)?;

    // Now: midday on 28 November 2026; plays spread over the ten years before.
    let (nov, _) = period_bounds(2026, Some(11)).ok_or("bad date")?;
    let now = nov + 27 * DAY_MS + DAY_MS / 2;
    let span = YEARS * 365 * DAY_MS;
    let mut rng = fastrand::Rng::with_seed(8);
    let generating = Instant::now();
    // A history grows in time order: plays are recorded (and exports list them) as they
    // happen.
    let plays: usize = std::env::var("OFFBEAT_HISTORY_BENCH_PLAYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PLAYS);
    let mut times: Vec<i64> = (0..plays).map(|_| now - span + rng.i64(0..span)).collect();
    times.sort_unstable();
    let mut batch = Vec::with_capacity(50_000);
    for (i, played_at) in times.into_iter().enumerate() {
        let t = popular(&mut rng);
        let info = track(t);
        let full = i64::from(info.duration_ms);
        let ms = if rng.u8(..10) < 8 {
            full
        } else {
            rng.i64(1_000..full / 2)
        };
        batch.push(Play {
            id: format!("bench-{i}"),
            track_uid: Some(info.track_uid),
            played_at,
            ms_played: ms,
            device: Some("bench".into()),
            utc_offset_min: 60,
            source: Some("local".into()),
            listen: Some(offbeat_library::is_listen(ms, Some(full))),
            title: Some(info.title),
            artist: Some(info.artist),
            album: Some(info.album),
            album_artist: Some(info.album_artist),
            genre: info.genre,
            ..Play::default()
        });
        if batch.len() == batch.capacity() {
            library.record_plays(&batch)?;
            batch.clear();
        }
    }
    library.record_plays(&batch)?;
    eprintln!(
        "history: {plays} plays over {YEARS} years across {TRACKS} tracks generated in {:.1} s",
        generating.elapsed().as_secs_f64()
    );

    // The baseline: SQLite reading one year's listens and summing them, nothing else.
    let conn = rusqlite::Connection::open(&db)?;
    let (from, to) = period_bounds(2025, None).ok_or("bad year")?;
    let bare = report::median_time(VIEW_RUNS, || {
        let r: rusqlite::Result<(i64, i64)> = conn.query_row(
            "SELECT count(*), sum(ms_played) FROM plays WHERE local_at >= ?1 AND local_at < ?2 AND listen",
            [from, to],
            |r| Ok((r.get(0)?, r.get(1)?)),
        );
        black_box(r.ok());
    });
    // And reading the columns a wrap-up reads, touching each, nothing else.
    let bare_read = report::median_time(VIEW_RUNS, || {
        let mut stmt = match conn.prepare_cached(
            "SELECT local_at, ms_played, track_key, artist_key, album_key, genre FROM plays
             WHERE local_at >= ?1 AND local_at < ?2 AND listen ORDER BY local_at",
        ) {
            Ok(s) => s,
            Err(_) => return,
        };
        let mut n = 0usize;
        if let Ok(mut rows) = stmt.query([from, to]) {
            while let Ok(Some(r)) = rows.next() {
                for col in 2..6 {
                    n += r
                        .get_ref(col)
                        .ok()
                        .and_then(|v| v.as_bytes_or_null().ok().flatten())
                        .map_or(0, <[u8]>::len);
                }
            }
        }
        black_box(n);
    });
    eprintln!(
        "bare read of a year's wrap-up columns: {:.1} ms",
        bare_read.as_secs_f64() * 1000.0
    );
    let year_listens: i64 = conn.query_row(
        "SELECT count(*) FROM plays WHERE local_at >= ?1 AND local_at < ?2 AND listen",
        [from, to],
        |r| r.get(0),
    )?;

    let wrapup = time(|| library.wrap_up(2025, None, 10).map(|w| w.totals.listens))?;
    let on_this_day = time(|| library.on_this_day(now, 50).map(|d| d.len()))?;
    let first_listens = time(|| library.first_listens(now, 50).map(|f| f.tracks.len()))?;
    let forgotten = time(|| library.forgotten_favourites(now, 50).map(|f| f.len()))?;

    // Recording: one play at a time into the 1,000,000, names filled from the library as
    // the app's recorder leaves them; against a bare one-row insert in the same database.
    conn.execute_batch("CREATE TABLE bare_plays (id TEXT PRIMARY KEY, at INTEGER, ms INTEGER)")?;
    // As the app's recorder does: its connection checkpoints on a timer, not mid-record.
    library.set_bulk_writes(true)?;
    let mut record = Vec::with_capacity(RECORDS);
    let mut bare_insert = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let t = popular(&mut rng);
        let play = Play {
            id: format!("rec-{i}"),
            track_uid: Some(format!("bench:{t}")),
            played_at: now + i as i64 * 1000,
            ms_played: 200_000,
            device: Some("bench".into()),
            listen: Some(true),
            source: Some("local".into()),
            ..Play::default()
        };
        let start = Instant::now();
        library.record_play(&play)?;
        record.push(start.elapsed());
        let start = Instant::now();
        conn.execute(
            "INSERT INTO bare_plays (id, at, ms) VALUES (?1, ?2, ?3)",
            rusqlite::params![play.id, play.played_at, play.ms_played],
        )?;
        bare_insert.push(start.elapsed());
    }
    let checkpoint = Instant::now();
    library.set_bulk_writes(false)?;
    let checkpoint = checkpoint.elapsed();
    let record_p99 = percentile(&mut record, 0.99);
    let bare_p99 = percentile(&mut bare_insert, 0.99);

    // Import: a Spotify export of 100,000 streams of library tracks.
    let file = dir.join("Streaming_History_Audio_bench.json");
    write_spotify(&file, now - span, span, &mut rng)?;
    let bytes = std::fs::read(&file)?;
    let parse = report::median_time(3, || {
        black_box(serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    });
    let start = Instant::now();
    let report = library.import_history(&file, |_, _| {})?;
    let import = start.elapsed();
    if report.imported as usize != SPOTIFY_ENTRIES {
        return Err(format!(
            "the import stored {} of {SPOTIFY_ENTRIES}: {report:?}",
            report.imported
        )
        .into());
    }
    let import_rate = SPOTIFY_ENTRIES as f64 / import.as_secs_f64();
    let parse_rate = SPOTIFY_ENTRIES as f64 / parse.as_secs_f64();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = |d: Duration| d.as_secs_f64() / bare.as_secs_f64();
    let figures = [
        Figure {
            name: "wrapup_year_ms",
            value: ms(wrapup),
            unit: "ms",
            note: format!(
                "2025: {year_listens} listens; median of {VIEW_RUNS}; {:.1}x a bare read of its columns ({:.1} ms), {:.1}x the bare year scan (count+sum, {:.1} ms)",
                wrapup.as_secs_f64() / bare_read.as_secs_f64(),
                ms(bare_read),
                ratio(wrapup),
                ms(bare)
            ),
        },
        Figure {
            name: "on_this_day_ms",
            value: ms(on_this_day),
            unit: "ms",
            note: format!("28 Nov in 9 earlier years; median of {VIEW_RUNS}; {:.2}x the bare year scan", ratio(on_this_day)),
        },
        Figure {
            name: "first_listens_ms",
            value: ms(first_listens),
            unit: "ms",
            note: format!("latest 50 tracks, artists, albums + week/month counts; {:.2}x the bare year scan", ratio(first_listens)),
        },
        Figure {
            name: "forgotten_favourites_ms",
            value: ms(forgotten),
            unit: "ms",
            note: format!("50 tracks; {:.2}x the bare year scan", ratio(forgotten)),
        },
        Figure {
            name: "import_spotify_plays_per_s",
            value: import_rate,
            unit: "plays/s",
            note: format!(
                "{SPOTIFY_ENTRIES} streams matched into a 1M-play library; {:.2}x bare serde_json parsing ({parse_rate:.0}/s)",
                import_rate / parse_rate
            ),
        },
        Figure {
            name: "record_play_us",
            value: record_p99.as_secs_f64() * 1e6,
            unit: "us",
            note: format!(
                "p99 of {RECORDS} into 1M plays; bare one-row insert p99 {:.0} us ({:.1}x); then one checkpoint {:.0} ms",
                bare_p99.as_secs_f64() * 1e6,
                record_p99.as_secs_f64() / bare_p99.as_secs_f64(),
                checkpoint.as_secs_f64() * 1000.0
            ),
        },
    ];
    report::report_against(
        "history",
        &figures,
        &[
            ("wrapup_year_ms", Target::Below(200.0)),
            ("on_this_day_ms", Target::Below(200.0)),
            ("first_listens_ms", Target::Below(200.0)),
            ("forgotten_favourites_ms", Target::Below(200.0)),
            ("import_spotify_plays_per_s", Target::AtLeast(50_000.0)),
            ("record_play_us", Target::Below(1_000.0)),
        ],
    )?;
    drop(library);
    drop(conn);
    std::fs::remove_dir_all(&dir)?;
    eprintln!(
        "history bench: {:.0} s in all",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Median time of a view, after one untimed run.
fn time<T>(mut f: impl FnMut() -> offbeat_library::Result<T>) -> Result<Duration, Box<dyn Error>> {
    black_box(f()?);
    let mut failed = None;
    let d = report::median_time(VIEW_RUNS, || {
        if let Err(e) = f().map(black_box) {
            failed = Some(e);
        }
    });
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(d),
    }
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() as f64 * p) as usize).min(times.len() - 1)]
}

/// A Spotify "Extended streaming history" file of library tracks, in its real schema.
fn write_spotify(
    path: &Path,
    from: i64,
    span: i64,
    rng: &mut fastrand::Rng,
) -> std::io::Result<()> {
    let mut ends: Vec<i64> = (0..SPOTIFY_ENTRIES)
        .map(|_| from + rng.i64(0..span))
        .collect();
    ends.sort_unstable();
    let mut entries = Vec::with_capacity(SPOTIFY_ENTRIES);
    for (i, end) in ends.into_iter().enumerate() {
        let info = track(popular(rng));
        let ts = chrono::DateTime::from_timestamp_millis(end / 1000 * 1000)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        entries.push(serde_json::json!({
            "ts": ts,
            "username": "bench",
            "platform": "Linux",
            "ms_played": 150_000 + i % 1000,
            "conn_country": "GB",
            "ip_addr_decrypted": "192.0.2.1",
            "user_agent_decrypted": "unknown",
            "master_metadata_track_name": info.title,
            "master_metadata_album_artist_name": info.artist,
            "master_metadata_album_album_name": info.album,
            "spotify_track_uri": format!("spotify:track:bench{i}"),
            "episode_name": null,
            "episode_show_name": null,
            "spotify_episode_uri": null,
            "reason_start": "trackdone",
            "reason_end": "trackdone",
            "shuffle": false,
            "skipped": null,
            "offline": false,
            "offline_timestamp": end / 1000,
            "incognito_mode": false
        }));
    }
    std::fs::write(path, serde_json::to_vec(&entries)?)
}
