// The library as the UI shows it: every track, the search query, and the list
// that answers it. Searches are debounced, and only the latest query's answer
// is ever shown, however the responses interleave.

import type { LibraryStatus, Track } from '$lib/backend';

/** What the library needs from the backend; tests pass fakes. */
export interface LibrarySource {
  libraryStatus(): Promise<LibraryStatus>;
  listTracks(): Promise<Track[]>;
  search(query: string): Promise<Track[]>;
}

export interface LibraryOptions {
  /** Quiet time after the last keystroke before a search is sent. */
  debounceMs?: number;
  /** Quiet time that merges several refresh requests into one reload. */
  refreshDelayMs?: number;
  onError?: (error: unknown) => void;
}

interface Matches {
  query: string;
  tracks: Track[];
}

export class Library {
  /** Folders and counts; `null` until the first load finishes. */
  status = $state.raw<LibraryStatus | null>(null);
  /** Every track, in the backend's order. */
  tracks = $state.raw<Track[]>([]);
  /** True once the first load has finished, successfully or not. */
  loaded = $state(false);
  /** The search box's text, exactly as typed. */
  query = $state('');
  /** True while a search for the current query is on its way. */
  searching = $state(false);

  #matches = $state.raw<Matches | null>(null);
  /** Bumped by every search and every query change; a response with an older ticket is dropped. */
  #ticket = 0;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #source: LibrarySource;
  readonly #debounceMs: number;
  readonly #refreshDelayMs: number;
  readonly #onError: (error: unknown) => void;

  constructor(source: LibrarySource, options: LibraryOptions = {}) {
    this.#source = source;
    this.#debounceMs = options.debounceMs ?? 120;
    this.#refreshDelayMs = options.refreshDelayMs ?? 250;
    this.#onError = options.onError ?? (() => {});
  }

  /** The query the shown list answers; empty when it shows the whole library. */
  readonly shownQuery: string = $derived(this.query.trim() === '' ? '' : (this.#matches?.query ?? ''));

  /** The tracks to show: the whole library, or the latest search's answer. */
  readonly visible: Track[] = $derived(this.shownQuery === '' ? this.tracks : (this.#matches?.tracks ?? []));

  /** The row the user last selected, by track id so it survives a new search. */
  selectedId = $state<number | null>(null);

  /** Position of the selected track in `visible`, or -1. */
  readonly selectedIndex: number = $derived(
    this.selectedId === null ? -1 : this.visible.findIndex((t) => t.id === this.selectedId),
  );

  readonly selected: Track | null = $derived(this.visible[this.selectedIndex] ?? null);

  readonly totalDurationMs: number = $derived(this.tracks.reduce((sum, t) => sum + t.durationMs, 0));

  /** Loads status and tracks now, then re-runs the current search against them. */
  async refresh(): Promise<void> {
    clearTimeout(this.#refreshTimer);
    try {
      const [status, tracks] = await Promise.all([this.#source.libraryStatus(), this.#source.listTracks()]);
      this.status = status;
      this.tracks = tracks;
    } catch (e) {
      this.#onError(e);
    } finally {
      this.loaded = true;
    }
    const q = this.query.trim();
    if (q !== '') await this.#search(q);
  }

  /** Asks for a refresh soon; requests that arrive together cause one reload. */
  refreshSoon(): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => void this.refresh(), this.#refreshDelayMs);
  }

  /** Sets the query; the search runs once typing pauses. An empty query shows everything at once. */
  setQuery(text: string): void {
    this.query = text;
    clearTimeout(this.#debounce);
    const q = text.trim();
    if (q === '') {
      this.#ticket += 1;
      this.#matches = null;
      this.searching = false;
      return;
    }
    this.searching = true;
    this.#debounce = setTimeout(() => void this.#search(q), this.#debounceMs);
  }

  clearQuery(): void {
    this.setQuery('');
  }

  async #search(q: string): Promise<void> {
    const ticket = ++this.#ticket;
    this.searching = true;
    try {
      const tracks = await this.#source.search(q);
      if (ticket !== this.#ticket) return;
      this.#matches = { query: q, tracks };
    } catch (e) {
      if (ticket !== this.#ticket) return;
      this.#onError(e);
    }
    this.searching = false;
  }
}
