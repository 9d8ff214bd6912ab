//! Playback benchmark: Offbeat's decoder against a bare symphonia decode loop of the same
//! files, and the engine's time from `Play` to the first sample reaching the output.

#[path = "../../../benches/report.rs"]
mod report;

use std::path::Path;
use std::time::{Duration, Instant};

use offbeat_playback::{AudioOutput, CaptureOutput, Command, Decoder, Engine, Event};
use report::{median_time, Figure};
use serde_json::Value;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

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

    // Time to first audio: from sending Play to the first samples in the output.
    let first = demo.join(manifest[0]["path"].as_str().unwrap_or_default());
    let mut starts = Vec::new();
    for _ in 0..9 {
        let (output, capture) = CaptureOutput::new(1.0);
        let engine = Engine::spawn(move || Ok(Box::new(output) as Box<dyn AudioOutput>))?;
        let start = Instant::now();
        engine.send(Command::Play(first.clone()))?;
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
        starts.push(start.elapsed());
        engine.send(Command::Stop)?;
        while !matches!(
            engine.events().recv_timeout(Duration::from_secs(5)),
            Ok(Event::Stopped) | Err(_)
        ) {}
    }
    starts.sort();
    figures.push(Figure {
        name: "time_to_first_audio_ms",
        value: starts[starts.len() / 2].as_secs_f64() * 1000.0,
        unit: "ms",
        note: "median of 9, Play -> first samples at the output (target < 50)".into(),
    });
    report::report("playback", &figures)?;
    Ok(())
}
