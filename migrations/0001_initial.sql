-- Offbeat library schema, version 1: folders, files, artists, albums, tracks and the
-- full-text search index over titles, artists and albums.

CREATE TABLE folders (
    id       INTEGER PRIMARY KEY,
    path     TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL            -- unix seconds
);

-- raw_path is the path exactly as the file system spells it (bytes: Linux names need not
-- be UTF-8); path is the same path as text, for display and search (lossy for such names).
CREATE TABLE files (
    id        INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    raw_path  BLOB NOT NULL UNIQUE,
    path      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL
);

CREATE TABLE artists (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE albums (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    album_artist_id INTEGER NOT NULL REFERENCES artists(id),
    year            INTEGER,
    UNIQUE (album_artist_id, title)
);

CREATE TABLE tracks (
    id           INTEGER PRIMARY KEY,
    file_id      INTEGER NOT NULL UNIQUE REFERENCES files(id) ON DELETE CASCADE,
    uid          TEXT NOT NULL,
    title        TEXT NOT NULL,
    artist_id    INTEGER NOT NULL REFERENCES artists(id),
    album_id     INTEGER NOT NULL REFERENCES albums(id),
    track_number INTEGER,
    disc_number  INTEGER,
    year         INTEGER,
    genre        TEXT,
    duration_ms  INTEGER NOT NULL,
    format       TEXT NOT NULL
);
CREATE INDEX tracks_uid ON tracks(uid);
CREATE INDEX tracks_album ON tracks(album_id, disc_number, track_number);

-- Files the scanner could not index, with a plain reason, so the UI can list them.
CREATE TABLE scan_problems (
    path      TEXT PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    reason    TEXT NOT NULL
);

-- rowid = tracks.id. unicode61 with remove_diacritics folds "Beyoncé" to "beyonce";
-- the prefix indexes make "word*" queries of 1-3 letters index lookups.
CREATE VIRTUAL TABLE track_search USING fts5(
    title, artist, album,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
