// Data a page shows, loaded from the backend and re-loaded when the library
// changes. Loads never overlap: asking while one runs queues exactly one more,
// so a scan that changes the library every two seconds cannot pile up queries.
// A queued reload also waits a few times as long as the last load took, so a
// slow query cannot keep the backend busy for the whole of a scan.

export interface ResourceOptions {
  onError?: (error: unknown) => void;
  /** A queued reload waits this many times the last load's duration. */
  cooldownFactor?: number;
}

export class Resource<T> {
  /** The last answer; kept while a newer one loads, so the page does not flash empty. */
  value = $state.raw<T | null>(null);
  /** True while a load runs (or waits to run again). */
  loading = $state(false);
  /** True once the first load has finished, successfully or not. */
  loaded = $state(false);

  #running: Promise<void> | null = null;
  #again = false;
  #revision: number | null = null;
  readonly #fetch: () => Promise<T>;
  readonly #onError: (error: unknown) => void;
  readonly #cooldownFactor: number;

  constructor(fetch: () => Promise<T>, options: ResourceOptions = {}) {
    this.#fetch = fetch;
    this.#onError = options.onError ?? (() => {});
    this.#cooldownFactor = options.cooldownFactor ?? 4;
  }

  /** Loads if this library revision has not been loaded yet. */
  sync(revision: number): Promise<void> {
    if (this.#revision === revision) return this.#running ?? Promise.resolve();
    this.#revision = revision;
    return this.load();
  }

  /** Loads now, or once more after the load that is running. */
  load(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.loading = true;
    this.#running = this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    for (;;) {
      this.#again = false;
      const started = Date.now();
      try {
        this.value = await this.#fetch();
      } catch (e) {
        this.#onError(e);
      }
      if (!this.#again) break;
      const cooldown = (Date.now() - started) * this.#cooldownFactor;
      if (cooldown > 0) await new Promise((resolve) => setTimeout(resolve, cooldown));
    }
    this.loading = false;
    this.loaded = true;
    this.#running = null;
  }
}
