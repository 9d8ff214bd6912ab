import { describe, expect, it } from 'vitest';
import type { Health } from '$lib/backend';
import { ago, details, LABELS, playableNow, readiness, size, summary } from './describe';

const base: Health = {
  state: 'online',
  server: 'http://192.168.1.20:4533',
  reason: null,
  retryInS: null,
  lastSyncMs: 1_000_000,
  catalogMirroredMs: 1_000_000,
  catalogTracks: 41230,
  catalogVersion: 1,
  playlistsVersion: 0,
  catalogProgress: null,
  pendingUploads: 0,
  downloads: null,
  cacheBytes: 1.5 * 1024 ** 3,
  cacheBudgetBytes: 4 * 1024 ** 3,
  message: null,
  syncConnected: true,
  seq: 1,
};

describe('health wording', () => {
  it('names every state', () => {
    expect(Object.values(LABELS)).toEqual(['Local only', 'Online', 'Syncing', 'Degraded', 'Offline', 'Unauthorized']);
  });

  it('says when the next attempt is, and what syncing is doing', () => {
    expect(summary({ ...base, state: 'offline', retryInS: 4 })).toContain('trying again in 4 s');
    expect(summary({ ...base, state: 'degraded', retryInS: 2 })).toContain('failing or busy; trying again in 2 s');
    expect(summary({ ...base, state: 'syncing', catalogProgress: { done: 3, total: 21 } })).toContain('3 of 21 pages');
    expect(summary({ ...base, state: 'syncing', downloads: { done: 1, total: 5 } })).toContain('1 of 5');
    expect(summary({ ...base, state: 'unauthorized' })).toContain('refused the token');
  });

  it('lists the popover figures, and the last error only when something is wrong', () => {
    const now = 1_000_000 + 5 * 60_000;
    const rows = Object.fromEntries(details(base, now));
    expect(rows['Last sync']).toBe('5 min ago');
    expect(rows.Catalog).toBe('41,230 songs, updated 5 min ago');
    expect(rows.Cache).toBe('1.5 GB of 4.0 GB');
    expect(rows['Waiting to upload']).toBe('nothing');
    expect(rows['Last error']).toBeUndefined();
    const off = Object.fromEntries(details({ ...base, state: 'offline', reason: 'connection refused' }, now));
    expect(off['Last error']).toBe('connection refused');
    expect(details({ ...base, state: 'localOnly' }, now)).toEqual([]);
  });

  it('writes times and sizes for people', () => {
    expect(ago(null, 0)).toBe('never');
    expect(ago(0, 10_000)).toBe('just now');
    expect(ago(0, 3 * 3600_000)).toBe('3 h ago');
    expect(ago(0, 3 * 86400_000)).toBe('3 days ago');
    expect(size(500 * 1024)).toBe('500 KB');
    expect(size(850 * 1024 * 1024)).toBe('850 MB');
  });
});

describe('what can play', () => {
  it('plays server songs only while the server answers', () => {
    expect(playableNow({ source: 'server' }, base)).toBe(true);
    expect(playableNow({ source: 'server' }, { ...base, state: 'degraded' })).toBe(true);
    expect(playableNow({ source: 'server' }, { ...base, state: 'offline' })).toBe(false);
    expect(playableNow({ source: 'server' }, { ...base, state: 'unauthorized' })).toBe(false);
    expect(playableNow({ source: 'cached' }, { ...base, state: 'offline' })).toBe(true);
    expect(playableNow({ source: 'local' }, { ...base, state: 'localOnly' })).toBe(true);
  });

  it('counts what would play with no server', () => {
    expect(readiness(['local', 'cached', 'server', null])).toEqual({ playable: 2, total: 4 });
    expect(readiness([])).toEqual({ playable: 0, total: 0 });
  });
});
