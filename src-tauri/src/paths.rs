//! Where Offbeat keeps its data, and where the bundled demo library is.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// The app's data folder: `$OFFBEAT_DATA_DIR`, else `$XDG_DATA_HOME/offbeat`, else
/// `~/.local/share/offbeat`. Created if missing.
pub fn data_dir() -> Result<PathBuf> {
    let dir = if let Some(dir) = std::env::var_os("OFFBEAT_DATA_DIR").filter(|d| !d.is_empty()) {
        PathBuf::from(dir)
    } else if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        PathBuf::from(xdg).join("offbeat")
    } else {
        let home = std::env::var_os("HOME")
            .context("neither OFFBEAT_DATA_DIR, XDG_DATA_HOME nor HOME is set")?;
        PathBuf::from(home).join(".local/share/offbeat")
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the data folder {}", dir.display()))?;
    Ok(dir)
}

/// Where settings live (the server pairing, with its token): `$OFFBEAT_CONFIG_DIR`, else
/// the data folder when `$OFFBEAT_DATA_DIR` is set (a self-contained test run), else
/// `$XDG_CONFIG_HOME/offbeat`, else `~/.config/offbeat`. Created if missing.
pub fn config_dir() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|d| !d.is_empty());
    let dir = if let Some(dir) = var("OFFBEAT_CONFIG_DIR") {
        PathBuf::from(dir)
    } else if var("OFFBEAT_DATA_DIR").is_some() {
        data_dir()?
    } else if let Some(xdg) = var("XDG_CONFIG_HOME") {
        PathBuf::from(xdg).join("offbeat")
    } else {
        let home =
            var("HOME").context("neither OFFBEAT_CONFIG_DIR, XDG_CONFIG_HOME nor HOME is set")?;
        PathBuf::from(home).join(".config/offbeat")
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the config folder {}", dir.display()))?;
    Ok(dir)
}

/// The library database inside the data folder.
pub fn library_db() -> Result<PathBuf> {
    Ok(data_dir()?.join("library.db"))
}

/// The bundled demo library: `$OFFBEAT_DEMO_DIR`, else the app's resources, else the
/// source checkout's `assets/demo` (for builds run from the repository).
pub fn demo_dir(resource_dir: Option<PathBuf>) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("OFFBEAT_DEMO_DIR").map(PathBuf::from),
        resource_dir.map(|r| r.join("demo")),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/demo"
        ))),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_dir())
        .and_then(|p| p.canonicalize().ok())
}
