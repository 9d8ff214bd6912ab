//! Every field the scanner reads, checked per format against fixtures made here: a demo
//! file of each format (and, for the formats the demo does not carry, a file from
//! assets/fixtures, made by assets/generate-fixtures.sh) with a full set of extra tags
//! written by lofty.

use std::path::{Path, PathBuf};

use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::tag::{ItemKey, ItemValue, TagExt, TagItem, TagType};
use offbeat_library::Library;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const RECORDING: &str = "0f2d8c71-3c3a-4b5e-9d65-8f0c5e1a2b3c";
const RELEASE: &str = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const ARTIST: &str = "9b8a7c6d-5e4f-4d3c-8b2a-1f0e9d8c7b6a";

fn assets_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
}

/// How a fixture's tags are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tagging {
    /// In the format's usual tag (ID3v2.4 for MP3).
    Usual,
    /// ID3v2.3, as older taggers write.
    Id3v23,
    /// Only an APEv2 tag (the ID3v2 tag removed), as some MP3 taggers write.
    ApeOnly,
}

/// A file to tag: which assets folder, which of its manifest's entries (its `path` ends
/// with `file`), and how.
#[derive(Clone, Copy, Debug)]
struct Source {
    folder: &'static str,
    file: &'static str,
    tagging: Tagging,
}

const fn source(folder: &'static str, file: &'static str, tagging: Tagging) -> Source {
    Source {
        folder,
        file,
        tagging,
    }
}

/// One file of every format the scanner reads, and MP3 with each kind of tag.
const SOURCES: &[Source] = &[
    source("demo", ".flac", Tagging::Usual),
    source("demo", ".mp3", Tagging::Usual),
    source("demo", ".ogg", Tagging::Usual),
    source("demo", ".m4a", Tagging::Usual),
    source("demo", ".wav", Tagging::Usual),
    source("fixtures", ".opus", Tagging::Usual),
    source("fixtures", "Quartz.m4a", Tagging::Usual),
    source("fixtures", ".aiff", Tagging::Usual),
    source("fixtures", "Slate.mp3", Tagging::Id3v23),
    source("fixtures", "Slate.mp3", Tagging::ApeOnly),
    source("fixtures", ".mp2", Tagging::Usual),
];

/// Copies the file `source` names and adds every tag Offbeat reads beyond the basics.
fn fixture(dir: &Path, source: Source) -> Result<(PathBuf, Value), Box<dyn std::error::Error>> {
    let folder = assets_dir(source.folder);
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(folder.join("manifest.json"))?)?;
    let entry = manifest
        .into_iter()
        .find(|t| t["path"].as_str().is_some_and(|p| p.ends_with(source.file)))
        .ok_or("no such file in the manifest")?;
    let original = folder.join(entry["path"].as_str().unwrap_or_default());
    let path = dir.join(original.file_name().ok_or("no file name")?);
    std::fs::copy(&original, &path)?;

    let mut file = lofty::read_from_path(&path)?;
    if file.primary_tag().is_none() {
        file.insert_tag(lofty::tag::Tag::new(file.primary_tag_type()));
    }
    let tag = file.primary_tag_mut().ok_or("no primary tag")?;
    // Two credited artists as two values of the artist field (APE keeps one item per key,
    // its values separated by NUL).
    tag.remove_key(ItemKey::TrackArtist);
    let artists: &[&str] = match source.tagging {
        Tagging::ApeOnly => &["Ada Lovelace\0Grace Hopper"],
        _ => &["Ada Lovelace", "Grace Hopper"],
    };
    for artist in artists {
        tag.push(TagItem::new(
            ItemKey::TrackArtist,
            ItemValue::Text((*artist).into()),
        ));
    }
    tag.remove_key(ItemKey::Genre);
    tag.insert_text(ItemKey::Genre, "Ambient; Downtempo".into());
    for (key, value) in [
        (ItemKey::MusicBrainzRecordingId, RECORDING),
        (ItemKey::MusicBrainzReleaseId, RELEASE),
        (ItemKey::MusicBrainzArtistId, ARTIST),
        (ItemKey::ReplayGainTrackGain, "-6.52 dB"),
        (ItemKey::ReplayGainTrackPeak, "0.912345"),
        (ItemKey::ReplayGainAlbumGain, "-7.25 dB"),
        (ItemKey::ReplayGainAlbumPeak, "0.998000"),
        (ItemKey::OriginalReleaseDate, "1994-03-01"),
        (ItemKey::FlagCompilation, "1"),
        (ItemKey::Lyrics, "la la la"),
        // ID3v2 keeps lyrics in USLT frames, which lofty calls UnsyncLyrics.
        (ItemKey::UnsyncLyrics, "la la la"),
    ] {
        tag.insert_text(key, value.into());
    }
    if source.tagging == Tagging::ApeOnly {
        TagType::Id3v2.remove_from_path(&path, WriteOptions::default())?;
        tag.re_map(TagType::Ape);
    }
    tag.save_to_path(
        &path,
        WriteOptions::default().use_id3v23(source.tagging == Tagging::Id3v23),
    )?;
    Ok((path, entry))
}

#[test]
fn every_field_is_read_in_every_format() -> TestResult {
    for &source in SOURCES {
        let dir = tempfile::tempdir()?;
        let (path, entry) = fixture(dir.path(), source)?;
        let format = entry["format"].as_str().unwrap_or_default();
        let head = std::fs::read(&path)?;
        match source.tagging {
            Tagging::Id3v23 => {
                assert_eq!(
                    head.get(..4),
                    Some(&b"ID3\x03"[..]),
                    "{source:?}: not ID3v2.3"
                )
            }
            Tagging::ApeOnly => {
                assert!(
                    !head.starts_with(b"ID3"),
                    "{source:?}: an ID3v2 tag is left"
                );
                assert!(
                    head.windows(8).any(|w| w == b"APETAGEX"),
                    "{source:?}: no APE tag"
                );
            }
            Tagging::Usual => {}
        }
        let mut library = Library::open_in_memory()?;
        let report = library.scan_folder(dir.path())?;
        assert_eq!(report.added, 1, "{format}: {report:?}");
        let id = library.tracks()?.first().ok_or("no track")?.id;
        let d = library.track_details(id)?.ok_or("no details")?;
        let t = &d.track;
        let ctx = format!("{source:?}: {d:#?}");

        assert_eq!(
            t.title,
            entry["title"].as_str().unwrap_or_default(),
            "{ctx}"
        );
        assert_eq!(t.artist, "Ada Lovelace, Grace Hopper", "{ctx}");
        assert_eq!(d.artists, ["Ada Lovelace", "Grace Hopper"], "{ctx}");
        assert_eq!(
            t.album,
            entry["album"].as_str().unwrap_or_default(),
            "{ctx}"
        );
        assert_eq!(
            t.album_artist,
            entry["album_artist"].as_str().unwrap_or_default(),
            "{ctx}"
        );
        assert_eq!(
            t.track_number.map(u64::from),
            entry["track_number"].as_u64(),
            "{ctx}"
        );
        assert_eq!(
            d.track_total.map(u64::from),
            entry["track_total"].as_u64(),
            "{ctx}"
        );
        assert_eq!(t.disc_number, Some(1), "{ctx}");
        assert_eq!(d.disc_total, Some(1), "{ctx}");
        assert_eq!(t.year.map(i64::from), entry["year"].as_i64(), "{ctx}");
        assert_eq!(d.original_year, Some(1994), "{ctx}");
        assert_eq!(d.genres, ["Ambient", "Downtempo"], "{ctx}");
        assert_eq!(t.genre.as_deref(), Some("Ambient, Downtempo"), "{ctx}");
        assert!(d.compilation, "{ctx}");
        assert_eq!(t.format, format, "{ctx}");
        assert_eq!(
            u64::from(d.sample_rate.unwrap_or(0)),
            entry["sample_rate"].as_u64().unwrap_or(1),
            "{ctx}"
        );
        assert_eq!(
            d.channels.map(u64::from),
            entry["channels"].as_u64(),
            "{ctx}"
        );
        assert!(d.bitrate_kbps.is_some_and(|b| b > 0), "{ctx}");
        if matches!(format, "FLAC" | "WAV" | "ALAC" | "AIFF") {
            assert_eq!(d.bit_depth, Some(16), "{ctx}");
        }
        let duration = i64::from(t.duration_ms);
        let expected = entry["duration_ms"].as_i64().unwrap_or_default();
        assert!(
            (duration - expected).abs() <= 30,
            "{ctx}: duration {duration} ms, expected {expected}"
        );
        assert_eq!(d.musicbrainz.recording.as_deref(), Some(RECORDING), "{ctx}");
        assert_eq!(d.musicbrainz.release.as_deref(), Some(RELEASE), "{ctx}");
        assert_eq!(d.musicbrainz.artist.as_deref(), Some(ARTIST), "{ctx}");
        assert_eq!(t.uid.as_str(), format!("mb:{RECORDING}"), "{ctx}");
        let rg = d.replay_gain;
        assert_eq!(
            (
                rg.track_gain_db,
                rg.track_peak,
                rg.album_gain_db,
                rg.album_peak
            ),
            (Some(-6.52), Some(0.912345), Some(-7.25), Some(0.998)),
            "{ctx}"
        );
        assert!(d.has_lyrics, "{ctx}");
    }
    Ok(())
}

#[test]
fn missing_tags_fall_back_to_the_file_name_and_unknown_artist() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (path, _) = fixture(dir.path(), SOURCES[0])?;
    let file = lofty::read_from_path(&path)?;
    for tag in file.tags() {
        tag.remove_from_path(&path, WriteOptions::default())?;
    }
    let bare = dir.path().join("Morning Song.flac");
    std::fs::rename(&path, &bare)?;
    let mut library = Library::open_in_memory()?;
    library.scan_folder(dir.path())?;
    let t = library.tracks()?.into_iter().next().ok_or("no track")?;
    assert_eq!(
        (
            t.title.as_str(),
            t.artist.as_str(),
            t.album.as_str(),
            t.album_artist.as_str()
        ),
        (
            "Morning Song",
            "Unknown Artist",
            "Unknown Album",
            "Unknown Artist"
        )
    );
    let d = library.track_details(t.id)?.ok_or("no details")?;
    assert_eq!(d.artists, ["Unknown Artist"]);
    assert!(d.genres.is_empty() && !d.compilation && !d.has_lyrics);
    Ok(())
}
