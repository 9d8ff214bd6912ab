// The player as the UI shows it. The backend's `PlayerState` events are the
// truth; on top of them sit the user's intentions that the backend has not
// confirmed yet (a toggle, a new track, a seek, a volume drag), so controls
// answer at once and incoming updates never yank them back.

import type {
  OutputDevice,
  PlaybackStatus,
  PlayerState,
  RepeatMode,
  ReplayGainMode,
  Track,
  Unsubscribe,
} from '$lib/backend';

/** What the player needs from the backend; tests pass fakes. */
export interface PlayerControls {
  playTracks(trackIds: number[], start: number): Promise<void>;
  nextTrack(): Promise<void>;
  previousTrack(): Promise<void>;
  setShuffle(on: boolean): Promise<void>;
  setRepeat(repeat: RepeatMode): Promise<void>;
  outputDevices(): Promise<OutputDevice[]>;
  setOutputDevice(deviceId: string | null): Promise<void>;
  setReplayGain(mode: ReplayGainMode, preampDb: number): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  seek(positionMs: number): Promise<void>;
  setVolume(volume: number): Promise<void>;
  playerState(): Promise<PlayerState>;
  onPlayerState(handler: (state: PlayerState) => void): Promise<Unsubscribe>;
}

export interface PlayerOptions {
  onError?: (error: unknown) => void;
  /** Whether a track can play now (a server's track cannot while it is unreachable). */
  playable?: (track: Track) => boolean;
  /** A quiet notice (songs left out of a queue). */
  onNotice?: (message: string) => void;
  /** How long after the backend accepted a command we keep waiting for a state that shows it. */
  settleMs?: number;
}

export const STOPPED: PlayerState = {
  status: 'stopped',
  track: null,
  entryId: null,
  positionMs: 0,
  durationMs: 0,
  volume: 1,
  shuffle: false,
  repeat: 'off',
  outputDevice: null,
  replayGain: 'off',
  preampDb: 0,
  error: null,
  waiting: false,
};

/** The repeat button's cycle: off, the whole queue, this track. */
export const NEXT_REPEAT: Record<RepeatMode, RepeatMode> = { off: 'all', all: 'one', one: 'off' };

/**
 * The most tracks a list puts in the queue when one of them is played: a window around
 * the chosen track (a whole 100,000-song library would make every queue update huge).
 */
export const QUEUE_CONTEXT_LIMIT = 1000;
const QUEUE_CONTEXT_BEFORE = 100;

/** How far the arrow keys seek, in milliseconds. */
export const SEEK_STEP_MS = 5_000;

/** A reported position this close to a requested seek counts as that seek having landed. */
const SEEK_TOLERANCE_MS = 1500;

/** The least volume Unmute brings back; below it, half volume. */
const AUDIBLE_AFTER_UNMUTE = 0.1;

export class Player {
  #state = $state.raw<PlayerState>(STOPPED);
  #pendingStatus = $state<PlaybackStatus | null>(null);
  #pendingTrack = $state.raw<Track | null>(null);
  #dragging = $state(false);
  #dragMs = $state(0);
  #seekTarget = $state<number | null>(null);
  #volume = $state(1);

  #volumeWrites = 0;
  // Half volume if the app starts muted: the level before is not known then.
  #volumeBeforeMute = 0.5;
  #heardFromBackend = false;
  /** Bumped by every command, so an old command's deadline leaves a newer guess alone. */
  #generation = 0;
  #settleTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #controls: PlayerControls;
  readonly #onError: (error: unknown) => void;
  readonly #settleMs: number;
  readonly #options: PlayerOptions;

  constructor(controls: PlayerControls, options: PlayerOptions = {}) {
    this.#controls = controls;
    this.#options = options;
    this.#onError = options.onError ?? (() => {});
    this.#settleMs = options.settleMs ?? 1000;
  }

  readonly status: PlaybackStatus = $derived(this.#pendingStatus ?? this.#state.status);
  readonly track: Track | null = $derived(this.#pendingTrack ?? this.#state.track);
  readonly durationMs: number = $derived(
    this.#pendingTrack
      ? this.#pendingTrack.durationMs
      : this.#state.durationMs || (this.#state.track?.durationMs ?? 0),
  );
  /** Where the seek bar should sit: under the user's finger while dragging. */
  readonly positionMs: number = $derived(
    this.#dragging
      ? this.#dragMs
      : (this.#seekTarget ?? (this.#pendingTrack ? 0 : this.#state.positionMs)),
  );
  /** True while the user drags the seek bar; incoming positions are ignored meanwhile. */
  readonly seeking: boolean = $derived(this.#dragging);
  readonly volume: number = $derived(this.#volume);
  readonly muted: boolean = $derived(this.#volume === 0);
  /** The last playback error the backend reported, until the next state clears it. */
  readonly error: string | null = $derived(this.#state.error);
  /** True while the track waits for more of its download before it can play. */
  readonly waiting: boolean = $derived(!this.#pendingTrack && this.#state.waiting);
  readonly shuffle: boolean = $derived(this.#state.shuffle);
  readonly repeat: RepeatMode = $derived(this.#state.repeat);
  /** The queue entry playing, as in the queue panel. */
  readonly entryId: number | null = $derived(this.#state.entryId);
  /** The output device chosen (`null`: the system's default). */
  readonly outputDevice: string | null = $derived(this.#state.outputDevice);
  readonly replayGain: ReplayGainMode = $derived(this.#state.replayGain);
  readonly preampDb: number = $derived(this.#state.preampDb);

  /** Subscribes to the backend's state and loads the current one. */
  async start(): Promise<Unsubscribe> {
    let unsubscribe: Unsubscribe = () => {};
    try {
      unsubscribe = await this.#controls.onPlayerState((s) => this.apply(s));
      const initial = await this.#controls.playerState();
      // An event that arrived while we waited is newer than this answer.
      if (!this.#heardFromBackend) this.apply(initial);
    } catch (e) {
      this.#onError(e);
    }
    return () => {
      unsubscribe();
      for (const t of this.#settleTimers) clearTimeout(t);
    };
  }

  /** Takes in a state from the backend. */
  apply(next: PlayerState): void {
    this.#heardFromBackend = true;
    const previousError = this.#state.error;

    if (next.error !== null && next.error !== previousError) {
      // The backend gave up on whatever we were waiting for.
      this.#clearPending();
      this.#onError(new Error(next.error));
    }
    if (this.#pendingTrack && next.track?.id === this.#pendingTrack.id) this.#pendingTrack = null;
    if (this.#pendingStatus && !this.#pendingTrack && next.status === this.#pendingStatus) {
      this.#pendingStatus = null;
    }
    if (this.#seekTarget !== null && Math.abs(next.positionMs - this.#seekTarget) <= SEEK_TOLERANCE_MS) {
      this.#seekTarget = null;
    }
    if (this.#volumeWrites === 0) this.#volume = next.volume;
    this.#state = next;
  }

  /**
   * Plays `track` from the start, with `context` (the list it was chosen from: an album,
   * search results) as the queue, so next and previous move through that list.
   */
  play(track: Track, context: readonly Track[] = [track]): Promise<void> {
    const playable = this.#options.playable;
    if (playable && !playable(track)) {
      this.#options.onNotice?.(`“${track.title}” is not available offline.`);
      return Promise.resolve();
    }
    if (playable) {
      const kept = context.filter(playable);
      const skipped = context.length - kept.length;
      if (skipped > 0) {
        this.#options.onNotice?.(
          `${skipped === 1 ? '1 song is' : `${skipped} songs are`} not available offline and will be skipped.`,
        );
      }
      context = kept;
    }
    this.#pendingTrack = track;
    this.#pendingStatus = 'playing';
    this.#seekTarget = null;
    const at = context.findIndex((t) => t.id === track.id);
    const list = at < 0 ? [track] : context;
    const index = Math.max(0, at);
    const from = list.length > QUEUE_CONTEXT_LIMIT ? Math.max(0, index - QUEUE_CONTEXT_BEFORE) : 0;
    const ids = list.slice(from, from + QUEUE_CONTEXT_LIMIT).map((t) => t.id);
    const start = index - from;
    return this.#send(() => this.#controls.playTracks(ids, start));
  }

  next(): Promise<void> {
    this.#seekTarget = null;
    return this.#send(() => this.#controls.nextTrack());
  }

  previous(): Promise<void> {
    this.#seekTarget = null;
    return this.#send(() => this.#controls.previousTrack());
  }

  toggleShuffle(): Promise<void> {
    const on = !this.shuffle;
    return this.#send(() => this.#controls.setShuffle(on));
  }

  /** Off, then the whole queue, then this track, then off again. */
  cycleRepeat(): Promise<void> {
    const next = NEXT_REPEAT[this.repeat];
    return this.#send(() => this.#controls.setRepeat(next));
  }

  /** The output devices the system offers now (none if it cannot say). */
  async outputDevices(): Promise<OutputDevice[]> {
    try {
      return await this.#controls.outputDevices();
    } catch (e) {
      this.#onError(e);
      return [];
    }
  }

  /** Plays through this device from now on; `null` for the system's default. */
  setOutputDevice(deviceId: string | null): Promise<void> {
    return this.#send(() => this.#controls.setOutputDevice(deviceId));
  }

  setReplayGain(mode: ReplayGainMode, preampDb: number): Promise<void> {
    return this.#send(() => this.#controls.setReplayGain(mode, preampDb));
  }

  /** Seeks by `deltaMs` from where playback is, within the track. */
  seekBy(deltaMs: number): Promise<void> {
    if (!this.track || this.status === 'stopped') return Promise.resolve();
    const max = Math.max(0, this.durationMs - 1);
    return this.commitSeek(Math.min(max, Math.max(0, this.positionMs + deltaMs)));
  }

  /**
   * Pauses, resumes, or starts the current track again after a stop. With no
   * current track, plays `fallback` if given.
   */
  toggle(fallback?: Track | null): Promise<void> {
    switch (this.status) {
      case 'playing':
        this.#pendingStatus = 'paused';
        return this.#send(() => this.#controls.pause());
      case 'paused':
        this.#pendingStatus = 'playing';
        return this.#send(() => this.#controls.resume());
      case 'stopped': {
        if (this.#state.entryId !== null) {
          // The queue stopped (or played out): play resumes it at its current entry.
          this.#pendingStatus = 'playing';
          return this.#send(() => this.#controls.resume());
        }
        const track = this.track ?? fallback ?? null;
        return track ? this.play(track) : Promise.resolve();
      }
    }
  }

  /** The user grabbed the seek bar. */
  beginSeek(): void {
    if (!this.#dragging) this.#dragMs = this.positionMs;
    this.#dragging = true;
  }

  /** The seek bar moved under the user's hand; nothing is sent yet. */
  previewSeek(positionMs: number): void {
    this.#dragging = true;
    this.#dragMs = positionMs;
  }

  /** The user let go of the seek bar at `positionMs`. */
  commitSeek(positionMs: number): Promise<void> {
    this.#dragging = false;
    this.#seekTarget = positionMs;
    return this.#send(() => this.#controls.seek(positionMs));
  }

  /** The user let go without choosing a new position. */
  cancelSeek(): void {
    this.#dragging = false;
  }

  /** Sets the volume (0..=1) at once; the backend catches up. */
  setVolume(volume: number): Promise<void> {
    const v = Math.min(1, Math.max(0, volume));
    if (v > 0) this.#volumeBeforeMute = v;
    return this.#writeVolume(v);
  }

  /** Mutes, or brings back the volume from before muting. */
  toggleMute(): Promise<void> {
    if (this.#volume > 0) {
      this.#volumeBeforeMute = this.#volume;
      return this.#writeVolume(0);
    }
    // Dragged down to nothing, the last volume kept is a sliver: unmuting to it would
    // sound as if it had not worked.
    const before = this.#volumeBeforeMute;
    return this.#writeVolume(before >= AUDIBLE_AFTER_UNMUTE ? before : 0.5);
  }

  async #writeVolume(v: number): Promise<void> {
    this.#volume = v;
    // While any write is in flight, states from the backend may still carry
    // the old volume; they must not move the slider back.
    this.#volumeWrites += 1;
    try {
      await this.#controls.setVolume(v);
    } catch (e) {
      this.#onError(e);
    } finally {
      this.#volumeWrites -= 1;
    }
  }

  async #send(command: () => Promise<void>): Promise<void> {
    const generation = ++this.#generation;
    try {
      await command();
    } catch (e) {
      if (generation === this.#generation) this.#clearPending();
      this.#onError(e);
      return;
    }
    // The command went through; if no state confirming it arrives soon, stop
    // guessing and show what the backend last said. A newer command has its
    // own guess and its own deadline.
    const timer = setTimeout(() => {
      this.#settleTimers.delete(timer);
      if (generation === this.#generation) this.#clearPending();
    }, this.#settleMs);
    this.#settleTimers.add(timer);
  }

  #clearPending(): void {
    this.#pendingStatus = null;
    this.#pendingTrack = null;
    this.#seekTarget = null;
  }
}
