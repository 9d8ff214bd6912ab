import { describe, expect, it, vi } from 'vitest';
import type { Health } from '$lib/backend';
import { LOCAL_ONLY, ServerHealth } from './health.svelte';

const online: Health = { ...LOCAL_ONLY, state: 'online', server: 'http://s', catalogTracks: 8, catalogMirroredMs: 5 };

describe('ServerHealth', () => {
  it('follows events, and reloads the library only when the catalog or reachability moved', async () => {
    let push: (h: Health) => void = () => {};
    const reload = vi.fn();
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
      () => {},
    );
    await health.start();
    expect(health.health.state).toBe('localOnly');
    push(online);
    expect(health.health.state).toBe('online');
    expect(reload).toHaveBeenCalledTimes(1);
    push({ ...online, retryInS: null });
    expect(reload).toHaveBeenCalledTimes(1);
    push({ ...online, state: 'offline', retryInS: 3 });
    expect(reload).toHaveBeenCalledTimes(2);
    expect(health.playable({ source: 'server' })).toBe(false);
    expect(health.playable({ source: 'cached' })).toBe(true);
    push({ ...online, catalogTracks: 9 });
    expect(reload).toHaveBeenCalledTimes(3);
  });
});
