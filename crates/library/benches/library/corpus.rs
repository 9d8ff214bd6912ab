//! The benchmark corpus on disk: the plan's files, copied from the templates in
//! `assets/bench/` and tagged with lofty, cached under `target/bench-corpus/` and reused
//! while the plan, the templates and [`VERSION`] stay the same.

use std::collections::BTreeSet;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lofty::config::WriteOptions;
use lofty::file::FileType;
use lofty::tag::{Accessor, ItemKey, ItemValue, Tag, TagExt, TagItem, TagType};

use crate::plan::{self, FilePlan, Format, TagPlan};

/// Bump when the way files are written changes (the plan and templates are hashed).
const VERSION: &str = "offbeat bench corpus v1";

/// The same seed gives the same corpus, so runs on different days compare.
const SEED: u64 = 0x0ffb_ea75;

type BoxError = Box<dyn Error + Send + Sync>;

/// The corpus, ready to scan.
#[derive(Debug)]
pub struct Corpus {
    /// The folder to scan: nothing but the corpus's audio files lives under it.
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
    /// How long generating took, or `None` when the cached corpus was reused.
    pub generated_in: Option<Duration>,
}

/// Returns the corpus of `files` files under `cache`, generating it unless a complete
/// one with the same fingerprint is already there.
pub fn ensure(cache: &Path, files: usize) -> Result<Corpus, BoxError> {
    let templates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/bench");
    let mut templates = Vec::new();
    for format in Format::ALL {
        let path = templates_dir.join(format!("template.{}", format.extension()));
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("reading template {}: {e}", path.display()))?;
        templates.push((format, bytes));
    }
    let plan = plan::plan(files, SEED);

    let mut fingerprint = Fnv::default();
    fingerprint.write(VERSION.as_bytes());
    for (_, bytes) in &templates {
        fingerprint.write(bytes);
    }
    fingerprint.write(format!("{plan:?}").as_bytes());
    let stamp = format!(
        "{VERSION}\nfiles {files}\nfingerprint {:016x}\n",
        fingerprint.0
    );

    let root = cache.join("music");
    let marker = cache.join("corpus.complete");
    let paths: Vec<PathBuf> = plan.iter().map(|f| root.join(&f.path)).collect();
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(Corpus {
            root,
            files: paths,
            generated_in: None,
        });
    }

    let start = Instant::now();
    if marker.exists() {
        std::fs::remove_file(&marker)?;
    }
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let dirs: BTreeSet<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
    for dir in dirs {
        std::fs::create_dir_all(dir)?;
    }
    write_files(&plan, &paths, &templates)?;
    // Written last: a corpus without it is incomplete and is made again.
    std::fs::write(&marker, stamp)?;
    Ok(Corpus {
        root,
        files: paths,
        generated_in: Some(start.elapsed()),
    })
}

/// Writes every file, on one thread per core.
fn write_files(
    plan: &[FilePlan],
    paths: &[PathBuf],
    templates: &[(Format, Vec<u8>)],
) -> Result<(), BoxError> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let (Some(file), Some(path)) = (plan.get(i), paths.get(i)) else {
                            return Ok(());
                        };
                        let template = templates
                            .iter()
                            .find(|(f, _)| *f == file.format)
                            .map(|(_, bytes)| bytes.as_slice())
                            .ok_or("no template for this format")?;
                        write_file(path, file, template)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| "a corpus writer panicked")??;
        }
        Ok(())
    })
}

fn write_file(path: &Path, file: &FilePlan, template: &[u8]) -> Result<(), BoxError> {
    std::fs::write(path, template)?;
    if let Some(tags) = &file.tags {
        tag_for(file.format, tags).save_to_path(path, WriteOptions::default())?;
    }
    Ok(())
}

fn tag_for(format: Format, plan: &TagPlan) -> Tag {
    let file_type = match format {
        Format::Flac => FileType::Flac,
        Format::Mp3 => FileType::Mpeg,
        Format::Vorbis => FileType::Vorbis,
        Format::Opus => FileType::Opus,
        Format::M4a => FileType::Mp4,
        Format::Wav => FileType::Wav,
    };
    let tag_type = if plan.riff_info {
        TagType::RiffInfo
    } else {
        file_type.primary_tag_type()
    };
    let mut tag = Tag::new(tag_type);
    tag.set_title(plan.title.clone());
    for (i, artist) in plan.artists.iter().enumerate() {
        if i == 0 {
            tag.set_artist(artist.clone());
        } else {
            // A second value of the same field: multi-valued where the format allows it.
            tag.push(TagItem::new(
                ItemKey::TrackArtist,
                ItemValue::Text(artist.clone()),
            ));
        }
    }
    if let Some(album) = &plan.album {
        tag.set_album(album.clone());
    }
    if let Some(album_artist) = &plan.album_artist {
        tag.insert_text(ItemKey::AlbumArtist, album_artist.clone());
    }
    if let Some((number, total)) = plan.track {
        tag.set_track(number);
        tag.set_track_total(total);
    }
    if let Some((number, total)) = plan.disc {
        tag.set_disk(number);
        tag.set_disk_total(total);
    }
    if let Some(date) = &plan.date {
        tag.insert_text(ItemKey::RecordingDate, date.clone());
    }
    if let Some(genre) = &plan.genre {
        tag.set_genre(genre.clone());
    }
    if let Some(mb) = &plan.musicbrainz {
        tag.insert_text(ItemKey::MusicBrainzRecordingId, mb.recording.clone());
        tag.insert_text(ItemKey::MusicBrainzReleaseId, mb.release.clone());
        tag.insert_text(ItemKey::MusicBrainzArtistId, mb.artist.clone());
    }
    tag
}

/// FNV-1a, to notice when the plan or a template changed.
#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
