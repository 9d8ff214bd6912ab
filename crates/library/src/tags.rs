//! Reading one audio file's tags and properties with lofty, and explaining failures.

use std::fs::File;
use std::path::Path;

use lofty::aac::AacFile;
use lofty::config::{ParseOptions, ParsingMode};
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::mp4::{AudioObjectType, Mp4Codec, Mp4File};
use lofty::mpeg::{Layer, MpegFile};
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, Tag};
use offbeat_model::{ProblemKind, TrackUid, UidInputs};

use crate::window::WindowedFile;

/// The tags of one file, with fallbacks already applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrackTags {
    pub uid: TrackUid,
    pub title: String,
    /// The artist as tagged, for display ("A feat. B", or several values joined).
    pub artist: String,
    /// Each credited artist.
    pub artists: Vec<String>,
    pub album: String,
    pub album_artist: String,
    pub track_number: Option<u32>,
    pub track_total: Option<u32>,
    pub disc_number: Option<u32>,
    pub disc_total: Option<u32>,
    pub year: Option<i32>,
    pub original_year: Option<i32>,
    /// The genres joined for display.
    pub genre: Option<String>,
    pub genres: Vec<String>,
    pub compilation: bool,
    pub duration_ms: u32,
    pub format: std::borrow::Cow<'static, str>,
    pub bitrate_kbps: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u8>,
    pub bit_depth: Option<u8>,
    pub mb_recording_id: Option<String>,
    pub mb_release_id: Option<String>,
    pub mb_artist_id: Option<String>,
    pub rg_track_gain: Option<f32>,
    pub rg_track_peak: Option<f32>,
    pub rg_album_gain: Option<f32>,
    pub rg_album_peak: Option<f32>,
    pub has_lyrics: bool,
}

/// Why a file could not be read, before it is tied to a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    pub kind: ProblemKind,
    pub reason: String,
}

pub(crate) const UNKNOWN_ARTIST: &str = "Unknown Artist";
pub(crate) const UNKNOWN_ALBUM: &str = "Unknown Album";

/// Extensions of files that commonly sit beside music and are skipped without a report.
const SIDECARS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "txt", "nfo", "log", "cue", "m3u", "m3u8", "pls",
    "xspf", "json", "md", "pdf", "db", "ini", "sfv", "accurip", "lrc",
];

/// Audio formats people have that Offbeat cannot read yet.
const UNSUPPORTED_AUDIO: &[&str] = &[
    "wma", "ra", "rm", "mid", "midi", "dsf", "dff", "ac3", "dts", "amr", "mka", "tta", "webm",
    "weba", "mkv", "caf",
];

/// True for files the scanner should not even look at: hidden files and known sidecars.
pub(crate) fn is_ignored(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    hidden || extension(path).is_some_and(|ext| SIDECARS.contains(&ext.as_str()))
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

/// Reads tags and properties, or says in plain words why the file cannot be indexed.
pub(crate) fn read_tags(path: &Path) -> Result<TrackTags, Unreadable> {
    // Broken tags must not cost the user a playable file: if the file does not parse as
    // is, try again forgiving malformed tag fields, and then ignoring tags altogether
    // (the title falls back to the file name).
    let attempts = [
        ParseOptions::new(),
        ParseOptions::new().parsing_mode(ParsingMode::Relaxed),
        ParseOptions::new().read_tags(false),
    ];
    let mut first_error = None;
    for options in attempts {
        match parse(path, options) {
            Ok((tagged, codec)) => {
                let duration_ms =
                    u32::try_from(tagged.properties().duration().as_millis()).unwrap_or(u32::MAX);
                if duration_ms == 0 {
                    return Err(Unreadable {
                        kind: ProblemKind::Corrupt,
                        reason: "corrupt audio: the file holds no playable audio".to_owned(),
                    });
                }
                let mut tags = collect(path, &tagged, duration_ms);
                if let Some(codec) = codec {
                    tags.format = codec.into();
                }
                return Ok(tags);
            }
            Err(Parse::Failed(problem)) => {
                first_error.get_or_insert(problem);
            }
            Err(Parse::Final(problem)) => return Err(first_error.unwrap_or(problem)),
        }
    }
    Err(first_error.unwrap_or_else(|| Unreadable {
        kind: ProblemKind::Corrupt,
        reason: "corrupt audio".to_owned(),
    }))
}

/// Why one parse attempt failed: worth retrying with other options, or not.
enum Parse {
    Failed(Unreadable),
    Final(Unreadable),
}

/// The file read with `options`, and its format's name when the file type alone does not
/// tell it (an MP4 file holding ALAC, MPEG audio of layer II).
fn parse(path: &Path, options: ParseOptions) -> Result<(TaggedFile, Option<&'static str>), Parse> {
    let file = File::open(path).map_err(|e| Parse::Final(io_problem(&e)))?;
    let probe = Probe::new(WindowedFile::new(file))
        .options(options)
        .guess_file_type()
        .map_err(|e| Parse::Final(io_problem(&e)))?;
    let ext = extension(path).unwrap_or_default();
    let unsupported = || Unreadable {
        kind: ProblemKind::Unsupported,
        reason: format!("unsupported audio format (.{ext})"),
    };
    if probe.file_type().is_none() {
        return Err(Parse::Final(if UNSUPPORTED_AUDIO.contains(&ext.as_str()) {
            unsupported()
        } else if starts_like_audio(path) {
            // An audio header with nothing usable behind it: cut off, not a stray file.
            Unreadable {
                kind: ProblemKind::Corrupt,
                reason: "corrupt or truncated audio: the audio after the header is missing"
                    .to_owned(),
            }
        } else {
            Unreadable {
                kind: ProblemKind::NotAudio,
                reason: "not an audio file (no known audio header)".to_owned(),
            }
        }));
    }
    if let Some(name) = probe.file_type().and_then(unplayable) {
        return Err(Parse::Final(cannot_play(name)));
    }
    let corrupt = |e: lofty::error::FileParseError| {
        if UNSUPPORTED_AUDIO.contains(&ext.as_str()) {
            // A container lofty does not know (Matroska) can look like MPEG audio to its
            // search for a frame: that is no corrupt MP3. (An MP3 misnamed .wma parses.)
            return Parse::Final(unsupported());
        }
        Parse::Failed(Unreadable {
            kind: ProblemKind::Corrupt,
            reason: format!("corrupt or truncated audio: {}", error_chain(&e)),
        })
    };
    if probe.file_type() == Some(FileType::Mp4) {
        // An MP4 file holds AAC or ALAC (or, rarely, MP3 or FLAC): the codec is only in
        // the MP4-specific properties, which a generic read drops.
        let mut reader = probe.into_inner();
        let mp4 = Mp4File::read_from(&mut reader, options).map_err(corrupt)?;
        let properties = mp4.properties();
        if properties.is_drm_protected() {
            return Err(Parse::Final(cannot_play("DRM-protected MP4")));
        }
        if properties.codec() == Some(Mp4Codec::AAC) {
            if let Some(why) = aac_unplayable(properties.audio_object_type(), properties.channels())
            {
                return Err(Parse::Final(cannot_play(why)));
            }
        }
        let codec = match properties.codec() {
            Some(Mp4Codec::ALAC) => Some("ALAC"),
            Some(Mp4Codec::FLAC) => Some("FLAC"),
            Some(Mp4Codec::MP3) => Some("MP3"),
            _ => None,
        };
        return Ok((mp4.into(), codec));
    }
    if probe.file_type() == Some(FileType::Mpeg) {
        // MPEG audio is MP3 unless its frames say layer I or II (".mp2", broadcast and
        // old DVD audio), which the generic properties do not tell.
        let mut reader = probe.into_inner();
        let mpeg = MpegFile::read_from(&mut reader, options).map_err(corrupt)?;
        let codec = match mpeg.properties().layer() {
            Layer::Layer1 => Some("MP1"),
            Layer::Layer2 => Some("MP2"),
            Layer::Layer3 => None,
        };
        return Ok((mpeg.into(), codec));
    }
    if probe.file_type() == Some(FileType::Aac) {
        // Raw AAC (ADTS): the profile is only in the AAC-specific properties.
        let mut reader = probe.into_inner();
        let aac = AacFile::read_from(&mut reader, options).map_err(corrupt)?;
        let properties = aac.properties();
        let why = aac_unplayable(
            Some(properties.audio_object_type()),
            Some(properties.channels()),
        );
        if let Some(why) = why {
            return Err(Parse::Final(cannot_play(why)));
        }
        return Ok((aac.into(), None));
    }
    let tagged = probe.read().map_err(corrupt)?;
    if tagged.file_type() == FileType::Opus && tagged.properties().channels().is_some_and(|c| c > 2)
    {
        // libopus's plain decoder, which the player uses, takes one or two.
        return Err(Parse::Final(cannot_play(
            "Opus with more than two channels",
        )));
    }
    Ok((tagged, None))
}

/// A file in a format the player cannot decode, named.
fn cannot_play(format: &str) -> Unreadable {
    Unreadable {
        kind: ProblemKind::Unsupported,
        reason: format!("unsupported audio format ({format}): Offbeat cannot play it yet"),
    }
}

/// Why AAC of this profile and channel count cannot play, if it cannot: symphonia's AAC
/// decoder takes the LC profile only (not HE-AAC's band replication or parametric
/// stereo, nor Main, SSR or LTP), in one or two channels.
fn aac_unplayable(profile: Option<AudioObjectType>, channels: Option<u8>) -> Option<&'static str> {
    if channels.is_some_and(|c| c > 2) {
        return Some("AAC with more than two channels");
    }
    match profile {
        None | Some(AudioObjectType::AacLowComplexity) => None,
        Some(AudioObjectType::SpectralBandReplication | AudioObjectType::ParametricStereo) => {
            Some("HE-AAC")
        }
        Some(_) => Some("AAC of another profile than LC"),
    }
}

/// The name of a format whose tags can be read but whose audio the player cannot decode
/// (symphonia and libopus have no decoder for it): such a file is reported, not listed as
/// a track that would fail the moment it is played.
fn unplayable(file_type: FileType) -> Option<&'static str> {
    match file_type {
        FileType::Ape => Some("Monkey's Audio"),
        FileType::Mpc => Some("Musepack"),
        FileType::Speex => Some("Speex"),
        FileType::WavPack => Some("WavPack"),
        _ => None,
    }
}

/// The separate artists of a list of credits: "A feat. B & C" credits A, B and C, each of
/// whom gets the track on their page. Only what follows "feat." is split on "&" and ",":
/// the main credit may be a name like "Simon & Garfunkel". Duplicates are dropped.
pub(crate) fn split_credits(credits: &[String]) -> Vec<String> {
    const FEATURING: [&str; 4] = [" feat. ", " feat ", " ft. ", " featuring "];
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        let name = name.trim();
        if !name.is_empty() && !out.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push(name.to_owned());
        }
    };
    for credit in credits {
        let lower = credit.to_lowercase();
        // Lowercasing can change byte lengths outside ASCII; only split when it did not.
        let split = (lower.len() == credit.len())
            .then(|| {
                FEATURING
                    .iter()
                    .filter_map(|f| lower.find(f).map(|at| (at, f.len())))
                    .min()
            })
            .flatten();
        match split {
            Some((at, len)) => {
                push(&credit[..at]);
                credit[at + len..].split([',', '&']).for_each(&mut push);
            }
            None => push(credit),
        }
    }
    out
}

/// True when the file begins with the signature of an audio container or tag.
fn starts_like_audio(path: &Path) -> bool {
    let mut head = [0u8; 12];
    let Ok(n) = File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)) else {
        return false;
    };
    let head = &head[..n];
    head.starts_with(b"ID3")
        || head.starts_with(b"fLaC")
        || head.starts_with(b"OggS")
        || head.starts_with(b"FORM")
        || head.starts_with(b"MAC ")
        || head.starts_with(b"wvpk")
        || (head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE"))
        || head.get(4..8) == Some(b"ftyp")
}

fn collect(path: &Path, tagged: &TaggedFile, duration_ms: u32) -> TrackTags {
    // The primary tag first, then any other tag the file carries (a WAV may have both
    // RIFF INFO and ID3v2), so a field missing from one is taken from the next.
    let mut tags: Vec<&Tag> = Vec::new();
    tags.extend(tagged.primary_tag());
    let primary_type = tagged.primary_tag().map(Tag::tag_type);
    tags.extend(
        tagged
            .tags()
            .iter()
            .filter(|t| Some(t.tag_type()) != primary_type),
    );
    let fields = Fields { tags: &tags };

    let title = fields.text(ItemKey::TrackTitle).unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut artists = fields.list(ItemKey::TrackArtists, &['\0']);
    if artists.is_empty() {
        artists = fields.list(ItemKey::TrackArtist, &['\0']);
    }
    let artist = match fields.all(ItemKey::TrackArtist).as_slice() {
        [] => UNKNOWN_ARTIST.to_owned(),
        [one] => one.replace('\0', ", "),
        many => many.join(", "),
    };
    if artists.is_empty() {
        artists.push(artist.clone());
    }
    let artists = split_credits(&artists);
    let album = fields
        .text(ItemKey::AlbumTitle)
        .unwrap_or_else(|| UNKNOWN_ALBUM.to_owned());
    let album_artist = fields
        .text(ItemKey::AlbumArtist)
        .unwrap_or_else(|| artist.clone());
    let genres = fields.list(ItemKey::Genre, &['\0', ';']);
    let year = tags
        .iter()
        .find_map(|t| t.date())
        .map(|d| i32::from(d.year))
        .or_else(|| fields.year(ItemKey::Year));
    let mbid = fields.text(ItemKey::MusicBrainzRecordingId);
    let properties = tagged.properties();

    let track_number = tags.iter().find_map(|t| t.track());
    let disc_number = tags.iter().find_map(|t| t.disk());
    let uid = TrackUid::derive(&UidInputs {
        musicbrainz_recording_id: mbid.as_deref(),
        album_artist: &album_artist,
        album: &album,
        disc_number,
        track_number,
        title: &title,
    });
    TrackTags {
        uid,
        title,
        artist,
        artists,
        album,
        album_artist,
        track_number,
        track_total: tags.iter().find_map(|t| t.track_total()),
        disc_number,
        disc_total: tags.iter().find_map(|t| t.disk_total()),
        year,
        original_year: fields.year(ItemKey::OriginalReleaseDate),
        genre: (!genres.is_empty()).then(|| genres.join(", ")),
        genres,
        compilation: fields
            .text(ItemKey::FlagCompilation)
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "True" | "TRUE" | "yes")),
        duration_ms,
        format: format_name(tagged.file_type()).into(),
        bitrate_kbps: properties
            .audio_bitrate()
            .or(properties.overall_bitrate())
            .filter(|b| *b > 0),
        sample_rate: properties.sample_rate(),
        channels: properties.channels(),
        bit_depth: properties.bit_depth(),
        mb_recording_id: mbid,
        mb_release_id: fields.text(ItemKey::MusicBrainzReleaseId),
        mb_artist_id: fields.text(ItemKey::MusicBrainzArtistId),
        rg_track_gain: fields.number(ItemKey::ReplayGainTrackGain),
        rg_track_peak: fields.number(ItemKey::ReplayGainTrackPeak),
        rg_album_gain: fields.number(ItemKey::ReplayGainAlbumGain),
        rg_album_peak: fields.number(ItemKey::ReplayGainAlbumPeak),
        has_lyrics: fields.text(ItemKey::Lyrics).is_some()
            || fields.text(ItemKey::UnsyncLyrics).is_some(),
    }
}

/// Reads fields across a file's tags, first tag that has a value wins.
struct Fields<'a> {
    tags: &'a [&'a Tag],
}

impl Fields<'_> {
    /// Every value of `key` in the first tag that has any, trimmed, empty ones dropped.
    fn all(&self, key: ItemKey) -> Vec<String> {
        self.tags
            .iter()
            .map(|t| {
                t.get_strings(key)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .find(|values| !values.is_empty())
            .unwrap_or_default()
    }

    fn text(&self, key: ItemKey) -> Option<String> {
        self.all(key).into_iter().next()
    }

    /// Every value, also split on `separators` inside a value (ID3v2.4 joins multiple
    /// values with NUL; many taggers write genres as "Rock; Pop"), without duplicates.
    fn list(&self, key: ItemKey, separators: &[char]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for value in self.all(key) {
            for part in value
                .split(separators)
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                if !out.iter().any(|o| o == part) {
                    out.push(part.to_owned());
                }
            }
        }
        out
    }

    /// A year from a date-like value ("1999", "1999-04-01").
    fn year(&self, key: ItemKey) -> Option<i32> {
        self.text(key).and_then(|y| y.get(..4)?.parse().ok())
    }

    /// The leading number of a value such as "-6.52 dB" or "0.988".
    fn number(&self, key: ItemKey) -> Option<f32> {
        let text = self.text(key)?;
        let end = text
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+')))
            })
            .map_or(text.len(), |(i, _)| i);
        text[..end].parse().ok().filter(|v: &f32| v.is_finite())
    }
}

fn format_name(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Aac => "AAC",
        FileType::Aiff => "AIFF",
        FileType::Ape => "APE",
        FileType::Flac => "FLAC",
        FileType::Mpeg => "MP3",
        FileType::Mp4 => "M4A",
        FileType::Mpc => "Musepack",
        FileType::Opus => "Opus",
        FileType::Vorbis => "Ogg Vorbis",
        FileType::Speex => "Speex",
        FileType::Wav => "WAV",
        FileType::WavPack => "WavPack",
        _ => "Audio",
    }
}

pub(crate) fn io_problem(error: &std::io::Error) -> Unreadable {
    if error.kind() == std::io::ErrorKind::PermissionDenied {
        Unreadable {
            kind: ProblemKind::PermissionDenied,
            reason: "permission denied: Offbeat may not read this file".to_owned(),
        }
    } else {
        Unreadable {
            kind: ProblemKind::Corrupt,
            reason: format!("could not be read: {error}"),
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn featured_artists_are_credited_separately() {
        let split = |credits: &[&str]| {
            split_credits(&credits.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            split(&["The Lanterns feat. Mira"]),
            ["The Lanterns", "Mira"]
        );
        assert_eq!(split(&["A Ft. B & C, D"]), ["A", "B", "C", "D"]);
        assert_eq!(split(&["Simon & Garfunkel"]), ["Simon & Garfunkel"]);
        assert_eq!(split(&["A featuring B", "B"]), ["A", "B"]);
        assert_eq!(split(&["Featherweight"]), ["Featherweight"]);
        assert_eq!(split(&["Ünal feat. Ölçer"]), ["Ünal", "Ölçer"]);
    }

    #[test]
    fn sidecars_and_hidden_files_are_ignored() {
        let check = |p: &str, expected: bool| assert_eq!(is_ignored(Path::new(p)), expected, "{p}");
        check("/m/a/cover.jpg", true);
        check("/m/a/Folder.PNG", true);
        check("/m/a/.DS_Store", true);
        check("/m/a/01 Song.flac", false);
        check("/m/a/notes.bin", false);
    }

    #[test]
    fn text_with_an_audio_name_is_not_audio() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("song.mp3");
        std::fs::write(&path, "this is a shopping list, not a song\n".repeat(20))?;
        let err = read_tags(&path).err();
        assert_eq!(err.map(|e| e.kind), Some(ProblemKind::NotAudio));
        Ok(())
    }

    #[test]
    fn garbage_after_a_flac_header_is_corrupt() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("broken.flac");
        let mut bytes = b"fLaC".to_vec();
        bytes.extend((0..4000u32).map(|i| (i * 7 % 251) as u8));
        std::fs::write(&path, bytes)?;
        let err = read_tags(&path).err();
        assert_eq!(err.map(|e| e.kind), Some(ProblemKind::Corrupt));
        Ok(())
    }

    #[test]
    fn formats_with_tags_but_no_decoder_are_unsupported_not_listed() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        for (name, head, format) in [
            ("a.ape", &b"MAC "[..], "Monkey's Audio"),
            ("b.wv", b"wvpk", "WavPack"),
            ("c.mpc", b"MPCK", "Musepack"),
        ] {
            let path = dir.path().join(name);
            let mut bytes = head.to_vec();
            bytes.extend((0..4000u32).map(|i| (i * 7 % 251) as u8));
            std::fs::write(&path, bytes)?;
            let err = read_tags(&path).err();
            assert_eq!(
                err.as_ref().map(|e| e.kind),
                Some(ProblemKind::Unsupported),
                "{name}"
            );
            let reason = err.map(|e| e.reason).unwrap_or_default();
            assert!(reason.contains(format), "{name}: {reason}");
        }
        Ok(())
    }

    #[test]
    fn a_container_lofty_mistakes_for_mpeg_is_unsupported_not_a_corrupt_mp3() -> std::io::Result<()>
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("clip.webm");
        // Matroska's EBML magic, then bytes that hold an MPEG frame sync here and there.
        let mut bytes = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01];
        for i in 0..2000u32 {
            bytes.extend([0xFF, 0xFB, 0x90, (i % 200) as u8, 0x12, 0x34]);
        }
        std::fs::write(&path, bytes)?;
        let err = read_tags(&path).err();
        assert_eq!(
            err.as_ref().map(|e| (e.kind, e.reason.as_str())),
            Some((ProblemKind::Unsupported, "unsupported audio format (.webm)"))
        );
        Ok(())
    }

    #[test]
    fn aac_plays_only_in_the_lc_profile_and_in_two_channels_or_fewer() {
        use AudioObjectType as Aot;
        assert_eq!(aac_unplayable(Some(Aot::AacLowComplexity), Some(2)), None);
        assert_eq!(aac_unplayable(None, None), None, "nothing known: listed");
        assert_eq!(
            aac_unplayable(Some(Aot::SpectralBandReplication), Some(2)),
            Some("HE-AAC")
        );
        assert_eq!(
            aac_unplayable(Some(Aot::ParametricStereo), Some(2)),
            Some("HE-AAC")
        );
        assert_eq!(
            aac_unplayable(Some(Aot::AacMain), Some(2)),
            Some("AAC of another profile than LC")
        );
        assert_eq!(
            aac_unplayable(Some(Aot::AacLowComplexity), Some(6)),
            Some("AAC with more than two channels")
        );
    }

    #[test]
    fn unsupported_fixtures_are_reported_with_what_they_are() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/unsupported");
        for (file, what) in [
            ("5.1 Opus.opus", "Opus with more than two channels"),
            ("5.1 AAC.m4a", "AAC with more than two channels"),
        ] {
            let err = read_tags(&dir.join(file)).err();
            assert_eq!(
                err.as_ref().map(|e| e.kind),
                Some(ProblemKind::Unsupported),
                "{file}"
            );
            let reason = err.map(|e| e.reason).unwrap_or_default();
            assert!(reason.contains(what), "{file}: {reason}");
        }
    }

    #[test]
    fn unknown_audio_format_is_unsupported() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("old.wma");
        std::fs::write(
            &path,
            [0x30u8, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11].repeat(64),
        )?;
        let err = read_tags(&path).err();
        assert_eq!(err.map(|e| e.kind), Some(ProblemKind::Unsupported));
        Ok(())
    }
}
