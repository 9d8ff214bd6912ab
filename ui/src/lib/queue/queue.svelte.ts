// The play queue as the queue panel shows it. The backend's `QueueState` events
// are the truth; a drag-and-drop move shows at once and is confirmed (or undone)
// by the next state.

import type { QueueItem, QueueState, Unsubscribe } from '$lib/backend';

/** What the queue needs from the backend; tests pass fakes. */
export interface QueueControls {
  queueState(): Promise<QueueState>;
  onQueueState(handler: (state: QueueState) => void): Promise<Unsubscribe>;
  enqueue(trackIds: number[], next: boolean): Promise<void>;
  removeFromQueue(entryIds: number[]): Promise<void>;
  moveInQueue(entryId: number, to: number): Promise<void>;
  clearQueue(): Promise<void>;
  playEntry(entryId: number): Promise<void>;
}

const EMPTY: QueueState = { items: [], current: null };

export class PlayQueue {
  #state = $state.raw<QueueState>(EMPTY);
  /** Moves the backend has not confirmed yet, shown meanwhile. */
  #pendingOrder = $state.raw<QueueItem[] | null>(null);
  /**
   * Moves sent whose queue state has not come back. Until the last one's has, the moves
   * made since stay shown: a state for an earlier move would undo them on screen, and
   * the next move (Alt+↓ held down) would then start from the wrong place.
   */
  #unconfirmedMoves = 0;
  #heard = false;
  readonly #controls: QueueControls;
  readonly #onError: (error: unknown) => void;

  constructor(controls: QueueControls, onError: (error: unknown) => void = () => {}) {
    this.#controls = controls;
    this.#onError = onError;
  }

  /** Every entry in play order. */
  readonly items: QueueItem[] = $derived(this.#pendingOrder ?? this.#state.items);
  /** Position of the playing entry in `items`. */
  readonly current: number | null = $derived.by(() => {
    const playing = this.#state.current === null ? null : this.#state.items[this.#state.current];
    if (!playing) return null;
    const i = this.items.findIndex((x) => x.entryId === playing.entryId);
    return i < 0 ? null : i;
  });
  /** The entries after the playing one. */
  readonly upcoming: number = $derived(this.items.length - (this.current === null ? 0 : this.current + 1));

  async start(): Promise<Unsubscribe> {
    let unsubscribe: Unsubscribe = () => {};
    try {
      unsubscribe = await this.#controls.onQueueState((s) => this.apply(s));
      const initial = await this.#controls.queueState();
      if (!this.#heard) this.apply(initial);
    } catch (e) {
      this.#onError(e);
    }
    return unsubscribe;
  }

  apply(next: QueueState): void {
    this.#heard = true;
    this.#state = next;
    this.#unconfirmedMoves = Math.max(0, this.#unconfirmedMoves - 1);
    if (this.#unconfirmedMoves === 0) this.#pendingOrder = null;
  }

  /** Queues tracks after the playing one (`next`) or at the end. */
  add(trackIds: number[], next: boolean): Promise<void> {
    return this.#send(() => this.#controls.enqueue(trackIds, next));
  }

  remove(entryId: number): Promise<void> {
    return this.#send(() => this.#controls.removeFromQueue([entryId]));
  }

  /** Moves an entry to position `to`; shown at once. */
  move(entryId: number, to: number): Promise<void> {
    const items = [...this.items];
    const from = items.findIndex((x) => x.entryId === entryId);
    if (from < 0) return Promise.resolve();
    const target = Math.min(items.length - 1, Math.max(0, to));
    if (target === from) return Promise.resolve();
    const [moved] = items.splice(from, 1);
    if (moved) items.splice(target, 0, moved);
    this.#pendingOrder = items;
    this.#unconfirmedMoves += 1;
    return this.#send(() => this.#controls.moveInQueue(entryId, target));
  }

  clear(): Promise<void> {
    return this.#send(() => this.#controls.clearQueue());
  }

  play(entryId: number): Promise<void> {
    return this.#send(() => this.#controls.playEntry(entryId));
  }

  async #send(command: () => Promise<void>): Promise<void> {
    try {
      await command();
    } catch (e) {
      this.#pendingOrder = null;
      this.#unconfirmedMoves = 0;
      this.#onError(e);
    }
  }
}
