//! Playback benchmark: Offbeat's decoder, and the whole engine playing into a capture
//! output, against a bare symphonia decode loop of the same files (CPU time, same run);
//! the engine's time from `Play` to the first sample at the output, per format; and the
//! samples gained or lost where two tracks join (gapless).

#[path = "../../../benches/report.rs"]
mod report;

use std::path::Path;
use std::time::{Duration, Instant};

use offbeat_playback::{
    AudioOutput, CaptureOutput, Command, Decoder, Engine, Event, QueueTrack, ReplayGainTags,
};
use report::{median_time, Figure, Target};
use serde_json::Value;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Rounds of the CPU comparison (odd, so one round is the median of their ratios).
const CPU_ROUNDS: usize = 25;

/// The baseline: symphonia's own example loop, samples copied out as interleaved f32.
fn bare_symphonia(path: &Path) -> Option<usize> {
    let file = std::fs::File::open(path).ok()?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .ok()?;
    let track = reader.default_track(TrackType::Audio)?;
    let id = track.id;
    let params = track.codec_params.as_ref()?.audio()?.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .ok()?;
    let mut samples = Vec::new();
    let mut total = 0;
    while let Ok(Some(packet)) = reader.next_packet() {
        if packet.track_id != id {
            continue;
        }
        if let Ok(buffer) = decoder.decode(&packet) {
            samples.resize(buffer.samples_interleaved(), 0.0f32);
            buffer.copy_to_slice_interleaved(&mut samples);
            total += samples.len();
        }
    }
    Some(total)
}

fn ours(path: &Path) -> Option<usize> {
    let mut decoder = Decoder::open(path).ok()?;
    let mut chunk = Vec::new();
    let mut total = 0;
    while decoder.next_chunk(&mut chunk).ok()? {
        total += chunk.len();
    }
    Some(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo");
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(demo.join("manifest.json"))?)?;
    let mut figures = Vec::new();
    let (mut ours_total, mut bare_total) = (Duration::ZERO, Duration::ZERO);
    for track in &manifest {
        let path = demo.join(track["path"].as_str().unwrap_or_default());
        let format = track["format"].as_str().unwrap_or_default();
        let audio_secs = track["duration_ms"].as_f64().unwrap_or(1.0) / 1000.0;
        let bare = median_time(5, || {
            std::hint::black_box(bare_symphonia(&path));
        });
        let mine = median_time(5, || {
            std::hint::black_box(ours(&path));
        });
        ours_total += mine;
        bare_total += bare;
        let name: &'static str = match format {
            "FLAC" => "decode_flac_x_realtime",
            "MP3" => "decode_mp3_x_realtime",
            "Ogg Vorbis" => "decode_vorbis_x_realtime",
            "M4A" => "decode_aac_x_realtime",
            "WAV" => "decode_wav_x_realtime",
            _ => continue,
        };
        if figures.iter().any(|f: &Figure| f.name == name) {
            continue;
        }
        figures.push(Figure {
            name,
            value: audio_secs / mine.as_secs_f64(),
            unit: "x",
            note: format!(
                "{format}; bare symphonia {:.0}x, ratio {:.2}",
                audio_secs / bare.as_secs_f64(),
                bare.as_secs_f64() / mine.as_secs_f64()
            ),
        });
    }
    figures.push(Figure {
        name: "decode_vs_symphonia_ratio",
        value: bare_total.as_secs_f64() / ours_total.as_secs_f64(),
        unit: "x",
        note: "all demo files; 1.0 = as fast as bare symphonia".into(),
    });

    // Time to first audio, per format: from sending Play to the first samples in the output.
    let gapless = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/gapless");
    for (name, format) in [
        ("first_audio_ms_flac", "FLAC"),
        ("first_audio_ms_mp3", "MP3"),
        ("first_audio_ms_ogg", "Ogg Vorbis"),
        ("first_audio_ms_opus", "Opus"),
        ("first_audio_ms_m4a", "M4A"),
    ] {
        // The demo has no Opus; the playback fixtures have 12 s of one of its tracks.
        let path = match manifest.iter().find(|t| t["format"] == format) {
            Some(track) => demo.join(track["path"].as_str().unwrap_or_default()),
            None if format == "Opus" => gapless.join("velours-12s.opus"),
            None => return Err("demo format missing".into()),
        };
        let mut starts = Vec::new();
        for _ in 0..9 {
            starts.push(first_audio(&path)?);
        }
        starts.sort();
        figures.push(Figure {
            name,
            value: starts[starts.len() / 2].as_secs_f64() * 1000.0,
            unit: "ms",
            note: format!(
                "{format}: median of 9, Play -> first samples at the output; max {:.1} ms",
                starts[starts.len() - 1].as_secs_f64() * 1000.0
            ),
        });
    }

    // CPU: the engine playing every demo file through an unpaced capture output, against
    // bare symphonia decoding the same files, paired round by round. The engine's side is
    // everything the process spends while it plays, the capture's sleeps between pulls
    // included (they stand in for a sound card's clock; the note says what they cost).
    //
    // On a shared virtual machine the same work costs up to a fifth more CPU from one
    // moment to the next, so there are many rounds, the side that goes first alternates,
    // and the note gives the quartiles of the rounds' own ratios: the spread behind the
    // figure, which is the ratio of the sums.
    let paths: Vec<_> = manifest
        .iter()
        .map(|t| demo.join(t["path"].as_str().unwrap_or_default()))
        .collect();
    let bare_round = || -> Result<Duration, Box<dyn std::error::Error>> {
        let before = cpu_time()?;
        for path in &paths {
            std::hint::black_box(bare_symphonia(path));
        }
        Ok(cpu_time()? - before)
    };
    let engine_round = || -> Result<(Duration, Duration), Box<dyn std::error::Error>> {
        let before = cpu_time()?;
        let played = play_through_engine(&paths, false)?;
        Ok((cpu_time()? - before, played.sleep_cpu))
    };
    let (mut process_cpu, mut device_sleeps, mut bare_cpu) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(CPU_ROUNDS);
    for round in 0..CPU_ROUNDS {
        let (bare, (engine, sleeps)) = if round % 2 == 0 {
            let bare = bare_round()?;
            (bare, engine_round()?)
        } else {
            let engine = engine_round()?;
            (bare_round()?, engine)
        };
        bare_cpu += bare;
        process_cpu += engine;
        device_sleeps += sleeps;
        ratios.push(engine.as_secs_f64() / bare.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let quartile = |q: usize| ratios[(ratios.len() - 1) * q / 4];
    figures.push(Figure {
        name: "decode_cpu_ratio_vs_bare_symphonia",
        value: process_cpu.as_secs_f64() / bare_cpu.as_secs_f64(),
        unit: "x",
        note: format!(
            "{CPU_ROUNDS} rounds (the rounds' own ratios: median {:.2}, quartiles {:.2}-{:.2}); process CPU: engine + capture {:.2} s (of which the capture's sleeps {:.2} s), bare symphonia {:.2} s (8 demo files each round)",
            quartile(2),
            quartile(1),
            quartile(3),
            process_cpu.as_secs_f64(),
            device_sleeps.as_secs_f64(),
            bare_cpu.as_secs_f64()
        ),
    });

    // Gapless: two halves of a sine, back to back, in every format; the captured samples
    // against the two files decoded alone. Any sample added or lost counts.
    let mut worst = (0usize, "");
    for ext in ["flac", "wav", "mp3", "ogg", "m4a", "opus"] {
        let (a, b) = (
            gapless.join(format!("sine-a.{ext}")),
            gapless.join(format!("sine-b.{ext}")),
        );
        let mut expected = decode_all(&a)?;
        expected.extend(decode_all(&b)?);
        let played = play_through_engine(&[a, b], true)?.samples;
        let gap = gap_samples(&played, &expected);
        if gap >= worst.0 {
            worst = (gap, ext);
        }
    }
    figures.push(Figure {
        name: "gapless_gap_samples",
        value: worst.0 as f64,
        unit: "samples",
        note: format!(
            "added, lost or changed at the join, worst of FLAC/WAV/MP3/Vorbis/M4A/Opus ({})",
            worst.1
        ),
    });

    report::report_against(
        "playback",
        &figures,
        &[
            ("first_audio_ms_flac", Target::Below(50.0)),
            ("first_audio_ms_mp3", Target::Below(50.0)),
            ("first_audio_ms_ogg", Target::Below(50.0)),
            ("first_audio_ms_opus", Target::Below(50.0)),
            ("first_audio_ms_m4a", Target::Below(50.0)),
            ("decode_cpu_ratio_vs_bare_symphonia", Target::Below(1.10)),
            ("gapless_gap_samples", Target::Below(1.0)),
        ],
    )?;
    Ok(())
}

/// From `Play` to the first samples at a real-time capture output.
fn first_audio(path: &Path) -> Result<Duration, Box<dyn std::error::Error>> {
    let (output, capture) = CaptureOutput::new(1.0);
    let engine = Engine::spawn(move || Ok(Box::new(output) as Box<dyn AudioOutput>))?;
    let start = Instant::now();
    engine.send(Command::Play(path.to_path_buf()))?;
    while capture
        .snapshot()
        .streams
        .first()
        .is_none_or(|s| s.samples.is_empty())
    {
        if start.elapsed() > Duration::from_secs(10) {
            return Err("no audio within 10 s".into());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let took = start.elapsed();
    engine.send(Command::Stop)?;
    while !matches!(
        engine.events().recv_timeout(Duration::from_secs(5)),
        Ok(Event::Stopped) | Err(_)
    ) {}
    Ok(took)
}

/// What [`play_through_engine`] captured.
struct Played {
    /// Every sample of the first captured stream (none unless kept).
    samples: Vec<f32>,
    /// CPU time the capture's thread spent in its sleeps between pulls.
    sleep_cpu: Duration,
}

/// Plays `paths` as one queue into an unpaced capture, which keeps the samples if `keep`
/// and only counts them otherwise.
fn play_through_engine(
    paths: &[std::path::PathBuf],
    keep: bool,
) -> Result<Played, Box<dyn std::error::Error>> {
    let (output, capture) = if keep {
        CaptureOutput::new(f64::INFINITY)
    } else {
        CaptureOutput::counting(f64::INFINITY)
    };
    let engine = Engine::spawn(move || Ok(Box::new(output) as Box<dyn AudioOutput>))?;
    let tracks = paths
        .iter()
        .enumerate()
        .map(|(i, path)| QueueTrack {
            track_id: i as i64,
            path: path.clone(),
            replay_gain: ReplayGainTags::default(),
        })
        .collect();
    engine.send(Command::SetQueue {
        tracks,
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    loop {
        match engine.events().recv_timeout(Duration::from_secs(30)) {
            Ok(Event::Stopped) => break,
            Ok(Event::Error { message, .. }) => return Err(message.into()),
            Ok(_) => {}
            Err(_) => return Err("the queue did not play out within 30 s".into()),
        }
    }
    drop(engine);
    let captured = capture.snapshot();
    Ok(Played {
        samples: captured
            .streams
            .into_iter()
            .next()
            .map(|s| s.samples)
            .unwrap_or_default(),
        sleep_cpu: captured.sleep_cpu,
    })
}

fn decode_all(path: &Path) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let mut decoder = Decoder::open(path)?;
    let (mut all, mut chunk) = (Vec::new(), Vec::new());
    while decoder.next_chunk(&mut chunk)? {
        all.extend_from_slice(&chunk);
    }
    Ok(all)
}

/// Samples added or lost, plus samples that differ, between what played and what the two
/// files hold.
fn gap_samples(played: &[f32], expected: &[f32]) -> usize {
    let differing = played
        .iter()
        .zip(expected)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    played.len().abs_diff(expected.len()) + differing
}

/// This process's CPU time (every thread, the exited ones included), in nanoseconds: the
/// kernel's own sum, not the 10 ms ticks of `/proc/self/stat`.
fn cpu_time() -> Result<Duration, Box<dyn std::error::Error>> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Ok(Duration::new(
        u64::try_from(now.tv_sec)?,
        u32::try_from(now.tv_nsec)?,
    ))
}
