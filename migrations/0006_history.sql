-- Offbeat library schema, version 6: listening history worth looking back on. Each play
-- keeps what it was (names, genre, MusicBrainz id) as well as its track uid, so a listen
-- imported from another service, or of a track since deleted, still counts; and the
-- wall-clock time where it was heard, so "on this day" and the listening clock are local.

ALTER TABLE plays ADD COLUMN utc_offset_min INTEGER NOT NULL DEFAULT 0; -- minutes east of UTC
ALTER TABLE plays ADD COLUMN local_at INTEGER;   -- played_at + offset: wall-clock ms
ALTER TABLE plays ADD COLUMN end_reason TEXT;    -- finished / skipped / stopped (NULL: unknown)
ALTER TABLE plays ADD COLUMN source TEXT;        -- local / cached / stream (NULL: imported)
ALTER TABLE plays ADD COLUMN origin TEXT;        -- spotify / listenbrainz for imports
ALTER TABLE plays ADD COLUMN listen INTEGER NOT NULL DEFAULT 0; -- >= half, or >= 4 minutes
ALTER TABLE plays ADD COLUMN title TEXT;
ALTER TABLE plays ADD COLUMN artist TEXT;
ALTER TABLE plays ADD COLUMN album TEXT;
ALTER TABLE plays ADD COLUMN album_artist TEXT;
ALTER TABLE plays ADD COLUMN genre TEXT;
ALTER TABLE plays ADD COLUMN mbid TEXT;          -- MusicBrainz recording id, when known
-- Grouping keys, folded as identity is ("Beyoncé" and "beyonce" are one artist).
ALTER TABLE plays ADD COLUMN track_key TEXT;
ALTER TABLE plays ADD COLUMN artist_key TEXT;
ALTER TABLE plays ADD COLUMN album_key TEXT;

-- Plays of schema 5 were all recorded here: names from the library, the offset unknown.
UPDATE plays SET
    local_at = played_at,
    end_reason = CASE WHEN skipped THEN 'skipped' ELSE NULL END,
    listen = NOT skipped,
    title = (SELECT t.title FROM tracks t WHERE t.uid = plays.track_uid LIMIT 1),
    artist = (SELECT a.name FROM tracks t JOIN artists a ON a.id = t.artist_id
              WHERE t.uid = plays.track_uid LIMIT 1),
    album = (SELECT al.title FROM tracks t JOIN albums al ON al.id = t.album_id
             WHERE t.uid = plays.track_uid LIMIT 1),
    album_artist = (SELECT aa.name FROM tracks t JOIN albums al ON al.id = t.album_id
                    JOIN artists aa ON aa.id = al.album_artist_id
                    WHERE t.uid = plays.track_uid LIMIT 1),
    genre = (SELECT t.genre FROM tracks t WHERE t.uid = plays.track_uid LIMIT 1),
    track_key = track_uid;
UPDATE plays SET artist_key = lower(artist), album_key = lower(coalesce(album_artist, artist)) || char(31) || lower(album);

DROP INDEX plays_time;
CREATE INDEX plays_local ON plays(local_at);

-- Per track, artist and album (kind 0, 1, 2): the first and last listen (wall-clock ms),
-- how many, and the names last seen. Kept as each listen is stored (not by a trigger: a
-- trigger makes every insert keep a statement journal, a third of an import's time), so
-- first listens, anniversaries, forgotten favourites and page figures never scan every
-- play.
CREATE TABLE listen_stats (
    kind      INTEGER NOT NULL,
    key       TEXT NOT NULL,
    first_at  INTEGER NOT NULL,
    last_at   INTEGER NOT NULL,
    listens   INTEGER NOT NULL,
    ms        INTEGER NOT NULL,
    title     TEXT,
    artist    TEXT,
    album     TEXT,
    track_uid TEXT,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX listen_stats_first ON listen_stats(kind, first_at);

-- The plays of schema 5, counted.
INSERT INTO listen_stats (kind, key, first_at, last_at, listens, ms, title, artist, album, track_uid)
SELECT 0, track_key, min(local_at), max(local_at), count(*), sum(ms_played),
       max(title), max(artist), max(album), max(track_uid)
FROM plays WHERE listen AND track_key IS NOT NULL GROUP BY track_key;
INSERT INTO listen_stats (kind, key, first_at, last_at, listens, ms, artist)
SELECT 1, artist_key, min(local_at), max(local_at), count(*), sum(ms_played), max(artist)
FROM plays WHERE listen AND artist_key IS NOT NULL GROUP BY artist_key;
INSERT INTO listen_stats (kind, key, first_at, last_at, listens, ms, artist, album)
SELECT 2, album_key, min(local_at), max(local_at), count(*), sum(ms_played),
       max(coalesce(album_artist, artist)), max(album)
FROM plays WHERE listen AND album_key IS NOT NULL GROUP BY album_key;
