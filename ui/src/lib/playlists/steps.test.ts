import { describe, expect, it } from 'vitest';
import { stepTarget, Steps } from './steps';

describe('stepTarget', () => {
  it('moves a selection up or down by the steps, within the list', () => {
    // Entries 2-3 of 6 selected.
    expect(stepTarget([2, 3], -1, 6)).toBe(1);
    expect(stepTarget([2, 3], -5, 6)).toBe(0);
    expect(stepTarget([2, 3], 1, 6)).toBe(5);
    expect(stepTarget([2, 3], 2, 6)).toBe(6);
    expect(stepTarget([2, 3], 9, 6)).toBe(6);
    expect(stepTarget([], 1, 6)).toBeNull();
    expect(stepTarget([2], 0, 6)).toBeNull();
  });
});

describe('Steps', () => {
  /** A move that takes until `finish()` is called, as a backend round trip does. */
  function slowMoves() {
    const moves: number[] = [];
    const finishers: (() => void)[] = [];
    const steps = new Steps(
      (delta) =>
        new Promise<void>((resolve) => {
          moves.push(delta);
          finishers.push(resolve);
        }),
    );
    const finish = async () => {
      finishers.shift()?.();
      // Let the awaiting code run on.
      await new Promise((r) => setTimeout(r, 0));
    };
    return { steps, moves, finish };
  }

  it('adds up the steps made while a move runs, and loses none', async () => {
    const { steps, moves, finish } = slowMoves();
    // Alt+↓ held: four repeats before the first move comes back.
    const done = [steps.step(1), steps.step(1), steps.step(1), steps.step(1)];
    expect(moves).toEqual([1]);
    await finish();
    expect(moves).toEqual([1, 3]);
    await finish();
    await Promise.all(done);
    expect(moves).toEqual([1, 3]);
  });

  it('steps that cancel out make no move, and a later step starts anew', async () => {
    const { steps, moves, finish } = slowMoves();
    const first = steps.step(-1);
    void steps.step(1);
    void steps.step(-1);
    await finish();
    await first;
    expect(moves).toEqual([-1]);
    const later = steps.step(2);
    expect(moves).toEqual([-1, 2]);
    await finish();
    await later;
  });

  it('a step of nothing moves nothing and keeps later steps working', async () => {
    const moves: number[] = [];
    const steps = new Steps(async (delta) => {
      moves.push(delta);
    });
    await steps.step(0);
    await steps.step(1);
    expect(moves).toEqual([1]);
  });

  it('a move that fails drops the steps made meanwhile, and the next starts anew', async () => {
    const moves: number[] = [];
    let fail = true;
    const steps = new Steps(async (delta) => {
      moves.push(delta);
      await new Promise((r) => setTimeout(r, 0));
      if (fail) throw new Error('backend gone');
    });
    const failed = steps.step(1);
    void steps.step(1).catch(() => {});
    await expect(failed).rejects.toThrow('backend gone');
    fail = false;
    await steps.step(-1);
    expect(moves).toEqual([1, -1]);
  });
});
