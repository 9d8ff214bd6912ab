//! The desktop's media controls: Offbeat on the session bus as an MPRIS player
//! (`org.mpris.MediaPlayer2.offbeat`), so the desktop's media keys and panels can play,
//! pause, skip and seek, and show what is playing. Through souvlaki's D-Bus backend.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use offbeat_playback::Command;
use souvlaki::{
    MediaControlEvent, MediaControls, MediaMetadata, MediaPlayback, MediaPosition, PlatformConfig,
    SeekDirection,
};

use crate::player::{PlaybackStatus, PlayerState};

/// How far a "seek" without an amount moves.
const SEEK_STEP: Duration = Duration::from_secs(5);

/// The registered player. Dropping it leaves the bus.
pub struct DesktopControls {
    controls: MediaControls,
    playing: Arc<AtomicBool>,
    position_ms: Arc<AtomicU64>,
    /// What was last exported, so unchanged states are not sent again.
    shown: Option<(Option<i64>, PlaybackStatus)>,
    /// The position last seen: a jump (a seek) is exported at once.
    last_position_ms: u32,
    /// When the state was last exported. While playing, the position is exported again
    /// every [`POSITION_REFRESH`]: souvlaki answers the `Position` property with the
    /// value it was last given, and tools that read it (playerctl, status bars) do not
    /// extrapolate.
    exported_at: Instant,
    /// The volume last exported.
    volume: Option<f32>,
}

/// A position change bigger than this between two updates is a seek.
const JUMP_MS: u32 = 1_500;

/// How stale the exported position may grow while playing.
const POSITION_REFRESH: Duration = Duration::from_secs(1);

impl std::fmt::Debug for DesktopControls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopControls").finish_non_exhaustive()
    }
}

impl DesktopControls {
    /// Registers on the session bus; every request from the desktop becomes an engine
    /// command handed to `send`. Fails (with the reason) when there is no session bus.
    pub fn start(send: impl Fn(Command) + Send + 'static) -> Result<DesktopControls, String> {
        let config = PlatformConfig {
            display_name: "Offbeat",
            dbus_name: "offbeat",
            hwnd: None,
        };
        let mut controls = MediaControls::new(config)
            .map_err(|e| format!("cannot register the media controls: {e:?}"))?;
        let playing = Arc::new(AtomicBool::new(false));
        let position_ms = Arc::new(AtomicU64::new(0));
        let (is_playing, position) = (playing.clone(), position_ms.clone());
        controls
            .attach(move |event| {
                if let Some(command) = command_for(event, &is_playing, &position) {
                    send(command);
                }
            })
            .map_err(|e| format!("cannot listen to the media controls: {e:?}"))?;
        Ok(DesktopControls {
            controls,
            playing,
            position_ms,
            shown: None,
            last_position_ms: 0,
            exported_at: Instant::now(),
            volume: None,
        })
    }

    /// Exports the player's state: the track's title, artist, album, length and cover
    /// (`art_url`, a `file://` URL), whether it plays, and where, and the volume.
    pub fn show(&mut self, player: &PlayerState, art_url: Option<&str>) {
        if self.volume != Some(player.volume) {
            self.volume = Some(player.volume);
            if let Err(e) = self.controls.set_volume(f64::from(player.volume)) {
                eprintln!("offbeat: media controls: {e:?}");
            }
        }
        self.playing
            .store(player.status == PlaybackStatus::Playing, Ordering::Relaxed);
        self.position_ms
            .store(u64::from(player.position_ms), Ordering::Relaxed);
        let key = (player.track.as_ref().map(|t| t.id), player.status);
        let jumped = player.position_ms < self.last_position_ms
            || player.position_ms > self.last_position_ms.saturating_add(JUMP_MS);
        self.last_position_ms = player.position_ms;
        let new_track = self.shown.map(|(track, _)| track) != Some(key.0);
        let stale = player.status == PlaybackStatus::Playing
            && self.exported_at.elapsed() >= POSITION_REFRESH;
        if self.shown == Some(key) && !jumped && !stale {
            return;
        }
        self.shown = Some(key);
        self.exported_at = Instant::now();
        if new_track && player.track.is_none() {
            // Nothing loaded (the queue cleared): the last song's title goes too.
            if let Err(e) = self.controls.set_metadata(MediaMetadata::default()) {
                eprintln!("offbeat: media controls: {e:?}");
            }
        }
        if let (true, Some(track)) = (new_track, &player.track) {
            let metadata = MediaMetadata {
                title: Some(track.title.as_str()),
                album: Some(track.album.as_str()),
                artist: Some(track.artist.as_str()),
                cover_url: art_url,
                duration: Some(Duration::from_millis(u64::from(player.duration_ms))),
            };
            if let Err(e) = self.controls.set_metadata(metadata) {
                eprintln!("offbeat: media controls: {e:?}");
            }
        }
        let progress = Some(MediaPosition(Duration::from_millis(u64::from(
            player.position_ms,
        ))));
        let playback = match player.status {
            PlaybackStatus::Playing => MediaPlayback::Playing { progress },
            PlaybackStatus::Paused => MediaPlayback::Paused { progress },
            PlaybackStatus::Stopped => MediaPlayback::Stopped,
        };
        if let Err(e) = self.controls.set_playback(playback) {
            eprintln!("offbeat: media controls: {e:?}");
        }
    }
}

/// The engine command for a request from the desktop, if it is one Offbeat answers.
fn command_for(
    event: MediaControlEvent,
    playing: &AtomicBool,
    position_ms: &AtomicU64,
) -> Option<Command> {
    let at = || position_ms.load(Ordering::Relaxed);
    let step = |direction: SeekDirection, by: Duration| {
        let by = by.as_millis() as u64;
        match direction {
            SeekDirection::Forward => at().saturating_add(by),
            SeekDirection::Backward => at().saturating_sub(by),
        }
    };
    Some(match event {
        MediaControlEvent::Play => Command::Resume,
        MediaControlEvent::Pause => Command::Pause,
        MediaControlEvent::Toggle if playing.load(Ordering::Relaxed) => Command::Pause,
        MediaControlEvent::Toggle => Command::Resume,
        MediaControlEvent::Next => Command::Next,
        MediaControlEvent::Previous => Command::Previous,
        MediaControlEvent::Stop => Command::Stop,
        MediaControlEvent::Seek(direction) => Command::Seek(step(direction, SEEK_STEP)),
        MediaControlEvent::SeekBy(direction, by) => Command::Seek(step(direction, by)),
        MediaControlEvent::SetPosition(MediaPosition(to)) => Command::Seek(to.as_millis() as u64),
        // From outside the app: a NaN would pass `clamp` and reach the gain (and make the
        // saved session unreadable), so it is turned down.
        MediaControlEvent::SetVolume(volume) if volume.is_finite() => {
            Command::SetVolume(volume.clamp(0.0, 1.0) as f32)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desktop_requests_become_engine_commands() {
        let playing = AtomicBool::new(true);
        let position = AtomicU64::new(10_000);
        let command = |e| command_for(e, &playing, &position);
        assert_eq!(command(MediaControlEvent::Toggle), Some(Command::Pause));
        assert_eq!(command(MediaControlEvent::Next), Some(Command::Next));
        assert_eq!(
            command(MediaControlEvent::SeekBy(
                SeekDirection::Backward,
                Duration::from_secs(3)
            )),
            Some(Command::Seek(7_000))
        );
        assert_eq!(
            command(MediaControlEvent::Seek(SeekDirection::Backward)),
            Some(Command::Seek(5_000))
        );
        assert_eq!(
            command(MediaControlEvent::SetPosition(MediaPosition(
                Duration::from_millis(42)
            ))),
            Some(Command::Seek(42))
        );
        assert_eq!(command(MediaControlEvent::Raise), None);
        assert_eq!(
            command(MediaControlEvent::SetVolume(1.5)),
            Some(Command::SetVolume(1.0))
        );
        assert_eq!(command(MediaControlEvent::SetVolume(f64::NAN)), None);
        playing.store(false, Ordering::Relaxed);
        assert_eq!(command(MediaControlEvent::Toggle), Some(Command::Resume));
    }
}
