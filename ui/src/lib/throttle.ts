// Running something at most once per interval however often it is asked for,
// without losing the last request: a request inside the interval runs when the
// interval ends.

export interface Throttled {
  /** Runs now if the interval since the last run has passed, else once when it has. */
  request(): void;
  /** Drops a pending run. */
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function throttle(run: () => void, intervalMs: number, clock: Clock = realClock): Throttled {
  let lastRun = -Infinity;
  let pending: unknown = null;

  const fire = (): void => {
    pending = null;
    lastRun = clock.now();
    run();
  };

  return {
    request() {
      if (pending !== null) return;
      const wait = lastRun + intervalMs - clock.now();
      if (wait <= 0) fire();
      else pending = clock.setTimeout(fire, wait);
    },
    cancel() {
      if (pending !== null) clock.clearTimeout(pending);
      pending = null;
    },
  };
}
