import { describe, expect, it, vi } from 'vitest';
import { Resource } from './resource.svelte';

function deferredFetch() {
  const calls: ((value: number) => void)[] = [];
  const fetch = vi.fn(() => new Promise<number>((resolve) => calls.push(resolve)));
  return { fetch, calls };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('Resource', () => {
  it('loads once per revision', async () => {
    const fetch = vi.fn(() => Promise.resolve(42));
    const r = new Resource(fetch);
    expect(r.loaded).toBe(false);
    await r.sync(1);
    await r.sync(1);
    expect(fetch).toHaveBeenCalledOnce();
    expect(r.value).toBe(42);
    expect(r.loaded).toBe(true);
    await r.sync(2);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('queues one more load instead of overlapping', async () => {
    const { fetch, calls } = deferredFetch();
    const r = new Resource(fetch, { cooldownFactor: 0 });
    void r.load();
    void r.load();
    void r.load();
    expect(fetch).toHaveBeenCalledOnce();
    expect(r.loading).toBe(true);
    calls[0]?.(1);
    await settle();
    expect(r.value).toBe(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    calls[1]?.(2);
    await settle();
    expect(r.value).toBe(2);
    expect(r.loading).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('waits before a queued reload in proportion to how long the last load took', async () => {
    vi.useFakeTimers();
    try {
      const calls: ((value: number) => void)[] = [];
      const fetch = vi.fn(() => new Promise<number>((resolve) => calls.push(resolve)));
      const r = new Resource(fetch, { cooldownFactor: 4 });
      void r.load();
      void r.load();
      await vi.advanceTimersByTimeAsync(1000); // the first load takes a second
      calls[0]?.(1);
      await vi.advanceTimersByTimeAsync(3999);
      expect(fetch).toHaveBeenCalledOnce();
      expect(r.loading).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(fetch).toHaveBeenCalledTimes(2);
      calls[1]?.(2);
      await vi.advanceTimersByTimeAsync(0);
      expect(r.value).toBe(2);
      expect(r.loading).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a failure and keeps the last value', async () => {
    const onError = vi.fn();
    let fail = false;
    const r = new Resource(() => (fail ? Promise.reject(new Error('db')) : Promise.resolve('ok')), { onError });
    await r.load();
    fail = true;
    await r.load();
    expect(r.value).toBe('ok');
    expect(onError).toHaveBeenCalledOnce();
    expect(r.loading).toBe(false);
  });
});
