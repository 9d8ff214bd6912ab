// The rows of a track list: one per track, with a "Disc 2" row before each disc
// of an album that has more than one. Every row is the same height, so the
// list's windowing stays simple arithmetic.

import type { Track } from '$lib/backend';

export type ListRow =
  | { kind: 'track'; track: Track; /** Position among the tracks, not the rows. */ position: number }
  | { kind: 'disc'; disc: number };

export interface ListRows {
  rows: ListRow[];
  /** The row index of each track, by its position among the tracks. */
  rowOfTrack: number[];
}

/** How many different disc numbers the tracks carry. */
export function discCount(tracks: readonly Track[]): number {
  return new Set(tracks.map((t) => t.discNumber ?? 1)).size;
}

/** One row per track, with disc headers when asked for and the tracks span several discs. */
export function buildRows(tracks: readonly Track[], discHeaders: boolean): ListRows {
  const headers = discHeaders && discCount(tracks) > 1;
  const rows: ListRow[] = [];
  const rowOfTrack: number[] = [];
  let disc: number | null = null;
  tracks.forEach((track, position) => {
    const d = track.discNumber ?? 1;
    if (headers && d !== disc) rows.push({ kind: 'disc', disc: d });
    disc = d;
    rowOfTrack.push(rows.length);
    rows.push({ kind: 'track', track, position });
  });
  return { rows, rowOfTrack };
}
