// One Rewind card's data. Each card loads on its own, so one slow or failing view shows
// its own error with a retry while the others, and the rest of the app, carry on.

import { BackendError } from '$lib/backend';

export class CardData<T> {
  value = $state.raw<T | null>(null);
  /** Why the last load failed; `null` after a success. */
  error = $state<string | null>(null);
  loading = $state(false);
  readonly #fetch: () => Promise<T>;
  #generation = 0;

  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /** Loads (again). A newer load wins over an older one still running. */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    this.error = null;
    try {
      const value = await this.#fetch();
      if (generation !== this.#generation) return;
      this.value = value;
    } catch (e) {
      if (generation !== this.#generation) return;
      this.error = BackendError.from(e).message;
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }
}
