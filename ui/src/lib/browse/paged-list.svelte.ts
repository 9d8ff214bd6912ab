// A long list read a page at a time as the user scrolls to it (the albums:
// up to ~10,000). Pages stay cached; after the library changes they are marked
// stale and re-read when next in view, showing their old items meanwhile.

import { knownExtent, pagesCovering } from './paging';

export interface PagedListOptions {
  pageSize?: number;
  onError?: (error: unknown) => void;
}

export class PagedList<T> {
  #pages = $state.raw<ReadonlyMap<number, T[]>>(new Map());
  /** True once the first page has answered. */
  loaded = $state(false);

  /** Pages read (or failed) since the last invalidation; others are re-read when in view. */
  #settled = new Set<number>();
  /** Pages being read, with the generation they were asked for in. */
  #inflight = new Map<number, number>();
  #generation = 0;
  #revision: number | null = null;
  readonly #fetch: (offset: number, limit: number) => Promise<T[]>;
  readonly #onError: (error: unknown) => void;
  readonly pageSize: number = 200;

  constructor(fetch: (offset: number, limit: number) => Promise<T[]>, options: PagedListOptions = {}) {
    this.#fetch = fetch;
    this.pageSize = options.pageSize ?? 200;
    this.#onError = options.onError ?? (() => {});
  }

  readonly #extent = $derived(
    knownExtent(new Map([...this.#pages].map(([p, items]) => [p, items.length])), this.pageSize),
  );
  /** Items known to exist so far. */
  readonly count: number = $derived(this.#extent.count);
  /** Every item has been seen: `count` is the whole list. */
  readonly complete: boolean = $derived(this.#extent.complete);

  /** Item `index`, or `null` while its page is still being read. */
  item(index: number): T | null {
    return this.#pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize] ?? null;
  }

  /**
   * Makes sure items `start` to `end` are read and current, and reads on past
   * the known end when the range comes within half a page of it.
   */
  ensure(start: number, end: number): void {
    const pages = pagesCovering(start, Math.max(end, start + 1), this.pageSize);
    const extent = this.#extent;
    if (!extent.complete && end + this.pageSize / 2 >= extent.count) {
      pages.push(Math.floor(extent.count / this.pageSize));
    }
    for (const page of new Set(pages)) {
      if (this.#settled.has(page) || this.#inflight.get(page) === this.#generation) continue;
      if (page > 0 && extent.complete && page * this.pageSize >= extent.count) continue;
      void this.#read(page);
    }
  }

  /** The library changed: every page is stale. Items stay shown until re-read. */
  invalidate(): void {
    this.#generation += 1;
    this.#settled.clear();
  }

  /** Invalidates once per library revision. */
  sync(revision: number): void {
    if (this.#revision !== null && this.#revision !== revision) this.invalidate();
    this.#revision = revision;
  }

  async #read(page: number): Promise<void> {
    const generation = this.#generation;
    this.#inflight.set(page, generation);
    let items: T[];
    try {
      items = await this.#fetch(page * this.pageSize, this.pageSize);
    } catch (e) {
      if (this.#inflight.get(page) === generation) this.#inflight.delete(page);
      // Do not ask again until the library changes.
      if (generation === this.#generation) this.#settled.add(page);
      this.#onError(e);
      return;
    }
    if (this.#inflight.get(page) === generation) this.#inflight.delete(page);
    const pages = new Map(this.#pages);
    pages.set(page, items);
    if (items.length < this.pageSize) {
      // The list ends in this page: anything cached past it is gone.
      for (const p of pages.keys()) if (p > page) pages.delete(p);
    }
    this.#pages = pages;
    if (generation === this.#generation) this.#settled.add(page);
    if (page === 0) this.loaded = true;
  }
}
