//! Album covers: the picture embedded in a track, else a sidecar image in its folder,
//! made into small JPEG thumbnails once and kept in a cache folder.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use lofty::file::TaggedFileExt;
use lofty::picture::PictureType;
use lofty::probe::Probe;

use crate::{LibraryError, Result};

/// The thumbnail sizes the UI asks for: list rows and the player bar, and album tiles.
pub const COVER_SIZES: [u32; 2] = [96, 300];

/// Sidecar names people use for an album's cover, best first (any case, .jpg/.jpeg/.png).
const SIDECAR_NAMES: &[&str] = &["cover", "folder", "front", "album", "albumart"];

/// Thumbnails of covers, generated on first use into `dir`.
#[derive(Debug, Clone)]
pub struct CoverCache {
    dir: PathBuf,
}

impl CoverCache {
    pub fn new(dir: impl Into<PathBuf>) -> CoverCache {
        CoverCache { dir: dir.into() }
    }

    /// A square-fitted JPEG thumbnail of the cover of the track at `track_path`, at most
    /// `size` pixels on its longer side, or `None` if the track has no cover at all.
    /// The cache key includes the file's size and mtime, so a re-tagged file gets a new one.
    pub fn thumbnail(&self, track_path: &Path, size: u32) -> Result<Option<PathBuf>> {
        let size = size.clamp(16, 1024);
        let meta = std::fs::metadata(track_path).map_err(|source| LibraryError::Folder {
            path: track_path.to_path_buf(),
            source,
        })?;
        let stamp = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let key = blake3::hash(
            format!(
                "{}\u{1f}{}\u{1f}{stamp}\u{1f}{size}",
                track_path.display(),
                meta.len()
            )
            .as_bytes(),
        );
        let cached = self.dir.join(format!("{}.jpg", &key.to_hex()[..32]));
        if cached.is_file() {
            return Ok(Some(cached));
        }
        let Some(bytes) = cover_bytes(track_path) else {
            return Ok(None);
        };
        let picture = match image::load_from_memory(&bytes) {
            Ok(picture) => picture,
            // An unreadable picture is no cover, not an error the user can act on.
            Err(_) => return Ok(None),
        };
        let thumb = picture.resize(size, size, FilterType::Triangle).to_rgb8();
        std::fs::create_dir_all(&self.dir).map_err(|source| LibraryError::Folder {
            path: self.dir.clone(),
            source,
        })?;
        // Write to a temporary name and rename, so a reader never sees half a file.
        let partial = cached.with_extension("partial");
        let written = File::create(&partial).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
                .encode_image(&thumb)
                .map_err(std::io::Error::other)
        });
        written
            .and_then(|()| std::fs::rename(&partial, &cached))
            .map_err(|source| LibraryError::Folder {
                path: cached.clone(),
                source,
            })?;
        Ok(Some(cached))
    }
}

/// The bytes of the best picture for a track: its embedded front cover, else any embedded
/// picture, else a sidecar image beside it.
fn cover_bytes(track_path: &Path) -> Option<Vec<u8>> {
    embedded(track_path).or_else(|| sidecar(track_path))
}

fn embedded(track_path: &Path) -> Option<Vec<u8>> {
    let file = File::open(track_path).ok()?;
    let tagged = Probe::new(BufReader::new(file))
        .guess_file_type()
        .ok()?
        .read()
        .ok()?;
    let pictures: Vec<_> = tagged.tags().iter().flat_map(|t| t.pictures()).collect();
    pictures
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures.first())
        .map(|p| p.data().to_vec())
}

fn sidecar(track_path: &Path) -> Option<Vec<u8>> {
    let folder = track_path.parent()?;
    let mut images: Vec<(usize, PathBuf)> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
            let ext = path.extension()?.to_str()?.to_ascii_lowercase();
            let rank = SIDECAR_NAMES.iter().position(|n| *n == stem)?;
            matches!(ext.as_str(), "jpg" | "jpeg" | "png").then_some((rank, path))
        })
        .collect();
    images.sort();
    std::fs::read(&images.first()?.1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../assets/demo")
            .join(relative)
    }

    #[test]
    fn embedded_cover_becomes_a_cached_thumbnail() -> Result<(), Box<dyn std::error::Error>> {
        let cache_dir = tempfile::tempdir()?;
        let cache = CoverCache::new(cache_dir.path());
        for track in [
            "Aurora Fields/Northern Lights/01 Aurora.flac",
            "The Lanterns/Tidal Rooms/03 Saltwater.ogg",
        ] {
            let thumb = cache.thumbnail(&demo(track), 96)?.ok_or("no cover")?;
            let picture = image::open(&thumb)?;
            assert_eq!((picture.width(), picture.height()), (96, 96), "{track}");
            // The second request is served from the cache.
            assert_eq!(cache.thumbnail(&demo(track), 96)?, Some(thumb));
        }
        Ok(())
    }

    #[test]
    fn a_sidecar_is_used_when_nothing_is_embedded_and_none_means_none(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let wav = dir.path().join("song.wav");
        // A minimal valid WAV with no tags at all.
        let mut bytes = b"RIFF".to_vec();
        bytes.extend(&(36u32 + 8).to_le_bytes());
        bytes.extend(b"WAVEfmt ");
        bytes.extend(&16u32.to_le_bytes());
        bytes.extend(&[1, 0, 1, 0]);
        bytes.extend(&8000u32.to_le_bytes());
        bytes.extend(&16000u32.to_le_bytes());
        bytes.extend(&[2, 0, 16, 0]);
        bytes.extend(b"data");
        bytes.extend(&8u32.to_le_bytes());
        bytes.extend(&[0u8; 8]);
        std::fs::write(&wav, bytes)?;
        let cache = CoverCache::new(dir.path().join("cache"));
        assert_eq!(cache.thumbnail(&wav, 300)?, None);

        std::fs::copy(
            demo("Aurora Fields/Northern Lights/cover.jpg"),
            dir.path().join("Folder.JPG"),
        )?;
        let thumb = cache.thumbnail(&wav, 300)?.ok_or("sidecar not found")?;
        assert_eq!(image::open(thumb)?.width(), 300);
        Ok(())
    }
}
