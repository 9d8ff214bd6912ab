import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlayerState, Track } from '$lib/backend';
import { Player, STOPPED, type PlayerControls } from './player.svelte';

function track(id: number, durationMs = 180_000): Track {
  return {
    id,
    uid: `uid-${id}`,
    path: `/music/${id}.mp3`,
    title: `Song ${id}`,
    artist: 'Artist',
    album: 'Album',
    albumArtist: 'Artist',
    trackNumber: null,
    discNumber: null,
    year: null,
    genre: null,
    durationMs,
    format: 'MP3',
    source: 'local',
  };
}

function state(overrides: Partial<PlayerState>): PlayerState {
  return { ...STOPPED, ...overrides };
}

function fakeControls(overrides: Partial<PlayerControls> = {}): PlayerControls {
  return {
    playTracks: vi.fn(() => Promise.resolve()),
    nextTrack: vi.fn(() => Promise.resolve()),
    previousTrack: vi.fn(() => Promise.resolve()),
    setShuffle: vi.fn(() => Promise.resolve()),
    setRepeat: vi.fn(() => Promise.resolve()),
    outputDevices: vi.fn(() => Promise.resolve([])),
    setOutputDevice: vi.fn(() => Promise.resolve()),
    setReplayGain: vi.fn(() => Promise.resolve()),
    pause: vi.fn(() => Promise.resolve()),
    resume: vi.fn(() => Promise.resolve()),
    seek: vi.fn(() => Promise.resolve()),
    setVolume: vi.fn(() => Promise.resolve()),
    playerState: vi.fn(() => Promise.resolve(STOPPED)),
    onPlayerState: vi.fn(() => Promise.resolve(() => {})),
    ...overrides,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Player toggle', () => {
  it('shows paused at once and keeps it while stale playing states arrive', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    player.apply(state({ status: 'playing', track: track(1), positionMs: 1000, durationMs: 180_000 }));

    const done = player.toggle();
    expect(player.status).toBe('paused');
    await done;
    expect(controls.pause).toHaveBeenCalledOnce();

    player.apply(state({ status: 'playing', track: track(1), positionMs: 1250, durationMs: 180_000 }));
    expect(player.status).toBe('paused');
    player.apply(state({ status: 'paused', track: track(1), positionMs: 1250, durationMs: 180_000 }));
    expect(player.status).toBe('paused');
  });

  it('falls back to what the backend says when no confirming state arrives', async () => {
    const player = new Player(fakeControls(), { settleMs: 1000 });
    player.apply(state({ status: 'playing', track: track(1) }));
    await player.toggle();
    expect(player.status).toBe('paused');
    await vi.advanceTimersByTimeAsync(1000);
    expect(player.status).toBe('playing');
  });

  it('reverts and reports when the command fails', async () => {
    const onError = vi.fn();
    const player = new Player(fakeControls({ resume: () => Promise.reject(new Error('no device')) }), { onError });
    player.apply(state({ status: 'paused', track: track(1) }));
    await player.toggle();
    expect(player.status).toBe('paused');
    expect(onError).toHaveBeenCalledOnce();
  });

  it('replays the current track after a stop, or the fallback when there is none', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    await player.toggle();
    expect(controls.playTracks).not.toHaveBeenCalled();

    await player.toggle(track(7));
    expect(controls.playTracks).toHaveBeenLastCalledWith([7], 0);
    await vi.advanceTimersByTimeAsync(1000);

    player.apply(state({ status: 'stopped', track: track(3) }));
    await player.toggle(track(7));
    expect(controls.playTracks).toHaveBeenLastCalledWith([3], 0);

    // With a queue loaded (its entry known), play resumes the queue where it stopped.
    await vi.advanceTimersByTimeAsync(1000);
    player.apply(state({ status: 'stopped', track: track(3), entryId: 12 }));
    await player.toggle(track(7));
    expect(controls.resume).toHaveBeenCalledOnce();
  });

  it('plays a track with the list it was chosen from as the queue', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    await player.play(track(5), [track(4), track(5), track(6)]);
    expect(controls.playTracks).toHaveBeenLastCalledWith([4, 5, 6], 1);
    await player.play(track(9), [track(4)]);
    expect(controls.playTracks).toHaveBeenLastCalledWith([9], 0);

    // A huge list queues a window around the chosen track.
    const many = Array.from({ length: 5000 }, (_, i) => track(i + 1));
    await player.play(track(2001), many);
    const [ids, start] = vi.mocked(controls.playTracks).mock.lastCall ?? [[], -1];
    expect(ids).toHaveLength(1000);
    expect(ids[start]).toBe(2001);
    expect(ids[0]).toBe(1901);
  });

  it('leaves songs that cannot play now out of the queue, with one notice', async () => {
    const controls = fakeControls();
    const notices: string[] = [];
    const offline = (t: Track) => t.id !== 5 && t.id !== 7;
    const player = new Player(controls, { playable: offline, onNotice: (m) => notices.push(m) });
    await player.play(track(6), [track(4), track(5), track(6), track(7)]);
    expect(controls.playTracks).toHaveBeenLastCalledWith([4, 6], 1);
    expect(notices).toEqual(['2 songs are not available offline and will be skipped.']);
    // The chosen song itself cannot play: nothing is sent, and it says so.
    await player.play(track(5), [track(4), track(5)]);
    expect(controls.playTracks).toHaveBeenCalledTimes(1);
    expect(notices.at(-1)).toBe('“Song 5” is not available offline.');
  });

  it('cycles repeat off, all, one and seeks by steps within the track', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    await player.cycleRepeat();
    expect(controls.setRepeat).toHaveBeenLastCalledWith('all');
    player.apply(state({ repeat: 'all' }));
    await player.cycleRepeat();
    expect(controls.setRepeat).toHaveBeenLastCalledWith('one');
    await player.toggleShuffle();
    expect(controls.setShuffle).toHaveBeenLastCalledWith(true);

    player.apply(state({ status: 'playing', track: track(1, 60_000), positionMs: 58_000, durationMs: 60_000 }));
    await player.seekBy(5_000);
    expect(controls.seek).toHaveBeenLastCalledWith(59_999);
    await vi.advanceTimersByTimeAsync(1000);
    player.apply(state({ status: 'playing', track: track(1, 60_000), positionMs: 2_000, durationMs: 60_000 }));
    await player.seekBy(-5_000);
    expect(controls.seek).toHaveBeenLastCalledWith(0);
  });

  it('shows a newly played track at once, from zero', async () => {
    const player = new Player(fakeControls());
    player.apply(state({ status: 'playing', track: track(1), positionMs: 90_000, durationMs: 180_000 }));
    await player.play(track(2, 240_000));
    expect(player.track?.id).toBe(2);
    expect(player.status).toBe('playing');
    expect(player.positionMs).toBe(0);
    expect(player.durationMs).toBe(240_000);
    // A tick for the old track must not bring it back.
    player.apply(state({ status: 'playing', track: track(1), positionMs: 90_250, durationMs: 180_000 }));
    expect(player.track?.id).toBe(2);
    player.apply(state({ status: 'playing', track: track(2, 240_000), positionMs: 100, durationMs: 240_000 }));
    expect(player.track?.id).toBe(2);
    expect(player.positionMs).toBe(100);
  });
});

describe('Player seeking', () => {
  it('ignores incoming positions while the user drags, then holds the target', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    player.apply(state({ status: 'playing', track: track(1), positionMs: 10_000, durationMs: 180_000 }));

    player.beginSeek();
    expect(player.seeking).toBe(true);
    player.previewSeek(60_000);
    player.apply(state({ status: 'playing', track: track(1), positionMs: 10_250, durationMs: 180_000 }));
    expect(player.positionMs).toBe(60_000);
    expect(controls.seek).not.toHaveBeenCalled();

    await player.commitSeek(60_000);
    expect(player.seeking).toBe(false);
    expect(controls.seek).toHaveBeenCalledWith(60_000);
    // A tick from before the seek landed does not jump back.
    player.apply(state({ status: 'playing', track: track(1), positionMs: 10_500, durationMs: 180_000 }));
    expect(player.positionMs).toBe(60_000);
    player.apply(state({ status: 'playing', track: track(1), positionMs: 60_200, durationMs: 180_000 }));
    expect(player.positionMs).toBe(60_200);
  });

  it('follows the backend again after a cancelled drag', () => {
    const player = new Player(fakeControls());
    player.apply(state({ status: 'playing', track: track(1), positionMs: 5_000 }));
    player.beginSeek();
    expect(player.positionMs).toBe(5_000);
    player.cancelSeek();
    player.apply(state({ status: 'playing', track: track(1), positionMs: 5_250 }));
    expect(player.positionMs).toBe(5_250);
  });
});

describe('Player volume', () => {
  it('keeps the slider where the user put it while the write is in flight', async () => {
    let finish: () => void = () => {};
    const player = new Player(fakeControls({ setVolume: () => new Promise<void>((r) => (finish = r)) }));
    player.apply(state({ volume: 0.8 }));
    const done = player.setVolume(0.3);
    player.apply(state({ volume: 0.8 }));
    expect(player.volume).toBe(0.3);
    finish();
    await done;
    player.apply(state({ volume: 0.3 }));
    expect(player.volume).toBe(0.3);
  });

  it('mutes and restores the previous volume', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    player.apply(state({ volume: 0.6 }));
    await player.toggleMute();
    expect(player.muted).toBe(true);
    expect(controls.setVolume).toHaveBeenLastCalledWith(0);
    await player.toggleMute();
    expect(player.volume).toBe(0.6);
    expect(controls.setVolume).toHaveBeenLastCalledWith(0.6);
  });

  it('unmutes to half volume, not full, when the app started muted', async () => {
    const player = new Player(fakeControls());
    player.apply(state({ volume: 0 }));
    await player.toggleMute();
    expect(player.volume).toBe(0.5);
  });

  it('unmutes to half volume after the slider was dragged down to nothing', async () => {
    const controls = fakeControls();
    const player = new Player(controls);
    player.apply(state({ volume: 0.6 }));
    for (const v of [0.4, 0.2, 0.02, 0]) await player.setVolume(v);
    expect(player.muted).toBe(true);
    await player.toggleMute();
    expect(player.volume).toBe(0.5);
  });
});

describe('Player errors and start-up', () => {
  it('reports each new backend error once', () => {
    const onError = vi.fn();
    const player = new Player(fakeControls(), { onError });
    player.apply(state({ error: 'Could not decode file' }));
    player.apply(state({ error: 'Could not decode file' }));
    expect(onError).toHaveBeenCalledOnce();
    expect((onError.mock.calls[0]![0] as Error).message).toBe('Could not decode file');
    player.apply(state({ error: null }));
    player.apply(state({ error: 'Could not decode file' }));
    expect(onError).toHaveBeenCalledTimes(2);
  });

  it('prefers an event that arrived before the initial state', async () => {
    let emit: (s: PlayerState) => void = () => {};
    let answer: (s: PlayerState) => void = () => {};
    const player = new Player(
      fakeControls({
        onPlayerState: (h) => {
          emit = h;
          return Promise.resolve(() => {});
        },
        playerState: () => new Promise((r) => (answer = r)),
      }),
    );
    const started = player.start();
    await vi.advanceTimersByTimeAsync(0);
    emit(state({ status: 'playing', track: track(9) }));
    answer(state({ status: 'stopped' }));
    await started;
    expect(player.status).toBe('playing');
  });
});

describe('Player waiting for a download', () => {
  it('says the track waits until the backend says it plays', () => {
    const player = new Player(fakeControls());
    player.apply(state({ status: 'playing', track: track(1), waiting: true }));
    expect(player.waiting).toBe(true);
    player.apply(state({ status: 'playing', track: track(1), waiting: false, positionMs: 250 }));
    expect(player.waiting).toBe(false);
  });

  it('does not say a newly chosen track waits before the backend has it', () => {
    const player = new Player(fakeControls());
    player.apply(state({ status: 'playing', track: track(1), waiting: true }));
    void player.play(track(2), [track(2)]);
    expect(player.waiting).toBe(false);
  });
});
