//! The `offbeat` binary: the desktop app, or a headless command line when given a command.
//!
//! `offbeat` alone opens the window; `offbeat scan DIR`, `offbeat search QUERY` and
//! `offbeat play PATH` work without a display.

// No console window on Windows release builds; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = offbeat::cli::Cli::parse();
    match cli.command {
        None => match offbeat::app::run() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("offbeat: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Some(command) => offbeat::cli::run(command),
    }
}
