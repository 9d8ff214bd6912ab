//! The desktop's media controls over a real, private D-Bus session: `dbus-send` calls
//! PlayPause and Next as a desktop would, the engine obeys, and the metadata exported
//! names the track that plays. Needs `dbus-run-session` and `dbus-send` (package dbus).

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use offbeat::mpris::DesktopControls;
use offbeat::player::PlayerState;
use offbeat_model::{Track, TrackUid};
use offbeat_playback::{
    AudioOutput, CaptureOutput, Command, Engine, Event, QueueTrack, ReplayGainTags,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CHILD_ENV: &str = "OFFBEAT_MPRIS_TEST_CHILD";
const BUS_NAME: &str = "org.mpris.MediaPlayer2.offbeat";

/// Runs this test binary again inside `dbus-run-session`, with only the child selected.
#[test]
fn desktop_media_controls_drive_the_engine_over_dbus() -> TestResult {
    let output = Process::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe()?)
        .args(["mpris_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .map_err(|e| format!("cannot run dbus-run-session (install the dbus package): {e}"))?;
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the child failed:\n{log}");
    assert!(log.contains("1 passed"), "the child did not run:\n{log}");
    Ok(())
}

fn demo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/demo")
        .join(relative)
}

fn track(id: i64, title: &str, path: &Path) -> Track {
    Track {
        id,
        uid: TrackUid::from_stored(format!("test-{id}")),
        path: path.display().to_string(),
        title: title.into(),
        artist: "Aurora Fields".into(),
        album: "Northern Lights".into(),
        album_artist: "Aurora Fields".into(),
        track_number: Some(id as u32),
        disc_number: Some(1),
        year: Some(2021),
        genre: None,
        duration_ms: 20_000,
        format: "FLAC".into(),
        source: offbeat_model::TrackSource::Local,
    }
}

/// `dbus-send` to the player, as a desktop panel would; returns what it printed.
fn dbus_send(args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = Process::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            &format!("--dest={BUS_NAME}"),
            "/org/mpris/MediaPlayer2",
        ])
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "dbus-send {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn mpris_child() -> TestResult {
    if std::env::var_os(CHILD_ENV).is_none() {
        return Ok(());
    }
    let first = demo("Aurora Fields/Northern Lights/01 Aurora.flac");
    let second = demo("Aurora Fields/Northern Lights/02 Polar Night.flac");
    let tracks = [track(1, "Aurora", &first), track(2, "Polar Night", &second)];

    let (output, _capture) = CaptureOutput::new(1.0);
    let engine = Engine::spawn(move || Ok(Box::new(output) as Box<dyn AudioOutput>))?;
    let remote = engine.remote();
    let mut desktop = DesktopControls::start(move |command| {
        let _ = remote.send(command);
    })?;
    let mut state = PlayerState::default();
    let mut resolve = |id: i64| tracks.iter().find(|t| t.id == id).cloned();

    // Folds events into the player state and exports it, until one matches `want`.
    let mut until = |want: &dyn Fn(&Event) -> bool,
                     desktop: &mut DesktopControls|
     -> Result<(), Box<dyn std::error::Error>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let event = engine.events().recv_timeout(left)?;
            state.apply(&event, &mut resolve);
            desktop.show(&state, None);
            if want(&event) {
                return Ok(());
            }
        }
        Err("the engine did not answer".into())
    };

    let queue = [(1, &first), (2, &second)]
        .iter()
        .map(|(id, path)| QueueTrack {
            track_id: *id,
            path: (*path).clone(),
            replay_gain: ReplayGainTags::default(),
        })
        .collect();
    engine.send(Command::SetQueue {
        tracks: queue,
        start: 0,
        position_ms: 0,
        paused: true,
    })?;
    until(&|e| matches!(e, Event::QueueChanged(_)), &mut desktop)?;

    let metadata = dbus_send(&[
        "org.freedesktop.DBus.Properties.Get",
        "string:org.mpris.MediaPlayer2.Player",
        "string:Metadata",
    ])?;
    assert!(metadata.contains("Aurora"), "{metadata}");
    let status = dbus_send(&[
        "org.freedesktop.DBus.Properties.Get",
        "string:org.mpris.MediaPlayer2.Player",
        "string:PlaybackStatus",
    ])?;
    assert!(status.contains("Paused"), "{status}");

    dbus_send(&["org.mpris.MediaPlayer2.Player.PlayPause"])?;
    until(&|e| matches!(e, Event::Resumed { .. }), &mut desktop)?;
    let status = dbus_send(&[
        "org.freedesktop.DBus.Properties.Get",
        "string:org.mpris.MediaPlayer2.Player",
        "string:PlaybackStatus",
    ])?;
    assert!(status.contains("Playing"), "{status}");

    dbus_send(&["org.mpris.MediaPlayer2.Player.Next"])?;
    until(
        &|e| matches!(e, Event::TrackStarted { track_id: 2, .. }),
        &mut desktop,
    )?;
    let metadata = dbus_send(&[
        "org.freedesktop.DBus.Properties.Get",
        "string:org.mpris.MediaPlayer2.Player",
        "string:Metadata",
    ])?;
    assert!(metadata.contains("Polar Night"), "{metadata}");
    assert!(
        metadata.contains("Northern Lights") && metadata.contains("mpris:length"),
        "{metadata}"
    );

    // While it plays, the position a desktop reads keeps up: within the refresh (a
    // second) and souvlaki's own lag in taking it (up to another).
    until(
        &|e| matches!(e, Event::Position { position_ms } if *position_ms >= 4_000),
        &mut desktop,
    )?;
    let position = dbus_send(&[
        "org.freedesktop.DBus.Properties.Get",
        "string:org.mpris.MediaPlayer2.Player",
        "string:Position",
    ])?;
    let micros: i64 = position
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .ok_or(format!("no position in {position}"))?;
    assert!(micros >= 1_500_000, "{position}");

    // A property as the desktop reads it, once souvlaki has taken the change (its
    // thread can sit up to a second in D-Bus before it looks).
    let settled =
        |property: &str, ok: &dyn Fn(&str) -> bool| -> Result<String, Box<dyn std::error::Error>> {
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                let value = dbus_send(&[
                    "org.freedesktop.DBus.Properties.Get",
                    "string:org.mpris.MediaPlayer2.Player",
                    &format!("string:{property}"),
                ])?;
                if ok(&value) || Instant::now() > deadline {
                    return Ok(value);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        };

    // The volume, as set in the app, is what the desktop reads.
    engine.send(Command::SetVolume(0.25))?;
    until(&|e| matches!(e, Event::VolumeChanged { .. }), &mut desktop)?;
    let volume = settled("Volume", &|v| v.contains("double 0.25"))?;
    assert!(volume.contains("double 0.25"), "{volume}");

    // The queue cleared: the last song's title is not left behind.
    engine.send(Command::Clear)?;
    until(&|e| matches!(e, Event::QueueChanged(_)), &mut desktop)?;
    let metadata = settled("Metadata", &|m| !m.contains("Polar Night"))?;
    assert!(!metadata.contains("Polar Night"), "{metadata}");
    Ok(())
}
