//! Library benchmark: scanning and searching, against bare lofty tag reads of the same files.

#[path = "../../../benches/report.rs"]
mod report;

use std::path::{Path, PathBuf};

use offbeat_library::Library;
use report::{median_time, Figure};

/// Copies of the demo library to scan (8 files each).
const COPIES: usize = 40;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files_under(&path, out)?;
        } else if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jpg" | "json")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo");
    let mut demo_files = Vec::new();
    files_under(&demo, &mut demo_files)?;
    // A library of distinct files: each copy is tagged the same, but lives at its own path.
    let root = tempfile::tempdir()?;
    let mut files = Vec::new();
    for copy in 0..COPIES {
        for file in &demo_files {
            let target = root
                .path()
                .join(format!("copy{copy:03}"))
                .join(file.strip_prefix(&demo)?);
            std::fs::create_dir_all(target.parent().ok_or("no parent")?)?;
            std::fs::copy(file, &target)?;
            files.push(target);
        }
    }
    let n = files.len() as f64;

    let lofty = median_time(3, || {
        for file in &files {
            let _ = std::hint::black_box(lofty::read_from_path(file));
        }
    });
    let scan = median_time(3, || {
        let dir = tempfile::tempdir().ok();
        if let Some(dir) = dir {
            if let Ok(mut library) = Library::open(&dir.path().join("bench.db")) {
                let _ = std::hint::black_box(library.scan_folder(root.path()));
            }
        }
    });
    let db_dir = tempfile::tempdir()?;
    let mut library = Library::open(&db_dir.path().join("bench.db"))?;
    library.scan_folder(root.path())?;
    let rescan = median_time(5, || {
        let _ = std::hint::black_box(library.scan_folder(root.path()));
    });
    let queries = ["a", "dr", "nor", "polar ni", "lantern", "cafe noct"];
    let search = median_time(21, || {
        for q in queries {
            let _ = std::hint::black_box(library.search(q, 2_000));
        }
    });

    let scan_rate = n / scan.as_secs_f64();
    let lofty_rate = n / lofty.as_secs_f64();
    report::report(
        "library",
        &[
            Figure {
                name: "scan_files_per_sec",
                value: scan_rate,
                unit: "files/s",
                note: format!("{} files, fresh database", files.len()),
            },
            Figure {
                name: "lofty_files_per_sec",
                value: lofty_rate,
                unit: "files/s",
                note: "baseline: bare lofty::read_from_path".into(),
            },
            Figure {
                name: "scan_vs_lofty_ratio",
                value: scan_rate / lofty_rate,
                unit: "x",
                note: "1.0 = scanning costs no more than reading the tags".into(),
            },
            Figure {
                name: "rescan_unchanged_ms",
                value: rescan.as_secs_f64() * 1000.0,
                unit: "ms",
                note: format!("{} unchanged files (stat only)", files.len()),
            },
            Figure {
                name: "search_ms",
                value: search.as_secs_f64() * 1000.0 / queries.len() as f64,
                unit: "ms",
                note: "mean per query over 1-9 letter prefixes".into(),
            },
        ],
    )?;
    Ok(())
}
