//! What the playlists tests share.

use offbeat_playlists::doc::TrackRef;

/// Track `n` as a playlist remembers it: uid `uid-n`, title `Song n`, one minute long.
pub fn track(n: usize) -> TrackRef {
    TrackRef {
        track_uid: format!("uid-{n}"),
        title: format!("Song {n}"),
        artist: "Artist".into(),
        album: "Album".into(),
        duration_ms: 60_000,
    }
}
