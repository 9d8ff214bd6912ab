//! The queue through the engine's public API, into a capture output: gapless joins in
//! every format, queue order and skips, ReplayGain levels, and a broken file mid-queue.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use offbeat_playback::{
    AudioOutput, CaptureHandle, CaptureOutput, Command, Decoder, Engine, Event, Queue, QueueTrack,
    Repeat, ReplayGainMode, ReplayGainSettings, ReplayGainTags,
};

mod common;
use common::{wait_for, TestResult};

/// The gapless fixtures: a 441 Hz sine at amplitude 0.5, 44.1 kHz stereo, cut in two.
const SINE_FRAMES: usize = 33_075;
const CUT_FRAME: usize = 17_640;

fn assets(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(relative)
}

fn track(path: PathBuf, id: i64) -> QueueTrack {
    QueueTrack {
        track_id: id,
        path,
        replay_gain: ReplayGainTags::default(),
    }
}

fn engine() -> Result<(Engine, CaptureHandle), Box<dyn std::error::Error>> {
    engine_at(f64::INFINITY)
}

/// An engine playing into a capture pulling at `speed` (1.0: like a sound card).
fn engine_at(speed: f64) -> Result<(Engine, CaptureHandle), Box<dyn std::error::Error>> {
    let (output, handle) = CaptureOutput::new(speed);
    let engine = Engine::spawn_with_queue(
        move || Ok(Box::new(output) as Box<dyn AudioOutput>),
        Queue::with_seed(7),
    )?;
    Ok((engine, handle))
}

/// Every event until (and with) the first matching `want`.
fn until(
    engine: &Engine,
    want: impl Fn(&Event) -> bool,
) -> Result<Vec<Event>, Box<dyn std::error::Error>> {
    let (event, mut seen) = wait_for(engine, want)?;
    seen.push(event);
    Ok(seen)
}

fn started(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TrackStarted { track_id, .. } => Some(*track_id),
            _ => None,
        })
        .collect()
}

/// The samples a file decodes to on its own.
fn decoded(path: &Path) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let mut decoder = Decoder::open(path)?;
    let (mut all, mut chunk) = (Vec::new(), Vec::new());
    while decoder.next_chunk(&mut chunk)? {
        all.extend_from_slice(&chunk);
    }
    Ok(all)
}

#[test]
fn two_halves_of_a_sine_join_without_a_gap_or_a_jump_in_every_format() -> TestResult {
    for (ext, lossless) in [
        ("flac", true),
        ("wav", true),
        ("mp3", false),
        ("ogg", false),
        ("m4a", false),
        ("opus", false),
    ] {
        let a = assets(&format!("fixtures/gapless/sine-a.{ext}"));
        let b = assets(&format!("fixtures/gapless/sine-b.{ext}"));
        let mut parts = decoded(&a)?;
        parts.extend(decoded(&b)?);
        let (engine, capture) = engine()?;
        engine.send(Command::SetQueue {
            tracks: vec![track(a.clone(), 1), track(b.clone(), 2)],
            start: 0,
            position_ms: 0,
            paused: false,
        })?;
        let events = until(&engine, |e| *e == Event::Stopped)?;
        assert_eq!(started(&events), [1, 2], "{ext}: {events:?}");
        let captured = capture.snapshot();
        assert_eq!(captured.streams.len(), 1, "{ext}: one continuous stream");
        let stream = &captured.streams[0];
        // Exactly the two files' samples back to back: nothing inserted, nothing dropped.
        assert_eq!(stream.samples.len(), parts.len(), "{ext}: sample count");
        assert!(
            stream.samples == parts,
            "{ext}: the output differs from the two parts"
        );
        let left: Vec<f32> = stream.samples.iter().step_by(2).copied().collect();
        // Encoder delay and padding are trimmed: the parts add up to the sine's length
        // (Opus always decodes at 48 kHz).
        let sine_frames = SINE_FRAMES * stream.format.sample_rate as usize / 44_100;
        let off = left.len().abs_diff(sine_frames);
        assert!(
            off <= if lossless { 0 } else { 2 },
            "{ext}: {off} frames off"
        );
        if lossless {
            // Around the cut: no silent run (a gap), and no step larger than the sine
            // makes (at most 2*pi*441/44100*0.5 = 0.031 per sample).
            let window = &left[CUT_FRAME - 400..CUT_FRAME + 400];
            let max_step = window
                .windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0f32, f32::max);
            assert!(max_step <= 0.032, "{ext}: a jump of {max_step} at the join");
            let longest_quiet = window
                .split(|s| s.abs() > 2e-3)
                .map(<[f32]>::len)
                .max()
                .unwrap_or(0);
            assert!(
                longest_quiet <= 1,
                "{ext}: {longest_quiet} silent samples at the join"
            );
        }
    }
    Ok(())
}

fn demo_paths() -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let manifest: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(assets("demo/manifest.json"))?)?;
    Ok(manifest
        .iter()
        .map(|t| assets(&format!("demo/{}", t["path"].as_str().unwrap_or_default())))
        .collect())
}

#[test]
fn a_broken_file_mid_queue_is_reported_and_the_next_plays() -> TestResult {
    let dir = tempfile::tempdir()?;
    let broken = dir.path().join("broken.flac");
    std::fs::write(&broken, b"fLaC\0\0\0\x22 definitely not a flac stream")?;
    let a = assets("fixtures/gapless/sine-a.wav");
    let b = assets("fixtures/gapless/sine-b.wav");
    let (engine, _capture) = engine()?;
    engine.send(Command::SetQueue {
        tracks: vec![track(a, 1), track(broken.clone(), 2), track(b, 3)],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    let events = until(&engine, |e| *e == Event::Stopped)?;
    assert_eq!(started(&events), [1, 3], "{events:?}");
    assert!(
        events.iter().any(|e| matches!(e,
            Event::Error { path: Some(p), message } if *p == broken && !message.is_empty())),
        "{events:?}"
    );
    Ok(())
}

#[test]
fn next_previous_jump_and_repeat_one_through_the_engine() -> TestResult {
    let demo = demo_paths()?;
    let (engine, _capture) = engine()?;
    let tracks: Vec<QueueTrack> = demo
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, p)| track(p.clone(), i as i64 + 1))
        .collect();
    engine.send(Command::SetQueue {
        tracks,
        start: 0,
        position_ms: 0,
        paused: true,
    })?;
    let first = until(&engine, |e| matches!(e, Event::QueueChanged(_)))?;
    assert_eq!(started(&first), [1]);

    engine.send(Command::Next)?;
    let events = until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert_eq!(started(&events), [2]);

    // At the start of a track, previous goes back; past 3 s it restarts the track.
    engine.send(Command::Previous)?;
    let events = until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert_eq!(started(&events), [1]);
    engine.send(Command::Seek(5_000))?;
    until(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms >= 4_900),
    )?;
    engine.send(Command::Previous)?;
    let events = until(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms < 100),
    )?;
    assert!(
        started(&events).is_empty(),
        "restarted, not moved: {events:?}"
    );

    // The queue as the UI sees it; jump to the last entry.
    engine.send(Command::SetRepeat(Repeat::One))?;
    let events = until(&engine, |e| matches!(e, Event::QueueChanged(_)))?;
    let Some(Event::QueueChanged(snapshot)) = events.last() else {
        return Err("no snapshot".into());
    };
    assert_eq!(snapshot.repeat, Repeat::One);
    assert_eq!(snapshot.current, Some(0));
    let last = snapshot.entries[2].entry_id;
    engine.send(Command::Jump(last))?;
    let events = until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert_eq!(started(&events), [3]);
    Ok(())
}

#[test]
fn repeat_one_plays_the_track_again_gaplessly() -> TestResult {
    let (engine, capture) = engine()?;
    let a = assets("fixtures/gapless/sine-b.flac");
    engine.send(Command::SetRepeat(Repeat::One))?;
    engine.send(Command::SetQueue {
        tracks: vec![track(a.clone(), 1)],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    let events = until(&engine, |e| matches!(e, Event::TrackEnded { .. }))?;
    assert_eq!(started(&events), [1]);
    let events = until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert_eq!(started(&events), [1], "the same track again");
    engine.send(Command::Stop)?;
    until(&engine, |e| *e == Event::Stopped)?;
    assert_eq!(
        capture.snapshot().streams.len(),
        1,
        "without restarting the output"
    );
    Ok(())
}

/// Peak of the left channel of a whole WAV played with these ReplayGain settings.
fn peak_with(
    settings: ReplayGainSettings,
    tags: ReplayGainTags,
) -> Result<f32, Box<dyn std::error::Error>> {
    let (engine, capture) = engine()?;
    engine.send(Command::SetReplayGain(settings))?;
    engine.send(Command::SetQueue {
        tracks: vec![QueueTrack {
            track_id: 1,
            path: assets("fixtures/gapless/sine-a.wav"),
            replay_gain: tags,
        }],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    until(&engine, |e| *e == Event::Stopped)?;
    Ok(capture.snapshot().streams[0]
        .samples
        .iter()
        .fold(0.0f32, |m, s| m.max(s.abs())))
}

#[test]
fn replay_gain_levels_measured_on_the_output() -> TestResult {
    let db = |ratio: f32| 20.0 * ratio.log10();
    let tags = ReplayGainTags {
        track_gain_db: Some(-6.0),
        track_peak: Some(0.5),
        album_gain_db: Some(-2.0),
        album_peak: Some(0.5),
    };
    let off = peak_with(ReplayGainSettings::default(), tags)?;
    assert!((off - 0.5).abs() < 0.01, "the fixture peaks at 0.5: {off}");
    let settings = |mode, preamp_db, prevent_clipping| ReplayGainSettings {
        mode,
        preamp_db,
        prevent_clipping,
    };
    for (settings, expected_db) in [
        (settings(ReplayGainMode::Track, 0.0, true), -6.0),
        (settings(ReplayGainMode::Album, 0.0, true), -2.0),
        (settings(ReplayGainMode::Track, 3.0, true), -3.0),
        // +8 dB would take the 0.5 peak to 1.26: clipping prevention holds it at 1.0.
        (settings(ReplayGainMode::Album, 10.0, true), db(1.0 / 0.5)),
        (settings(ReplayGainMode::Album, 10.0, false), 8.0),
    ] {
        let level = db(peak_with(settings, tags)? / off);
        assert!(
            (level - expected_db).abs() <= 0.5,
            "{settings:?}: {level:.2} dB, expected {expected_db:.2}"
        );
    }
    // Untagged tracks are left alone, whatever the pre-amp.
    let untagged = peak_with(
        settings(ReplayGainMode::Track, 6.0, true),
        ReplayGainTags::default(),
    )?;
    assert!((db(untagged / off)).abs() <= 0.1);
    Ok(())
}

#[test]
fn shuffle_through_the_engine_plays_every_track_once() -> TestResult {
    let demo = demo_paths()?;
    let (engine, _capture) = engine()?;
    let tracks: Vec<QueueTrack> = (0..6)
        .map(|i| track(assets("fixtures/gapless/sine-b.wav"), i + 1))
        .collect();
    assert!(!demo.is_empty());
    engine.send(Command::SetShuffle(true))?;
    engine.send(Command::SetQueue {
        tracks,
        start: 2,
        position_ms: 0,
        paused: false,
    })?;
    let events = until(&engine, |e| *e == Event::Stopped)?;
    let mut order = started(&events);
    assert_eq!(order.first(), Some(&3), "the chosen track first");
    assert_ne!(order, [3, 1, 2, 4, 5, 6], "shuffled");
    order.sort();
    assert_eq!(order, [1, 2, 3, 4, 5, 6]);
    Ok(())
}

/// A capture output whose "device" can be made to disappear, recording device switches.
struct FlakyOutput {
    inner: CaptureOutput,
    failure: Arc<Mutex<Option<String>>>,
    switches: Arc<Mutex<Vec<Option<String>>>>,
}

impl AudioOutput for FlakyOutput {
    fn play(
        &mut self,
        stream: offbeat_playback::StreamReader,
    ) -> Result<(), offbeat_playback::PlaybackError> {
        self.inner.play(stream)
    }
    fn append(
        &mut self,
        stream: offbeat_playback::StreamReader,
    ) -> Result<(), offbeat_playback::PlaybackError> {
        self.inner.append(stream)
    }
    fn stop(&mut self) {
        self.inner.stop();
    }
    fn switch_device(
        &mut self,
        device: Option<&str>,
    ) -> Result<(), offbeat_playback::PlaybackError> {
        self.inner.stop();
        self.switches
            .lock()
            .map_err(|_| offbeat_playback::PlaybackError::EngineGone)?
            .push(device.map(str::to_owned));
        Ok(())
    }
    fn take_failure(&mut self) -> Option<String> {
        self.failure.lock().ok()?.take()
    }
}

#[test]
fn a_device_that_disappears_pauses_and_moves_to_the_default() -> TestResult {
    let failure = Arc::new(Mutex::new(None));
    let switches = Arc::new(Mutex::new(Vec::new()));
    let (inner, _capture) = CaptureOutput::new(1.0);
    let output = FlakyOutput {
        inner,
        failure: failure.clone(),
        switches: switches.clone(),
    };
    let engine = Engine::spawn(move || Ok(Box::new(output) as Box<dyn AudioOutput>))?;
    let demo = demo_paths()?;
    engine.send(Command::SetQueue {
        tracks: vec![track(demo[0].clone(), 1)],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    until(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms >= 300),
    )?;

    // Chosen in the settings: the track goes on, on the new device, where it was: the
    // same play, not started again (the listening history would count a new one).
    engine.send(Command::SetOutputDevice(Some("usb-dac".into())))?;
    let mut events = until(&engine, |e| matches!(e, Event::OutputChanged { .. }))?;
    events.extend(until(&engine, |e| matches!(e, Event::Position { .. }))?);
    assert!(events.contains(&Event::OutputChanged {
        device: Some("usb-dac".into()),
        lost: None
    }));
    assert!(
        matches!(events.last(), Some(Event::Position { position_ms }) if *position_ms >= 250),
        "{events:?}"
    );
    assert_eq!(started(&events), [0; 0], "{events:?}");

    // The device goes away: paused, on the default device, where it was.
    *failure.lock().map_err(|_| "poisoned")? = Some("unplugged".into());
    let events = until(&engine, |e| matches!(e, Event::Paused { .. }))?;
    assert!(
        events.contains(&Event::OutputChanged {
            device: None,
            lost: Some("unplugged".into())
        }),
        "{events:?}"
    );
    assert_eq!(started(&events), [0; 0], "{events:?}");
    let Some(Event::Paused { position_ms }) = events.last() else {
        return Err("no pause".into());
    };
    assert!(*position_ms >= 250, "kept its place: {position_ms}");
    assert_eq!(
        *switches.lock().map_err(|_| "poisoned")?,
        [Some("usb-dac".to_owned()), None]
    );
    Ok(())
}

#[test]
fn tracks_of_different_rates_and_channels_both_play_in_turn() -> TestResult {
    // The demo's WAV is mono at 22.05 kHz, its FLACs stereo at 44.1 kHz: the output is
    // handed each in its own format (a device converts; the capture keeps them apart).
    let demo = demo_paths()?;
    let wav = demo
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .ok_or("no WAV in the demo")?;
    let flac = demo
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "flac"))
        .ok_or("no FLAC in the demo")?;
    let (engine, capture) = engine()?;
    engine.send(Command::SetQueue {
        tracks: vec![track(wav.clone(), 1), track(flac.clone(), 2)],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    let events = until(&engine, |e| *e == Event::Stopped)?;
    assert_eq!(started(&events), [1, 2], "{events:?}");
    let streams = capture.snapshot().streams;
    let formats: Vec<(u32, u16)> = streams
        .iter()
        .map(|s| (s.format.sample_rate, s.format.channels))
        .collect();
    assert_eq!(formats, [(22_050, 1), (44_100, 2)]);
    for (stream, path) in streams.iter().zip([wav, flac]) {
        assert_eq!(
            stream.samples,
            decoded(path)?,
            "{} played whole",
            path.display()
        );
    }
    Ok(())
}

#[test]
fn a_broken_last_entry_is_reported_once_not_retried_while_the_track_plays_out() -> TestResult {
    let dir = tempfile::tempdir()?;
    let broken = dir.path().join("broken.flac");
    std::fs::write(&broken, b"fLaC\0\0\0\x22 not a flac stream at all")?;
    // Paced: the last half second of the good track takes half a second, time enough to
    // retry many times.
    let (engine, _capture) = engine_at(1.0)?;
    engine.send(Command::SetQueue {
        tracks: vec![
            track(assets("fixtures/gapless/sine-a.wav"), 1),
            track(broken, 2),
        ],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    let events = until(&engine, |e| *e == Event::Stopped)?;
    let errors = events
        .iter()
        .filter(|e| matches!(e, Event::Error { .. }))
        .count();
    assert_eq!(errors, 1, "{events:?}");
    assert_eq!(started(&events), [1]);
    Ok(())
}

#[test]
fn play_next_into_an_empty_queue_plays_it() -> TestResult {
    let (engine, _capture) = engine()?;
    engine.send(Command::PlayNext(vec![track(
        assets("fixtures/gapless/sine-a.wav"),
        1,
    )]))?;
    let events = until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert_eq!(started(&events), [1]);
    Ok(())
}

#[test]
fn removing_the_playing_last_entry_under_repeat_all_plays_the_first() -> TestResult {
    let (engine, _capture) = engine()?;
    engine.send(Command::SetQueue {
        tracks: vec![
            track(assets("fixtures/gapless/sine-a.wav"), 1),
            track(assets("fixtures/gapless/sine-b.wav"), 2),
        ],
        start: 1,
        position_ms: 0,
        paused: true,
    })?;
    until(&engine, |e| matches!(e, Event::QueueChanged(_)))?;
    engine.send(Command::SetRepeat(Repeat::All))?;
    let events = until(&engine, |e| matches!(e, Event::QueueChanged(_)))?;
    let Some(Event::QueueChanged(snapshot)) = events.last() else {
        return Err("no snapshot".into());
    };
    assert_eq!(snapshot.current, Some(1));
    engine.send(Command::Remove(vec![snapshot.entries[1].entry_id]))?;
    let events = until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    assert_eq!(started(&events), [1]);
    Ok(())
}

/// Under repeat one, plays `first` (which then fails as `break_it` makes it) before
/// sine-b; returns the errors reported until sine-b started.
fn repeat_one_past_a_failure(
    first: &Path,
    speed: f64,
    break_it: impl FnOnce() -> std::io::Result<()>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let (engine, _capture) = engine_at(speed)?;
    engine.send(Command::SetRepeat(Repeat::One))?;
    engine.send(Command::SetQueue {
        tracks: vec![
            track(first.to_path_buf(), 1),
            track(assets("fixtures/gapless/sine-b.wav"), 2),
        ],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    until(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    break_it()?;
    let events = until(&engine, |e| {
        matches!(e, Event::TrackStarted { track_id: 2, .. })
    })?;
    Ok(events
        .iter()
        .filter(|e| matches!(e, Event::Error { .. }))
        .count())
}

#[test]
fn repeat_one_moves_on_from_a_track_that_cannot_be_played_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Deleted while it plays (paced, so it is still decoding): it cannot be opened again.
    let song = dir.path().join("song.flac");
    let demo = demo_paths()?;
    std::fs::copy(demo.first().ok_or("no demo")?, &song)?;
    let errors = repeat_one_past_a_failure(&song, 8.0, || std::fs::remove_file(&song))?;
    assert_eq!(errors, 1, "reported once, then the next entry plays");

    // Broken part-way: it plays what it can, once.
    let bytes = std::fs::read(demo.first().ok_or("no demo")?)?;
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 5])?;
    let errors = repeat_one_past_a_failure(&cut, f64::INFINITY, || Ok(()))?;
    assert_eq!(errors, 1, "reported once, then the next entry plays");
    Ok(())
}

#[test]
fn an_entry_that_cannot_be_opened_is_reported_once_however_often_the_queue_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("gone.flac");
    // Paced: the first track plays for 0.4 s after what follows it was looked for.
    let (engine, _capture) = engine_at(1.0)?;
    engine.send(Command::SetQueue {
        tracks: vec![
            track(assets("fixtures/gapless/sine-a.wav"), 1),
            track(missing, 2),
            track(assets("fixtures/gapless/sine-b.wav"), 3),
        ],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    let mut events = until(&engine, |e| matches!(e, Event::Error { .. }))?;
    // Each queue change makes the engine look again at what follows.
    for _ in 0..3 {
        engine.send(Command::SetRepeat(Repeat::Off))?;
    }
    events.extend(until(&engine, |e| *e == Event::Stopped)?);
    let errors = events
        .iter()
        .filter(|e| matches!(e, Event::Error { .. }))
        .count();
    assert_eq!(errors, 1, "{events:?}");
    assert_eq!(started(&events), [1, 3]);
    Ok(())
}

#[test]
fn a_restored_shuffled_queue_unshuffles_to_the_order_it_was_added_in() -> TestResult {
    let snapshot_after = |engine: &Engine, command| -> Result<_, Box<dyn std::error::Error>> {
        engine.send(command)?;
        let events = until(engine, |e| matches!(e, Event::QueueChanged(_)))?;
        match events.last() {
            Some(Event::QueueChanged(snapshot)) => Ok(snapshot.clone()),
            _ => Err("no snapshot".into()),
        }
    };
    let tracks: Vec<QueueTrack> = (1..=8)
        .map(|i| track(assets("fixtures/gapless/sine-a.wav"), i))
        .collect();
    let (first, _capture) = engine()?;
    snapshot_after(
        &first,
        Command::SetQueue {
            tracks,
            start: 0,
            position_ms: 0,
            paused: true,
        },
    )?;
    let shuffled = snapshot_after(&first, Command::SetShuffle(true))?;
    let order = |s: &offbeat_playback::QueueSnapshot| -> Vec<i64> {
        s.entries.iter().map(|e| e.track.track_id).collect()
    };
    assert_ne!(order(&shuffled), (1..=8).collect::<Vec<_>>());
    drop(first);

    // The next launch: the saved play order, and the order they were added in.
    let (next, _capture) = engine()?;
    let restored = snapshot_after(
        &next,
        Command::Restore {
            tracks: shuffled.entries.iter().map(|e| e.track.clone()).collect(),
            start: shuffled.current.unwrap_or_default(),
            position_ms: 0,
            shuffle: true,
            unshuffled: shuffled.unshuffled.clone(),
            repeat: Repeat::Off,
        },
    )?;
    assert_eq!(order(&restored), order(&shuffled));
    let unshuffled = snapshot_after(&next, Command::SetShuffle(false))?;
    assert_eq!(order(&unshuffled), (1..=8).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn a_track_shorter_than_a_sleep_between_two_others_joins_them_without_a_gap() -> TestResult {
    // A tenth of a second of a tone, 16-bit stereo at 44.1 kHz, written here.
    let dir = tempfile::tempdir()?;
    let short = dir.path().join("short.wav");
    let frames: u32 = 4_410;
    let data_len = frames * 4;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for field in [16u32, 0x0002_0001, 44_100, 44_100 * 4, 0x0010_0004] {
        wav.extend_from_slice(&field.to_le_bytes());
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = ((f64::from(i) * 0.0628).sin() * 8_000.0) as i16;
        wav.extend_from_slice(&s.to_le_bytes());
        wav.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(&short, wav)?;
    let (a, b) = (
        assets("fixtures/gapless/sine-a.wav"),
        assets("fixtures/gapless/sine-b.wav"),
    );
    let mut parts = decoded(&a)?;
    parts.extend(decoded(&short)?);
    parts.extend(decoded(&b)?);

    // Paced like a sound card, which does not wait for a late track.
    let (engine, capture) = engine_at(1.0)?;
    engine.send(Command::SetQueue {
        tracks: vec![track(a, 1), track(short, 2), track(b, 3)],
        start: 0,
        position_ms: 0,
        paused: false,
    })?;
    let events = until(&engine, |e| *e == Event::Stopped)?;
    assert_eq!(started(&events), [1, 2, 3], "{events:?}");
    let captured = capture.snapshot();
    assert_eq!(captured.streams.len(), 1, "one continuous stream");
    let played = &captured.streams[0].samples;
    let first_diff = played.iter().zip(&parts).position(|(x, y)| x != y);
    assert!(
        *played == parts,
        "the three files, back to back: {} samples played, {} expected, first difference at {first_diff:?}",
        played.len(),
        parts.len()
    );
    Ok(())
}

#[test]
fn a_seek_to_the_very_end_of_a_track_goes_on_to_the_next_in_every_format() -> TestResult {
    let demo = demo_paths()?;
    for (i, song) in demo.iter().enumerate() {
        let (engine, _capture) = engine()?;
        let next = &demo[(i + 1) % demo.len()];
        engine.send(Command::SetQueue {
            tracks: vec![track(song.clone(), 1), track(next.clone(), 2)],
            start: 0,
            position_ms: 0,
            paused: true,
        })?;
        until(&engine, |e| matches!(e, Event::QueueChanged(_)))?;
        // Past the end: the seek lands on the last moment, and the track ends there.
        engine.send(Command::Seek(60_000))?;
        engine.send(Command::Resume)?;
        let events = until(&engine, |e| {
            matches!(e, Event::TrackStarted { track_id: 2, .. } | Event::Stopped)
        })?;
        let errors: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Event::Error { .. }))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", song.display());
        assert!(
            matches!(events.last(), Some(Event::TrackStarted { track_id: 2, .. })),
            "{}: {events:?}",
            song.display()
        );
    }
    Ok(())
}
