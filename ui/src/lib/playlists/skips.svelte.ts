// Watches the queue after a playlist was played and shows a notice as playback reaches
// each place where a song not on this device was skipped (see skips.ts).

import { isPlanned, reached, skipNotice, type SkipPlan } from './skips';

/** The queue as far as this needs it. */
export interface QueueView {
  readonly items: { track: { id: number } }[];
  readonly current: number | null;
}

export class SkipWatcher {
  #plan: SkipPlan | null = null;
  /** Queue positions already announced (each place is announced once). */
  #announced = new Set<number>();

  constructor(queue: QueueView, notify: (message: string) => void) {
    $effect.root(() => {
      $effect(() => {
        const ids = queue.items.map((x) => x.track.id);
        const current = queue.current;
        this.observe(ids, current, notify);
      });
    });
  }

  /** Starts watching for a playlist just played as `plan`. */
  arm(plan: SkipPlan): void {
    this.#plan = plan;
    this.#announced = new Set();
  }

  /** One change of the queue or of its playing position. */
  observe(ids: number[], current: number | null, notify: (message: string) => void): void {
    const plan = this.#plan;
    if (!plan || !isPlanned(plan, ids)) return;
    if (current === null || this.#announced.has(current)) return;
    this.#announced.add(current);
    const skipped = reached(plan, current);
    if (skipped.length > 0) notify(skipNotice(skipped));
  }
}
