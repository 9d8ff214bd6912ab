//! The Offbeat desktop shell: Tauri commands and events over the library and the playback
//! engine, plus the headless command line that shares the binary.
//!
//! This crate is thin on purpose. A command validates its input, calls one function of
//! `offbeat-library` or sends one command to the `offbeat-playback` engine, and maps the
//! error. No business logic lives here; it is the only crate that depends on Tauri.

pub mod app;
pub mod cli;
pub mod commands;
pub mod covers;
pub mod error;
pub mod history;
pub mod ipc;
pub mod mpris;
pub mod paths;
pub mod player;
pub mod playlists;
pub mod remote;
pub mod rewind;
pub mod session;
