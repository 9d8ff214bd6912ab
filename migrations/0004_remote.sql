-- Offbeat library schema, version 4: a paired server's catalog mirrored beside the local
-- library (one row per track_uid: a local file wins), and the verified copies of its files
-- kept on this device.

-- A folder that stands for a server's catalog, not a place on disk ("offbeat-server:<id>").
-- Its files are named "offbeat-server:<id>/<track_uid>" and never opened as paths.
ALTER TABLE folders ADD COLUMN server_id TEXT;

-- The catalog exactly as the server sent it, kept even while a local file of the same
-- track hides it, so the server's copy shows again if the local file goes.
CREATE TABLE remote_tracks (
    uid       TEXT PRIMARY KEY,
    server_id TEXT NOT NULL,
    body      TEXT NOT NULL,     -- the catalog's JSON for the track
    size      INTEGER            -- the file's bytes, when the server says
);
CREATE INDEX remote_tracks_server ON remote_tracks(server_id);

-- How far the mirror has read each server's change log.
CREATE TABLE remote_state (
    server_id    TEXT PRIMARY KEY,
    cursor       TEXT,
    mirrored_at  INTEGER         -- unix ms when the mirror last caught up
);

-- Server files kept on this device. A row exists only for a complete file whose length and
-- SHA-256 matched what the server said.
CREATE TABLE cached_files (
    uid       TEXT PRIMARY KEY,
    file      TEXT NOT NULL,     -- its name inside the cache folder
    size      INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    last_used INTEGER NOT NULL   -- unix ms, for least-recently-used eviction
);
CREATE INDEX cached_files_lru ON cached_files(last_used);
