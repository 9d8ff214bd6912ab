// Moving a playlist's selection with Alt+↑/↓. A held key repeats faster than a move and
// the reload after it come back; each repeat computed from the entries on screen would
// start from where the selection was before the last move, and the moves would collapse
// into one. So the steps pressed meanwhile are added up and carried out as one move,
// from where the move before left the selection.

/**
 * Where a selection at `indices` (ascending) of a list of `length` entries goes when
 * moved `delta` places (negative: up): the index of the entry it is to sit before,
 * `length` for the end.
 */
export function stepTarget(indices: number[], delta: number, length: number): number | null {
  const first = indices[0];
  const last = indices[indices.length - 1];
  if (first === undefined || last === undefined || delta === 0) return null;
  return delta < 0 ? Math.max(0, first + delta) : Math.min(length, last + 1 + delta);
}

/** Steps carried out one move at a time; those made while a move runs are added up. */
export class Steps {
  #pending = 0;
  #running: Promise<void> | null = null;

  /** `move(delta)` moves the selection `delta` places and resolves once what is on
   * screen shows it (the next move starts from there). */
  constructor(private readonly move: (delta: number) => Promise<void>) {}

  /** Adds a step; resolves once it has been carried out (rejects if a move failed). */
  step(delta: number): Promise<void> {
    // (None to add: a drain started with nothing to move would end before it is kept
    // as the one running, and stay kept.)
    if (delta === 0) return this.#running ?? Promise.resolve();
    this.#pending += delta;
    this.#running ??= this.#drain();
    return this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending !== 0) {
        const delta = this.#pending;
        this.#pending = 0;
        await this.move(delta);
      }
    } catch (e) {
      // Steps made meanwhile counted from a place the selection never reached.
      this.#pending = 0;
      throw e;
    } finally {
      this.#running = null;
    }
  }
}
