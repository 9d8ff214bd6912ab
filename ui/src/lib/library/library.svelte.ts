// The library as the UI shows it: every track, the search query, and the
// grouped results that answer it. Searches are debounced, and only the latest
// query's answer is ever shown, however the responses interleave.
//
// `revision` counts changes to the library's contents (a scan indexed more
// files); pages compare it with the revision they loaded to know they are stale.

import type { AlbumSummary, ArtistSummary, LibraryStatus, SearchResults, Track } from '$lib/backend';
import { sortTracks, type TrackSort } from './sort';

/** What the library needs from the backend; tests pass fakes. */
export interface LibrarySource {
  libraryStatus(): Promise<LibraryStatus>;
  listTracks(): Promise<Track[]>;
  /** Grouped results; the best page of tracks, or with `allTracks` as many as are sent. */
  searchAll(query: string, allTracks: boolean): Promise<SearchResults>;
}

export interface LibraryOptions {
  /** Quiet time after the last keystroke before a search is sent. */
  debounceMs?: number;
  /** Quiet time that merges several refresh requests into one reload. */
  refreshDelayMs?: number;
  onError?: (error: unknown) => void;
}

/** A queued reload of the tracks waits this many times as long as the last listing took. */
const RELOAD_COOLDOWN_FACTOR = 4;

interface Matches {
  query: string;
  results: SearchResults;
  /** True when these results hold every track the backend sends, not the first page. */
  allTracks: boolean;
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
  /** Bumped each time the library's contents may have changed. */
  revision = $state(0);
  /** The Songs list's column sort; `null` keeps the library's order. */
  sort = $state.raw<TrackSort | null>(null);

  #matches = $state.raw<Matches | null>(null);
  /** Bumped by every search and every query change; a response with an older ticket is dropped. */
  #ticket = 0;
  /** The revision the tracks and the search results were loaded at. */
  #tracksRevision = -1;
  #searchRevision = -1;
  #loadingTracks: Promise<void> | null = null;
  #reloadTracks = false;
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

  /** The query the shown results answer; empty when there are none. */
  readonly shownQuery: string = $derived(this.query.trim() === '' ? '' : (this.#matches?.query ?? ''));

  /** The latest search's answer, or `null` while the query is empty or the first answer is on its way. */
  readonly results: SearchResults | null = $derived(this.shownQuery === '' ? null : (this.#matches?.results ?? null));

  /** The tracks to show: the whole library, or the latest search's matching tracks. */
  readonly visible: Track[] = $derived(this.shownQuery === '' ? this.tracks : (this.results?.tracks ?? []));
  readonly matchingArtists: ArtistSummary[] = $derived(this.results?.artists ?? []);
  readonly matchingAlbums: AlbumSummary[] = $derived(this.results?.albums ?? []);
  /** True when the shown results are every matching track the backend sends ("Show all"). */
  readonly showingAllTracks: boolean = $derived(this.shownQuery !== '' && (this.#matches?.allTracks ?? false));

  /** Every track in the Songs list's sort order. */
  readonly sorted: readonly Track[] = $derived(sortTracks(this.tracks, this.sort));

  /** The row the user last selected, by track id so it survives a new search or sort. */
  selectedId = $state<number | null>(null);

  /** Position of the selected track in `visible`, or -1. */
  readonly selectedIndex: number = $derived(
    this.selectedId === null ? -1 : this.visible.findIndex((t) => t.id === this.selectedId),
  );

  readonly selected: Track | null = $derived(this.visible[this.selectedIndex] ?? null);

  /** The tracks of the list the main area shows, whichever page it is. */
  shown = $state.raw<readonly Track[]>([]);

  /** What the play button plays when nothing is loaded: the selected track if shown, else the first. */
  readonly playFallback: Track | null = $derived(
    this.shown.find((t) => t.id === this.selectedId) ?? this.shown[0] ?? null,
  );

  readonly totalDurationMs: number = $derived(this.tracks.reduce((sum, t) => sum + t.durationMs, 0));

  /** Loads status and tracks now, then re-runs the current search against them. */
  async refresh(): Promise<void> {
    clearTimeout(this.#refreshTimer);
    await Promise.all([this.refreshStatus(), this.#loadTracks()]);
    const q = this.query.trim();
    if (q !== '') await this.#search(q, this.#matches?.query === q && this.#matches.allTracks);
  }

  /** Reloads the folders and counts the sidebar shows. */
  async refreshStatus(): Promise<void> {
    try {
      this.status = await this.#source.libraryStatus();
    } catch (e) {
      this.#onError(e);
    }
  }

  /** Asks for a refresh soon; requests that arrive together cause one reload. */
  refreshSoon(): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => void this.refresh(), this.#refreshDelayMs);
  }

  /**
   * The library's contents changed: bumps the revision so the page shown
   * reloads what it shows, and refreshes the counts. Tracks and search results
   * reload when shown (`ensureTracks`, `ensureSearch`).
   */
  changed(): void {
    this.revision += 1;
    void this.refreshStatus();
  }

  /** Reloads the tracks if the library changed since they were loaded. */
  ensureTracks(): Promise<void> {
    if (this.#tracksRevision === this.revision) return this.#loadingTracks ?? Promise.resolve();
    return this.#loadTracks();
  }

  /** Re-runs the current search if the library changed since it ran. */
  ensureSearch(): Promise<void> {
    const q = this.query.trim();
    if (q === '' || this.#searchRevision === this.revision) return Promise.resolve();
    return this.#search(q, this.#matches?.query === q && this.#matches.allTracks);
  }

  /** Re-runs the shown search asking for every matching track, not only the best page. */
  showAllTracks(): Promise<void> {
    const q = this.shownQuery;
    if (q === '' || this.showingAllTracks) return Promise.resolve();
    return this.#search(q, true);
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
    if (q === this.#matches?.query && this.#searchRevision === this.revision) {
      // Back to a query whose answer is still current (a trailing space, or going back to it).
      this.#ticket += 1;
      this.searching = false;
      return;
    }
    this.searching = true;
    this.#debounce = setTimeout(() => void this.#search(q), this.#debounceMs);
  }

  clearQuery(): void {
    this.setQuery('');
  }

  /** Loads the tracks; a request while loading queues one more load rather than overlapping. */
  #loadTracks(): Promise<void> {
    if (this.#loadingTracks) {
      this.#reloadTracks = true;
      return this.#loadingTracks;
    }
    this.#loadingTracks = (async () => {
      for (;;) {
        this.#reloadTracks = false;
        const revision = this.revision;
        const started = Date.now();
        try {
          this.tracks = await this.#source.listTracks();
          this.#tracksRevision = revision;
        } catch (e) {
          this.#onError(e);
        }
        if (!this.#reloadTracks) break;
        // A large library takes a while to list; while a scan keeps changing it,
        // spend most of the time not listing it.
        const cooldown = (Date.now() - started) * RELOAD_COOLDOWN_FACTOR;
        if (cooldown > 0) await new Promise((resolve) => setTimeout(resolve, cooldown));
      }
      this.loaded = true;
      this.#loadingTracks = null;
    })();
    return this.#loadingTracks;
  }

  async #search(q: string, allTracks = false): Promise<void> {
    const ticket = ++this.#ticket;
    const revision = this.revision;
    this.searching = true;
    try {
      const results = await this.#source.searchAll(q, allTracks);
      if (ticket !== this.#ticket) return;
      this.#matches = { query: q, results, allTracks };
      this.#searchRevision = revision;
    } catch (e) {
      if (ticket !== this.#ticket) return;
      this.#onError(e);
    }
    this.searching = false;
  }
}
