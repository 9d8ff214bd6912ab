import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScanProgress } from '$lib/backend';
import { ScanActivity, type ScanControls } from './activity.svelte';

const ev = (filesDone: number, filesFound: number, currentFolder = '/music/a'): ScanProgress => ({
  filesDone,
  filesFound,
  currentFolder,
});

function setup() {
  const cancelScan = vi.fn(() => Promise.resolve());
  const controls: ScanControls = { cancelScan, onScanProgressed: () => Promise.resolve(() => {}), onScanStopped: () => Promise.resolve(() => {}) };
  const onIndexed = vi.fn();
  const activity = new ScanActivity(controls, { now: () => Date.now(), onIndexed, stopGraceMs: 5000 });
  return { activity, cancelScan, onIndexed };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ScanActivity', () => {
  it('follows a scan from its first event to its last', () => {
    const { activity, onIndexed } = setup();
    expect(activity.running).toBe(false);
    activity.apply(ev(0, 2000));
    expect(activity.running).toBe(true);
    expect(activity.fraction).toBe(0);
    expect(activity.perSecond).toBeNull();

    vi.setSystemTime(2000);
    activity.apply(ev(500, 2000, '/music/b'));
    expect(activity.fraction).toBe(0.25);
    expect(activity.perSecond).toBe(250);
    expect(activity.folder).toBe('/music/b');
    expect(onIndexed).toHaveBeenCalledOnce();

    vi.setSystemTime(4000);
    activity.apply(ev(2000, 2000));
    expect(activity.running).toBe(false);
    expect(activity.progress).toBeNull();
    expect(onIndexed).toHaveBeenCalledTimes(2);
  });

  it('does not show a scan that had nothing new to read', () => {
    const { activity } = setup();
    activity.apply(ev(300, 300));
    expect(activity.running).toBe(false);
  });

  it('shows a scan this window starts before its first event', () => {
    const { activity } = setup();
    activity.begin('/home/me/Music');
    expect(activity.running).toBe(true);
    expect(activity.folder).toBe('/home/me/Music');
    expect(activity.fraction).toBeNull();
    activity.end();
    expect(activity.running).toBe(false);
  });

  it('stops after cancelling when the scan command returns', async () => {
    const { activity, cancelScan } = setup();
    activity.begin('/music');
    activity.apply(ev(0, 5000));
    vi.setSystemTime(1000);
    activity.apply(ev(500, 5000));
    await activity.cancel();
    expect(cancelScan).toHaveBeenCalledOnce();
    expect(activity.stopping).toBe(true);
    activity.end();
    expect(activity.running).toBe(false);
    expect(activity.stopped).toEqual({ filesDone: 500, filesFound: 5000 });
  });

  it('stops at once when the backend says the cancelled scan stopped', async () => {
    const { activity, onIndexed } = setup();
    activity.apply(ev(0, 5000));
    vi.setSystemTime(1000);
    activity.apply(ev(500, 5000));
    await activity.cancel();
    expect(activity.running).toBe(true);
    onIndexed.mockClear();
    activity.stoppedAt(ev(1000, 5000));
    expect(activity.running).toBe(false);
    expect(activity.stopping).toBe(false);
    expect(activity.stopped).toEqual({ filesDone: 1000, filesFound: 5000 });
    expect(onIndexed).toHaveBeenCalledOnce();
  });

  it('calls a cancelled scan stopped when it goes quiet, and ignores its tail', async () => {
    const { activity } = setup();
    activity.apply(ev(0, 5000));
    vi.setSystemTime(1000);
    activity.apply(ev(500, 5000));
    await activity.cancel();
    vi.setSystemTime(2000);
    activity.apply(ev(1000, 5000));
    expect(activity.running).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(activity.running).toBe(false);
    expect(activity.stopped).toEqual({ filesDone: 1000, filesFound: 5000 });

    // A late event from the stopped scan does not bring it back…
    activity.apply(ev(1500, 5000));
    expect(activity.running).toBe(false);
    // …but a new scan does.
    activity.apply(ev(0, 80));
    expect(activity.running).toBe(true);
    expect(activity.stopped).toBeNull();
  });

  it('ignores cancel when nothing runs, and reports a failed cancel', async () => {
    const onError = vi.fn();
    const activity = new ScanActivity(
      { cancelScan: () => Promise.reject(new Error('ipc')), onScanProgressed: () => Promise.resolve(() => {}), onScanStopped: () => Promise.resolve(() => {}) },
      { onError },
    );
    await activity.cancel();
    expect(activity.stopping).toBe(false);
    activity.apply(ev(0, 10));
    await activity.cancel();
    expect(onError).toHaveBeenCalledOnce();
    expect(activity.stopping).toBe(false);
    expect(activity.running).toBe(true);
  });
});
