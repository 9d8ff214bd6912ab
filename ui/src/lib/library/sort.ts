// Sorting the Songs list by a column. Empty values (no year, no genre) go last
// whichever way the column is sorted, and ties fall back to album order, so a
// sort by year still lists each album's tracks in order.

import type { Track } from '$lib/backend';

export type SortKey = 'title' | 'album' | 'year' | 'genre' | 'format' | 'duration';
/** Named as `aria-sort` names them. */
export type SortDirection = 'ascending' | 'descending';

export interface TrackSort {
  key: SortKey;
  direction: SortDirection;
}

/** A click on `key`'s header: a new column sorts ascending, the sorted one flips. */
export function nextSort(current: TrackSort | null, key: SortKey): TrackSort {
  if (current?.key === key) {
    return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
  }
  return { key, direction: 'ascending' };
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

const text = (a: string, b: string): number => collator.compare(a, b);
const number = (a: number, b: number): number => a - b;

/** Album order: album artist, album, disc, track number, title. */
function albumOrder(a: Track, b: Track): number {
  return (
    text(a.albumArtist, b.albumArtist) ||
    text(a.album, b.album) ||
    number(a.discNumber ?? 0, b.discNumber ?? 0) ||
    number(a.trackNumber ?? 0, b.trackNumber ?? 0) ||
    text(a.title, b.title)
  );
}

/** Each key's value; `null` for a track that has none. */
const VALUE: Record<SortKey, (t: Track) => string | number | null> = {
  title: (t) => t.title.trim() || null,
  album: (t) => t.album.trim() || null,
  year: (t) => t.year,
  genre: (t) => t.genre?.trim() || null,
  format: (t) => t.format || null,
  duration: (t) => t.durationMs,
};

/** Tie-breaks after the sorted column, always ascending. */
const THEN: Record<SortKey, (a: Track, b: Track) => number> = {
  title: (a, b) => text(a.artist, b.artist) || albumOrder(a, b),
  album: albumOrder,
  year: albumOrder,
  genre: albumOrder,
  format: albumOrder,
  duration: albumOrder,
};

/** `tracks` sorted by `sort`, as a new array; the input itself when `sort` is `null`. */
export function sortTracks(tracks: readonly Track[], sort: TrackSort | null): readonly Track[] {
  if (sort === null) return tracks;
  const value = VALUE[sort.key];
  const then = THEN[sort.key];
  const sign = sort.direction === 'ascending' ? 1 : -1;
  // Read each value once: with 100,000 tracks the comparator runs ~1.7 million times.
  const keyed = tracks.map((track) => ({ track, value: value(track) }));
  keyed.sort((a, b) => {
    if (a.value === null || b.value === null) {
      if (a.value !== b.value) return a.value === null ? 1 : -1;
      return then(a.track, b.track);
    }
    const primary =
      typeof a.value === 'number' && typeof b.value === 'number'
        ? number(a.value, b.value)
        : text(String(a.value), String(b.value));
    return sign * primary || then(a.track, b.track);
  });
  return keyed.map((k) => k.track);
}
