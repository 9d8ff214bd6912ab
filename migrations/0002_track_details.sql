-- Offbeat library schema, version 2: the rest of what tags and stream properties say, and
-- multi-valued artists and genres.

ALTER TABLE tracks ADD COLUMN track_total INTEGER;
ALTER TABLE tracks ADD COLUMN disc_total INTEGER;
ALTER TABLE tracks ADD COLUMN original_year INTEGER;
ALTER TABLE tracks ADD COLUMN compilation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN bitrate_kbps INTEGER;
ALTER TABLE tracks ADD COLUMN sample_rate INTEGER;
ALTER TABLE tracks ADD COLUMN channels INTEGER;
ALTER TABLE tracks ADD COLUMN bit_depth INTEGER;
ALTER TABLE tracks ADD COLUMN mb_recording_id TEXT;
ALTER TABLE tracks ADD COLUMN mb_release_id TEXT;
ALTER TABLE tracks ADD COLUMN mb_artist_id TEXT;
ALTER TABLE tracks ADD COLUMN rg_track_gain REAL;
ALTER TABLE tracks ADD COLUMN rg_track_peak REAL;
ALTER TABLE tracks ADD COLUMN rg_album_gain REAL;
ALTER TABLE tracks ADD COLUMN rg_album_peak REAL;
ALTER TABLE tracks ADD COLUMN has_lyrics INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN added_at INTEGER;   -- unix seconds; "recently added"

-- Every credited artist of a track, in tag order ("A feat. B" stays one display string
-- in tracks.artist_id; here A and B are separate so each artist page lists the track).
CREATE TABLE track_artists (
    track_id  INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    artist_id INTEGER NOT NULL REFERENCES artists(id),
    PRIMARY KEY (track_id, position)
);
CREATE INDEX track_artists_artist ON track_artists(artist_id);

CREATE TABLE track_genres (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    genre    TEXT NOT NULL,
    PRIMARY KEY (track_id, position)
);
CREATE INDEX track_genres_genre ON track_genres(genre COLLATE NOCASE);

-- Sort keys: names folded as in search ("Élodie" sorts with "Elodie", not after "Z").
ALTER TABLE artists ADD COLUMN sort_name TEXT;
ALTER TABLE albums ADD COLUMN sort_title TEXT;
CREATE INDEX artists_sort ON artists(sort_name);
CREATE INDEX albums_sort ON albums(sort_title);
-- Rows from schema 1 get a case-folded key now; the next change to a file refines it.
UPDATE artists SET sort_name = lower(name) WHERE sort_name IS NULL;
UPDATE albums SET sort_title = lower(title) WHERE sort_title IS NULL;

-- Artist pages and counts look tracks up by their artist.
CREATE INDEX tracks_artist ON tracks(artist_id);
