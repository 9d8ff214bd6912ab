-- Offbeat library schema, version 3: search indexes over artist names and albums, so a
-- search finds every matching artist and album directly, not only those of the tracks
-- it happens to return. Triggers keep them in step with the tables they index.

-- rowid = artists.id
CREATE VIRTUAL TABLE artist_search USING fts5(
    name,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

-- rowid = albums.id; artist is the album artist's name ("miles kind" finds Kind of Blue).
CREATE VIRTUAL TABLE album_search USING fts5(
    title, artist,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

CREATE TRIGGER artists_search_insert AFTER INSERT ON artists BEGIN
    INSERT INTO artist_search (rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER artists_search_delete AFTER DELETE ON artists BEGIN
    DELETE FROM artist_search WHERE rowid = old.id;
END;
CREATE TRIGGER artists_search_update AFTER UPDATE OF name ON artists BEGIN
    UPDATE artist_search SET name = new.name WHERE rowid = new.id;
    UPDATE album_search SET artist = new.name
     WHERE rowid IN (SELECT id FROM albums WHERE album_artist_id = new.id);
END;

CREATE TRIGGER albums_search_insert AFTER INSERT ON albums BEGIN
    INSERT INTO album_search (rowid, title, artist)
    VALUES (new.id, new.title, (SELECT name FROM artists WHERE id = new.album_artist_id));
END;
CREATE TRIGGER albums_search_delete AFTER DELETE ON albums BEGIN
    DELETE FROM album_search WHERE rowid = old.id;
END;
CREATE TRIGGER albums_search_update AFTER UPDATE OF title, album_artist_id ON albums BEGIN
    UPDATE album_search
       SET title = new.title,
           artist = (SELECT name FROM artists WHERE id = new.album_artist_id)
     WHERE rowid = new.id;
END;

INSERT INTO artist_search (rowid, name) SELECT id, name FROM artists;
INSERT INTO album_search (rowid, title, artist)
    SELECT al.id, al.title, aa.name FROM albums al JOIN artists aa ON aa.id = al.album_artist_id;
