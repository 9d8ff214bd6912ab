//! Shared by the benchmark binaries (included with `#[path]`): prints a table of figures
//! and writes them to `bench-results/<area>.json` as one flat JSON object.

use std::time::{Duration, Instant};

/// One figure: name (as issues quote it), value, unit, and what it is compared with.
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub note: String,
}

/// Runs `f` `runs` times and returns the median duration.
pub fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

pub fn report(area: &str, figures: &[Figure]) -> std::io::Result<()> {
    println!("\n{area}");
    println!("{:<34} {:>12}  {:<8} note", "figure", "value", "unit");
    for f in figures {
        println!("{:<34} {:>12.2}  {:<8} {}", f.name, f.value, f.unit, f.note);
    }
    let dir = std::env::var_os("OFFBEAT_BENCH_RESULTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench-results"))
        });
    std::fs::create_dir_all(&dir)?;
    let body: Vec<String> = figures
        .iter()
        .map(|f| format!("  \"{}\": {:.3}", f.name, f.value))
        .collect();
    std::fs::write(
        dir.join(format!("{area}.json")),
        format!("{{\n{}\n}}\n", body.join(",\n")),
    )?;
    Ok(())
}
