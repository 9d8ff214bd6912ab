//! The engine driven through its public API into a capture output, on the demo library.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use offbeat_playback::{
    AudioOutput, CaptureHandle, CaptureOutput, Command, Decoder, Engine, Event, QueueTrack,
    ReplayGainTags,
};
use serde_json::Value;

mod common;
use common::{wait_for, TestResult};

struct DemoTrack {
    path: PathBuf,
    format: String,
    duration_ms: u64,
    drone_hz: f64,
}

fn demo_tracks() -> Result<Vec<DemoTrack>, Box<dyn std::error::Error>> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo");
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(demo.join("manifest.json"))?)?;
    Ok(manifest
        .iter()
        .map(|t| DemoTrack {
            path: demo.join(t["path"].as_str().unwrap_or_default()),
            format: t["format"].as_str().unwrap_or_default().to_owned(),
            duration_ms: t["duration_ms"].as_u64().unwrap_or_default(),
            drone_hz: t["drone_hz"].as_f64().unwrap_or_default(),
        })
        .collect())
}

fn demo(format: &str) -> Result<DemoTrack, Box<dyn std::error::Error>> {
    demo_tracks()?
        .into_iter()
        .find(|t| t.format == format)
        .ok_or_else(|| format!("no {format} in the demo library").into())
}

/// Energy of `freq` in a mono signal (Goertzel).
fn tone_energy(mono: &[f32], rate: u32, freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in mono {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / mono.len().max(1) as f64
}

fn mono(samples: &[f32], channels: u16) -> Vec<f32> {
    samples
        .chunks(channels as usize)
        .map(|f| f.iter().sum::<f32>() / f32::from(channels))
        .collect()
}

/// The drone among all demo drones that is strongest in `mono`.
fn strongest_drone(mono: &[f32], rate: u32) -> Result<f64, Box<dyn std::error::Error>> {
    let drones: Vec<f64> = demo_tracks()?.iter().map(|t| t.drone_hz).collect();
    drones
        .into_iter()
        .map(|f| (f, tone_energy(mono, rate, f)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(f, _)| f)
        .ok_or_else(|| "no drones".into())
}

fn engine(speed: f64) -> Result<(Engine, CaptureHandle), Box<dyn std::error::Error>> {
    let (output, handle) = CaptureOutput::new(speed);
    let engine = Engine::spawn(move || Ok(Box::new(output) as Box<dyn AudioOutput>))?;
    Ok((engine, handle))
}

fn non_silent(samples: &[f32]) -> usize {
    samples.iter().filter(|s| s.abs() > 1e-4).count()
}

#[test]
fn every_demo_format_decodes_to_its_own_audio() -> TestResult {
    for track in demo_tracks()? {
        let mut decoder = Decoder::open(&track.path)?;
        let format = decoder.format();
        let mut all = Vec::new();
        let mut chunk = Vec::new();
        while decoder.next_chunk(&mut chunk)? {
            all.extend_from_slice(&chunk);
        }
        let frames = all.len() as u64 / u64::from(format.channels);
        let decoded_ms = frames * 1000 / u64::from(format.sample_rate);
        assert!(
            decoded_ms.abs_diff(track.duration_ms) < 100,
            "{}: decoded {decoded_ms} ms, expected {}",
            track.format,
            track.duration_ms
        );
        let strongest = strongest_drone(&mono(&all, format.channels), format.sample_rate)?;
        assert_eq!(
            strongest, track.drone_hz,
            "{} sounds like another track",
            track.format
        );
    }
    Ok(())
}

/// Every format the library scans plays: the formats the demo lacks, from the tag-test
/// fixtures (one-second tones at 220 Hz times their track number), played through the
/// engine to the end. Music of more than two channels plays as stereo, each channel mixed
/// in: the 5.1 fixture's tone is in its centre channel only, which must reach both sides.
#[test]
fn the_formats_beyond_the_demo_play_too() -> TestResult {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures");
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("manifest.json"))?)?;
    for entry in &manifest {
        let path = fixtures.join(entry["path"].as_str().unwrap_or_default());
        let format = entry["format"].as_str().unwrap_or_default();
        let tone = 220.0 * entry["track_number"].as_f64().unwrap_or(1.0);
        let (engine, capture) = engine(f64::INFINITY)?;
        engine.send(Command::Play(path.clone()))?;
        wait_for(&engine, |e| matches!(e, Event::TrackEnded { .. }))?;
        let captured = capture.snapshot();
        let stream = captured.streams.first().ok_or("nothing played")?;
        let played = mono(&stream.samples, stream.format.channels);
        let played_ms = played.len() as u64 * 1000 / u64::from(stream.format.sample_rate);
        let expected_ms = entry["duration_ms"].as_u64().unwrap_or(1000);
        assert!(
            played_ms.abs_diff(expected_ms) <= 60,
            "{format}: played {played_ms} ms of {expected_ms}"
        );
        let channels = entry["channels"].as_u64().unwrap_or(2);
        assert_eq!(
            u64::from(stream.format.channels),
            channels.min(2),
            "{format}, {channels} channels: played in another channel count"
        );
        for side in 0..usize::from(stream.format.channels) {
            let one: Vec<f32> = stream
                .samples
                .iter()
                .skip(side)
                .step_by(usize::from(stream.format.channels))
                .copied()
                .collect();
            let at_tone = tone_energy(&one, stream.format.sample_rate, tone);
            let off_tone = tone_energy(&one, stream.format.sample_rate, tone * 1.5);
            assert!(
                at_tone > 100.0 * off_tone && at_tone > 1e-3,
                "{format}, {channels} channels: the {tone} Hz tone is not what played in channel {side}"
            );
        }
    }
    Ok(())
}

#[test]
fn play_runs_to_the_end_and_reports_it() -> TestResult {
    let track = demo("Ogg Vorbis")?;
    let (engine, capture) = engine(f64::INFINITY)?;
    engine.send(Command::Play(track.path.clone()))?;
    let (started, _) = wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    let Event::TrackStarted {
        path, duration_ms, ..
    } = started
    else {
        unreachable!()
    };
    assert_eq!(path, track.path);
    assert!(
        duration_ms.is_some_and(|d| d.abs_diff(track.duration_ms) < 5),
        "{duration_ms:?}"
    );
    let (ended, before) = wait_for(&engine, |e| matches!(e, Event::TrackEnded { .. }))?;
    assert_eq!(
        ended,
        Event::TrackEnded {
            path: track.path.clone()
        }
    );
    let last_position = before.iter().rev().find_map(|e| match e {
        Event::Position { position_ms } => Some(*position_ms),
        _ => None,
    });
    assert!(
        last_position.is_some_and(|p| p.abs_diff(track.duration_ms) < 100),
        "{last_position:?}"
    );

    let captured = capture.snapshot();
    let stream = captured.streams.first().ok_or("nothing captured")?;
    let frames = stream.samples.len() as u64 / u64::from(stream.format.channels);
    assert!(frames * 1000 / u64::from(stream.format.sample_rate) >= track.duration_ms - 50);
    assert_eq!(
        strongest_drone(
            &mono(&stream.samples, stream.format.channels),
            stream.format.sample_rate
        )?,
        track.drone_hz
    );
    Ok(())
}

#[test]
fn pause_holds_the_position_and_resume_continues() -> TestResult {
    let track = demo("FLAC")?;
    let (engine, capture) = engine(1.0)?;
    engine.send(Command::Play(track.path.clone()))?;
    wait_for(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms >= 400),
    )?;
    engine.send(Command::Pause)?;
    let (paused, _) = wait_for(&engine, |e| matches!(e, Event::Paused { .. }))?;
    let Event::Paused {
        position_ms: paused_at,
    } = paused
    else {
        unreachable!()
    };
    let sound_at_pause = non_silent(&capture.snapshot().streams[0].samples);

    std::thread::sleep(Duration::from_millis(400));
    let sound_later = non_silent(&capture.snapshot().streams[0].samples);
    assert_eq!(sound_later, sound_at_pause, "no audio plays while paused");

    engine.send(Command::Resume)?;
    let (resumed, _) = wait_for(&engine, |e| matches!(e, Event::Resumed { .. }))?;
    assert_eq!(
        resumed,
        Event::Resumed {
            position_ms: paused_at
        },
        "resume continues where it paused"
    );
    wait_for(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms > paused_at + 100),
    )?;
    assert!(non_silent(&capture.snapshot().streams[0].samples) > sound_at_pause);
    Ok(())
}

#[test]
fn seek_lands_within_10_ms_of_the_target_in_every_format() -> TestResult {
    let mut tracks = demo_tracks()?;
    // The demo has no Opus: 12 s of one of its tracks, encoded by assets/generate-gapless.sh.
    tracks.push(DemoTrack {
        path: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../assets/fixtures/gapless/velours-12s.opus"),
        format: "Opus".into(),
        duration_ms: 12_000,
        drone_hz: 392.0,
    });
    for track in tracks {
        let (engine, capture) = engine(1.0)?;
        engine.send(Command::Play(track.path.clone()))?;
        wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
        engine.send(Command::Pause)?;
        wait_for(&engine, |e| matches!(e, Event::Paused { .. }))?;
        let target = 10_000;
        engine.send(Command::Seek(target))?;
        let (event, _) = wait_for(&engine, |e| matches!(e, Event::Position { .. }))?;
        let Event::Position { position_ms } = event else {
            unreachable!()
        };
        assert!(
            position_ms.abs_diff(target) <= 10,
            "{}: reported {position_ms}",
            track.format
        );

        // The audio itself must come from the target: find where the first 50 ms played
        // after the seek sit in a full decode of the file.
        engine.send(Command::Resume)?;
        wait_for(
            &engine,
            |e| matches!(e, Event::Position { position_ms } if *position_ms > target + 150),
        )?;
        engine.send(Command::Stop)?;
        wait_for(&engine, |e| *e == Event::Stopped)?;
        let captured = capture.snapshot();
        let after_seek = captured.streams.last().ok_or("no stream after seek")?;
        let found_ms = locate(&track.path, &after_seek.samples, target)?;
        assert!(
            found_ms.abs_diff(target) <= 10,
            "{}: audio after seek starts at {found_ms} ms",
            track.format
        );
    }
    Ok(())
}

/// Where (in ms) `played` starts within the fully decoded file, searched near `near_ms`.
fn locate(path: &Path, played: &[f32], near_ms: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let mut decoder = Decoder::open(path)?;
    let format = decoder.format();
    let channels = usize::from(format.channels);
    let mut all = Vec::new();
    let mut chunk = Vec::new();
    while decoder.next_chunk(&mut chunk)? {
        all.extend_from_slice(&chunk);
    }
    let rate = u64::from(format.sample_rate);
    let window = (rate as usize / 20) * channels; // 50 ms
                                                  // The stream starts with the silence played while paused (the seek was made paused):
                                                  // the audio after the seek is what follows it.
    let first = played.iter().position(|s| s.abs() > 1e-4).unwrap_or(0) / channels * channels;
    let probe = played
        .get(first..first + window)
        .ok_or("too little audio after the seek")?;
    let centre = (near_ms * rate / 1000) as usize;
    let reach = (rate / 5) as usize; // search ±200 ms
    let mut best = (f64::MAX, 0usize);
    for frame in centre.saturating_sub(reach)..centre + reach {
        let start = frame * channels;
        let Some(candidate) = all.get(start..start + window) else {
            break;
        };
        let error: f64 = candidate
            .iter()
            .zip(probe)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        if error < best.0 {
            best = (error, frame);
        }
    }
    Ok(best.1 as u64 * 1000 / rate)
}

#[test]
fn stop_ends_the_stream() -> TestResult {
    let track = demo("MP3")?;
    let (engine, capture) = engine(1.0)?;
    engine.send(Command::Play(track.path))?;
    wait_for(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms >= 200),
    )?;
    engine.send(Command::Stop)?;
    wait_for(&engine, |e| *e == Event::Stopped)?;
    let at_stop = capture.snapshot().streams[0].samples.len();
    std::thread::sleep(Duration::from_millis(300));
    let captured = capture.snapshot();
    let stream = &captured.streams[0];
    assert_eq!(stream.samples.len(), at_stop, "nothing plays after stop");
    let played_ms = stream.samples.len() as u64 * 1000
        / u64::from(stream.format.sample_rate)
        / u64::from(stream.format.channels);
    assert!(
        played_ms < track.duration_ms / 2,
        "stopped early, not played out ({played_ms} ms)"
    );
    Ok(())
}

#[test]
fn volume_scales_the_output() -> TestResult {
    let track = demo("WAV")?;
    let peak = |volume: f32| -> Result<f32, Box<dyn std::error::Error>> {
        let (engine, capture) = engine(f64::INFINITY)?;
        engine.send(Command::SetVolume(volume))?;
        engine.send(Command::Play(track.path.clone()))?;
        wait_for(&engine, |e| matches!(e, Event::TrackEnded { .. }))?;
        Ok(capture.snapshot().streams[0]
            .samples
            .iter()
            .fold(0.0f32, |m, s| m.max(s.abs())))
    };
    let (full, half) = (peak(1.0)?, peak(0.5)?);
    assert!(full > 0.1);
    assert!(
        (half / full - offbeat_playback::gain(0.5)).abs() < 0.01,
        "{half} vs {full}"
    );
    Ok(())
}

#[test]
fn a_truncated_file_gives_an_error_event_not_a_panic() -> TestResult {
    let dir = tempfile::tempdir()?;
    let track = demo("FLAC")?;
    let bytes = std::fs::read(&track.path)?;
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 5])?;

    let (engine, _capture) = engine(f64::INFINITY)?;
    engine.send(Command::Play(cut.clone()))?;
    let (event, _) = wait_for(&engine, |e| {
        matches!(e, Event::Error { .. } | Event::TrackEnded { .. })
    })?;
    let Event::Error { path, message } = event else {
        return Err(format!("a truncated file played to a normal end: {event:?}").into());
    };
    assert_eq!(path, Some(cut));
    assert!(message.contains("truncated"), "{message}");

    // The engine carries on: the next file plays.
    engine.send(Command::Play(track.path))?;
    wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    Ok(())
}

#[test]
fn garbage_and_missing_files_give_error_events() -> TestResult {
    let dir = tempfile::tempdir()?;
    let garbage = dir.path().join("noise.mp3");
    std::fs::write(
        &garbage,
        (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<_>>(),
    )?;
    let (engine, _capture) = engine(f64::INFINITY)?;
    for path in [garbage, dir.path().join("missing.flac")] {
        engine.send(Command::Play(path.clone()))?;
        let (event, _) = wait_for(&engine, |e| {
            matches!(e, Event::Error { .. } | Event::TrackStarted { .. })
        })?;
        match event {
            Event::Error { path: p, message } => {
                assert_eq!(p, Some(path));
                assert!(!message.is_empty());
            }
            other => return Err(format!("{} started playing: {other:?}", path.display()).into()),
        }
    }
    Ok(())
}

#[test]
fn a_header_with_a_sample_rate_of_zero_is_an_error_and_the_engine_goes_on() -> TestResult {
    let dir = tempfile::tempdir()?;
    let broken = dir.path().join("zero-rate.wav");
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36u32 + 8_000).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    // PCM, stereo, a sample rate of 0 (the byte rate says otherwise), 16-bit.
    for field in [16u32, 0x0002_0001, 0, 176_400, 0x0010_0004] {
        wav.extend_from_slice(&field.to_le_bytes());
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&8_000u32.to_le_bytes());
    wav.extend(std::iter::repeat_n(0x11u8, 8_000));
    std::fs::write(&broken, wav)?;
    assert!(Decoder::open(&broken).is_err());

    let (engine, _capture) = engine(f64::INFINITY)?;
    engine.send(Command::Play(broken.clone()))?;
    let (event, _) = wait_for(&engine, |e| {
        matches!(e, Event::Error { .. } | Event::TrackStarted { .. })
    })?;
    assert!(
        matches!(&event, Event::Error { path: Some(p), .. } if *p == broken),
        "{event:?}"
    );
    // Still there: the next file plays.
    engine.send(Command::Play(demo("FLAC")?.path))?;
    wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    Ok(())
}

/// `fixtures/gapless/sine-a.mp3` without its encoder header frame (what LAME writes
/// first: the exact length, delay and padding), and with `tail` after the last frame.
fn mp3_without_its_encoder_header(tail: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/gapless/sine-a.mp3"),
    )?;
    // The ID3v2 tag first: ten bytes of header, then its size in 7-bit bytes.
    let tag = 10
        + bytes[6..10]
            .iter()
            .fold(0usize, |n, b| (n << 7) | usize::from(b & 0x7f));
    let header = &bytes[tag..tag + 4];
    if header[0] != 0xff
        || !bytes[tag..]
            .windows(4)
            .take(64)
            .any(|w| w == b"Info" || w == b"Xing")
    {
        return Err("the fixture's first frame is not an encoder header".into());
    }
    // MPEG-1 Layer III: 144 * bit rate / sample rate, plus the padding byte.
    const KBPS: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const RATES: [usize; 3] = [44_100, 48_000, 32_000];
    let kbps = KBPS[usize::from(header[2] >> 4)];
    let rate = RATES[usize::from((header[2] >> 2) & 3)];
    let frame = 144_000 * kbps / rate + usize::from((header[2] >> 1) & 1);
    let mut out = bytes[..tag].to_vec();
    out.extend_from_slice(&bytes[tag + frame..]);
    out.extend_from_slice(tail);
    Ok(out)
}

#[test]
fn an_mp3_whose_length_is_only_estimated_ends_without_a_truncation_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    // A tag after the music (an APE tag, say): the estimate from the file's size is long.
    let path = dir.path().join("no-header.mp3");
    std::fs::write(&path, mp3_without_its_encoder_header(&vec![0u8; 300_000])?)?;
    let samples = decode_all(&path)?;
    assert!(samples.len() > 30_000, "{} samples", samples.len());
    Ok(())
}

#[test]
fn an_mp3_behind_a_tag_of_megabytes_plays() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mp3 =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/gapless/sine-a.mp3");
    // An ID3v2.4 tag of 2 MB (cover art, as store downloads carry) before the file's own.
    let size = 2_000_000u32;
    let mut bytes = b"ID3\x04\x00\x00".to_vec();
    bytes.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7f) as u8));
    bytes.extend(std::iter::repeat_n(0u8, size as usize));
    bytes.extend(std::fs::read(&mp3)?);
    let path = dir.path().join("big-tag.mp3");
    std::fs::write(&path, bytes)?;
    assert!(decode_all(&path)? == decode_all(&mp3)?, "the same samples");
    Ok(())
}

/// Ogg's page checksum: CRC-32, polynomial 0x04c11db7, not reflected, from 0.
fn ogg_crc(page: &[u8]) -> u32 {
    page.iter().fold(0u32, |mut crc, &byte| {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
        crc
    })
}

#[test]
fn an_opus_files_output_gain_is_applied() -> TestResult {
    let original = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/fixtures/gapless/velours-12s.opus");
    let mut bytes = std::fs::read(&original)?;
    // The first page holds the OpusHead alone: its output gain (bytes 16-17, Q7.8 dB)
    // set to +6.02 dB, twice as loud, and the page's checksum made again.
    let page_len = 27 + usize::from(bytes[26]) + usize::from(bytes[27]);
    let head = bytes
        .windows(8)
        .position(|w| w == b"OpusHead")
        .ok_or("no OpusHead")?;
    bytes[head + 16..head + 18].copy_from_slice(&1541i16.to_le_bytes());
    bytes[22..26].fill(0);
    let crc = ogg_crc(&bytes[..page_len]);
    bytes[22..26].copy_from_slice(&crc.to_le_bytes());
    let dir = tempfile::tempdir()?;
    let louder = dir.path().join("louder.opus");
    std::fs::write(&louder, bytes)?;

    let (quiet, loud) = (decode_all(&original)?, decode_all(&louder)?);
    assert_eq!(quiet.len(), loud.len());
    let energy = |s: &[f32]| s.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>();
    let ratio = (energy(&loud) / energy(&quiet)).sqrt();
    assert!((ratio - 2.0).abs() < 0.02, "{ratio}");
    Ok(())
}

/// A song being downloaded into a cache as the app's does it: the bytes so far in
/// `<name>.part`, the whole length in `<name>.part.len`; the part is renamed into place
/// when all of it has come.
struct Download {
    path: PathBuf,
    part: PathBuf,
    bytes: Vec<u8>,
    sent: usize,
}

impl Download {
    /// Starts downloading `song` into `dir`, its first `first` bytes there already.
    fn start(dir: &Path, song: &Path, first: usize) -> std::io::Result<Download> {
        let bytes = std::fs::read(song)?;
        let name = song.file_name().unwrap_or_default().to_string_lossy();
        let path = dir.join(&*name);
        let part = dir.join(format!("{name}.part"));
        std::fs::write(
            dir.join(format!("{name}.part.len")),
            bytes.len().to_string(),
        )?;
        std::fs::write(&part, &bytes[..first])?;
        Ok(Download {
            path,
            part,
            bytes,
            sent: first,
        })
    }

    /// `n` more bytes arrive (or what is left, if fewer).
    fn send(&mut self, n: usize) -> std::io::Result<()> {
        use std::io::Write;
        let upto = (self.sent + n).min(self.bytes.len());
        let mut file = std::fs::OpenOptions::new().append(true).open(&self.part)?;
        file.write_all(&self.bytes[self.sent..upto])?;
        self.sent = upto;
        Ok(())
    }

    /// The rest arrives, and the download finishes.
    fn finish(&mut self) -> std::io::Result<()> {
        self.send(self.bytes.len())?;
        std::fs::rename(&self.part, &self.path)?;
        let mut len_file = self.part.clone().into_os_string();
        len_file.push(".len");
        std::fs::remove_file(len_file)
    }
}

/// Every sample of a file, decoded on its own.
fn decode_all(path: &Path) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let mut decoder = Decoder::open(path)?;
    let (mut all, mut chunk) = (Vec::new(), Vec::new());
    while decoder.next_chunk(&mut chunk)? {
        all.extend_from_slice(&chunk);
    }
    Ok(all)
}

/// The samples that are not silence: what played, without the silence of pauses and
/// stalls around it.
fn audible(samples: impl IntoIterator<Item = f32>) -> Vec<f32> {
    samples.into_iter().filter(|s| s.abs() > 1e-4).collect()
}

/// Sends Pause and checks the engine answers at once, as it must while a download waits.
fn pause_is_answered_at_once(engine: &Engine) -> Result<u64, Box<dyn std::error::Error>> {
    let asked = Instant::now();
    engine.send(Command::Pause)?;
    let (paused, _) = wait_for(engine, |e| matches!(e, Event::Paused { .. }))?;
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "a download held the engine for {:?}",
        asked.elapsed()
    );
    match paused {
        Event::Paused { position_ms } => Ok(position_ms),
        _ => Err("not a pause".into()),
    }
}

/// The rest of the download arrives and play resumes; returns the events up to the end
/// of the song.
fn finish_and_resume(
    engine: &Engine,
    download: &mut Download,
) -> Result<Vec<Event>, Box<dyn std::error::Error>> {
    download.finish()?;
    engine.send(Command::Resume)?;
    Ok(wait_for(engine, |e| matches!(e, Event::TrackEnded { .. }))?.1)
}

/// Checks that every sample of `song` played, in order, and nothing else (the silence of
/// stalls and pauses aside).
fn assert_played_whole(played: impl IntoIterator<Item = f32>, song: &Path) -> TestResult {
    let played = audible(played);
    let music = audible(decode_all(song)?);
    assert_eq!(played.len(), music.len());
    assert!(played == music, "the song as played differs from the file");
    Ok(())
}

/// A demo FLAC with three fifths of it downloaded, enough to open and play a few seconds
/// (the engine keeps 256 KB between what it decodes and what has arrived), started at 8x
/// real time.
fn play_three_fifths_arrived(
    dir: &Path,
) -> Result<(DemoTrack, Download, Engine, CaptureHandle), Box<dyn std::error::Error>> {
    let track = demo("FLAC")?;
    let len = std::fs::metadata(&track.path)?.len() as usize;
    let download = Download::start(dir, &track.path, len * 3 / 5)?;
    let (engine, capture) = engine(8.0)?;
    engine.send(Command::Play(download.path.clone()))?;
    wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    Ok((track, download, engine, capture))
}

/// Checks that the song, once all of it arrived, played on to its end without an error
/// (`seen`: the events meanwhile), every sample of it.
fn assert_ended_whole(seen: &[Event], capture: &CaptureHandle, song: &Path) -> TestResult {
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Error { .. })),
        "{seen:?}"
    );
    let streams = capture.snapshot().streams;
    assert_played_whole(streams.into_iter().flat_map(|s| s.samples), song)
}

#[test]
fn an_m4a_still_arriving_is_trimmed_of_its_priming_and_padding_as_when_whole() -> TestResult {
    let dir = tempfile::tempdir()?;
    let song =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/gapless/sine-a.m4a");
    let whole = decode_all(&song)?;
    // All of it there, the download not yet finished (its part not yet renamed).
    let len = std::fs::metadata(&song)?.len() as usize;
    let download = Download::start(dir.path(), &song, len)?;
    let arriving = decode_all(&download.path)?;
    assert_eq!(arriving.len(), whole.len());
    assert!(
        arriving == whole,
        "the arriving file decodes to other samples"
    );
    Ok(())
}

#[test]
fn a_song_still_arriving_plays_as_it_comes_and_the_engine_answers_meanwhile() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Then the download stalls, its connection still open (the part and its length file
    // stay).
    let (track, mut download, engine, capture) = play_three_fifths_arrived(dir.path())?;
    // Long enough to play all that has arrived and more.
    std::thread::sleep(Duration::from_millis(1500));
    pause_is_answered_at_once(&engine)?;

    // The rest arrives and the download finishes.
    let seen = finish_and_resume(&engine, &mut download)?;
    assert_ended_whole(&seen, &capture, &track.path)
}

#[test]
fn a_slow_download_is_waited_for_as_long_as_more_keeps_coming() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (track, mut download, engine, capture) = play_three_fifths_arrived(dir.path())?;

    // What has arrived plays within two seconds; then 2 KB a second trickles in for 26 s,
    // far too little to decode on (that takes 256 KB more) but still coming: a slow
    // download, which the engine waits for, not a stalled one (nothing for 20 s).
    let mut seen = Vec::new();
    for _ in 0..26 {
        std::thread::sleep(Duration::from_secs(1));
        download.send(2048)?;
        seen.extend(engine.events().try_iter());
    }
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Error { .. })),
        "given up while bytes still came: {seen:?}"
    );

    // The rest arrives.
    download.finish()?;
    let (_, seen) = wait_for(&engine, |e| matches!(e, Event::TrackEnded { .. }))?;
    assert_ended_whole(&seen, &capture, &track.path)
}

#[test]
fn a_song_that_has_barely_begun_to_arrive_waits_to_open_and_the_engine_answers_meanwhile(
) -> TestResult {
    let dir = tempfile::tempdir()?;
    let track = demo("FLAC")?;
    // Its header and a little more: opening it would read on into bytes not there yet.
    let mut download = Download::start(dir.path(), &track.path, 40_000)?;

    let (engine, capture) = engine(8.0)?;
    engine.send(Command::Play(download.path.clone()))?;
    // Announced at once, so the app shows what is coming; its length is not known yet.
    let (started, _) = wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert!(
        matches!(
            started,
            Event::TrackStarted {
                duration_ms: None,
                paused: false,
                ..
            }
        ),
        "{started:?}"
    );
    // And says it waits for the download.
    wait_for(&engine, |e| *e == Event::Waiting { position_ms: 0 })?;
    assert_eq!(pause_is_answered_at_once(&engine)?, 0);
    assert!(
        !capture
            .snapshot()
            .streams
            .iter()
            .any(|s| !s.samples.is_empty()),
        "nothing plays before the song can be opened"
    );

    // The rest arrives: the song starts, from its beginning, and plays to its end.
    let seen = finish_and_resume(&engine, &mut download)?;
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Error { .. })),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|e| matches!(e, Event::TrackStarted { .. })),
        "announced once, not again when it opens: {seen:?}"
    );
    let streams = capture.snapshot().streams;
    assert_played_whole(streams.into_iter().flat_map(|s| s.samples), &track.path)
}

#[test]
fn a_seek_past_what_has_arrived_waits_for_the_song_and_the_engine_answers_meanwhile() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let track = demo("FLAC")?;
    let len = std::fs::metadata(&track.path)?.len() as usize;
    let mut download = Download::start(dir.path(), &track.path, len * 3 / 5)?;

    let (engine, capture) = engine(8.0)?;
    engine.send(Command::Play(download.path.clone()))?;
    wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    // Three quarters of the way in: past what has arrived.
    let target_ms = track.duration_ms * 3 / 4;
    engine.send(Command::Seek(target_ms))?;
    wait_for(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms == target_ms),
    )?;
    wait_for(&engine, |e| {
        *e == Event::Waiting {
            position_ms: target_ms,
        }
    })?;
    assert_eq!(pause_is_answered_at_once(&engine)?, target_ms);

    let seen = finish_and_resume(&engine, &mut download)?;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::Error { .. } | Event::TrackStarted { .. })),
        "a seek goes on with the same track, without an error: {seen:?}"
    );
    // What played after the seek is the song's last quarter.
    let after_seek = capture.snapshot().streams.pop().ok_or("nothing played")?;
    let rate = u64::from(after_seek.format.sample_rate);
    let frames = after_seek.sample_count / u64::from(after_seek.format.channels);
    let expected = (track.duration_ms - target_ms) * rate / 1000;
    assert!(
        frames.abs_diff(expected) < rate / 10,
        "{frames} frames played after the seek, {expected} expected"
    );
    Ok(())
}

/// A queue entry for `path`, without ReplayGain.
fn queue_track(track_id: i64, path: &Path) -> QueueTrack {
    QueueTrack {
        track_id,
        path: path.to_path_buf(),
        replay_gain: ReplayGainTags::default(),
    }
}

#[test]
fn a_next_song_still_arriving_starts_once_it_can_and_the_queue_does_not_skip_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = demo("WAV")?;
    let next = demo("FLAC")?;
    let mut download = Download::start(dir.path(), &next.path, 40_000)?;

    let (engine, capture) = engine(f64::INFINITY)?;
    engine.send(Command::SetQueue {
        tracks: vec![queue_track(1, &first.path), queue_track(2, &download.path)],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    wait_for(&engine, |e| matches!(e, Event::TrackEnded { .. }))?;
    // The first song played out; the next cannot be opened yet. The engine moves on to
    // it, neither skipping it nor stopping, and answers meanwhile.
    let (started, before) = wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert!(
        matches!(started, Event::TrackStarted { track_id: 2, .. }),
        "{started:?}"
    );
    std::thread::sleep(Duration::from_millis(200));
    pause_is_answered_at_once(&engine)?;

    let rest = finish_and_resume(&engine, &mut download)?;
    assert!(
        !before.iter().chain(&rest).any(|e| matches!(
            e,
            Event::Error { .. } | Event::Stopped | Event::TrackStarted { .. }
        )),
        "{before:?} {rest:?}"
    );
    let played = capture.snapshot().streams.pop().ok_or("nothing played")?;
    assert_played_whole(played.samples, &next.path)
}

#[test]
fn an_entry_that_cannot_be_opened_before_a_song_still_arriving_is_reported_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = demo("WAV")?;
    let next = demo("FLAC")?;
    let broken = dir.path().join("broken.flac");
    std::fs::write(&broken, b"fLaC\0\0\0\x22 not a flac stream at all")?;
    let download = Download::start(dir.path(), &next.path, 40_000)?;

    // Paced, from 1.5 s before the first song ends: the engine looks for what follows it
    // on each of its turns meanwhile, and finds the broken entry, then the song that
    // cannot be opened yet.
    let (engine, _capture) = engine(1.0)?;
    engine.send(Command::SetQueue {
        tracks: vec![
            queue_track(1, &first.path),
            queue_track(2, &broken),
            queue_track(3, &download.path),
        ],
        start: 0,
        position_ms: first.duration_ms - 1500,
        paused: false,
    })?;
    let (started, seen) = wait_for(&engine, |e| {
        matches!(e, Event::TrackStarted { track_id: 3, .. })
    })?;
    let errors: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, Event::Error { .. }))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(errors[0], Event::Error { path: Some(p), .. } if *p == broken),
        "{errors:?}"
    );
    // The song still arriving is current, waiting, not skipped.
    assert!(
        matches!(
            started,
            Event::TrackStarted {
                duration_ms: None,
                ..
            }
        ),
        "{started:?}"
    );
    Ok(())
}
