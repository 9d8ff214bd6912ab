//! The demo library for the library's crate tests: where it is, and a copy to change.

#![allow(dead_code)] // Each test file uses what it needs.

use std::path::{Path, PathBuf};

pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo")
}

/// Copies the demo library into a fresh folder (so tests can change it freely).
pub fn copy_demo(to: &Path) -> std::io::Result<()> {
    for entry in walk(&demo_dir())? {
        let relative = entry
            .strip_prefix(demo_dir())
            .map_err(std::io::Error::other)?;
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&entry, target)?;
    }
    Ok(())
}

/// Every file under `dir`.
pub fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}
