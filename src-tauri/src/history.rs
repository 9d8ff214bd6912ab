//! Recording plays from the engine's events: which track, when it started, how long it
//! was actually heard (pauses and seeks not counted), and whether it was skipped. Each
//! finished play goes into the library's outbox at once (a crash loses at most the play
//! in progress); paired mode uploads it.

use offbeat_library::{EndReason, Play};
use offbeat_model::TrackSource;
use offbeat_playback::Event;

/// A jump in position bigger than this between two reports is a seek, not listening.
const MAX_STEP_MS: u64 = 2_000;
/// Shorter than this is not a play (a track skipped past at once, or loaded and left).
const MIN_PLAY_MS: u64 = 1_000;

#[derive(Debug)]
struct Current {
    uid: String,
    source: TrackSource,
    started_at: i64,
    duration_ms: u64,
    played_ms: u64,
    last_position: Option<u64>,
    playing: bool,
    finished: bool,
}

/// Follows the engine's events; hands back each play as it ends.
#[derive(Debug)]
pub struct PlayRecorder {
    device: String,
    current: Option<Current>,
    counter: u64,
}

impl PlayRecorder {
    pub fn new(device: String) -> PlayRecorder {
        PlayRecorder {
            device,
            current: None,
            counter: 0,
        }
    }

    /// `uid_of` names the library track of an event (uid, duration and where it plays
    /// from); `now_ms` is the wall clock.
    pub fn on_event(
        &mut self,
        event: &Event,
        now_ms: i64,
        uid_of: impl FnOnce(i64) -> Option<(String, u64, TrackSource)>,
    ) -> Option<Play> {
        match event {
            Event::TrackStarted {
                track_id,
                duration_ms,
                paused,
                ..
            } => {
                let done = self.finish(EndReason::Skipped);
                self.current = uid_of(*track_id).map(|(uid, library_ms, source)| Current {
                    uid,
                    source,
                    started_at: now_ms,
                    duration_ms: duration_ms.unwrap_or(library_ms),
                    played_ms: 0,
                    last_position: Some(0),
                    playing: !paused,
                    finished: false,
                });
                done
            }
            Event::Position { position_ms } => {
                if let Some(c) = self.current.as_mut() {
                    c.advance(*position_ms);
                }
                None
            }
            Event::Paused { position_ms } => {
                if let Some(c) = self.current.as_mut() {
                    c.advance(*position_ms);
                    c.playing = false;
                }
                None
            }
            Event::Resumed { position_ms } => {
                if let Some(c) = self.current.as_mut() {
                    c.last_position = Some(*position_ms);
                    c.playing = true;
                    if c.played_ms == 0 {
                        // Loaded paused (a restore at launch, Next while paused): the
                        // listen starts now, not when it was loaded.
                        c.started_at = now_ms;
                    }
                }
                None
            }
            Event::TrackEnded { .. } => {
                if let Some(c) = self.current.as_mut() {
                    if let Some(last) = c.last_position {
                        // The tail after the last report was heard too.
                        c.played_ms += c.duration_ms.saturating_sub(last).min(MAX_STEP_MS);
                    }
                    c.finished = true;
                }
                self.finish(EndReason::Finished)
            }
            Event::Stopped => self.finish(EndReason::Stopped),
            _ => None,
        }
    }

    /// Ends the play in progress now (the app is closing): recorded as stopped.
    pub fn end_now(&mut self) -> Option<Play> {
        self.finish(EndReason::Stopped)
    }

    /// The play in progress, ended: `end` says how, unless it ran to its end.
    fn finish(&mut self, end: EndReason) -> Option<Play> {
        let c = self.current.take()?;
        if c.played_ms < MIN_PLAY_MS {
            return None;
        }
        self.counter += 1;
        let listen = offbeat_library::is_listen(c.played_ms as i64, Some(c.duration_ms as i64));
        let end = if c.finished { EndReason::Finished } else { end };
        Some(Play {
            id: format!(
                "{}-{}-{}-{}",
                self.device,
                c.started_at,
                self.counter,
                fastrand::u32(..)
            ),
            track_uid: Some(c.uid),
            played_at: c.started_at,
            ms_played: c.played_ms as i64,
            skipped: end == EndReason::Skipped && !listen,
            device: Some(self.device.clone()),
            utc_offset_min: offbeat_library::utc_offset_min(c.started_at),
            end_reason: Some(end),
            source: Some(
                match c.source {
                    TrackSource::Local => "local",
                    TrackSource::Cached => "cached",
                    TrackSource::Server => "stream",
                }
                .to_owned(),
            ),
            listen: Some(listen),
            // Names, genre and MusicBrainz id: the library fills them from the track.
            ..Play::default()
        })
    }
}

impl Current {
    fn advance(&mut self, position: u64) {
        if let (true, Some(last)) = (self.playing, self.last_position) {
            let step = position.saturating_sub(last);
            if position >= last && step <= MAX_STEP_MS {
                self.played_ms += step;
            }
        }
        self.last_position = Some(position);
    }
}

/// This device's id, made once and kept in the data folder (plays name their device).
pub fn device_id(data_dir: &std::path::Path) -> String {
    let path = data_dir.join("device-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return id.to_owned();
        }
    }
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "device".to_owned());
    let id = format!("{host}-{:08x}", fastrand::u32(..));
    let _ = std::fs::write(&path, &id);
    id
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;
    use std::path::PathBuf;

    fn started(track_id: i64) -> Event {
        Event::TrackStarted {
            entry_id: 1,
            track_id,
            path: PathBuf::from("/x"),
            duration_ms: Some(200_000),
            paused: false,
        }
    }

    fn pos(ms: u64) -> Event {
        Event::Position { position_ms: ms }
    }

    fn uid(id: i64) -> Option<(String, u64, TrackSource)> {
        Some((format!("h:{id}"), 200_000, TrackSource::Local))
    }

    #[test]
    fn a_track_heard_to_its_end_is_a_play_with_the_time_heard() {
        let mut r = PlayRecorder::new("laptop".into());
        assert_eq!(r.on_event(&started(1), 1000, uid), None);
        for p in (250..=199_000).step_by(250) {
            assert_eq!(r.on_event(&pos(p), 0, uid), None);
        }
        let play = r
            .on_event(
                &Event::TrackEnded {
                    path: PathBuf::from("/x"),
                },
                0,
                uid,
            )
            .expect("a play");
        assert_eq!(play.track_uid.as_deref(), Some("h:1"));
        assert_eq!(play.played_at, 1000);
        assert_eq!(play.ms_played, 200_000);
        assert!(!play.skipped);
        assert_eq!(play.end_reason, Some(EndReason::Finished));
        assert_eq!(play.listen, Some(true));
        assert_eq!(play.source.as_deref(), Some("local"));
        assert!(play.id.starts_with("laptop-"));
    }

    #[test]
    fn pauses_and_seeks_do_not_count_and_an_early_next_is_a_skip() {
        let mut r = PlayRecorder::new("d".into());
        r.on_event(&started(1), 0, uid);
        r.on_event(&pos(1000), 0, uid);
        r.on_event(&Event::Paused { position_ms: 1500 }, 0, uid);
        r.on_event(&pos(1500), 0, uid);
        r.on_event(&Event::Resumed { position_ms: 1500 }, 0, uid);
        // A seek forward: not heard.
        r.on_event(&pos(90_000), 0, uid);
        r.on_event(&pos(91_000), 0, uid);
        let play = r
            .on_event(&started(2), 5, uid)
            .expect("the first track's play");
        assert_eq!(play.ms_played, 2500);
        assert!(play.skipped);
        assert_eq!(play.end_reason, Some(EndReason::Skipped));
        assert_eq!(play.listen, Some(false));
        // Too short to count: no play.
        r.on_event(&pos(500), 0, uid);
        assert_eq!(r.on_event(&Event::Stopped, 0, uid), None);
    }

    #[test]
    fn a_track_loaded_paused_is_dated_from_when_it_starts_playing() {
        let mut r = PlayRecorder::new("d".into());
        let loaded = Event::TrackStarted {
            entry_id: 1,
            track_id: 1,
            path: PathBuf::from("/x"),
            duration_ms: Some(200_000),
            paused: true,
        };
        // Loaded at 23:50, played from 00:20 the next day.
        r.on_event(&loaded, 1_000, uid);
        r.on_event(&pos(60_000), 1_000, uid);
        r.on_event(
            &Event::Resumed {
                position_ms: 60_000,
            },
            1_801_000,
            uid,
        );
        for p in (60_250..=160_000).step_by(250) {
            r.on_event(&pos(p), 0, uid);
        }
        let play = r.on_event(&Event::Stopped, 0, uid).expect("a play");
        assert_eq!(play.played_at, 1_801_000);
        assert_eq!(play.ms_played, 100_000);
    }

    #[test]
    fn quitting_mid_song_ends_its_play_once() {
        let mut r = PlayRecorder::new("d".into());
        r.on_event(&started(1), 0, uid);
        for p in (250..=120_000).step_by(250) {
            r.on_event(&pos(p), 0, uid);
        }
        let play = r.end_now().expect("the play in progress");
        assert_eq!(play.ms_played, 120_000);
        assert_eq!(play.end_reason, Some(EndReason::Stopped));
        assert_eq!(play.listen, Some(true));
        // Whatever the engine says after, it is not recorded twice.
        assert_eq!(r.on_event(&Event::Stopped, 0, uid), None);
        assert_eq!(r.end_now(), None);
    }

    #[test]
    fn half_the_track_is_a_listen_even_when_stopped() {
        let mut r = PlayRecorder::new("d".into());
        r.on_event(&started(1), 0, uid);
        for p in (1000..=100_000).step_by(1000) {
            r.on_event(&pos(p), 0, uid);
        }
        let play = r.on_event(&Event::Stopped, 0, uid).expect("a play");
        assert!(!play.skipped);
        assert_eq!(play.end_reason, Some(EndReason::Stopped));
        assert_eq!(play.listen, Some(true));
        assert_eq!(play.ms_played, 100_000);
    }
}
