-- Offbeat library schema, version 7: the scanner writes a new artist's or album's search
-- row itself (scan.rs, Writer), instead of a trigger. A statement that fires a trigger
-- opens a savepoint, and FTS5 writes out everything it holds pending at each savepoint:
-- every new artist or album flushed the scan's pending track index into a tiny segment,
-- and merging those took a third of the writer's time. The update and delete triggers
-- stay: renames and orphan clean-ups are rare.
DROP TRIGGER artists_search_insert;
DROP TRIGGER albums_search_insert;
