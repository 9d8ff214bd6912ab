//! Bad input through the public API: empty, truncated, mislabelled and badly tagged files,
//! odd file names, hostile folders, folders that vanish, and a scanner killed mid-scan.
//!
//! Every test puts a copy of the demo library beside the bad input. Whatever the bad input
//! is, the scan must finish, every demo track must be indexed, and every bad file must be
//! either indexed or listed in the report's problems with a plain reason; things that are
//! not a file's fault (a symlink loop, a named pipe) must be passed over quietly.
//!
//! The cases are written as bytes in the tests themselves, starting from the demo files
//! (`assets/demo`, see its `manifest.json`), so no fixture needs to be kept in the repo.

#![cfg(unix)]

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use offbeat_library::Library;
use offbeat_model::{ProblemKind, ScanProblem, Track};
use serde_json::Value;

type Error = Box<dyn std::error::Error>;
type TestResult = Result<(), Error>;

const FLAC: &str = "Aurora Fields/Northern Lights/01 Aurora.flac";
const MP3: &str = "The Lanterns/Tidal Rooms/01 Driftwood.mp3";
const OGG: &str = "The Lanterns/Tidal Rooms/03 Saltwater.ogg";
const M4A: &str = "Elodie Marchand/Cafe Nocturne/01 Minuit.m4a";
const WAV: &str = "Elodie Marchand/Cafe Nocturne/02 Velours.wav";

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo")
}

fn demo(relative: &str) -> Result<Vec<u8>, Error> {
    Ok(std::fs::read(demo_dir().join(relative))?)
}

/// The demo tracks as (path relative to the demo folder, title).
fn manifest() -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read_to_string(demo_dir().join("manifest.json"))?;
    let entries: Vec<Value> = serde_json::from_str(&text)?;
    entries
        .iter()
        .map(|e| match (e["path"].as_str(), e["title"].as_str()) {
            (Some(path), Some(title)) => Ok((path.to_owned(), title.to_owned())),
            _ => Err(format!("manifest entry without path or title: {e}").into()),
        })
        .collect()
}

/// A fresh folder with a copy of the demo library under `good/`. Bad input goes beside it.
struct Music {
    _dir: tempfile::TempDir,
    /// The folder that is scanned, canonical so paths compare with the ones the scanner stores.
    root: PathBuf,
}

impl Music {
    fn new() -> Result<Music, Error> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().canonicalize()?;
        for (relative, _) in manifest()? {
            let target = root.join("good").join(&relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(demo_dir().join(&relative), target)?;
        }
        Ok(Music { _dir: dir, root })
    }

    /// Writes `bytes` at `relative` (which may be any bytes, not only UTF-8) under the root.
    fn write(&self, relative: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
        let path = self.root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        Ok(path)
    }

    /// Fails unless every demo track is indexed exactly once, with its own title.
    fn assert_demo_indexed(&self, tracks: &[Track]) -> TestResult {
        for (relative, title) in manifest()? {
            let path = self.root.join("good").join(&relative);
            let found: Vec<&Track> = tracks
                .iter()
                .filter(|t| Path::new(&t.path) == path)
                .collect();
            match found.as_slice() {
                [track] if track.title == title => {}
                _ => return Err(format!("demo file {relative} not indexed once: {found:?}").into()),
            }
        }
        Ok(())
    }
}

/// What should become of one bad file.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Indexed, read as this format ("FLAC", "MP3"...), with this title when one is given.
    Indexed(&'static str, Option<&'static str>),
    /// Listed in the report's problems with one of these kinds.
    Problem(&'static [ProblemKind]),
    /// Indexed as this format, or reported as corrupt: both are fair for audio cut short,
    /// which plays up to the cut.
    IndexedOrCorrupt(&'static str),
    /// Anything but lost: indexed, or reported.
    Accounted,
}

/// What became of one bad file.
enum Outcome<'a> {
    Indexed(&'a Track),
    Reported(&'a ScanProblem),
    Lost,
    Both,
}

impl fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Indexed(t) => write!(f, "indexed as {} titled {:?}", t.format, t.title),
            Outcome::Reported(p) => write!(f, "reported {:?}: {}", p.kind, p.reason),
            Outcome::Lost => f.write_str("neither indexed nor reported"),
            Outcome::Both => f.write_str("both indexed and reported"),
        }
    }
}

fn outcome<'a>(path: &str, tracks: &'a [Track], problems: &'a [ScanProblem]) -> Outcome<'a> {
    let track: Vec<&Track> = tracks.iter().filter(|t| t.path == path).collect();
    let problem = problems.iter().find(|p| p.path == path);
    match (track.as_slice(), problem) {
        ([], None) => Outcome::Lost,
        ([t], None) => Outcome::Indexed(t),
        ([], Some(p)) => Outcome::Reported(p),
        _ => Outcome::Both,
    }
}

fn matches(expect: Expect, outcome: &Outcome<'_>) -> bool {
    match (expect, outcome) {
        (Expect::Indexed(format, title), Outcome::Indexed(t)) => {
            t.format == format && title.is_none_or(|title| t.title == title) && !t.title.is_empty()
        }
        (Expect::Problem(kinds), Outcome::Reported(p)) => kinds.contains(&p.kind),
        (Expect::IndexedOrCorrupt(format), Outcome::Indexed(t)) => t.format == format,
        (Expect::IndexedOrCorrupt(_), Outcome::Reported(p)) => p.kind == ProblemKind::Corrupt,
        (Expect::Accounted, Outcome::Indexed(_) | Outcome::Reported(_)) => true,
        _ => false,
    }
}

/// One bad file: its name under `bad/`, its bytes, and what should become of it.
struct Case {
    name: String,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(name: impl Into<String>, bytes: Vec<u8>, expect: Expect) -> Case {
    Case {
        name: name.into(),
        bytes,
        expect,
    }
}

/// Writes each case under `bad/` beside the demo library, scans, scans again, and checks
/// that every case ended as expected, that the demo is fully indexed, that nothing else
/// was reported, that every reason says something, and that the rescan changes nothing.
/// All mismatches are gathered first, so one run shows every case that is wrong.
fn check(cases: &[Case]) -> TestResult {
    let music = Music::new()?;
    for case in cases {
        music.write(&Path::new("bad").join(&case.name), &case.bytes)?;
    }
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&music.root)?;
    let tracks = library.tracks()?;
    music.assert_demo_indexed(&tracks)?;

    let mut wrong = Vec::new();
    let path_of = |name: &str| {
        music
            .root
            .join("bad")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    for case in cases {
        let got = outcome(&path_of(&case.name), &tracks, &report.problems);
        if !matches(case.expect, &got) {
            wrong.push(format!(
                "{}: expected {:?}, got {got}",
                case.name, case.expect
            ));
        }
    }
    let case_paths: Vec<String> = cases.iter().map(|c| path_of(&c.name)).collect();
    for problem in &report.problems {
        if !case_paths.contains(&problem.path) {
            wrong.push(format!("unexpected problem: {problem:?}"));
        }
        if problem.reason.trim().is_empty() {
            wrong.push(format!("a problem without a reason: {problem:?}"));
        }
    }
    let manifest_len = manifest()?.len();
    if report.files_seen as usize != manifest_len + cases.len() {
        wrong.push(format!(
            "files_seen {} for {manifest_len} demo files and {} cases",
            report.files_seen,
            cases.len()
        ));
    }
    if sorted_problems(library.problems()?) != sorted_problems(report.problems.clone()) {
        wrong.push("the stored problems differ from the report's".to_owned());
    }

    let again = library.scan_folder(&music.root)?;
    if (again.added, again.updated, again.removed) != (0, 0, 0)
        || again.unchanged as usize != tracks.len()
        || sorted_problems(again.problems.clone()) != sorted_problems(report.problems.clone())
        || library.tracks()? != tracks
    {
        wrong.push(format!(
            "a rescan of the same files changed something: {again:?}"
        ));
    }
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
    Ok(())
}

fn sorted_problems(mut problems: Vec<ScanProblem>) -> Vec<ScanProblem> {
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems
}

/// A format's name as the library reports it, its extension, and its demo file.
const FORMATS: &[(&str, &str, &str)] = &[
    ("FLAC", "flac", FLAC),
    ("MP3", "mp3", MP3),
    ("Ogg Vorbis", "ogg", OGG),
    ("M4A", "m4a", M4A),
    ("WAV", "wav", WAV),
];

// --- Crafting tags byte by byte -------------------------------------------------------

/// ID3v2.4 sizes are "syncsafe": seven bits in each byte.
fn syncsafe(n: usize) -> [u8; 4] {
    [21, 14, 7, 0].map(|shift| ((n >> shift) & 0x7f) as u8)
}

/// The length of the ID3v2 tag at the start of `bytes`, header included (0 if none).
fn id3v2_len(bytes: &[u8]) -> usize {
    match bytes {
        [b'I', b'D', b'3', _, _, flags, a, b, c, d, ..] => {
            let size = [a, b, c, d]
                .iter()
                .fold(0usize, |n, &&byte| (n << 7) | usize::from(byte & 0x7f));
            let footer = if flags & 0x10 != 0 { 10 } else { 0 };
            10 + size + footer
        }
        _ => 0,
    }
}

/// One ID3v2.4 frame whose header claims `claimed` bytes, followed by `body`.
fn id3_frame_claiming(id: &[u8; 4], claimed: [u8; 4], body: &[u8]) -> Vec<u8> {
    [id.as_slice(), &claimed, &[0, 0], body].concat()
}

/// One well-formed ID3v2.4 frame. Text frames start with an encoding byte: 0 Latin-1,
/// 1 UTF-16 with a byte order mark, 2 UTF-16BE, 3 UTF-8.
fn id3_frame(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    id3_frame_claiming(id, syncsafe(body.len()), body)
}

/// An ID3v2.4 tag holding `frames`.
fn id3_tag(frames: &[Vec<u8>]) -> Vec<u8> {
    let body = frames.concat();
    [b"ID3\x04\x00\x00".as_slice(), &syncsafe(body.len()), &body].concat()
}

/// The demo MP3's audio under a tag of our own instead of its own.
fn mp3_with_tag(tag: &[u8]) -> Result<Vec<u8>, Error> {
    let mp3 = demo(MP3)?;
    let audio = mp3
        .get(id3v2_len(&mp3)..)
        .ok_or("demo MP3 shorter than its tag")?;
    Ok([tag, audio].concat())
}

/// The demo FLAC with its metadata block of type `kind` (4 Vorbis comment, 6 picture)
/// replaced by one holding `body`, placed right after the stream info.
fn flac_with_block(kind: u8, body: &[u8]) -> Result<Vec<u8>, Error> {
    let flac = demo(FLAC)?;
    let mut blocks: Vec<(u8, &[u8])> = Vec::new();
    let mut at = 4;
    loop {
        let header = flac
            .get(at..at + 4)
            .ok_or("demo FLAC cut in its metadata")?;
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let data = flac
            .get(at + 4..at + 4 + len)
            .ok_or("demo FLAC cut in a block")?;
        if header[0] & 0x7f != kind {
            blocks.push((header[0] & 0x7f, data));
        }
        at += 4 + len;
        if header[0] & 0x80 != 0 {
            break;
        }
    }
    blocks.insert(1, (kind, body));
    let mut out = b"fLaC".to_vec();
    let last = blocks.len() - 1;
    for (i, (kind, data)) in blocks.into_iter().enumerate() {
        out.push(if i == last { kind | 0x80 } else { kind });
        out.extend_from_slice(&u32::try_from(data.len())?.to_be_bytes()[1..]);
        out.extend_from_slice(data);
    }
    out.extend_from_slice(&flac[at..]);
    Ok(out)
}

/// A Vorbis comment block: a vendor string, a count, then each comment with its length.
fn vorbis_comments(comments: &[&[u8]]) -> Vec<u8> {
    let mut out = [1u32.to_le_bytes().as_slice(), b"x"].concat();
    out.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for comment in comments {
        out.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        out.extend_from_slice(comment);
    }
    out
}

/// `len` bytes that start like a JPEG; nothing reads the picture, only its size matters.
fn fake_jpeg(len: usize) -> Vec<u8> {
    let mut data = vec![0xFF, 0xD8, 0xFF, 0xE0];
    data.resize(len, 0);
    data
}

// --- Files ---------------------------------------------------------------------------

#[test]
fn zero_byte_audio_files_are_reported() -> TestResult {
    // An empty file has no header at all, so "not audio" is as fair as "corrupt".
    const EMPTY: Expect = Expect::Problem(&[ProblemKind::NotAudio, ProblemKind::Corrupt]);
    let cases: Vec<Case> = ["flac", "mp3", "ogg", "opus", "m4a", "wav", "aiff", "aac"]
        .iter()
        .map(|ext| case(format!("empty.{ext}"), Vec::new(), EMPTY))
        .collect();
    check(&cases)
}

#[test]
fn files_cut_inside_the_header_are_reported_as_corrupt() -> TestResult {
    let mp3_tag = id3v2_len(&demo(MP3)?);
    let cuts: &[(&str, &[usize])] = &[
        // The magic alone, inside STREAMINFO, right after it, inside the Vorbis comment.
        ("FLAC", &[4, 20, 42, 1000]),
        // The ID3v2 header alone, inside the tag, the tag and half a frame header.
        ("MP3", &[10, 1000, mp3_tag + 2]),
        // Inside the identification, comment and setup headers.
        ("Ogg Vorbis", &[40, 200, 4000]),
        // The ftyp box header alone, inside ftyp, inside moov.
        ("M4A", &[8, 20, 10_000]),
        // RIFF/WAVE alone, inside the fmt chunk, inside the data chunk's header.
        ("WAV", &[12, 30, 40]),
    ];
    let mut cases = Vec::new();
    for &(format, ext, file) in FORMATS {
        let bytes = demo(file)?;
        let at = cuts
            .iter()
            .find(|(f, _)| *f == format)
            .map_or(&[][..], |(_, at)| *at);
        for &cut in at {
            let name = format!("{ext} cut at {cut}.{ext}");
            cases.push(case(
                name,
                bytes[..cut].to_vec(),
                Expect::Problem(&[ProblemKind::Corrupt]),
            ));
        }
    }
    check(&cases)
}

#[test]
fn files_cut_mid_stream_are_indexed_or_reported_as_corrupt() -> TestResult {
    let mut cases = Vec::new();
    for &(format, ext, file) in FORMATS {
        let bytes = demo(file)?;
        let n = bytes.len();
        for cut in [n / 3, n / 2, n - 1] {
            let name = format!("{ext} cut at {cut}.{ext}");
            cases.push(case(
                name,
                bytes[..cut].to_vec(),
                Expect::IndexedOrCorrupt(format),
            ));
        }
    }
    check(&cases)
}

#[test]
fn a_cut_at_any_byte_is_indexed_or_reported_never_lost() -> TestResult {
    // Every cut in the first bytes, where the parsers do the most work, then a spread.
    let mut cases = Vec::new();
    for &(_, ext, file) in FORMATS {
        let bytes = demo(file)?;
        let spread = (1..24).map(|i| bytes.len() * i / 24);
        for cut in (0..48).chain(spread) {
            cases.push(case(
                format!("{ext} {cut}.{ext}"),
                bytes[..cut].to_vec(),
                Expect::Accounted,
            ));
        }
    }
    check(&cases)
}

#[test]
fn a_wrong_extension_does_not_change_how_a_file_is_read() -> TestResult {
    let check_one = |name: &str, file: &str, format: &'static str, title: &'static str| {
        Ok::<_, Error>(case(
            name,
            demo(file)?,
            Expect::Indexed(format, Some(title)),
        ))
    };
    check(&[
        check_one("a flac.mp3", FLAC, "FLAC", "Aurora")?,
        check_one("an mp3.ogg", MP3, "MP3", "Driftwood")?,
        check_one("an ogg.flac", OGG, "Ogg Vorbis", "Saltwater")?,
        check_one("an m4a.mp3", M4A, "M4A", "Minuit")?,
        check_one("a wav.m4a", WAV, "WAV", "Velours")?,
        // An extension of a format Offbeat does not read, on a file it does read.
        check_one("an mp3.wma", MP3, "MP3", "Driftwood")?,
        check_one("a flac without extension", FLAC, "FLAC", "Aurora")?,
    ])
}

#[test]
fn absurd_frame_sizes_and_odd_fields_are_skipped_and_the_file_indexed() -> TestResult {
    let all_of_it = syncsafe(0x0FFF_FFFF); // 256 MB, in a tag of a few bytes
    check(&[
        case(
            "a frame longer than its tag.mp3",
            mp3_with_tag(&id3_tag(&[
                id3_frame(b"TIT2", b"\x03Still here"),
                id3_frame_claiming(b"TPE1", all_of_it, b"\x03Who"),
            ]))?,
            Expect::Indexed("MP3", Some("Still here")),
        ),
        case(
            "a first frame of 256 MB.mp3",
            mp3_with_tag(&id3_tag(&[id3_frame_claiming(
                b"TIT2", all_of_it, b"\x03Who",
            )]))?,
            Expect::Indexed("MP3", None),
        ),
        case(
            "a frame size that is not syncsafe.mp3",
            mp3_with_tag(&id3_tag(&[id3_frame_claiming(
                b"TIT2", [0xFF; 4], b"\x03Who",
            )]))?,
            Expect::Indexed("MP3", None),
        ),
        case(
            "an empty title frame.mp3",
            mp3_with_tag(&id3_tag(&[id3_frame(b"TIT2", b"")]))?,
            Expect::Indexed("MP3", Some("an empty title frame")),
        ),
        case(
            "comments without an equals sign.flac",
            flac_with_block(4, &vorbis_comments(&[b"TITLE", b"=", b""]))?,
            Expect::Indexed("FLAC", Some("comments without an equals sign")),
        ),
        case(
            "a Latin-1 title, invalid as UTF-8.flac",
            flac_with_block(4, &vorbis_comments(&[b"TITLE=Caf\xe9", b"ALBUM=Fine"]))?,
            Expect::Indexed("FLAC", None),
        ),
    ])
}

#[test]
fn garbage_in_a_tag_does_not_drop_a_playable_file() -> TestResult {
    // The audio after each of these tags is intact and plays; only a tag is broken, so the
    // file belongs in the library, under its file name if no title can be read.
    let mp3 = |frames: &[Vec<u8>]| mp3_with_tag(&id3_tag(frames));
    let playable = Expect::Indexed("MP3", None);
    let mut too_big = id3_tag(&[id3_frame(b"TIT2", b"\x03Hi")]);
    too_big[6..10].copy_from_slice(&syncsafe(0x0FFF_FFFF));
    let mut huge_count = vorbis_comments(&[b"TITLE=A"]);
    huge_count[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut huge_comment = vorbis_comments(&[b"TITLE=A"]);
    huge_comment[9..13].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    check(&[
        case(
            "invalid utf-8 title.mp3",
            mp3(&[id3_frame(b"TIT2", b"\x03Bad \xFF\xFE\xC3\x28 title")])?,
            playable,
        ),
        case(
            "utf-16 of odd length.mp3",
            mp3(&[id3_frame(b"TIT2", b"\x01\xFF\xFE\x00\xD8A\x00B")])?,
            playable,
        ),
        case(
            "utf-16 without a byte order mark.mp3",
            mp3(&[id3_frame(b"TIT2", b"\x01A\x00B\x00")])?,
            playable,
        ),
        case(
            "an unknown text encoding.mp3",
            mp3(&[id3_frame(b"TIT2", b"\x07Enc")])?,
            playable,
        ),
        case(
            "a vorbis comment count of 4 billion.flac",
            flac_with_block(4, &huge_count)?,
            Expect::Indexed("FLAC", None),
        ),
        case(
            "a vorbis comment of 4 GB.flac",
            flac_with_block(4, &huge_comment)?,
            Expect::Indexed("FLAC", None),
        ),
        // The tag claims to run past the end of the file, so no audio can be found after
        // it: corrupt, but certainly not "not an audio file".
        case(
            "a tag of 256 MB.mp3",
            mp3_with_tag(&too_big)?,
            Expect::IndexedOrCorrupt("MP3"),
        ),
    ])
}

#[test]
fn a_huge_embedded_picture_does_not_stop_indexing() -> TestResult {
    // 20 MB of cover in an ID3v2 APIC frame (encoding, MIME type, picture type, empty
    // description, data), and the largest picture a FLAC block can hold (just under 16 MB).
    let apic = [
        b"\x00image/jpeg\x00\x03\x00".as_slice(),
        &fake_jpeg(20 << 20),
    ]
    .concat();
    let flac_picture_len = (1 << 24) - 64;
    let mut flac_picture = Vec::new();
    for field in [3u32, 10] {
        flac_picture.extend_from_slice(&field.to_be_bytes());
    }
    flac_picture.extend_from_slice(b"image/jpeg");
    flac_picture.extend_from_slice(&[0; 20]); // no description; width, height, depth, colours
    flac_picture.extend_from_slice(&u32::try_from(flac_picture_len - 42)?.to_be_bytes());
    flac_picture.extend_from_slice(&fake_jpeg(flac_picture_len - 42));
    check(&[
        case(
            "a 20 MB cover.mp3",
            mp3_with_tag(&id3_tag(&[
                id3_frame(b"TIT2", b"\x03Big cover"),
                id3_frame(b"APIC", &apic),
            ]))?,
            Expect::Indexed("MP3", Some("Big cover")),
        ),
        case(
            "a 16 MB cover.flac",
            flac_with_block(6, &flac_picture)?,
            Expect::Indexed("FLAC", Some("Aurora")),
        ),
    ])
}

// --- Names ---------------------------------------------------------------------------

#[test]
fn a_non_utf8_file_name_is_indexed_under_a_lossy_path() -> TestResult {
    let music = Music::new()?;
    let name = Path::new(OsStr::from_bytes(b"bad/\xFF folder/caf\xE9.flac"));
    let real = music.write(name, &demo(FLAC)?)?;
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&music.root)?;
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let tracks = library.tracks()?;
    music.assert_demo_indexed(&tracks)?;

    // `Track.path` is a `String`, so the scanner stores the path lossily: each byte that is
    // not UTF-8 becomes U+FFFD. The track is listed, with its tags, but its path names no
    // file on disk, so handing it to the player fails.
    let lossy = music.root.join("bad/\u{FFFD} folder/caf\u{FFFD}.flac");
    let track = tracks
        .iter()
        .find(|t| Path::new(&t.path) == lossy)
        .ok_or_else(|| format!("{} not indexed: {tracks:?}", real.display()))?;
    assert_eq!(track.title, "Aurora");
    assert_eq!(track.path, real.to_string_lossy());

    // The lossy path is also the key a rescan matches on, so the file stays unchanged.
    let again = library.scan_folder(&music.root)?;
    assert_eq!(
        (again.added, again.updated, again.removed),
        (0, 0, 0),
        "{again:?}"
    );
    assert_eq!(library.tracks()?, tracks);
    Ok(())
}

#[test]
fn non_utf8_names_differing_only_in_invalid_bytes_are_all_indexed() -> TestResult {
    // Both names become "caf\u{FFFD}.flac" when made lossy.
    let music = Music::new()?;
    let flac = demo(FLAC)?;
    let a = music.write(Path::new(OsStr::from_bytes(b"bad/caf\xE9.flac")), &flac)?;
    let b = music.write(Path::new(OsStr::from_bytes(b"bad/caf\xE8.flac")), &flac)?;
    let mut library = Library::open_in_memory()?;
    let report = library
        .scan_folder(&music.root)
        .map_err(|e| format!("the scan of {a:?} and {b:?} failed: {e:?}"))?;
    let tracks = library.tracks()?;
    music.assert_demo_indexed(&tracks)?;
    let auroras = tracks.iter().filter(|t| t.path.contains("/bad/")).count();
    assert_eq!(
        auroras + report.problems.len(),
        2,
        "{tracks:?} {:?}",
        report.problems
    );
    Ok(())
}

// --- Folders -------------------------------------------------------------------------

/// Gives a folder its permissions back when dropped, so a failed test can still clean up.
struct Locked(PathBuf);

impl Drop for Locked {
    fn drop(&mut self) {
        // Nothing more can be done here if this fails; the temporary folder stays behind.
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}

#[test]
fn an_unreadable_folder_is_reported_and_the_rest_indexed() -> TestResult {
    let music = Music::new()?;
    let file = music.write(Path::new("locked/inside.flac"), &demo(FLAC)?)?;
    let locked = music.root.join("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))?;
    let guard = Locked(locked.clone());
    // Root (as in CI containers) reads any folder; then only the scan finishing is observable.
    let enforced = std::fs::read_dir(&locked).is_err();

    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&music.root)?;
    let tracks = library.tracks()?;
    music.assert_demo_indexed(&tracks)?;
    let file = file.to_string_lossy();
    if enforced {
        let problem = report
            .problems
            .iter()
            .find(|p| p.path == locked.to_string_lossy())
            .ok_or_else(|| format!("locked folder not reported: {:?}", report.problems))?;
        assert_eq!(problem.kind, ProblemKind::PermissionDenied);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(tracks.iter().all(|t| t.path != file));
    } else {
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(tracks.iter().any(|t| t.path == file));
    }

    // Unlocked, the folder's file is indexed and the problem is gone.
    drop(guard);
    let again = library.scan_folder(&music.root)?;
    assert!(again.problems.is_empty(), "{:?}", again.problems);
    assert!(library.problems()?.is_empty());
    assert!(library.tracks()?.iter().any(|t| t.path == file));
    Ok(())
}

/// Makes symlink loops under `bad/`: to the folder itself, to its parent, to the root.
fn symlink_loops(music: &Music) -> Result<Vec<PathBuf>, Error> {
    music.write(Path::new("bad/deep/inside.flac"), &demo(FLAC)?)?;
    let deep = music.root.join("bad/deep");
    let links = [
        ("self", PathBuf::from(".")),
        ("up", PathBuf::from("..")),
        ("top", music.root.clone()),
    ];
    for (name, target) in &links {
        std::os::unix::fs::symlink(target, deep.join(name))?;
    }
    Ok(links.iter().map(|(name, _)| deep.join(name)).collect())
}

#[test]
fn symlink_loops_neither_hang_nor_index_a_file_twice() -> TestResult {
    let music = Music::new()?;
    symlink_loops(&music)?;
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&music.root)?;
    let tracks = library.tracks()?;
    music.assert_demo_indexed(&tracks)?;
    let paths: Vec<&str> = tracks.iter().map(|t| t.path.as_str()).collect();
    let inside = music.root.join("bad/deep/inside.flac");
    assert_eq!(tracks.len(), manifest()?.len() + 1, "{paths:#?}");
    assert!(
        paths.contains(&inside.to_string_lossy().as_ref()),
        "{paths:#?}"
    );
    assert_eq!(report.added as usize, tracks.len());
    let again = library.scan_folder(&music.root)?;
    assert_eq!((again.added, again.removed), (0, 0), "{again:?}");
    Ok(())
}

#[test]
fn a_symlink_loop_is_not_reported_as_a_corrupt_file() -> TestResult {
    // A loop is a shortcut back into folders already scanned: nothing is wrong with any
    // file, and none of the problem kinds (corrupt, unsupported, permission denied, not
    // audio) describes it, so the scanner should pass over it quietly.
    let music = Music::new()?;
    let links = symlink_loops(&music)?;
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&music.root)?;
    let about_links: Vec<&ScanProblem> = report
        .problems
        .iter()
        .filter(|p| links.iter().any(|l| Path::new(&p.path) == l))
        .collect();
    assert!(about_links.is_empty(), "{about_links:#?}");
    Ok(())
}

#[test]
fn a_dangling_symlink_does_not_stop_the_scan() -> TestResult {
    let music = Music::new()?;
    std::fs::create_dir_all(music.root.join("bad"))?;
    let link = music.root.join("bad/gone.flac");
    std::os::unix::fs::symlink("nowhere.flac", &link)?;
    let mut library = Library::open_in_memory()?;
    let report = library.scan_folder(&music.root)?;
    music.assert_demo_indexed(&library.tracks()?)?;
    // Reporting it (it looks like a song the user expects to hear) or skipping it are both fine.
    assert!(
        report.problems.iter().all(|p| Path::new(&p.path) == link),
        "{:?}",
        report.problems
    );
    Ok(())
}

#[cfg(target_os = "linux")]
#[test]
fn a_named_pipe_with_an_audio_name_is_skipped_not_waited_on() -> TestResult {
    use std::os::unix::fs::OpenOptionsExt;
    /// `O_NONBLOCK` on Linux: opening a pipe's write end then fails unless it has a reader.
    const O_NONBLOCK: i32 = 0o4000;

    let music = Music::new()?;
    std::fs::create_dir_all(music.root.join("bad"))?;
    let fifo = music.root.join("bad/stream.mp3");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return Ok(()); // no mkfifo here: nothing to observe
    }
    // A scanner that opened the pipe would wait for a writer forever. This thread plays
    // that writer the moment a reader appears, which lets such a scan go on, and notes it.
    let done = AtomicBool::new(false);
    let opened = AtomicBool::new(false);
    let mut library = Library::open_in_memory()?;
    let report = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let writer = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(O_NONBLOCK)
                    .open(&fifo);
                if writer.is_ok() {
                    opened.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let report = library.scan_folder(&music.root);
        done.store(true, Ordering::SeqCst);
        report
    })?;
    assert!(
        !opened.load(Ordering::SeqCst),
        "the scanner opened a named pipe"
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    music.assert_demo_indexed(&library.tracks()?)?;
    Ok(())
}

/// Fills `folder` with `folders` subfolders of `per_folder` hard links to copies of the
/// demo files (kept in `store`, outside the scanned folder), and returns the files made.
fn many_files(
    store: &Path,
    folder: &Path,
    folders: usize,
    per_folder: usize,
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(store)?;
    let mut sources = Vec::new();
    for (i, (relative, _)) in manifest()?.iter().enumerate() {
        let ext = Path::new(relative)
            .extension()
            .unwrap_or_default()
            .to_string_lossy();
        let source = store.join(format!("{i}.{ext}"));
        std::fs::copy(demo_dir().join(relative), &source)?;
        sources.push((source, ext.into_owned()));
    }
    let mut made = Vec::new();
    for f in 0..folders {
        let sub = folder.join(format!("folder {f:02}"));
        std::fs::create_dir_all(&sub)?;
        for i in 0..per_folder {
            let (source, ext) = &sources[(f * per_folder + i) % sources.len()];
            let file = sub.join(format!("{i:04}.{ext}"));
            std::fs::hard_link(source, &file)?;
            made.push(file);
        }
    }
    made.sort();
    Ok(made)
}

fn track_paths(library: &Library) -> Result<Vec<PathBuf>, Error> {
    let mut paths: Vec<PathBuf> = library
        .tracks()?
        .into_iter()
        .map(|t| PathBuf::from(t.path))
        .collect();
    paths.sort();
    Ok(paths)
}

#[test]
fn a_folder_removed_between_scans_takes_its_tracks_with_it() -> TestResult {
    let music = Music::new()?;
    let store = tempfile::tempdir()?;
    let files = many_files(store.path(), &music.root.join("more"), 3, 10)?;
    let mut library = Library::open_in_memory()?;
    let first = library.scan_folder(&music.root)?;
    assert_eq!(first.added as usize, manifest()?.len() + files.len());

    std::fs::remove_dir_all(music.root.join("more/folder 01"))?;
    std::fs::remove_dir_all(music.root.join("good/The Lanterns"))?;
    let report = library.scan_folder(&music.root)?;
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.removed, 10 + 3, "{report:?}");
    let kept: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| !f.starts_with(music.root.join("more/folder 01")))
        .collect();
    let indexed = track_paths(&library)?;
    assert_eq!(
        indexed
            .iter()
            .filter(|p| p.starts_with(music.root.join("more")))
            .count(),
        kept.len()
    );
    assert!(kept.iter().all(|f| indexed.contains(f)));
    assert!(indexed.iter().all(|p| p.exists()), "{indexed:#?}");
    // Removed tracks leave the search index too: the copies under `more/` are all it finds.
    let hits = library.search("lanterns", 1000)?;
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|t| Path::new(&t.path).exists()),
        "{hits:#?}"
    );
    Ok(())
}

/// A scan of twelve folders of a hundred files during which the last folder is removed.
struct RemovedDuringScan {
    _dir: tempfile::TempDir,
    music: PathBuf,
    library: Library,
    report: offbeat_model::ScanReport,
    files: Vec<PathBuf>,
    doomed: PathBuf,
    /// False if the scan ended before the remover got to it (then nothing raced).
    raced: bool,
}

fn scan_while_removing_a_folder() -> Result<RemovedDuringScan, Error> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().canonicalize()?;
    let music = root.join("music");
    let files = many_files(&root.join("store"), &music, 12, 100)?;
    // The scanner goes in name order, so this folder is read last. It is removed as soon
    // as the first tracks are written, which is while the scan is still running.
    let doomed = music.join("folder 11");
    let db = root.join("library.db");
    let mut library = Library::open(&db)?;

    let scanning = AtomicBool::new(true);
    let (report, raced) = std::thread::scope(|scope| {
        let remover = scope.spawn(|| -> Result<bool, String> {
            let watcher = Library::open(&db).map_err(|e| e.to_string())?;
            while scanning.load(Ordering::SeqCst)
                && watcher.track_count().map_err(|e| e.to_string())? == 0
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            let raced = scanning.load(Ordering::SeqCst);
            std::fs::remove_dir_all(&doomed).map_err(|e| e.to_string())?;
            Ok(raced)
        });
        let report = library.scan_folder(&music);
        scanning.store(false, Ordering::SeqCst);
        (report, remover.join())
    });
    Ok(RemovedDuringScan {
        report: report?,
        raced: raced.map_err(|_| "the remover panicked")??,
        _dir: dir,
        music,
        library,
        files,
        doomed,
    })
}

#[test]
fn a_folder_removed_during_a_scan_costs_nothing_else() -> TestResult {
    let RemovedDuringScan {
        music,
        mut library,
        report,
        files,
        doomed,
        raced,
        _dir, // bound, not ignored, so the folder lives to the end of the test
    } = scan_while_removing_a_folder()?;

    // Whatever the timing, everything outside the removed folder is indexed once, and
    // nothing outside it is reported.
    let survivors: Vec<PathBuf> = files
        .iter()
        .filter(|f| !f.starts_with(&doomed))
        .cloned()
        .collect();
    let indexed = track_paths(&library)?;
    let missing: Vec<_> = survivors.iter().filter(|f| !indexed.contains(f)).collect();
    assert!(
        missing.is_empty(),
        "{} survivors not indexed: {missing:?}",
        missing.len()
    );
    let mut deduped = indexed.clone();
    deduped.dedup();
    assert_eq!(deduped.len(), indexed.len(), "a file was indexed twice");
    let elsewhere: Vec<_> = report
        .problems
        .iter()
        .filter(|p| !Path::new(&p.path).starts_with(&doomed))
        .collect();
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
    let doomed_indexed = indexed.iter().filter(|p| p.starts_with(&doomed)).count();
    if !raced {
        assert_eq!(
            doomed_indexed,
            files.len() - survivors.len(),
            "removed only after the scan"
        );
    }

    // The next scan settles it: exactly the files on disk, and no problems.
    let again = library.scan_folder(&music)?;
    assert!(again.problems.is_empty(), "{:?}", again.problems);
    assert!(library.problems()?.is_empty());
    assert_eq!(again.removed as usize, doomed_indexed);
    assert_eq!(track_paths(&library)?, survivors);
    Ok(())
}

#[test]
fn files_that_vanish_during_a_scan_are_not_reported_as_corrupt() -> TestResult {
    // A file removed between being listed and being read is simply gone, as if the scan
    // had started a moment later. It is not a broken file the user should go and fix.
    let RemovedDuringScan { report, .. } = scan_while_removing_a_folder()?;
    let corrupt: Vec<&ScanProblem> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Corrupt)
        .collect();
    assert!(
        corrupt.is_empty(),
        "{} vanished files reported as corrupt, e.g. {:?}",
        corrupt.len(),
        corrupt.first()
    );
    Ok(())
}

// --- A scanner killed mid-scan ---------------------------------------------------------

/// Set for the child process of the kill test: the database path and the folder to scan,
/// on two lines.
const CHILD_ENV: &str = "OFFBEAT_BAD_INPUT_SCAN_CHILD";

/// The child of [`a_scan_killed_mid_way_leaves_a_database_that_opens_and_finishes`]: this
/// test binary runs itself again with only this test selected and [`CHILD_ENV`] set. In
/// an ordinary run the variable is unset and this test passes at once.
#[test]
fn scan_child_process() -> TestResult {
    let Some(job) = std::env::var_os(CHILD_ENV) else {
        return Ok(());
    };
    let job = job.into_string().map_err(|_| "child job is not UTF-8")?;
    let (db, folder) = job.split_once('\n').ok_or("child job without a folder")?;
    let mut library = Library::open(Path::new(db))?;
    library.scan_folder(Path::new(folder))?;
    Ok(())
}

#[test]
fn a_scan_killed_mid_way_leaves_a_database_that_opens_and_finishes() -> TestResult {
    use std::os::unix::process::ExitStatusExt;

    let dir = tempfile::tempdir()?;
    let root = dir.path().canonicalize()?;
    let music = root.join("music");
    // Enough files that the scan outlasts its first commit (a batch closes after 0.5 s).
    let files = many_files(&root.join("store"), &music, 40, 250)?;
    let db = root.join("library.db");
    // Created and migrated before the child and the watcher share it.
    drop(Library::open(&db)?);

    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "scan_child_process",
            "--exact",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CHILD_ENV, format!("{}\n{}", db.display(), music.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let watcher = Library::open(&db)?;
    let seen = loop {
        let count = watcher.track_count()?;
        if count > 0 {
            child.kill()?; // SIGKILL: no destructor, no rollback, no checkpoint
            break count;
        }
        if let Some(status) = child.try_wait()? {
            return Err(
                format!("the child ended ({status}) before any tracks were written").into(),
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let status = child.wait()?;
    assert_eq!(
        status.signal(),
        Some(9),
        "the child finished before it was killed: {status}"
    );
    assert!(
        (seen as usize) < files.len(),
        "the scan was over before the kill"
    );
    drop(watcher);

    let mut library = Library::open(&db)?;
    assert_eq!(library.journal_mode()?, "wal");
    let kept = library.track_count()?;
    assert!(kept >= seen, "committed tracks were lost: {kept} < {seen}");
    let before = track_paths(&library)?;
    let mut deduped = before.clone();
    deduped.dedup();
    assert_eq!(deduped, before, "a file is indexed twice after the crash");

    let report = library.scan_folder(&music)?;
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        report.unchanged, kept,
        "what was written before the kill is kept"
    );
    assert_eq!(
        (report.added + report.unchanged) as usize,
        files.len(),
        "{report:?}"
    );
    assert_eq!(
        track_paths(&library)?,
        files,
        "every file is indexed exactly once"
    );
    assert_eq!(library.track_count()? as usize, files.len());
    // The search index agrees with the tracks: one entry each, none missing.
    let tracks = library.tracks()?;
    for title in [
        "Driftwood",
        "Undertow",
        "Saltwater",
        "Minuit",
        "Velours",
        "Snowfield",
    ] {
        let expected = tracks.iter().filter(|t| t.title == title).count();
        assert_eq!(library.search(title, 10_000)?.len(), expected, "{title}");
    }
    Ok(())
}
