//! The headless command line, run as a real process with no display.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo")
}

/// Runs `offbeat` with its own data folder and no display. Audio goes through the real
/// rodio -> cpal -> ALSA path into an ALSA `file` sink: `<data>/capture.raw`, raw
/// S16_LE stereo 44.1 kHz.
fn offbeat(data: &Path, args: &[&str]) -> std::io::Result<Output> {
    let alsa_conf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/support/alsa-capture.conf");
    Command::new(env!("CARGO_BIN_EXE_offbeat"))
        .args(args)
        .env("OFFBEAT_DATA_DIR", data)
        .env(
            "ALSA_CONFIG_PATH",
            format!("/usr/share/alsa/alsa.conf:{}", alsa_conf.display()),
        )
        .env("AUDIO_CAPTURE_FILE", data.join("capture.raw"))
        .env("AUDIO_SLAVE_PCM", "null")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
}

/// Runs `offbeat play <track>` into an ALSA device that takes any sample rate and writes
/// what it is given, untouched but for the conversion to 16-bit, to a WAV file; returns
/// that file's rate and its frames (left, right).
fn play_into_any_rate_device(
    track: &Path,
) -> Result<(u32, Vec<Frame>), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let conf = data.path().join("any-rate.conf");
    let wav = data.path().join("played.wav");
    std::fs::write(
        &conf,
        format!(
            "pcm.!default {{ type plug slave {{ pcm \"cap\" format S16_LE channels 2 }} }}\n\
             pcm.cap {{ type file slave.pcm \"null\" format \"wav\" file \"{}\" }}\n",
            wav.display()
        ),
    )?;
    let out = Command::new(env!("CARGO_BIN_EXE_offbeat"))
        .args(["play", track.to_str().ok_or("non-UTF-8 path")?])
        .env("OFFBEAT_DATA_DIR", data.path())
        .env(
            "ALSA_CONFIG_PATH",
            format!("/usr/share/alsa/alsa.conf:{}", conf.display()),
        )
        .env("PULSE_INTERNAL", "1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&wav)?;
    let (rate, pcm) = wav_pcm(&bytes)?;
    Ok((rate, stereo_frames(pcm)))
}

/// A 16-bit stereo frame: left, right.
type Frame = [i16; 2];

/// 16-bit little-endian stereo samples as frames.
fn stereo_frames(pcm: &[u8]) -> Vec<Frame> {
    pcm.chunks_exact(4)
        .map(|f| {
            [
                i16::from_le_bytes([f[0], f[1]]),
                i16::from_le_bytes([f[2], f[3]]),
            ]
        })
        .collect()
}

/// The sample rate and the sample bytes of a PCM WAV file.
fn wav_pcm(bytes: &[u8]) -> Result<(u32, &[u8]), Box<dyn std::error::Error>> {
    let (mut rate, mut at) = (None, 12);
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into()?) as usize;
        let body = &bytes[at + 8..(at + 8 + size).min(bytes.len())];
        match id {
            b"fmt " => rate = Some(u32::from_le_bytes(body[4..8].try_into()?)),
            // The ALSA file plugin leaves the length unset when it is not closed tidily.
            b"data" => return Ok((rate.ok_or("no fmt chunk")?, &bytes[at + 8..])),
            _ => {}
        }
        at += 8 + size + size % 2;
    }
    Err("no data chunk".into())
}

#[test]
fn play_opens_the_device_at_the_tracks_own_rate_and_hands_it_the_samples_untouched() -> TestResult {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/fixtures/gapless");
    // 16-bit stereo at 44.1 kHz, while the device would open at 48 kHz by default.
    let track = fixtures.join("sine-a.wav");
    let (rate, played) = play_into_any_rate_device(&track)?;
    assert_eq!(
        rate, 44_100,
        "the device was not opened at the track's rate"
    );
    let original = std::fs::read(&track)?;
    let expected = stereo_frames(wav_pcm(&original)?.1);
    // The device is not paced, so silence comes between the track's samples where the
    // engine fell behind, and after them until it closes: leave out silent frames.
    let sounding = |frames: &[Frame]| -> Vec<Frame> {
        frames.iter().copied().filter(|f| *f != [0, 0]).collect()
    };
    // The 16-bit samples go to float and back unchanged: what played is the file, frame
    // for frame (resampled audio would have more frames, and other values).
    let (played, expected) = (sounding(&played), sounding(&expected));
    assert_eq!(
        played.len(),
        expected.len(),
        "frames of sound played and in the file"
    );
    let differing = played.iter().zip(&expected).filter(|(p, e)| p != e).count();
    assert_eq!(differing, 0, "frames played other than the file's");

    // Opus decodes at 48 kHz: the device follows.
    let (rate, played) = play_into_any_rate_device(&fixtures.join("velours-12s.opus"))?;
    assert_eq!(rate, 48_000);
    assert!(
        played.len() >= 12 * 48_000,
        "{} frames played",
        played.len()
    );
    Ok(())
}

/// Energy of `freq` in a mono signal (Goertzel).
fn tone_energy(mono: &[f64], rate: f64, freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / rate).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in mono {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / mono.len().max(1) as f64
}

#[test]
fn play_sends_the_track_through_alsa_and_exits_at_the_end() -> TestResult {
    let data = tempfile::tempdir()?;
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(demo_dir().join("manifest.json"))?)?;
    let drones: Vec<f64> = manifest
        .iter()
        .filter_map(|t| t["drone_hz"].as_f64())
        .collect();
    let track = manifest
        .iter()
        .find(|t| t["format"] == "WAV")
        .ok_or("no WAV in the demo")?;
    let path = demo_dir().join(track["path"].as_str().unwrap_or_default());
    let out = offbeat(
        data.path(),
        &["play", path.to_str().ok_or("non-UTF-8 path")?],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let raw = std::fs::read(data.path().join("capture.raw"))?;
    let mono: Vec<f64> = raw
        .chunks_exact(4)
        .map(|f| {
            (f64::from(i16::from_le_bytes([f[0], f[1]]))
                + f64::from(i16::from_le_bytes([f[2], f[3]])))
                / 65536.0
        })
        .collect();
    // The file sink is not paced like a sound card: it takes samples faster than the
    // decoder makes them, so underrun silence lands between the sounds, and silence follows
    // until the device closes. Count the 10 ms windows that carry sound (a window cut by
    // an underrun still counts whole, hence the slack above the track length).
    let window = 441;
    let sounding: Vec<f64> = mono
        .chunks(window)
        .filter(|w| w.iter().map(|s| s * s).sum::<f64>() / w.len() as f64 > 1e-6)
        .flatten()
        .copied()
        .collect();
    let sounding_ms = sounding.len() as u64 * 1000 / 44_100;
    let expected_ms = track["duration_ms"].as_u64().unwrap_or_default();
    assert!(
        sounding_ms <= expected_ms + 500 && sounding_ms + 1_500 >= expected_ms,
        "{sounding_ms} ms of sound captured, the track is {expected_ms} ms"
    );
    let sound = &sounding[..];
    let strongest = drones.iter().copied().max_by(|a, b| {
        tone_energy(sound, 44_100.0, *a).total_cmp(&tone_energy(sound, 44_100.0, *b))
    });
    assert_eq!(
        strongest,
        track["drone_hz"].as_f64(),
        "the captured audio is not this track"
    );
    Ok(())
}

#[test]
fn scan_then_search_as_json() -> TestResult {
    let data = tempfile::tempdir()?;
    let demo = demo_dir();
    let demo = demo.to_str().ok_or("non-UTF-8 path")?;
    let out = offbeat(data.path(), &["scan", demo, "--json"])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["added"], 8);
    assert_eq!(report["problems"].as_array().map(Vec::len), Some(0));

    let out = offbeat(data.path(), &["search", "tidal", "--json"])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tracks: Value = serde_json::from_slice(&out.stdout)?;
    let mut titles: Vec<&str> = tracks
        .as_array()
        .ok_or("not an array")?
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Driftwood", "Saltwater", "Undertow"]);
    assert_eq!(tracks[0]["album"], "Tidal Rooms");

    // The human-readable form names the track too.
    let out = offbeat(data.path(), &["search", "velo"])?;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Velours — Élodie Marchand — Café Nocturne")
    );
    Ok(())
}

#[test]
fn bad_paths_fail_with_a_clear_message() -> TestResult {
    let data = tempfile::tempdir()?;
    for args in [["scan", "/no/such/folder"], ["play", "/no/such/file.flac"]] {
        let out = offbeat(data.path(), &args)?;
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("/no/such/"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    Ok(())
}

#[test]
fn playing_an_unreadable_file_fails_with_a_reason() -> TestResult {
    let data = tempfile::tempdir()?;
    let bad = data.path().join("not-music.mp3");
    std::fs::write(&bad, "definitely not audio\n".repeat(100))?;
    let out = offbeat(
        data.path(),
        &["play", bad.to_str().ok_or("non-UTF-8 path")?],
    )?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a playable audio file"), "{stderr}");
    Ok(())
}
