//! The headless command line: `offbeat scan`, `offbeat search`, `offbeat play`,
//! `offbeat import-history`.
//! Works without a display; `--json` prints machine-readable output.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use offbeat_library::Library;
use offbeat_model::Track;
use offbeat_playback::{AudioOutput, Command as EngineCommand, Engine, Event, RodioOutput};

use crate::paths;

/// Offbeat: a local-first music player. Run without a command to open the window.
#[derive(Debug, Parser)]
#[command(name = "offbeat", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Add a folder to the library (or rescan it) and report what changed.
    Scan {
        dir: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the library by the start of any word in a title, artist or album.
    Search {
        query: String,
        /// Print the matching tracks as JSON.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Play an audio file to the default output and exit when it ends.
    Play { path: PathBuf },
    /// Import listening history: Spotify "Extended streaming history" files
    /// (Streaming_History_Audio_*.json) or ListenBrainz exports (.json, .jsonl).
    ImportHistory {
        files: Vec<PathBuf>,
        /// Print each file's report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one command and turns its outcome into an exit code and a readable error.
pub fn run(command: CliCommand) -> ExitCode {
    let outcome = match command {
        CliCommand::Scan { dir, json } => scan(&dir, json),
        CliCommand::Search { query, json, limit } => search(&query, json, limit),
        CliCommand::Play { path } => play(&path),
        CliCommand::ImportHistory { files, json } => import_history(&files, json),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offbeat: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_library() -> Result<Library> {
    let db = paths::library_db()?;
    Library::open(&db).with_context(|| format!("opening the library at {}", db.display()))
}

fn import_history(files: &[PathBuf], json: bool) -> Result<()> {
    if files.is_empty() {
        bail!("name the export files to import");
    }
    let mut library = open_library()?;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for file in files {
        let report = library.import_history(file, |_, _| {})?;
        failed |= report.format.is_empty();
        if json {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
            continue;
        }
        writeln!(
            out,
            "{}: {} {} entries, {} new listens ({} matched to the library), {} already here, {} skipped",
            file.display(),
            if report.format.is_empty() { "unrecognised," } else { report.format.as_str() },
            report.entries,
            report.imported,
            report.matched,
            report.already_had,
            report.skipped
        )?;
        for issue in &report.issues {
            match issue.entry {
                0 => writeln!(out, "  {}", issue.reason)?,
                n => writeln!(out, "  entry {n}: {}", issue.reason)?,
            }
        }
    }
    if failed {
        bail!("some files could not be imported (see above)");
    }
    Ok(())
}

fn scan(dir: &std::path::Path, json: bool) -> Result<()> {
    let mut library = open_library()?;
    let report = library
        .scan_folder(dir)
        .with_context(|| format!("scanning {}", dir.display()))?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Scanned {}: {} files, {} added, {} updated, {} unchanged, {} removed",
            report.folder,
            report.files_seen,
            report.added,
            report.updated,
            report.unchanged,
            report.removed
        )?;
    }
    for problem in &report.problems {
        eprintln!("skipped {}: {}", problem.path, problem.reason);
    }
    Ok(())
}

fn search(query: &str, json: bool, limit: u32) -> Result<()> {
    let tracks = open_library()?.search(query, limit)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &tracks)?;
        writeln!(out)?;
    } else if tracks.is_empty() {
        writeln!(out, "No tracks match \"{query}\".")?;
    } else {
        for track in &tracks {
            writeln!(out, "{}", describe(track))?;
        }
    }
    Ok(())
}

fn describe(track: &Track) -> String {
    let secs = track.duration_ms / 1000;
    format!(
        "{} — {} — {} ({}:{:02})",
        track.title,
        track.artist,
        track.album,
        secs / 60,
        secs % 60
    )
}

fn play(path: &std::path::Path) -> Result<()> {
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    let engine =
        Engine::spawn(|| Ok(Box::new(RodioOutput::open_default()?) as Box<dyn AudioOutput>))
            .map_err(|e| anyhow::anyhow!(e.describe()))?;
    engine.send(EngineCommand::Play(path.to_path_buf()))?;
    for event in engine.events().iter() {
        match event {
            Event::TrackStarted { duration_ms, .. } => {
                let secs = duration_ms.unwrap_or(0) / 1000;
                eprintln!(
                    "Playing {} ({}:{:02})",
                    path.display(),
                    secs / 60,
                    secs % 60
                );
            }
            Event::TrackEnded { .. } => return Ok(()),
            Event::Error { message, .. } => bail!("{message}"),
            _ => {}
        }
    }
    bail!("the playback engine stopped unexpectedly")
}
