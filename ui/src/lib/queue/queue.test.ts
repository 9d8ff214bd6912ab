import { describe, expect, it, vi } from 'vitest';
import type { QueueItem, QueueState, Track } from '$lib/backend';
import { PlayQueue, type QueueControls } from './queue.svelte';

function item(entryId: number, trackId = entryId): QueueItem {
  const track: Track = {
    id: trackId,
    uid: `uid-${trackId}`,
    path: `/m/${trackId}.flac`,
    title: `Song ${trackId}`,
    artist: 'A',
    album: 'B',
    albumArtist: 'A',
    trackNumber: null,
    discNumber: null,
    year: null,
    genre: null,
    durationMs: 1000,
    format: 'FLAC',
    source: 'local',
  };
  return { entryId, track };
}

function controls(overrides: Partial<QueueControls> = {}): QueueControls {
  return {
    queueState: vi.fn(() => Promise.resolve({ items: [], current: null })),
    onQueueState: vi.fn(() => Promise.resolve(() => {})),
    enqueue: vi.fn(() => Promise.resolve()),
    removeFromQueue: vi.fn(() => Promise.resolve()),
    moveInQueue: vi.fn(() => Promise.resolve()),
    clearQueue: vi.fn(() => Promise.resolve()),
    playEntry: vi.fn(() => Promise.resolve()),
    ...overrides,
  };
}

const STATE: QueueState = { items: [item(1), item(2), item(3), item(4)], current: 1 };

describe('PlayQueue', () => {
  it('shows a move at once, keeps the playing entry, and takes the backend state after', async () => {
    const c = controls();
    const q = new PlayQueue(c);
    q.apply(STATE);
    expect(q.current).toBe(1);
    expect(q.upcoming).toBe(2);
    await q.move(4, 0);
    expect(c.moveInQueue).toHaveBeenCalledWith(4, 0);
    expect(q.items.map((x) => x.entryId)).toEqual([4, 1, 2, 3]);
    expect(q.current).toBe(2);
    q.apply({ items: [item(4), item(1), item(2), item(3)], current: 2 });
    expect(q.items.map((x) => x.entryId)).toEqual([4, 1, 2, 3]);
  });

  it('keeps moves made in quick succession when the state for the first comes back', async () => {
    const c = controls();
    const q = new PlayQueue(c);
    q.apply(STATE);
    // Alt+↓ held on entry 1: three moves before any state comes back.
    await q.move(1, 1);
    await q.move(1, 2);
    q.apply({ items: [item(2), item(1), item(3), item(4)], current: 0 });
    expect(q.items.map((x) => x.entryId)).toEqual([2, 3, 1, 4]);
    await q.move(1, 3);
    expect(c.moveInQueue).toHaveBeenLastCalledWith(1, 3);
    q.apply({ items: [item(2), item(3), item(1), item(4)], current: 0 });
    q.apply({ items: [item(2), item(3), item(4), item(1)], current: 0 });
    expect(q.items.map((x) => x.entryId)).toEqual([2, 3, 4, 1]);
    // Confirmed: states from other changes show as they come.
    q.apply({ items: [item(2), item(3)], current: 0 });
    expect(q.items.map((x) => x.entryId)).toEqual([2, 3]);
  });

  it('undoes a move the backend refused, and reports it', async () => {
    const onError = vi.fn();
    const q = new PlayQueue(controls({ moveInQueue: () => Promise.reject(new Error('gone')) }), onError);
    q.apply(STATE);
    await q.move(1, 3);
    expect(q.items.map((x) => x.entryId)).toEqual([1, 2, 3, 4]);
    expect(onError).toHaveBeenCalledOnce();
  });

  it('loads the current queue at start, unless an event came first', async () => {
    let push: (s: QueueState) => void = () => {};
    const q = new PlayQueue(
      controls({
        onQueueState: (h) => {
          push = h;
          return Promise.resolve(() => {});
        },
        queueState: () => {
          push({ items: [item(9)], current: 0 });
          return Promise.resolve(STATE);
        },
      }),
    );
    await q.start();
    expect(q.items.map((x) => x.entryId)).toEqual([9]);
  });
});
