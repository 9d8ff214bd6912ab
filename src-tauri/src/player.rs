//! What the player bar shows: a snapshot of the engine's state, kept current from its events.

use offbeat_model::Track;
use offbeat_playback::Event;
use serde::{Deserialize, Serialize};

/// Whether something is playing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum PlaybackStatus {
    Stopped,
    Playing,
    Paused,
}

/// The player's state, sent to the UI on every change and a few times a second while playing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct PlayerState {
    pub status: PlaybackStatus,
    pub track: Option<Track>,
    pub position_ms: u32,
    pub duration_ms: u32,
    /// 0.0 to 1.0, as the volume slider shows it.
    pub volume: f32,
    /// The last playback error, cleared when a track starts.
    pub error: Option<String>,
}

impl Default for PlayerState {
    fn default() -> PlayerState {
        PlayerState {
            status: PlaybackStatus::Stopped,
            track: None,
            position_ms: 0,
            duration_ms: 0,
            volume: 1.0,
            error: None,
        }
    }
}

fn ms(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl PlayerState {
    /// The track the user asked for; it becomes "playing" when the engine says it started.
    pub fn load(&mut self, track: Track) {
        self.duration_ms = track.duration_ms;
        self.position_ms = 0;
        self.track = Some(track);
    }

    /// Folds one engine event into the state. Returns false for events that change nothing.
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::TrackStarted { duration_ms, .. } => {
                self.status = PlaybackStatus::Playing;
                self.position_ms = 0;
                if let Some(d) = duration_ms {
                    self.duration_ms = ms(*d);
                }
                self.error = None;
            }
            Event::Position { position_ms } => {
                let position_ms = ms(*position_ms);
                if position_ms == self.position_ms {
                    return false;
                }
                self.position_ms = position_ms;
            }
            Event::Paused { position_ms } => {
                self.status = PlaybackStatus::Paused;
                self.position_ms = ms(*position_ms);
            }
            Event::Resumed { position_ms } => {
                self.status = PlaybackStatus::Playing;
                self.position_ms = ms(*position_ms);
            }
            Event::Stopped | Event::TrackEnded { .. } => {
                self.status = PlaybackStatus::Stopped;
                self.position_ms = 0;
            }
            Event::Error { message, .. } => {
                self.status = PlaybackStatus::Stopped;
                self.position_ms = 0;
                self.error = Some(message.clone());
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn events_drive_the_player_bar() {
        let mut state = PlayerState::default();
        let path = PathBuf::from("/m/a.flac");
        assert!(state.apply(&Event::TrackStarted {
            path: path.clone(),
            duration_ms: Some(20_000)
        }));
        assert_eq!(
            (state.status, state.duration_ms),
            (PlaybackStatus::Playing, 20_000)
        );
        assert!(state.apply(&Event::Position { position_ms: 1_500 }));
        assert!(!state.apply(&Event::Position { position_ms: 1_500 }));
        state.apply(&Event::Paused { position_ms: 1_600 });
        assert_eq!(
            (state.status, state.position_ms),
            (PlaybackStatus::Paused, 1_600)
        );
        state.apply(&Event::Resumed { position_ms: 1_600 });
        assert_eq!(state.status, PlaybackStatus::Playing);
        state.apply(&Event::Error {
            path: Some(path),
            message: "broken".into(),
        });
        assert_eq!(
            (state.status, state.error.as_deref()),
            (PlaybackStatus::Stopped, Some("broken"))
        );
    }
}
