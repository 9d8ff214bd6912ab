-- Offbeat library schema, version 5: the plays this device recorded and those other
-- devices uploaded to the paired server. A play not yet on the server waits in the outbox
-- (uploaded = 0); its id is made here, so sending it twice stores it once.

CREATE TABLE plays (
    id        TEXT PRIMARY KEY,
    track_uid TEXT,
    played_at INTEGER NOT NULL,           -- unix ms when it started
    ms_played INTEGER NOT NULL,           -- pauses and seeks not counted
    skipped   INTEGER NOT NULL DEFAULT 0,
    device    TEXT,
    uploaded  INTEGER NOT NULL DEFAULT 0  -- 1 once the server has it (or it came from there)
);
CREATE INDEX plays_outbox ON plays(uploaded) WHERE uploaded = 0;
CREATE INDEX plays_time ON plays(played_at);

-- How far this device has read the server's history.
ALTER TABLE remote_state ADD COLUMN history_cursor TEXT;
