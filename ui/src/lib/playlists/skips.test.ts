import { describe, expect, it } from 'vitest';
import { planSkips, reached, skipNotice, type PlayableEntry } from './skips';
import { SkipWatcher } from './skips.svelte';

const local = (trackId: number, title: string): PlayableEntry => ({ trackId, track: { title, artist: 'A' } });
const absent = (title: string): PlayableEntry => ({ trackId: null, track: { title, artist: 'B' } });

// Playlist order: x (absent), 1, y (absent), z (absent), 2, 3, w (absent).
const entries = [absent('x'), local(1, 'one'), absent('y'), absent('z'), local(2, 'two'), local(3, 'three'), absent('w')];

describe('planSkips', () => {
  it('queues the songs on this device and places each missing one before the next', () => {
    const plan = planSkips(entries, 0);
    expect(plan.trackIds).toEqual([1, 2, 3]);
    expect(plan.start).toBe(0);
    expect(plan.before.map((b) => b.map((s) => s.title))).toEqual([['x'], ['y', 'z'], []]);
    expect(plan.after.map((s) => s.title)).toEqual(['w']);
  });

  it('starting further in leaves out what comes before the start', () => {
    const plan = planSkips(entries, 3); // from "z"
    expect(plan.start).toBe(1);
    expect(plan.before[1]?.map((s) => s.title)).toEqual(['z']);
    expect(plan.before[0]).toEqual([]);
  });

  it('reaching the last song also reaches what follows it', () => {
    const plan = planSkips(entries, 0);
    expect(reached(plan, 1).map((s) => s.title)).toEqual(['y', 'z']);
    expect(reached(plan, 2).map((s) => s.title)).toEqual(['w']);
    expect(reached(plan, null)).toEqual([]);
  });
});

describe('SkipWatcher', () => {
  it('announces each place once, as playback reaches it, and only for the planned queue', () => {
    const notices: string[] = [];
    const watcher = new SkipWatcher({ items: [], current: null }, () => {});
    const notify = (m: string) => notices.push(m);
    watcher.arm(planSkips(entries, 0));
    watcher.observe([9, 8], 0, notify); // The old queue, before the new one arrives.
    expect(notices).toEqual([]);
    watcher.observe([1, 2, 3], 0, notify);
    expect(notices).toEqual(['Skipped “x” by B: it is not on this device.']);
    watcher.observe([1, 2, 3], 0, notify);
    watcher.observe([1, 2, 3], 1, notify);
    expect(notices[1]).toBe('Skipped 2 songs not on this device: “y” by B, “z” by B.');
    watcher.observe([1, 2, 3, 7], 2, notify); // The user added a song: no longer the plan.
    expect(notices).toHaveLength(2);
  });
});

describe('skipNotice', () => {
  it('names at most three', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((title) => ({ title, artist: '' }));
    expect(skipNotice(many)).toBe('Skipped 5 songs not on this device: “a”, “b”, “c” and 2 more.');
  });
});
