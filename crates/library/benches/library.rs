//! Library benchmark: scanning a 20,000-file corpus of every format the scanner reads
//! (against bare lofty tag reads of the same files), rescanning it unchanged, and
//! searching and browsing a 100,000-track catalog grown from it.
//!
//! The corpus is generated on first use into `target/bench-corpus/` (see `library/`), and
//! reused while it is complete and up to date.

#[path = "library/catalog.rs"]
mod catalog;
#[path = "library/corpus.rs"]
mod corpus;
#[path = "library/plan.rs"]
mod plan;
#[path = "../../../benches/report.rs"]
mod report;

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use offbeat_library::Library;
use report::{Figure, Target};

/// Files in the scanned corpus.
const CORPUS_FILES: usize = 20_000;
/// Tracks in the catalog that search and browse run against.
const CATALOG_TRACKS: i64 = 100_000;
/// Tracks asked for per keystroke: what the UI asks for (`SEARCH_PAGE` in src-tauri).
const SEARCH_LIMIT: u32 = 200;
/// Timed bare-lofty and scan passes, alternated.
const SCAN_ROUNDS: usize = 3;
const RESCANS: usize = 5;
/// Times the whole typing session is replayed, for a stable 99th percentile.
const SESSIONS: usize = 25;
const ALBUM_PAGE: u32 = 100;
const BROWSE_RUNS: usize = 21;

/// What a person types into the search box; every keystroke is a query, trimmed as the UI
/// trims it (so a typed space repeats nothing).
const TYPED: &[&str] = &[
    "beatles abbey",
    "beyoncé",
    "motorhead",
    "motörhead",
    "miles kind",
    "kind of blue",
];

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let cache = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("bench-corpus");
    let corpus = corpus::ensure(&cache, CORPUS_FILES).map_err(|e| -> Box<dyn Error> { e })?;
    let n = corpus.files.len();
    match corpus.generated_in {
        Some(took) => eprintln!(
            "corpus: generated {n} files in {:.1} s under {}",
            took.as_secs_f64(),
            corpus.root.display()
        ),
        None => eprintln!("corpus: reused {n} files under {}", corpus.root.display()),
    }
    let scratch = cache.join("scratch");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;

    // Scan, warm: an untimed bare pass fills the page cache, then timed bare and scan
    // passes alternate so both see the same machine.
    bare_lofty(&corpus.files);
    let (mut bare_times, mut scan_times) = (Vec::new(), Vec::new());
    let mut last_scan = None;
    for _ in 0..SCAN_ROUNDS {
        let start = Instant::now();
        bare_lofty(&corpus.files);
        bare_times.push(start.elapsed());

        let dir = tempfile::Builder::new()
            .prefix("scan-")
            .tempdir_in(&scratch)?;
        let start = Instant::now();
        let mut library = Library::open(&dir.path().join("library.db"))?;
        let report = library.scan_folder(&corpus.root)?;
        scan_times.push(start.elapsed());
        last_scan = Some((dir, library, report));
    }
    let (db_dir, mut library, scan_report) = last_scan.ok_or("no scan ran")?;
    for problem in scan_report.problems.iter().take(5) {
        eprintln!("scan problem: {} ({})", problem.path, problem.reason);
    }
    let bare_rate = n as f64 / median(&mut bare_times).as_secs_f64();
    let scan_rate = n as f64 / median(&mut scan_times).as_secs_f64();
    eprintln!(
        "scan: {} added, {} problems; {scan_rate:.0} files/s, bare lofty {bare_rate:.0} files/s",
        scan_report.added,
        scan_report.problems.len()
    );

    let mut rescan_times = Vec::new();
    for _ in 0..RESCANS {
        let start = Instant::now();
        let report = library.scan_folder(&corpus.root)?;
        rescan_times.push(start.elapsed());
        if report.unchanged != scan_report.added {
            return Err(format!(
                "rescan saw {} unchanged files, the scan added {}",
                report.unchanged, scan_report.added
            )
            .into());
        }
    }
    let rescan = median(&mut rescan_times);
    drop(library);

    // Search and browse run on a catalog grown from the scanned library.
    let db = db_dir.path().join("library.db");
    let start = Instant::now();
    let catalog = catalog::multiply(&db, CATALOG_TRACKS)?;
    eprintln!(
        "catalog: {} tracks, {} albums, {} artists ({} copies of the scan: {}) in {:.1} s",
        catalog.tracks,
        catalog.albums,
        catalog.artists,
        catalog.copies,
        catalog.tables.join(", "),
        start.elapsed().as_secs_f64()
    );
    let library = Library::open(&db)?;
    let tracks = library.track_count()?;

    let session = keystrokes(TYPED);
    let search = time_search(&library, &session)?;
    let browse = time_album_page(&library)?;
    let artists = time_artists(&library)?;

    let figures = [
        Figure {
            name: "scan_files_per_s",
            value: scan_rate,
            unit: "files/s",
            note: format!(
                "{n} files in 6 formats, warm cache, fresh on-disk db, median of {SCAN_ROUNDS}; \
                 {} problems",
                scan_report.problems.len()
            ),
        },
        Figure {
            name: "scan_vs_bare_lofty",
            value: scan_rate / bare_rate,
            unit: "x",
            note: format!(
                "baseline: bare lofty::read_from_path, one thread, {bare_rate:.0} files/s"
            ),
        },
        Figure {
            name: "rescan_unchanged_s_per_100k",
            value: rescan.as_secs_f64() * 100_000.0 / n as f64,
            unit: "s",
            note: format!(
                "{:.0} ms for {n} unchanged files, median of {RESCANS}",
                rescan.as_secs_f64() * 1000.0
            ),
        },
        Figure {
            name: "search_p50_ms",
            value: ms(search.p50),
            unit: "ms",
            note: format!(
                "{} keystrokes x {SESSIONS} sessions, {tracks} tracks; six artists and six albums (more counted), the best {SEARCH_LIMIT} tracks and the match count, as the UI asks",
                session.len()
            ),
        },
        Figure {
            name: "search_p99_ms",
            value: ms(search.p99),
            unit: "ms",
            note: format!(
                "max {:.1} ms; slowest keystroke \"{}\" (median {:.1} ms, {} results)",
                ms(search.max),
                search.slowest_query,
                ms(search.slowest_median),
                search.slowest_results
            ),
        },
        Figure {
            name: "browse_albums_first_page_ms",
            value: ms(browse.median),
            unit: "ms",
            note: format!(
                "Library::albums(0, {ALBUM_PAGE}) of {} albums; median of {BROWSE_RUNS}, \
                 max {:.1} ms",
                catalog.albums,
                ms(browse.max)
            ),
        },
        Figure {
            name: "browse_artists_ms",
            value: ms(artists.median),
            unit: "ms",
            note: format!(
                "Library::artists(): all {} artists with album and track counts; median of 5, max {:.1} ms",
                catalog.artists,
                ms(artists.max)
            ),
        },
    ];
    report::report_against(
        "library",
        &figures,
        &[
            ("scan_files_per_s", Target::AtLeast(5_000.0)),
            ("scan_vs_bare_lofty", Target::AtLeast(0.5)),
            ("rescan_unchanged_s_per_100k", Target::Below(2.0)),
            ("search_p99_ms", Target::Below(5.0)),
            ("browse_albums_first_page_ms", Target::Below(20.0)),
        ],
    )?;
    drop(library);
    drop(db_dir);
    eprintln!(
        "library bench: {:.0} s in all",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The baseline: lofty reading every file, nothing else.
fn bare_lofty(files: &[PathBuf]) {
    for file in files {
        let _ = black_box(lofty::read_from_path(file));
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Every prefix of every phrase, as the search box sends them while it is typed into.
fn keystrokes(phrases: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for phrase in phrases {
        let mut typed = String::new();
        for c in phrase.chars() {
            typed.push(c);
            let query = typed.trim();
            if out.last().map(String::as_str) != Some(query) {
                out.push(query.to_owned());
            }
        }
    }
    out
}

struct SearchTimes {
    p50: Duration,
    p99: Duration,
    max: Duration,
    slowest_query: String,
    slowest_median: Duration,
    slowest_results: usize,
}

fn time_search(library: &Library, session: &[String]) -> Result<SearchTimes, Box<dyn Error>> {
    // Samples are kept per distinct query ("m" is typed in three phrases) for the report
    // of the slowest ones.
    let mut distinct: Vec<&str> = Vec::new();
    let slots: Vec<usize> = session
        .iter()
        .map(|query| {
            distinct.iter().position(|d| d == query).unwrap_or_else(|| {
                distinct.push(query);
                distinct.len() - 1
            })
        })
        .collect();
    // One untimed session: statements prepared, pages cached, as after the first search.
    let mut results = vec![0; distinct.len()];
    for (query, &slot) in session.iter().zip(&slots) {
        results[slot] = library.search_grouped(query, SEARCH_LIMIT)?.track_matches as usize;
    }
    let mut per_query: Vec<Vec<Duration>> = vec![Vec::new(); distinct.len()];
    for _ in 0..SESSIONS {
        for (query, &slot) in session.iter().zip(&slots) {
            let start = Instant::now();
            let found = library.search_grouped(query, SEARCH_LIMIT)?;
            per_query[slot].push(start.elapsed());
            black_box(found);
        }
    }
    let mut all: Vec<Duration> = per_query.iter().flatten().copied().collect();
    all.sort();
    let rank = |p: f64| all[((p * all.len() as f64).ceil() as usize).clamp(1, all.len()) - 1];
    let mut by_query: Vec<(Duration, &str, usize)> = per_query
        .iter_mut()
        .zip(distinct.iter().zip(&results))
        .map(|(times, (query, found))| (median(times), *query, *found))
        .collect();
    by_query.sort_by_key(|(m, _, _)| std::cmp::Reverse(*m));
    let slowest: Vec<String> = by_query
        .iter()
        .take(5)
        .map(|(m, q, found)| format!("\"{q}\" {:.1} ms ({found})", ms(*m)))
        .collect();
    eprintln!(
        "search: slowest keystrokes, median (results): {}",
        slowest.join(", ")
    );
    let (slowest_median, slowest_query, slowest_results) =
        by_query.first().copied().ok_or("no queries")?;
    Ok(SearchTimes {
        p50: rank(0.50),
        p99: rank(0.99),
        max: all[all.len() - 1],
        slowest_query: slowest_query.to_owned(),
        slowest_median,
        slowest_results,
    })
}

/// The whole artists list with its counts (what the Artists view loads).
fn time_artists(library: &Library) -> Result<BrowseTimes, Box<dyn Error>> {
    let mut times = Vec::with_capacity(5);
    for _ in 0..5 {
        let start = Instant::now();
        black_box(library.artists()?);
        times.push(start.elapsed());
    }
    let max = times.iter().copied().max().unwrap_or_default();
    Ok(BrowseTimes {
        median: median(&mut times),
        max,
    })
}

struct BrowseTimes {
    median: Duration,
    max: Duration,
}

/// The first page of the album grid: albums by album artist then title, with the
/// artist's name and the track count.
fn time_album_page(library: &Library) -> Result<BrowseTimes, Box<dyn Error>> {
    let first = library.albums(0, ALBUM_PAGE)?;
    if first.len() != ALBUM_PAGE as usize || first.iter().any(|album| album.track_count == 0) {
        return Err(format!(
            "album page: wanted {ALBUM_PAGE} albums with tracks, got {} rows",
            first.len()
        )
        .into());
    }
    let mut times = Vec::with_capacity(BROWSE_RUNS);
    for _ in 0..BROWSE_RUNS {
        let start = Instant::now();
        black_box(library.albums(0, ALBUM_PAGE)?);
        times.push(start.elapsed());
    }
    let max = times.iter().copied().max().unwrap_or_default();
    Ok(BrowseTimes {
        median: median(&mut times),
        max,
    })
}
