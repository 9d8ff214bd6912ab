// Every field of a track's details as labelled text, grouped the way the
// details panel shows them. Missing values are left out rather than shown blank.

import type { TrackDetails } from '$lib/backend';
import { formatDuration } from '$lib/format';

export interface DetailRow {
  label: string;
  value: string;
  /** Identifiers and paths: shown in a monospace font and selectable. */
  mono?: boolean;
}

export interface DetailSection {
  title: string;
  rows: DetailRow[];
  /** Said instead of rows when there are none. */
  empty?: string;
}

const MINUS = '\u2212';

/** 44100 → "44.1 kHz", 48000 → "48 kHz", 22050 → "22.05 kHz", 800 → "800 Hz". */
export function formatSampleRate(hz: number): string {
  if (hz < 1000) return `${hz} Hz`;
  return `${Number((hz / 1000).toFixed(2))} kHz`;
}

/** "+3.20 dB", "−6.52 dB". */
export function formatGain(db: number): string {
  const sign = db > 0 ? '+' : db < 0 ? MINUS : '';
  return `${sign}${Math.abs(db).toFixed(2)} dB`;
}

/** A linear peak with its level: "0.988312 (−0.10 dBFS)". */
export function formatPeak(peak: number): string {
  const value = Number(peak.toFixed(6)).toString();
  if (!(peak > 0)) return `${value} (silent)`;
  const dbfs = 20 * Math.log10(peak);
  const rounded = Math.abs(dbfs) < 0.005 ? 0 : dbfs;
  const sign = rounded > 0 ? '+' : rounded < 0 ? MINUS : '';
  return `${value} (${sign}${Math.abs(rounded).toFixed(2)} dBFS)`;
}

/** "3 of 12", "3", or `null` without a number. */
export function formatPosition(n: number | null, total: number | null): string | null {
  if (n === null) return null;
  return total !== null && total > 0 ? `${n} of ${total}` : String(n);
}

/** The stream in one line: "FLAC · 44.1 kHz · 16-bit · 2 ch · 912 kbps". */
export function audioSummary(d: TrackDetails): string {
  return [
    d.track.format,
    d.sampleRate !== null ? formatSampleRate(d.sampleRate) : null,
    d.bitDepth !== null ? `${d.bitDepth}-bit` : null,
    d.channels !== null ? `${d.channels} ch` : null,
    d.bitrateKbps !== null ? `${d.bitrateKbps.toLocaleString('en-US')} kbps` : null,
  ]
    .filter((part): part is string => Boolean(part))
    .join(' · ');
}

function channelsLabel(n: number): string {
  if (n === 1) return '1 (mono)';
  if (n === 2) return '2 (stereo)';
  return String(n);
}

function rows(entries: [string, string | null | undefined, boolean?][]): DetailRow[] {
  return entries
    .filter((e): e is [string, string, boolean?] => typeof e[1] === 'string' && e[1].trim() !== '')
    .map(([label, value, mono]) => (mono ? { label, value, mono } : { label, value }));
}

function yearText(year: number | null, originalYear: number | null): string | null {
  if (year === null) return originalYear === null ? null : String(originalYear);
  if (originalYear !== null && originalYear !== year) return `${year} (first released ${originalYear})`;
  return String(year);
}

export function detailSections(d: TrackDetails): DetailSection[] {
  const t = d.track;
  const rg = d.replayGain;
  const mb = d.musicbrainz;
  const artists = d.artists.length > 0 ? d.artists.join(', ') : t.artist;
  const genres = d.genres.length > 0 ? d.genres.join(', ') : t.genre;
  return [
    {
      title: 'Tags',
      rows: rows([
        ['Title', t.title],
        [d.artists.length > 1 ? 'Artists' : 'Artist', artists],
        ['Album', t.album],
        ['Album artist', t.albumArtist],
        ['Track', formatPosition(t.trackNumber, d.trackTotal)],
        ['Disc', formatPosition(t.discNumber, d.discTotal)],
        ['Year', yearText(t.year, d.originalYear)],
        [d.genres.length > 1 ? 'Genres' : 'Genre', genres],
        ['Compilation', d.compilation ? 'Yes' : 'No'],
        ['Lyrics', d.hasLyrics ? 'Embedded in the file' : 'None'],
      ]),
    },
    {
      title: 'Audio',
      rows: rows([
        ['Format', t.format],
        ['Duration', formatDuration(t.durationMs)],
        ['Sample rate', d.sampleRate !== null ? formatSampleRate(d.sampleRate) : null],
        ['Bit depth', d.bitDepth !== null ? `${d.bitDepth}-bit` : null],
        ['Channels', d.channels !== null ? channelsLabel(d.channels) : null],
        ['Bitrate', d.bitrateKbps !== null ? `${d.bitrateKbps.toLocaleString('en-US')} kbps` : null],
      ]),
    },
    {
      title: 'ReplayGain',
      rows: rows([
        ['Track gain', rg.trackGainDb !== null ? formatGain(rg.trackGainDb) : null],
        ['Track peak', rg.trackPeak !== null ? formatPeak(rg.trackPeak) : null],
        ['Album gain', rg.albumGainDb !== null ? formatGain(rg.albumGainDb) : null],
        ['Album peak', rg.albumPeak !== null ? formatPeak(rg.albumPeak) : null],
      ]),
      empty: 'Not tagged',
    },
    {
      title: 'MusicBrainz',
      rows: rows([
        ['Recording', mb.recording, true],
        ['Release', mb.release, true],
        ['Artist', mb.artist, true],
      ]),
      empty: 'No MusicBrainz identifiers',
    },
    {
      title: 'File',
      rows: rows([
        ['Path', t.path, true],
        ['Track ID', t.uid, true],
      ]),
    },
  ];
}
