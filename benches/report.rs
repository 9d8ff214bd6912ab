//! Shared by the benchmark binaries (included with `#[path]`): prints a table of figures
//! and writes them to `bench-results/<area>.json` as one flat JSON object.

// Each benchmark uses the part it needs (targets, timing helpers), not all of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// One figure: name (as issues quote it), value, unit, and what it is compared with.
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub note: String,
}

/// What a figure should reach.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtLeast(f64),
    Below(f64),
}

impl Target {
    fn met(self, value: f64) -> bool {
        match self {
            Target::AtLeast(t) => value >= t,
            Target::Below(t) => value < t,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::AtLeast(t) => write!(f, ">= {t}"),
            Target::Below(t) => write!(f, "< {t}"),
        }
    }
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

/// Prints the figures and writes them to `bench-results/<area>.json`.
pub fn report(area: &str, figures: &[Figure]) -> std::io::Result<()> {
    report_against(area, figures, &[])
}

/// Like [`report`], with a target for some figures (by name): the table shows each
/// target and whether it is met ("ok") or not ("MISS").
pub fn report_against(
    area: &str,
    figures: &[Figure],
    targets: &[(&str, Target)],
) -> std::io::Result<()> {
    println!("\n{area}");
    println!(
        "{:<30} {:>12}  {:<8} {:<10} {:<6} note",
        "figure", "value", "unit", "target", "status"
    );
    for f in figures {
        let target = targets.iter().find(|(name, _)| *name == f.name);
        let (target, status) = match target {
            Some((_, t)) => (t.to_string(), if t.met(f.value) { "ok" } else { "MISS" }),
            None => (String::from("-"), "-"),
        };
        println!(
            "{:<30} {:>12.2}  {:<8} {:<10} {:<6} {}",
            f.name, f.value, f.unit, target, status, f.note
        );
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
