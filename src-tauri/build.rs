fn main() {
    // Offbeat's own commands get permissions like plugin commands do, so each window's
    // capability file lists exactly the commands it may call.
    let commands = &[
        "library_status",
        "list_tracks",
        "add_folder",
        "play_tracks",
        "enqueue",
        "remove_from_queue",
        "move_in_queue",
        "clear_queue",
        "play_entry",
        "next_track",
        "previous_track",
        "set_shuffle",
        "set_repeat",
        "queue_state",
        "output_devices",
        "set_output_device",
        "set_replay_gain",
        "pause",
        "resume",
        "stop",
        "seek",
        "set_volume",
        "player_state",
        "search_all",
        "track_details",
        "artists",
        "artist_albums",
        "albums",
        "album_tracks",
        "genres",
        "genre_tracks",
        "years",
        "year_tracks",
        "recently_added",
        "scan_problems",
        "cancel_scan",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
