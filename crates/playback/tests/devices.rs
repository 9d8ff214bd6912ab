//! The engine's output devices: choosing one, one that cannot be opened, and one that
//! disappears while a song plays. The devices are names in front of a capture output
//! (which stands in for each): what is tested is what the engine does about them.

use std::sync::{Arc, Mutex, PoisonError};

use offbeat_playback::{
    AudioOutput, CaptureOutput, Command, Engine, Event, PlaybackError, StreamReader,
};

mod common;
use common::{wait_for, TestResult};

type Shared = Arc<Mutex<DeviceState>>;

/// How far before the place it was at a song may go on: starting a stream there is a seek,
/// accurate to 10 ms.
const SEEK_TOLERANCE_MS: u64 = 10;

/// What the devices' owner (the test) sees and does.
#[derive(Debug, Default)]
struct DeviceState {
    /// Each device moved to, in order (`None`: the system's default).
    switches: Vec<Option<String>>,
    /// Set to make the device in use disappear.
    lost: Option<String>,
}

/// Devices by name, played through one real-time capture; "gone" cannot be opened.
struct Devices {
    capture: CaptureOutput,
    state: Shared,
}

impl AudioOutput for Devices {
    fn play(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        self.capture.play(stream)
    }
    fn append(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        self.capture.append(stream)
    }
    fn stop(&mut self) {
        self.capture.stop();
    }
    fn switch_device(&mut self, device: Option<&str>) -> Result<(), PlaybackError> {
        if device == Some("gone") {
            return Err(PlaybackError::Output(
                "the output device gone is not there".into(),
            ));
        }
        // What plays on the old device stops; the engine starts it again here.
        self.capture.stop();
        lock(&self.state).switches.push(device.map(str::to_owned));
        Ok(())
    }
    fn take_failure(&mut self) -> Option<String> {
        lock(&self.state).lost.take()
    }
}

fn lock(state: &Mutex<DeviceState>) -> std::sync::MutexGuard<'_, DeviceState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An engine on [`Devices`], playing a demo FLAC (21.5 s) in real time.
fn playing() -> Result<(Engine, Shared), Box<dyn std::error::Error>> {
    let state = Arc::new(Mutex::new(DeviceState::default()));
    let devices = Devices {
        capture: CaptureOutput::counting(1.0).0,
        state: state.clone(),
    };
    let engine = Engine::spawn(move || Ok(Box::new(devices) as Box<dyn AudioOutput>))?;
    let song = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/demo/Aurora Fields/Northern Lights/02 Polar Night.flac");
    assert!(song.is_file(), "{} is missing", song.display());
    engine.send(Command::Play(song))?;
    wait_for(&engine, |e| matches!(e, Event::TrackStarted { .. }))?;
    Ok((engine, state))
}

/// Waits until the song has played past `ms`; returns where it is.
fn played_past(engine: &Engine, ms: u64) -> Result<u64, Box<dyn std::error::Error>> {
    match wait_for(
        engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms >= ms),
    )?
    .0
    {
        Event::Position { position_ms } => Ok(position_ms),
        _ => Err("not a position".into()),
    }
}

fn announced(events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::TrackStarted { .. }))
}

#[test]
fn a_device_that_disappears_pauses_the_song_where_it_was_on_the_default_device() -> TestResult {
    let (engine, state) = playing()?;
    let at = played_past(&engine, 1000)?;
    lock(&state).lost = Some("the USB headset was unplugged".into());
    let (changed, before) = wait_for(&engine, |e| matches!(e, Event::OutputChanged { .. }))?;
    assert_eq!(
        changed,
        Event::OutputChanged {
            device: None,
            lost: Some("the USB headset was unplugged".into())
        }
    );
    let (paused, meanwhile) = wait_for(&engine, |e| matches!(e, Event::Paused { .. }))?;
    let Event::Paused { position_ms } = paused else {
        return Err("not a pause".into());
    };
    assert!(
        position_ms >= at && position_ms < at + 1000,
        "paused at {position_ms} ms, playing at {at} ms when the device went"
    );
    assert!(
        !announced(&before) && !announced(&meanwhile),
        "the same play goes on, not a new one"
    );
    assert_eq!(lock(&state).switches, [None], "moved to the default device");

    // Resumed, it goes on from there (the stream on the new device starts at that place,
    // not at the song's start).
    engine.send(Command::Resume)?;
    let (resumed, _) = wait_for(&engine, |e| matches!(e, Event::Resumed { .. }))?;
    let (position, _) = wait_for(&engine, |e| matches!(e, Event::Position { .. }))?;
    for event in [resumed, position] {
        let (Event::Resumed { position_ms: again } | Event::Position { position_ms: again }) =
            event
        else {
            return Err(format!("not a place: {event:?}").into());
        };
        assert!(
            again + SEEK_TOLERANCE_MS >= position_ms && again < position_ms + 1000,
            "went on at {again} ms after a pause at {position_ms} ms"
        );
    }
    Ok(())
}

#[test]
fn choosing_another_device_moves_the_song_there_at_the_same_place() -> TestResult {
    let (engine, state) = playing()?;
    let at = played_past(&engine, 1000)?;
    engine.send(Command::SetOutputDevice(Some("usb".into())))?;
    let (changed, before) = wait_for(&engine, |e| matches!(e, Event::OutputChanged { .. }))?;
    assert_eq!(
        changed,
        Event::OutputChanged {
            device: Some("usb".into()),
            lost: None
        }
    );
    let (position, meanwhile) = wait_for(&engine, |e| matches!(e, Event::Position { .. }))?;
    let Event::Position { position_ms } = position else {
        return Err("not a position".into());
    };
    assert!(
        position_ms + SEEK_TOLERANCE_MS >= at && position_ms < at + 1000,
        "went on at {position_ms} ms, was at {at} ms"
    );
    assert!(
        !announced(&before) && !announced(&meanwhile),
        "the same play goes on"
    );
    assert!(
        !meanwhile.iter().any(|e| matches!(e, Event::Paused { .. })),
        "a chosen device does not pause the music: {meanwhile:?}"
    );
    assert_eq!(lock(&state).switches, [Some("usb".to_owned())]);
    played_past(&engine, position_ms + 500)?;
    Ok(())
}

#[test]
fn a_device_that_cannot_be_opened_is_reported_and_the_music_goes_on() -> TestResult {
    let (engine, state) = playing()?;
    let at = played_past(&engine, 500)?;
    engine.send(Command::SetOutputDevice(Some("gone".into())))?;
    let (error, before) = wait_for(&engine, |e| matches!(e, Event::Error { .. }))?;
    let Event::Error { path, message } = error else {
        return Err("not an error".into());
    };
    assert_eq!(path, None);
    assert!(message.contains("gone is not there"), "{message}");
    let (_, meanwhile) = wait_for(
        &engine,
        |e| matches!(e, Event::Position { position_ms } if *position_ms >= at + 500),
    )?;
    let events: Vec<&Event> = before.iter().chain(&meanwhile).collect();
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::OutputChanged { .. } | Event::Paused { .. } | Event::Stopped
        )),
        "{events:?}"
    );
    assert!(lock(&state).switches.is_empty());
    Ok(())
}
