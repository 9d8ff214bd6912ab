//! What the player bar and the queue panel show: snapshots of the engine's state, kept
//! current from its events. The player state is small and sent often (positions); the
//! queue is sent only when it changes.

use offbeat_model::Track;
use offbeat_playback::{Event, QueueSnapshot, Repeat};
use serde::{Deserialize, Serialize};

/// Whether something is playing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum PlaybackStatus {
    Stopped,
    Playing,
    Paused,
}

/// What happens at the end of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type, Default)]
#[serde(rename_all = "camelCase")]
pub enum RepeatMode {
    #[default]
    Off,
    One,
    All,
}

impl From<Repeat> for RepeatMode {
    fn from(repeat: Repeat) -> RepeatMode {
        match repeat {
            Repeat::Off => RepeatMode::Off,
            Repeat::One => RepeatMode::One,
            Repeat::All => RepeatMode::All,
        }
    }
}

impl From<RepeatMode> for Repeat {
    fn from(repeat: RepeatMode) -> Repeat {
        match repeat {
            RepeatMode::Off => Repeat::Off,
            RepeatMode::One => Repeat::One,
            RepeatMode::All => Repeat::All,
        }
    }
}

/// Which ReplayGain value levels tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type, Default)]
#[serde(rename_all = "camelCase")]
pub enum ReplayGainMode {
    #[default]
    Off,
    Track,
    Album,
}

impl From<ReplayGainMode> for offbeat_playback::ReplayGainMode {
    fn from(mode: ReplayGainMode) -> offbeat_playback::ReplayGainMode {
        match mode {
            ReplayGainMode::Off => offbeat_playback::ReplayGainMode::Off,
            ReplayGainMode::Track => offbeat_playback::ReplayGainMode::Track,
            ReplayGainMode::Album => offbeat_playback::ReplayGainMode::Album,
        }
    }
}

/// The player's state, sent to the UI on every change and a few times a second while playing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct PlayerState {
    pub status: PlaybackStatus,
    pub track: Option<Track>,
    /// The queue entry playing (or loaded), as in [`QueueState::items`].
    pub entry_id: Option<u32>,
    pub position_ms: u32,
    pub duration_ms: u32,
    /// 0.0 to 1.0, as the volume slider shows it.
    pub volume: f32,
    pub shuffle: bool,
    pub repeat: RepeatMode,
    /// The output device chosen in the settings (`None`: the system's default).
    pub output_device: Option<String>,
    pub replay_gain: ReplayGainMode,
    /// Added to tagged ReplayGain values, in dB.
    pub preamp_db: f32,
    /// The last playback error, cleared when a track starts.
    pub error: Option<String>,
    /// True while the current track waits for more of its download before it can play:
    /// nothing is heard yet.
    pub waiting: bool,
}

impl Default for PlayerState {
    fn default() -> PlayerState {
        PlayerState {
            status: PlaybackStatus::Stopped,
            track: None,
            entry_id: None,
            position_ms: 0,
            duration_ms: 0,
            volume: 1.0,
            shuffle: false,
            repeat: RepeatMode::Off,
            output_device: None,
            replay_gain: ReplayGainMode::Off,
            preamp_db: 0.0,
            error: None,
            waiting: false,
        }
    }
}

/// One entry of the queue: the same track may be queued twice, as two entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub entry_id: u32,
    pub track: Track,
}

/// The queue in play order, sent whenever it changes.
#[derive(
    Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event,
)]
#[serde(rename_all = "camelCase")]
pub struct QueueState {
    pub items: Vec<QueueItem>,
    /// Position in `items` of the entry playing (or loaded).
    pub current: Option<u32>,
}

fn ms(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Entry ids are counted from 1 by the engine; the UI gets them as plain numbers.
fn entry(id: u64) -> u32 {
    u32::try_from(id).unwrap_or(u32::MAX)
}

impl PlayerState {
    /// The engine's ReplayGain settings for what the player state says.
    pub fn replay_gain_settings(&self) -> offbeat_playback::ReplayGainSettings {
        offbeat_playback::ReplayGainSettings {
            mode: self.replay_gain.into(),
            preamp_db: self.preamp_db,
            prevent_clipping: true,
        }
    }

    /// Folds one engine event into the state; `resolve` looks a track up in the library.
    /// Returns false for events that change nothing here.
    pub fn apply(&mut self, event: &Event, resolve: &mut dyn FnMut(i64) -> Option<Track>) -> bool {
        match event {
            Event::TrackStarted {
                entry_id,
                track_id,
                duration_ms,
                paused,
                ..
            } => {
                self.status = if *paused {
                    PlaybackStatus::Paused
                } else {
                    PlaybackStatus::Playing
                };
                self.track = resolve(*track_id);
                self.entry_id = Some(entry(*entry_id));
                self.position_ms = 0;
                self.duration_ms = duration_ms
                    .map(ms)
                    .or(self.track.as_ref().map(|t| t.duration_ms))
                    .unwrap_or(0);
                self.error = None;
                self.waiting = false;
            }
            Event::Position { position_ms } => {
                let position_ms = ms(*position_ms);
                if position_ms == self.position_ms && !self.waiting {
                    return false;
                }
                self.position_ms = position_ms;
                // The engine says where playback is once the waiting track opens.
                self.waiting = false;
            }
            Event::Waiting { position_ms } => {
                self.position_ms = ms(*position_ms);
                self.waiting = true;
            }
            Event::Paused { position_ms } => {
                self.status = PlaybackStatus::Paused;
                self.position_ms = ms(*position_ms);
            }
            Event::Resumed { position_ms } => {
                self.status = PlaybackStatus::Playing;
                self.position_ms = ms(*position_ms);
            }
            Event::Stopped => {
                self.status = PlaybackStatus::Stopped;
                self.position_ms = 0;
                self.waiting = false;
            }
            // The next track's TrackStarted follows at once, or Stopped at the end.
            Event::TrackEnded { .. } => return false,
            Event::QueueChanged(snapshot) => {
                let (shuffle, repeat) = (snapshot.shuffle, RepeatMode::from(snapshot.repeat));
                // An emptied queue leaves nothing loaded: play then starts what the list
                // shows, not a track that is gone.
                let emptied = snapshot.current.is_none() && self.entry_id.is_some();
                if (shuffle, repeat) == (self.shuffle, self.repeat) && !emptied {
                    return false;
                }
                self.shuffle = shuffle;
                self.repeat = repeat;
                if emptied {
                    self.track = None;
                    self.entry_id = None;
                    self.status = PlaybackStatus::Stopped;
                    self.position_ms = 0;
                    self.duration_ms = 0;
                }
            }
            Event::VolumeChanged { volume } => {
                if *volume == self.volume {
                    return false;
                }
                self.volume = *volume;
            }
            Event::Error { message, .. } => {
                // Playback goes on with the next track; the message is shown quietly.
                self.error = Some(message.clone());
            }
            Event::OutputChanged { device, lost } => {
                self.output_device = device.clone();
                if let Some(why) = lost {
                    self.status = PlaybackStatus::Paused;
                    self.error = Some(format!(
                        "The audio device went away ({why}). Paused; play goes on through the default device."
                    ));
                }
            }
        }
        true
    }
}

impl QueueState {
    /// The queue as the engine reports it, each entry resolved to its library track
    /// (entries whose track left the library are left out).
    pub fn from_snapshot(
        snapshot: &QueueSnapshot,
        resolve: &mut dyn FnMut(i64) -> Option<Track>,
    ) -> QueueState {
        let mut items = Vec::with_capacity(snapshot.entries.len());
        let mut current = None;
        for (i, e) in snapshot.entries.iter().enumerate() {
            if let Some(track) = resolve(e.track.track_id) {
                if snapshot.current == Some(i) {
                    current = Some(items.len() as u32);
                }
                items.push(QueueItem {
                    entry_id: entry(e.entry_id),
                    track,
                });
            }
        }
        QueueState { items, current }
    }

    /// Its items in the order they were added (`snapshot.unshuffled`), as positions in
    /// `items`; `self` is what [`QueueState::from_snapshot`] made of `snapshot`.
    pub fn unshuffled(&self, snapshot: &QueueSnapshot) -> Vec<usize> {
        let at: std::collections::HashMap<u32, usize> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.entry_id, i))
            .collect();
        snapshot
            .unshuffled
            .iter()
            .filter_map(|&p| snapshot.entries.get(p))
            .filter_map(|e| at.get(&entry(e.entry_id)).copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use offbeat_model::TrackUid;
    use offbeat_playback::{QueueEntry, QueueTrack, ReplayGainTags};

    use super::*;

    fn track(id: i64) -> Track {
        Track {
            id,
            uid: TrackUid::from_stored(format!("uid-{id}")),
            path: format!("/m/{id}.flac"),
            title: format!("Song {id}"),
            artist: "A".into(),
            album: "B".into(),
            album_artist: "A".into(),
            track_number: None,
            disc_number: None,
            year: None,
            genre: None,
            duration_ms: 20_000,
            format: "FLAC".into(),
            source: offbeat_model::TrackSource::Local,
        }
    }

    #[test]
    fn events_drive_the_player_bar() {
        let mut state = PlayerState::default();
        let mut resolve = |id: i64| Some(track(id));
        let path = PathBuf::from("/m/7.flac");
        assert!(state.apply(
            &Event::TrackStarted {
                entry_id: 3,
                track_id: 7,
                path: path.clone(),
                duration_ms: Some(20_000),
                paused: false,
            },
            &mut resolve
        ));
        assert_eq!(
            (state.status, state.duration_ms, state.entry_id),
            (PlaybackStatus::Playing, 20_000, Some(3))
        );
        assert_eq!(state.track.as_ref().map(|t| t.id), Some(7));
        assert!(state.apply(&Event::Position { position_ms: 1_500 }, &mut resolve));
        assert!(!state.apply(&Event::Position { position_ms: 1_500 }, &mut resolve));
        state.apply(&Event::Paused { position_ms: 1_600 }, &mut resolve);
        assert_eq!(
            (state.status, state.position_ms),
            (PlaybackStatus::Paused, 1_600)
        );
        state.apply(&Event::Resumed { position_ms: 1_600 }, &mut resolve);
        assert_eq!(state.status, PlaybackStatus::Playing);
        state.apply(
            &Event::Error {
                path: Some(path),
                message: "broken".into(),
            },
            &mut resolve,
        );
        assert_eq!(state.error.as_deref(), Some("broken"));
        state.apply(&Event::Stopped, &mut resolve);
        assert_eq!(state.status, PlaybackStatus::Stopped);
    }

    #[test]
    fn a_track_waiting_for_its_download_shows_as_waiting_until_it_opens() {
        let mut state = PlayerState::default();
        let mut resolve = |id: i64| Some(track(id));
        state.apply(
            &Event::TrackStarted {
                entry_id: 1,
                track_id: 7,
                path: PathBuf::from("/cache/7.flac"),
                duration_ms: None,
                paused: false,
            },
            &mut resolve,
        );
        assert!(state.apply(&Event::Waiting { position_ms: 0 }, &mut resolve));
        assert!(state.waiting);
        assert_eq!(
            state.duration_ms, 20_000,
            "the library's duration meanwhile"
        );
        // It opens where it waited: the same position, and no longer waiting.
        assert!(state.apply(&Event::Position { position_ms: 0 }, &mut resolve));
        assert!(!state.waiting);
        // A seek past what has arrived waits again; stopping ends the wait.
        state.apply(
            &Event::Position {
                position_ms: 15_000,
            },
            &mut resolve,
        );
        state.apply(
            &Event::Waiting {
                position_ms: 15_000,
            },
            &mut resolve,
        );
        assert_eq!((state.waiting, state.position_ms), (true, 15_000));
        state.apply(&Event::Stopped, &mut resolve);
        assert!(!state.waiting);
    }

    #[test]
    fn the_queue_resolves_its_tracks_and_drops_those_gone() {
        let entry = |entry_id, track_id| QueueEntry {
            entry_id,
            track: QueueTrack {
                track_id,
                path: PathBuf::from("/m/x.flac"),
                replay_gain: ReplayGainTags::default(),
            },
        };
        let snapshot = QueueSnapshot {
            entries: vec![entry(1, 10), entry(2, 99), entry(3, 30)],
            current: Some(2),
            shuffle: true,
            // Added as 30, 99, 10.
            unshuffled: vec![2, 1, 0],
            repeat: Repeat::All,
        };
        let queue = QueueState::from_snapshot(&snapshot, &mut |id| (id != 99).then(|| track(id)));
        let ids: Vec<(u32, i64)> = queue
            .items
            .iter()
            .map(|i| (i.entry_id, i.track.id))
            .collect();
        assert_eq!(ids, [(1, 10), (3, 30)]);
        assert_eq!(queue.current, Some(1));
        // The added order of what is left: 30, then 10.
        assert_eq!(queue.unshuffled(&snapshot), [1, 0]);

        let mut state = PlayerState::default();
        assert!(state.apply(&Event::QueueChanged(snapshot), &mut |id| Some(track(id))));
        assert_eq!((state.shuffle, state.repeat), (true, RepeatMode::All));

        // Cleared: nothing is loaded any more.
        state.entry_id = Some(3);
        state.track = Some(track(30));
        let cleared = QueueSnapshot {
            entries: Vec::new(),
            current: None,
            shuffle: true,
            unshuffled: Vec::new(),
            repeat: Repeat::All,
        };
        assert!(state.apply(&Event::QueueChanged(cleared), &mut |id| Some(track(id))));
        assert_eq!((state.track.as_ref(), state.entry_id), (None, None));
        assert!(state.apply(&Event::VolumeChanged { volume: 0.25 }, &mut |_| None));
        assert_eq!(state.volume, 0.25);
    }
}
