import { describe, expect, it } from 'vitest';
import type { TrackDetails } from '$lib/backend';
import { audioSummary, detailSections, formatGain, formatPeak, formatPosition, formatSampleRate } from './describe';

const DETAILS: TrackDetails = {
  track: {
    id: 4,
    uid: 'mb:0f1e',
    path: '/music/The Lanterns/Tidal Rooms/01 Driftwood.flac',
    title: 'Driftwood',
    artist: 'The Lanterns feat. Mira',
    album: 'Tidal Rooms',
    albumArtist: 'The Lanterns',
    trackNumber: 1,
    discNumber: 1,
    year: 2019,
    genre: 'Electronic',
    durationMs: 21_000,
    format: 'FLAC',
    source: 'local',
  },
  artists: ['The Lanterns', 'Mira'],
  genres: ['Electronic'],
  trackTotal: 3,
  discTotal: null,
  originalYear: 2011,
  compilation: false,
  bitrateKbps: 912,
  sampleRate: 44100,
  channels: 2,
  bitDepth: 16,
  musicbrainz: { recording: 'rec-id', release: null, artist: null },
  replayGain: { trackGainDb: -6.52, trackPeak: 0.988312, albumGainDb: null, albumPeak: null },
  hasLyrics: true,
};

describe('numbers', () => {
  it('formats sample rates, gains, peaks and positions', () => {
    expect(formatSampleRate(44100)).toBe('44.1 kHz');
    expect(formatSampleRate(48000)).toBe('48 kHz');
    expect(formatSampleRate(22050)).toBe('22.05 kHz');
    expect(formatSampleRate(800)).toBe('800 Hz');
    expect(formatGain(-6.52)).toBe('−6.52 dB');
    expect(formatGain(3.2)).toBe('+3.20 dB');
    expect(formatGain(0)).toBe('0.00 dB');
    expect(formatPeak(0.988312)).toBe('0.988312 (−0.10 dBFS)');
    expect(formatPeak(1)).toBe('1 (0.00 dBFS)');
    expect(formatPeak(0)).toBe('0 (silent)');
    expect(formatPosition(3, 12)).toBe('3 of 12');
    expect(formatPosition(3, null)).toBe('3');
    expect(formatPosition(null, 12)).toBeNull();
  });
});

describe('audioSummary', () => {
  it('lists what is known of the stream', () => {
    expect(audioSummary(DETAILS)).toBe('FLAC · 44.1 kHz · 16-bit · 2 ch · 912 kbps');
    expect(audioSummary({ ...DETAILS, bitDepth: null, bitrateKbps: null })).toBe('FLAC · 44.1 kHz · 2 ch');
  });
});

describe('detailSections', () => {
  const sections = detailSections(DETAILS);
  const section = (title: string) => sections.find((s) => s.title === title);
  const value = (title: string, label: string) => section(title)?.rows.find((r) => r.label === label)?.value;

  it('lists every credited artist and the original year', () => {
    expect(value('Tags', 'Artists')).toBe('The Lanterns, Mira');
    expect(value('Tags', 'Year')).toBe('2019 (first released 2011)');
    expect(value('Tags', 'Track')).toBe('1 of 3');
    expect(value('Tags', 'Disc')).toBe('1');
    expect(value('Tags', 'Lyrics')).toBe('Embedded in the file');
    expect(value('Tags', 'Compilation')).toBe('No');
  });

  it('leaves out values the tags do not have', () => {
    expect(section('ReplayGain')?.rows.map((r) => r.label)).toEqual(['Track gain', 'Track peak']);
    expect(section('MusicBrainz')?.rows).toEqual([{ label: 'Recording', value: 'rec-id', mono: true }]);
    const bare = detailSections({
      ...DETAILS,
      musicbrainz: { recording: null, release: null, artist: null },
      replayGain: { trackGainDb: null, trackPeak: null, albumGainDb: null, albumPeak: null },
    });
    expect(bare.find((s) => s.title === 'MusicBrainz')?.rows).toEqual([]);
    expect(bare.find((s) => s.title === 'ReplayGain')?.empty).toBe('Not tagged');
  });

  it('describes the stream and the file', () => {
    expect(value('Audio', 'Channels')).toBe('2 (stereo)');
    expect(value('Audio', 'Duration')).toBe('0:21');
    expect(value('File', 'Path')).toBe(DETAILS.track.path);
  });
});
