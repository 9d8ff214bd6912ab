import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from './throttle';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('throttle', () => {
  it('runs the first request at once', () => {
    const run = vi.fn();
    throttle(run, 2000).request();
    expect(run).toHaveBeenCalledOnce();
  });

  it('merges requests inside the interval into one run at its end', () => {
    const run = vi.fn();
    const t = throttle(run, 2000);
    t.request();
    vi.advanceTimersByTime(500);
    t.request();
    t.request();
    vi.advanceTimersByTime(1000);
    t.request();
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(499);
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('never runs more often than the interval under a steady stream of requests', () => {
    const run = vi.fn();
    const t = throttle(run, 2000);
    for (let ms = 0; ms < 10_000; ms += 100) {
      t.request();
      vi.advanceTimersByTime(100);
    }
    // At 0, 2000, 4000, 6000, 8000 ms, and 10,000 ms for the requests after the last run.
    expect(run).toHaveBeenCalledTimes(6);
  });

  it('runs at once again after a quiet interval', () => {
    const run = vi.fn();
    const t = throttle(run, 2000);
    t.request();
    vi.advanceTimersByTime(5000);
    t.request();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('drops a pending run when cancelled', () => {
    const run = vi.fn();
    const t = throttle(run, 2000);
    t.request();
    t.request();
    t.cancel();
    vi.advanceTimersByTime(5000);
    expect(run).toHaveBeenCalledOnce();
  });
});
