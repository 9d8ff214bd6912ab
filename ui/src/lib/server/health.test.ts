import { describe, expect, it, vi } from 'vitest';
import type { Health } from '$lib/backend';
import { LOCAL_ONLY, ServerHealth } from './health.svelte';

const online: Health = { ...LOCAL_ONLY, state: 'online', server: 'http://s', catalogTracks: 8, catalogMirroredMs: 5 };

describe('ServerHealth', () => {
  it('follows events; reloads songs when the catalog moved, playlists after a sync', async () => {
    let push: (h: Health) => void = () => {};
    const reload = vi.fn();
    const synced = vi.fn();
    const health = new ServerHealth(
      {
        serverHealth: async () => LOCAL_ONLY,
        onHealthChanged: async (h) => {
          push = h;
          return () => {};
        },
        retryServer: async () => {},
      },
      reload,
      synced,
      () => {},
    );
    await health.start();
    expect(health.health.state).toBe('localOnly');
    push(online);
    expect(health.health.state).toBe('online');
    expect(reload).toHaveBeenCalledTimes(1);
    push({ ...online, retryInS: null });
    expect(reload).toHaveBeenCalledTimes(1);
    // Reachability alone changes no rows (rows grey through `playable`, reactively).
    push({ ...online, state: 'offline', retryInS: 3 });
    expect(reload).toHaveBeenCalledTimes(1);
    expect(health.playable({ source: 'server' })).toBe(false);
    expect(health.playable({ source: 'cached' })).toBe(true);
    push({ ...online, catalogVersion: 2 });
    expect(reload).toHaveBeenCalledTimes(2);
    push({ ...online, catalogVersion: 2, lastSyncMs: 77 });
    expect(reload).toHaveBeenCalledTimes(2);
    expect(synced).toHaveBeenCalledTimes(1);
    expect(health.history.map((t) => t.state)).toEqual(['localOnly', 'online', 'offline', 'online']);
  });

  it('keeps the newest reading when an older one arrives after it', async () => {
    let push: (h: Health) => void = () => {};
    // The first reading is answered only after an event has come.
    let answer: (h: Health) => void = () => {};
    const health = new ServerHealth(
      {
        serverHealth: () => new Promise<Health>((resolve) => (answer = resolve)),
        onHealthChanged: async (h) => {
          push = h;
          return () => {};
        },
        retryServer: async () => {},
      },
      () => {},
      () => {},
      () => {},
    );
    const started = health.start();
    await Promise.resolve();
    push({ ...online, seq: 7 });
    answer({ ...online, state: 'syncing', seq: 6 });
    await started;
    expect(health.health.state).toBe('online');
    // As Connect's answer would be, read before the event that came first.
    health.set({ ...online, state: 'syncing', seq: 5 });
    expect(health.health.state).toBe('online');
    push({ ...online, state: 'offline', seq: 8 });
    expect(health.health.state).toBe('offline');
    expect(health.history.map((t) => t.state)).toEqual(['online', 'offline']);
  });
});
