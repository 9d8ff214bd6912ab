import { describe, expect, it } from 'vitest';
import type { Track } from '$lib/backend';
import { nextSort, sortTracks, type TrackSort } from './sort';

function track(id: number, fields: Partial<Track>): Track {
  return {
    id,
    uid: `u${id}`,
    path: `/m/${id}.flac`,
    title: `T${id}`,
    artist: 'A',
    album: 'Al',
    albumArtist: 'A',
    trackNumber: null,
    discNumber: null,
    year: null,
    genre: null,
    durationMs: 0,
    format: 'FLAC',
    source: 'local',
    ...fields,
  };
}

const TRACKS = [
  track(1, { title: 'banana', album: 'Zeta', year: 2001, genre: 'Jazz', durationMs: 300, trackNumber: 2 }),
  track(2, { title: 'Apple', album: 'Alpha', year: null, genre: null, durationMs: 100, format: 'MP3' }),
  track(3, { title: 'cherry', album: 'Zeta', year: 2001, genre: 'ambient', durationMs: 200, trackNumber: 1 }),
  track(4, { title: 'Track 10', album: 'Mid', year: 1999, genre: 'Rock', durationMs: 200 }),
  track(5, { title: 'Track 9', album: 'Mid', year: 2010, genre: '', durationMs: 50, format: 'Ogg Vorbis' }),
];

function ids(sort: TrackSort | null): number[] {
  return sortTracks(TRACKS, sort).map((t) => t.id);
}

describe('sortTracks', () => {
  it('keeps the library order without a sort', () => {
    expect(sortTracks(TRACKS, null)).toBe(TRACKS);
  });

  it('sorts titles case-insensitively with numbers in numeric order', () => {
    expect(ids({ key: 'title', direction: 'ascending' })).toEqual([2, 1, 3, 5, 4]);
    expect(ids({ key: 'title', direction: 'descending' })).toEqual([4, 5, 3, 1, 2]);
  });

  it('sorts by album, keeping track order inside an album either way', () => {
    expect(ids({ key: 'album', direction: 'ascending' })).toEqual([2, 5, 4, 3, 1]);
    expect(ids({ key: 'album', direction: 'descending' })).toEqual([3, 1, 5, 4, 2]);
  });

  it('puts tracks without a year or genre last in both directions', () => {
    expect(ids({ key: 'year', direction: 'ascending' })).toEqual([4, 3, 1, 5, 2]);
    expect(ids({ key: 'year', direction: 'descending' })).toEqual([5, 3, 1, 4, 2]);
    expect(ids({ key: 'genre', direction: 'ascending' })).toEqual([3, 1, 4, 2, 5]);
    expect(ids({ key: 'genre', direction: 'descending' }).slice(-2)).toEqual([2, 5]);
  });

  it('sorts by duration and format', () => {
    expect(ids({ key: 'duration', direction: 'ascending' })).toEqual([5, 2, 4, 3, 1]);
    expect(ids({ key: 'format', direction: 'ascending' })).toEqual([4, 3, 1, 2, 5]);
  });

  it('does not change the array it was given', () => {
    const before = TRACKS.map((t) => t.id);
    sortTracks(TRACKS, { key: 'title', direction: 'descending' });
    expect(TRACKS.map((t) => t.id)).toEqual(before);
  });
});

describe('nextSort', () => {
  it('sorts a new column ascending and flips the sorted one', () => {
    expect(nextSort(null, 'year')).toEqual({ key: 'year', direction: 'ascending' });
    expect(nextSort({ key: 'year', direction: 'ascending' }, 'year')).toEqual({ key: 'year', direction: 'descending' });
    expect(nextSort({ key: 'year', direction: 'descending' }, 'year')).toEqual({ key: 'year', direction: 'ascending' });
    expect(nextSort({ key: 'year', direction: 'descending' }, 'title')).toEqual({ key: 'title', direction: 'ascending' });
  });
});
