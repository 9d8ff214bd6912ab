//! The listening session saved across launches: the queue, the track and position, shuffle,
//! repeat and volume. Restored paused on the next launch.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::player::{RepeatMode, ReplayGainMode};

/// What is saved, in `session.json` in the data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Library track ids, in play order.
    pub track_ids: Vec<i64>,
    /// Positions in `track_ids`, in the order the tracks were added: what turning shuffle
    /// off brings back (older files lack it: the play order stands for it).
    #[serde(default)]
    pub unshuffled: Vec<usize>,
    /// Position of the current entry in `track_ids`.
    pub current: Option<usize>,
    pub position_ms: u64,
    pub shuffle: bool,
    pub repeat: RepeatMode,
    pub volume: f32,
    /// Settings kept with the session (older files lack them: defaults apply).
    #[serde(default)]
    pub output_device: Option<String>,
    #[serde(default)]
    pub replay_gain: ReplayGainMode,
    #[serde(default)]
    pub preamp_db: f32,
}

impl Default for Session {
    fn default() -> Session {
        Session {
            track_ids: Vec::new(),
            unshuffled: Vec::new(),
            current: None,
            position_ms: 0,
            shuffle: false,
            repeat: RepeatMode::Off,
            volume: 1.0,
            output_device: None,
            replay_gain: ReplayGainMode::Off,
            preamp_db: 0.0,
        }
    }
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("session.json")
}

/// The saved session, or `None` when there is none. A damaged file is reported and
/// ignored: the app starts with an empty queue rather than not at all.
pub fn load(path: &Path) -> Option<Session> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            eprintln!(
                "offbeat: cannot read the saved session {}: {e}",
                path.display()
            );
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(session) => Some(session),
        Err(e) => {
            eprintln!(
                "offbeat: ignoring the damaged saved session {}: {e}",
                path.display()
            );
            None
        }
    }
}

/// Saves the session: written beside the old file, then renamed over it, so a crash
/// mid-write leaves the previous session, never half of one. Each save writes its own
/// temporary file, so two saves at once (the event pump's, a setting's) cannot mix.
pub fn save(path: &Path, session: &Session) -> std::io::Result<()> {
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let text = serde_json::to_string(session).map_err(std::io::Error::other)?;
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("json.{n}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_a_round_trip_and_a_damaged_file_is_ignored() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = path(dir.path());
        assert_eq!(load(&file), None);
        let session = Session {
            track_ids: vec![3, 1, 2],
            unshuffled: vec![1, 2, 0],
            current: Some(1),
            position_ms: 42_000,
            shuffle: true,
            repeat: RepeatMode::All,
            volume: 0.5,
            output_device: Some("alsa:hw:1".into()),
            replay_gain: ReplayGainMode::Album,
            preamp_db: 3.0,
        };
        save(&file, &session)?;
        assert_eq!(load(&file), Some(session));
        std::fs::write(&file, "{ not json")?;
        assert_eq!(load(&file), None);
        // A session saved before the added order was kept still loads.
        std::fs::write(
            &file,
            r#"{"trackIds":[3,1],"current":0,"positionMs":0,"shuffle":true,"repeat":"off","volume":1.0}"#,
        )?;
        assert_eq!(
            load(&file).map(|s| (s.track_ids, s.unshuffled)),
            Some((vec![3, 1], vec![]))
        );
        Ok(())
    }
}
