// The server's health as the UI follows it: the backend's `HealthChanged` events are
// the truth. A change in the mirrored catalog or a finished sync reloads what shows.

import type { Health, Unsubscribe } from '$lib/backend';
import { playableNow, serverReachable } from './describe';

export interface HealthSource {
  serverHealth(): Promise<Health>;
  onHealthChanged(handler: (h: Health) => void): Promise<Unsubscribe>;
  retryServer(): Promise<void>;
}

export const LOCAL_ONLY: Health = {
  state: 'localOnly',
  server: null,
  reason: null,
  retryInS: null,
  lastSyncMs: null,
  catalogMirroredMs: null,
  catalogTracks: 0,
  catalogVersion: 0,
  playlistsVersion: 0,
  catalogProgress: null,
  pendingUploads: 0,
  downloads: null,
  cacheBytes: 0,
  cacheBudgetBytes: 0,
  message: null,
  syncConnected: false,
  seq: 0,
};

/** One change of state, for the popover's "recently" line. */
export interface Transition {
  state: Health['state'];
  at: number;
}

/** How many changes of state the popover remembers. */
const HISTORY = 8;

export class ServerHealth {
  health = $state.raw<Health>(LOCAL_ONLY);
  /** The last few changes of state, oldest first. */
  history = $state.raw<Transition[]>([]);
  /** When `health` arrived (for the retry countdown). */
  receivedAt = $state(0);
  #source: HealthSource;
  #onCatalogChanged: () => void;
  #onSynced: () => void;
  #onError: (e: unknown) => void;

  /**
   * `onCatalogChanged`: server songs or their copies changed (reload song lists);
   * `onSynced`: an exchange with the server finished (playlists may have changed).
   */
  constructor(
    source: HealthSource,
    onCatalogChanged: () => void,
    onSynced: () => void,
    onError: (e: unknown) => void,
  ) {
    this.#source = source;
    this.#onCatalogChanged = onCatalogChanged;
    this.#onSynced = onSynced;
    this.#onError = onError;
  }

  get reachable(): boolean {
    return serverReachable(this.health);
  }

  /** Whether a track can play now (on this device, or on a server that answers). */
  playable = (track: { source: 'local' | 'cached' | 'server' }): boolean => playableNow(track, this.health);

  /**
   * Takes `next` unless it is an older reading than the one shown: events and command
   * answers can arrive out of order (an answer to Connect read while the service had just
   * started, arriving after the event that it is online, would otherwise say "syncing"
   * until the next change).
   */
  set(next: Health, now = Date.now()): void {
    const before = this.health;
    if (next.seq < before.seq) return;
    this.health = next;
    this.receivedAt = now;
    if (this.history.at(-1)?.state !== next.state) {
      this.history = [...this.history, { state: next.state, at: now }].slice(-HISTORY);
    }
    const catalogMoved =
      next.catalogVersion !== before.catalogVersion ||
      next.catalogTracks !== before.catalogTracks ||
      (next.state === 'localOnly') !== (before.state === 'localOnly') ||
      next.cacheBytes !== before.cacheBytes;
    if (catalogMoved) this.#onCatalogChanged();
    if (next.lastSyncMs !== before.lastSyncMs || next.playlistsVersion !== before.playlistsVersion) {
      this.#onSynced();
    }
  }

  async start(): Promise<Unsubscribe> {
    const stop = await this.#source.onHealthChanged((h) => this.set(h));
    try {
      this.set(await this.#source.serverHealth());
    } catch (e) {
      this.#onError(e);
    }
    return stop;
  }

  retry(): Promise<void> {
    return this.#source.retryServer().catch(this.#onError);
  }
}
