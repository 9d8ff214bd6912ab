//! Server files kept on this device: downloaded into `<cache>/<name>.part` (with the whole
//! length in `<name>.part.len`, so the player can play the part as it arrives), resumed with
//! `Range` (and `If-Range`, so a file changed on the server starts over), and moved into
//! place only when its length and SHA-256 match what the server said. Only then does the
//! library's cache index know it: a partial or corrupt download is never played or counted.
//! Within a byte budget, least recently used first, never a pinned track.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use offbeat_library::{CachedFile, Library};
use sha2::Digest as _;
use tokio::io::AsyncWriteExt;

use crate::api::{Api, ApiError};

/// Why a download did not give a usable file.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the download stopped at {got} of {expected} bytes; it resumes from there next time")]
    Incomplete { got: u64, expected: u64 },
    #[error("the downloaded file did not match the server's checksum; it was thrown away")]
    Corrupt,
    #[error("the cache folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("the library: {0}")]
    Library(#[from] offbeat_library::LibraryError),
}

/// The cache folder and its budget.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    budget: AtomicU64,
    library: Arc<Mutex<Library>>,
}

/// A file name for a track's copy: its uid made safe, with the format's extension (the
/// decoder takes it as a hint).
pub fn file_name(uid: &str, format: &str) -> String {
    let safe = safe_name(uid);
    let ext = match format.to_ascii_lowercase().as_str() {
        "flac" => "flac",
        "mp3" => "mp3",
        "mp2" => "mp2",
        "mp1" => "mp1",
        "ogg vorbis" | "vorbis" | "ogg" => "ogg",
        "opus" => "opus",
        "m4a" | "aac" | "alac" | "mp4" => "m4a",
        "wav" => "wav",
        "aiff" => "aiff",
        _ => "audio",
    };
    format!("{safe}.{ext}")
}

/// A uid as a file name: letters, digits and dashes kept, anything else `_`.
pub fn safe_name(uid: &str) -> String {
    uid.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Cache {
    pub fn new(dir: PathBuf, budget_bytes: u64, library: Arc<Mutex<Library>>) -> Cache {
        Cache {
            dir,
            budget: AtomicU64::new(budget_bytes),
            library,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn budget(&self) -> u64 {
        self.budget.load(Ordering::Relaxed)
    }

    pub fn set_budget(&self, bytes: u64) {
        self.budget.store(bytes, Ordering::Relaxed);
    }

    fn library(&self) -> std::sync::MutexGuard<'_, Library> {
        self.library.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The verified copy of `uid`, if there is one whose file is still there; marks it used.
    pub fn cached(&self, uid: &str) -> Result<Option<PathBuf>, DownloadError> {
        let library = self.library();
        let Some(file) = library.cached_file(uid)? else {
            return Ok(None);
        };
        let path = self.dir.join(&file.file);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() == file.size => {
                library.touch_cached(uid)?;
                Ok(Some(path))
            }
            // Gone or changed behind our back: not a copy to trust.
            _ => {
                library.remove_cached(uid)?;
                let _ = std::fs::remove_file(&path);
                Ok(None)
            }
        }
    }

    /// Bytes the cache holds.
    pub fn used(&self) -> Result<u64, DownloadError> {
        Ok(self.library().cached_files()?.iter().map(|f| f.size).sum())
    }

    /// Downloads `uid` (resuming a partial download) and verifies it; returns the copy's
    /// path. `progress` gets (bytes so far, total).
    pub async fn download(
        &self,
        api: &Api,
        uid: &str,
        format: &str,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<PathBuf, DownloadError> {
        if let Some(path) = self.cached(uid)? {
            return Ok(path);
        }
        tokio::fs::create_dir_all(&self.dir).await?;
        let name = file_name(uid, format);
        let final_path = self.dir.join(&name);
        let part = self.dir.join(format!("{name}.part"));
        let tag_file = self.dir.join(format!("{name}.part.etag"));
        // A part is only resumed when we know which version of the file it is part of.
        let etag = tokio::fs::read_to_string(&tag_file).await.ok();
        let have = match (&etag, tokio::fs::metadata(&part).await) {
            (Some(_), Ok(meta)) => meta.len(),
            _ => 0,
        };
        let mut answer = api.file(uid, have, etag.as_deref()).await?;
        let mut file = if answer.partial && have > 0 {
            tokio::fs::OpenOptions::new()
                .append(true)
                .open(&part)
                .await?
        } else {
            tokio::fs::File::create(&part).await?
        };
        let mut got = if answer.partial { have } else { 0 };
        match &answer.etag {
            Some(tag) => tokio::fs::write(&tag_file, tag).await?,
            None => {
                let _ = tokio::fs::remove_file(&tag_file).await;
            }
        }
        let total = answer.total;
        // Tells a player reading the part as it arrives how long the whole file is.
        let len_file = self.dir.join(format!("{name}.part.len"));
        tokio::fs::write(&len_file, total.to_string()).await?;
        progress(got, total);
        loop {
            let chunk = match answer.response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(_) => {
                    // What arrived is kept: the next attempt resumes from it.
                    file.flush().await?;
                    file.sync_all().await?;
                    let _ = tokio::fs::remove_file(&len_file).await;
                    return Err(DownloadError::Incomplete {
                        got,
                        expected: total,
                    });
                }
            };
            got += chunk.len() as u64;
            if got > total {
                break;
            }
            file.write_all(&chunk).await?;
            progress(got, total);
        }
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        if got < total {
            let _ = tokio::fs::remove_file(&len_file).await;
            return Err(DownloadError::Incomplete {
                got,
                expected: total,
            });
        }
        let part_for_hash = part.clone();
        let digest = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, String)> {
            let mut f = std::fs::File::open(&part_for_hash)?;
            let mut hasher = sha2::Sha256::new();
            let n = std::io::copy(&mut f, &mut hasher)?;
            Ok((
                n,
                base64::engine::general_purpose::STANDARD.encode(hasher.finalize()),
            ))
        })
        .await
        .map_err(std::io::Error::other)??;
        if digest != (total, answer.sha256.clone()) {
            let _ = tokio::fs::remove_file(&part).await;
            let _ = tokio::fs::remove_file(&tag_file).await;
            let _ = tokio::fs::remove_file(&len_file).await;
            return Err(DownloadError::Corrupt);
        }
        tokio::fs::rename(&part, &final_path).await?;
        let _ = tokio::fs::remove_file(&tag_file).await;
        let _ = tokio::fs::remove_file(&len_file).await;
        self.library().record_cached(&CachedFile {
            uid: uid.to_owned(),
            file: name,
            size: total,
            sha256: answer.sha256,
            last_used_ms: now_ms(),
        })?;
        Ok(final_path)
    }

    /// Deletes least recently used copies until the cache fits its budget, never one in
    /// `pinned`. Returns the bytes freed.
    pub fn evict(&self, pinned: &HashSet<String>) -> Result<u64, DownloadError> {
        let library = self.library();
        let files = library.cached_files()?;
        let mut used: u64 = files.iter().map(|f| f.size).sum();
        let budget = self.budget();
        let mut freed = 0;
        for file in files {
            if used <= budget {
                break;
            }
            if pinned.contains(&file.uid) {
                continue;
            }
            library.remove_cached(&file.uid)?;
            let _ = std::fs::remove_file(self.dir.join(&file.file));
            used -= file.size;
            freed += file.size;
        }
        Ok(freed)
    }

    /// Deletes these copies (unpairing).
    pub fn delete(&self, files: &[CachedFile]) {
        for f in files {
            let _ = std::fs::remove_file(self.dir.join(&f.file));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn copies_are_named_safely_with_their_format() {
        assert_eq!(file_name("h:ab12", "FLAC"), "h_ab12.flac");
        assert_eq!(file_name("mb:1-2", "Ogg Vorbis"), "mb_1-2.ogg");
        assert_eq!(file_name("mb:1-2", "MP2"), "mb_1-2.mp2");
        assert_eq!(file_name("../x", "ALAC"), "___x.m4a");
        assert_eq!(file_name("x", "weird"), "x.audio");
    }
}
