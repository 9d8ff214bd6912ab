import { describe, expect, it } from 'vitest';
import type { Track } from '$lib/backend';
import { buildRows, discCount } from './rows';

const t = (id: number, discNumber: number | null): Track => ({
  id,
  uid: `u${id}`,
  path: '',
  title: `T${id}`,
  artist: '',
  album: '',
  albumArtist: '',
  trackNumber: id,
  discNumber,
  year: null,
  genre: null,
  durationMs: 0,
  format: 'FLAC',
  source: 'local',
});

function shape(rows: ReturnType<typeof buildRows>['rows']): string[] {
  return rows.map((r) => (r.kind === 'disc' ? `disc ${r.disc}` : `track ${r.track.id}`));
}

describe('buildRows', () => {
  it('adds a header before each disc of a multi-disc album', () => {
    const { rows, rowOfTrack } = buildRows([t(1, 1), t(2, 1), t(3, 2)], true);
    expect(shape(rows)).toEqual(['disc 1', 'track 1', 'track 2', 'disc 2', 'track 3']);
    expect(rowOfTrack).toEqual([1, 2, 4]);
    expect(rows[4]).toMatchObject({ kind: 'track', position: 2 });
  });

  it('adds no header for a single disc, or a missing disc number counted as disc 1', () => {
    expect(shape(buildRows([t(1, 1), t(2, null)], true).rows)).toEqual(['track 1', 'track 2']);
    expect(discCount([t(1, 1), t(2, null)])).toBe(1);
  });

  it('adds no headers unless asked', () => {
    const { rows, rowOfTrack } = buildRows([t(1, 1), t(2, 2)], false);
    expect(shape(rows)).toEqual(['track 1', 'track 2']);
    expect(rowOfTrack).toEqual([0, 1]);
  });
});
