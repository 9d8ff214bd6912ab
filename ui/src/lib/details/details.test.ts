import { describe, expect, it } from 'vitest';
import type { Track, TrackDetails } from '$lib/backend';
import { TrackInfo } from './details.svelte';

const track = (id: number): Track => ({
  id,
  uid: `u${id}`,
  path: `/m/${id}.flac`,
  title: `T${id}`,
  artist: 'A',
  album: 'B',
  albumArtist: 'A',
  trackNumber: 1,
  discNumber: 1,
  year: null,
  genre: null,
  durationMs: 1,
  format: 'FLAC',
  source: 'local',
});

const details = (t: Track): TrackDetails => ({
  track: t,
  artists: [t.artist],
  genres: [],
  trackTotal: null,
  discTotal: null,
  originalYear: null,
  compilation: false,
  bitrateKbps: null,
  sampleRate: null,
  channels: null,
  bitDepth: null,
  musicbrainz: { recording: null, release: null, artist: null },
  replayGain: { trackGainDb: null, trackPeak: null, albumGainDb: null, albumPeak: null },
  hasLyrics: false,
});

function controlled() {
  const pending = new Map<number, { resolve: (d: TrackDetails) => void; reject: (e: unknown) => void }>();
  return {
    source: {
      trackDetails: (id: number) =>
        new Promise<TrackDetails>((resolve, reject) => pending.set(id, { resolve, reject })),
    },
    answer: (t: Track) => pending.get(t.id)?.resolve(details(t)),
    fail: (id: number, e: unknown) => pending.get(id)?.reject(e),
  };
}

describe('TrackInfo', () => {
  it('opens on a track at once and fills in its details', async () => {
    const c = controlled();
    const info = new TrackInfo(c.source);
    const shown = info.show(track(1));
    expect(info.open).toBe(true);
    expect(info.loading).toBe(true);
    c.answer(track(1));
    await shown;
    expect(info.details?.track.id).toBe(1);
    expect(info.loading).toBe(false);
  });

  it('shows only the latest track when answers cross', async () => {
    const c = controlled();
    const info = new TrackInfo(c.source);
    const first = info.show(track(1));
    const second = info.show(track(2));
    c.answer(track(2));
    await second;
    c.answer(track(1));
    await first;
    expect(info.track?.id).toBe(2);
    expect(info.details?.track.id).toBe(2);
  });

  it('says why when the details cannot be read', async () => {
    const c = controlled();
    const info = new TrackInfo(c.source);
    const shown = info.show(track(3));
    c.fail(3, { code: 'notFound', message: 'that track is no longer in the library' });
    await shown;
    expect(info.error).toBe('that track is no longer in the library');
    expect(info.loading).toBe(false);
  });

  it('toggles closed on the same track and ignores a late answer after closing', async () => {
    const c = controlled();
    const info = new TrackInfo(c.source);
    const shown = info.show(track(1));
    await info.toggle(track(1));
    expect(info.open).toBe(false);
    c.answer(track(1));
    await shown;
    expect(info.details).toBeNull();
  });
});
