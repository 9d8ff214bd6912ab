// What the health indicator and its popover say, from the backend's `Health`: pure
// functions, so every state's wording is tested without a server.

import type { Health, HealthState, Track } from '$lib/backend';

export type Tone = 'quiet' | 'good' | 'busy' | 'warn' | 'bad';

export const LABELS: Record<HealthState, string> = {
  localOnly: 'Local only',
  online: 'Online',
  syncing: 'Syncing',
  degraded: 'Degraded',
  offline: 'Offline',
  unauthorized: 'Unauthorized',
};

export const TONES: Record<HealthState, Tone> = {
  localOnly: 'quiet',
  online: 'good',
  syncing: 'busy',
  degraded: 'warn',
  offline: 'bad',
  unauthorized: 'bad',
};

/** One sentence under the state's name. */
export function summary(h: Health): string {
  switch (h.state) {
    case 'localOnly':
      return 'No server is paired. Everything plays from this device.';
    case 'online':
      return 'Connected to the server. Everything is up to date.';
    case 'syncing':
      return syncingWhat(h);
    case 'degraded':
      return `The server answers but is failing or busy${retry(h)}.`;
    case 'offline':
      return `The server cannot be reached${retry(h)}. Songs on this device still play.`;
    case 'unauthorized':
      return 'The server refused the token. Pair again with a new token in Settings.';
  }
}

function retry(h: Health): string {
  return h.retryInS != null ? `; trying again in ${h.retryInS} s` : '';
}

function syncingWhat(h: Health): string {
  if (h.catalogProgress) return `Reading the server's catalog (${h.catalogProgress.done} of ${h.catalogProgress.total} pages)…`;
  if (h.downloads) return `Downloading pinned songs (${h.downloads.done} of ${h.downloads.total})…`;
  return 'Exchanging playlists and catalog changes with the server…';
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago(thenMs: number | null, nowMs: number): string {
  if (thenMs == null) return 'never';
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 36) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/** Bytes as "850 MB" or "1.2 GB". */
export function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  const mb = bytes / (1024 * 1024);
  if (mb < 1024) return `${Math.round(mb)} MB`;
  return `${(mb / 1024).toFixed(1)} GB`;
}

/** The popover's rows: label and value. */
export function details(h: Health, nowMs: number): [string, string][] {
  if (h.state === 'localOnly') return [];
  const rows: [string, string][] = [];
  if (h.server) rows.push(['Server', h.server]);
  rows.push(['Last sync', ago(h.lastSyncMs, nowMs)]);
  rows.push(['Waiting to upload', h.pendingUploads === 0 ? 'nothing' : `${h.pendingUploads} changes`]);
  rows.push([
    'Catalog',
    `${h.catalogTracks.toLocaleString('en')} songs, updated ${ago(h.catalogMirroredMs, nowMs)}`,
  ]);
  rows.push(['Cache', `${size(h.cacheBytes)} of ${size(h.cacheBudgetBytes)}`]);
  if (h.reason && h.state !== 'online' && h.state !== 'syncing') rows.push(['Last error', h.reason]);
  return rows;
}

/** Whether songs only on the server can be fetched now. */
export function serverReachable(h: Health): boolean {
  return h.state === 'online' || h.state === 'syncing' || h.state === 'degraded';
}

/** Whether `track` can play now: on this device, or on a server that answers. */
export function playableNow(track: Pick<Track, 'source'>, h: Health): boolean {
  return track.source !== 'server' || serverReachable(h);
}

/** "N of M would play if the server went away now", over tracks or playlist entries. */
export function readiness(sources: readonly (Track['source'] | null)[]): { playable: number; total: number } {
  const playable = sources.filter((s) => s === 'local' || s === 'cached').length;
  return { playable, total: sources.length };
}
