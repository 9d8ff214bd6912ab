import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LibraryStatus, SearchResults, Track } from '$lib/backend';
import { Library, type LibrarySource } from './library.svelte';

function track(id: number, title: string): Track {
  return {
    id,
    uid: `uid-${id}`,
    path: `/music/${title}.flac`,
    title,
    artist: 'Artist',
    album: 'Album',
    albumArtist: 'Artist',
    trackNumber: id,
    discNumber: 1,
    year: 2001,
    genre: null,
    durationMs: 200_000,
    format: 'FLAC',
    source: 'local',
  };
}

const ALL = [track(1, 'Alpha'), track(2, 'Beta'), track(3, 'Gamma')];
const STATUS: LibraryStatus = { trackCount: 3, folders: ['/music'], demoFolder: null };

/** A search whose answers the test releases by hand, in any order. */
function controlledSearch() {
  const pending = new Map<string, (tracks: Track[]) => void>();
  const calls: string[] = [];
  const search = (query: string): Promise<Track[]> => {
    calls.push(query);
    return new Promise((resolve) => pending.set(query, resolve));
  };
  const answer = async (query: string, tracks: Track[]): Promise<void> => {
    const resolve = pending.get(query);
    if (!resolve) throw new Error(`no search pending for ${query}`);
    pending.delete(query);
    resolve(tracks);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { search, answer, calls };
}

/** A grouped answer with these tracks (all of the matches unless `overrides` says so). */
function answer(tracks: Track[], overrides: Partial<SearchResults> = {}): SearchResults {
  return {
    artists: [],
    artistMatches: 0,
    moreArtists: false,
    albums: [],
    albumMatches: 0,
    moreAlbums: false,
    tracks,
    trackMatches: tracks.length,
    trackMatchesCapped: false,
    ...overrides,
  };
}

type TrackSearch = (query: string) => Promise<Track[]>;

/** A grouped search whose track group comes from `search`. */
function grouped(search: TrackSearch): LibrarySource['searchAll'] {
  return async (query) => answer(await search(query));
}

function makeLibrary(search: TrackSearch, onError = vi.fn()) {
  const source: LibrarySource = {
    libraryStatus: () => Promise.resolve(STATUS),
    listTracks: () => Promise.resolve(ALL),
    searchAll: grouped(search),
  };
  return new Library(source, { debounceMs: 120, onError });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Library search', () => {
  it('shows every track while the query is empty', async () => {
    const lib = makeLibrary(() => Promise.reject(new Error('not called')));
    await lib.refresh();
    expect(lib.visible).toEqual(ALL);
    expect(lib.status).toEqual(STATUS);
    expect(lib.shownQuery).toBe('');
  });

  it('debounces keystrokes into one search for the final text', async () => {
    const s = controlledSearch();
    const lib = makeLibrary(s.search);
    await lib.refresh();
    lib.setQuery('a');
    await vi.advanceTimersByTimeAsync(50);
    lib.setQuery('al');
    await vi.advanceTimersByTimeAsync(50);
    lib.setQuery('alp ');
    expect(s.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(120);
    expect(s.calls).toEqual(['alp']);
    expect(lib.searching).toBe(true);
    await s.answer('alp', [ALL[0]!]);
    expect(lib.visible.map((t) => t.title)).toEqual(['Alpha']);
    expect(lib.shownQuery).toBe('alp');
    expect(lib.searching).toBe(false);
  });

  it('drops an older answer that arrives after a newer one', async () => {
    const s = controlledSearch();
    const lib = makeLibrary(s.search);
    await lib.refresh();
    lib.setQuery('a');
    await vi.advanceTimersByTimeAsync(120);
    lib.setQuery('be');
    await vi.advanceTimersByTimeAsync(120);
    expect(s.calls).toEqual(['a', 'be']);

    await s.answer('be', [ALL[1]!]);
    expect(lib.visible.map((t) => t.title)).toEqual(['Beta']);
    await s.answer('a', ALL);
    expect(lib.visible.map((t) => t.title)).toEqual(['Beta']);
    expect(lib.shownQuery).toBe('be');
  });

  it('drops an older answer that arrives before the newer one', async () => {
    const s = controlledSearch();
    const lib = makeLibrary(s.search);
    await lib.refresh();
    lib.setQuery('a');
    await vi.advanceTimersByTimeAsync(120);
    lib.setQuery('be');
    await vi.advanceTimersByTimeAsync(120);

    await s.answer('a', ALL);
    expect(lib.visible).toEqual(ALL);
    expect(lib.shownQuery).toBe('');
    expect(lib.searching).toBe(true);
    await s.answer('be', [ALL[1]!]);
    expect(lib.visible.map((t) => t.title)).toEqual(['Beta']);
  });

  it('ignores a search still in flight when the query is cleared', async () => {
    const s = controlledSearch();
    const lib = makeLibrary(s.search);
    await lib.refresh();
    lib.setQuery('gam');
    await vi.advanceTimersByTimeAsync(120);
    lib.clearQuery();
    expect(lib.visible).toEqual(ALL);
    await s.answer('gam', [ALL[2]!]);
    expect(lib.visible).toEqual(ALL);
    expect(lib.searching).toBe(false);
  });

  it('shows an empty answer as no matches for that query', async () => {
    const s = controlledSearch();
    const lib = makeLibrary(s.search);
    await lib.refresh();
    lib.setQuery('zzz');
    await vi.advanceTimersByTimeAsync(120);
    await s.answer('zzz', []);
    expect(lib.visible).toEqual([]);
    expect(lib.shownQuery).toBe('zzz');
  });

  it('reports a failed search and keeps the previous list', async () => {
    const onError = vi.fn();
    const lib = makeLibrary(() => Promise.reject(new Error('index locked')), onError);
    await lib.refresh();
    lib.setQuery('a');
    await vi.advanceTimersByTimeAsync(120);
    expect(onError).toHaveBeenCalledOnce();
    expect(lib.visible).toEqual(ALL);
    expect(lib.searching).toBe(false);
  });

  it('does not report the failure of a search that was already superseded', async () => {
    const onError = vi.fn();
    let reject: (e: Error) => void = () => {};
    const lib = makeLibrary(
      (q) => (q === 'a' ? new Promise((_, r) => (reject = r)) : Promise.resolve([ALL[1]!])),
      onError,
    );
    await lib.refresh();
    lib.setQuery('a');
    await vi.advanceTimersByTimeAsync(120);
    lib.setQuery('b');
    await vi.advanceTimersByTimeAsync(120);
    reject(new Error('late failure'));
    await vi.advanceTimersByTimeAsync(0);
    expect(onError).not.toHaveBeenCalled();
    expect(lib.visible.map((t) => t.title)).toEqual(['Beta']);
  });

  it('re-runs the current search after a refresh', async () => {
    const search = vi.fn((q: string) => Promise.resolve(q === 'al' ? [ALL[0]!] : []));
    const lib = makeLibrary(search);
    await lib.refresh();
    lib.setQuery('al');
    await vi.advanceTimersByTimeAsync(120);
    expect(search).toHaveBeenCalledTimes(1);
    await lib.refresh();
    expect(search).toHaveBeenCalledTimes(2);
    expect(lib.visible.map((t) => t.title)).toEqual(['Alpha']);
  });
});

describe('Library refresh', () => {
  it('merges refresh requests that arrive together', async () => {
    const listTracks = vi.fn(() => Promise.resolve(ALL));
    const lib = new Library(
      { libraryStatus: () => Promise.resolve(STATUS), listTracks, searchAll: grouped(() => Promise.resolve([])) },
      { refreshDelayMs: 250 },
    );
    lib.refreshSoon();
    await vi.advanceTimersByTimeAsync(100);
    lib.refreshSoon();
    await vi.advanceTimersByTimeAsync(250);
    expect(listTracks).toHaveBeenCalledOnce();
    expect(lib.tracks).toEqual(ALL);
    expect(lib.totalDurationMs).toBe(600_000);
  });

  it('marks the library loaded even when loading fails', async () => {
    const onError = vi.fn();
    const lib = new Library(
      {
        libraryStatus: () => Promise.resolve(STATUS),
        listTracks: () => Promise.reject(new Error('db')),
        searchAll: grouped(() => Promise.resolve([])),
      },
      { onError },
    );
    await lib.refresh();
    expect(lib.loaded).toBe(true);
    expect(lib.tracks).toEqual([]);
    expect(onError).toHaveBeenCalledOnce();
  });

  it('shows the tracks when only the status fails', async () => {
    const onError = vi.fn();
    const lib = new Library(
      {
        libraryStatus: () => Promise.reject(new Error('db')),
        listTracks: () => Promise.resolve(ALL),
        searchAll: grouped(() => Promise.resolve([])),
      },
      { onError },
    );
    await lib.refresh();
    expect(lib.status).toBeNull();
    expect(lib.tracks).toEqual(ALL);
    expect(onError).toHaveBeenCalledOnce();
  });
});

describe('Library revisions', () => {
  it('reloads tracks only when the library changed since they were loaded', async () => {
    const listTracks = vi.fn(() => Promise.resolve(ALL));
    const libraryStatus = vi.fn(() => Promise.resolve(STATUS));
    const lib = new Library({ libraryStatus, listTracks, searchAll: grouped(() => Promise.resolve([])) });
    await lib.refresh();
    await lib.ensureTracks();
    expect(listTracks).toHaveBeenCalledOnce();

    lib.changed();
    expect(lib.revision).toBe(1);
    expect(libraryStatus).toHaveBeenCalledTimes(2);
    await lib.ensureTracks();
    await lib.ensureTracks();
    expect(listTracks).toHaveBeenCalledTimes(2);
  });

  it('queues one reload behind a slow one instead of overlapping', async () => {
    const answers: ((tracks: Track[]) => void)[] = [];
    const listTracks = vi.fn(() => new Promise<Track[]>((resolve) => answers.push(resolve)));
    const lib = new Library({
      libraryStatus: () => Promise.resolve(STATUS),
      listTracks,
      searchAll: grouped(() => Promise.resolve([])),
    });
    const first = lib.ensureTracks();
    lib.changed();
    void lib.ensureTracks();
    lib.changed();
    void lib.ensureTracks();
    expect(listTracks).toHaveBeenCalledOnce();
    answers[0]?.([ALL[0]!]);
    await vi.advanceTimersByTimeAsync(0);
    expect(listTracks).toHaveBeenCalledTimes(2);
    answers[1]?.(ALL);
    await first;
    expect(lib.tracks).toEqual(ALL);
    await lib.ensureTracks();
    expect(listTracks).toHaveBeenCalledTimes(2);
  });

  it('re-runs the search shown when the library changed', async () => {
    const search = vi.fn((q: string) => Promise.resolve(q === 'al' ? [ALL[0]!] : []));
    const lib = makeLibrary(search);
    await lib.refresh();
    lib.setQuery('al');
    await vi.advanceTimersByTimeAsync(120);
    await lib.ensureSearch();
    expect(search).toHaveBeenCalledOnce();
    lib.changed();
    await lib.ensureSearch();
    expect(search).toHaveBeenCalledTimes(2);
  });
});

describe('Library grouped search', () => {
  it('shows the artists and albums of the latest answer', async () => {
    const results = answer([ALL[0]!], {
      artists: [{ id: 1, name: 'Aurora Fields', albumCount: 1, trackCount: 3 }],
      artistMatches: 1,
    });
    const lib = new Library(
      {
        libraryStatus: () => Promise.resolve(STATUS),
        listTracks: () => Promise.resolve(ALL),
        searchAll: () => Promise.resolve(results),
      },
      { debounceMs: 120 },
    );
    await lib.refresh();
    expect(lib.results).toBeNull();
    lib.setQuery('aur');
    await vi.advanceTimersByTimeAsync(120);
    expect(lib.results).toEqual(results);
    expect(lib.matchingArtists.map((a) => a.name)).toEqual(['Aurora Fields']);
    expect(lib.visible).toEqual([ALL[0]]);
    lib.clearQuery();
    expect(lib.matchingArtists).toEqual([]);
  });

  it('goes back to a query whose answer is current without searching again', async () => {
    const search = vi.fn((q: string) => Promise.resolve(q === 'al' ? [ALL[0]!] : []));
    const lib = makeLibrary(search);
    await lib.refresh();
    lib.setQuery('al');
    await vi.advanceTimersByTimeAsync(120);
    lib.setQuery('al ');
    await vi.advanceTimersByTimeAsync(120);
    expect(search).toHaveBeenCalledOnce();
    expect(lib.searching).toBe(false);
    expect(lib.shownQuery).toBe('al');
  });
});

describe('Library sort', () => {
  it('sorts the songs by a column without touching the library order', async () => {
    const lib = makeLibrary(() => Promise.resolve([]));
    await lib.refresh();
    expect(lib.sorted).toEqual(ALL);
    lib.sort = { key: 'title', direction: 'descending' };
    expect(lib.sorted.map((t) => t.title)).toEqual(['Gamma', 'Beta', 'Alpha']);
    expect(lib.tracks).toEqual(ALL);
  });
});

describe('Library selection', () => {
  it('follows the selected track through a search, by id', async () => {
    const lib = makeLibrary((q) => Promise.resolve(q === 'ga' ? [ALL[2]!] : []));
    await lib.refresh();
    lib.selectedId = 3;
    expect(lib.selectedIndex).toBe(2);
    lib.setQuery('ga');
    await vi.advanceTimersByTimeAsync(120);
    expect(lib.selectedIndex).toBe(0);
    expect(lib.selected?.title).toBe('Gamma');
    lib.setQuery('zz');
    await vi.advanceTimersByTimeAsync(120);
    expect(lib.selectedIndex).toBe(-1);
    expect(lib.selected).toBeNull();
  });
});

describe('Library "Show all"', () => {
  it('asks again for every matching track, and keeps asking so for the same query', async () => {
    const asked: [string, boolean][] = [];
    const source: LibrarySource = {
      libraryStatus: () => Promise.resolve(STATUS),
      listTracks: () => Promise.resolve(ALL),
      searchAll: (query, allTracks) => {
        asked.push([query, allTracks]);
        return Promise.resolve(answer(allTracks ? ALL : ALL.slice(0, 1), { trackMatches: 3 }));
      },
    };
    const lib = new Library(source, { debounceMs: 120 });
    await lib.refresh();
    lib.setQuery('a');
    await vi.advanceTimersByTimeAsync(120);
    expect(lib.visible.map((t) => t.title)).toEqual(['Alpha']);
    expect(lib.showingAllTracks).toBe(false);

    await lib.showAllTracks();
    expect(lib.visible.map((t) => t.title)).toEqual(['Alpha', 'Beta', 'Gamma']);
    expect(lib.showingAllTracks).toBe(true);

    // A scan changed the library: the same query is asked again, still for everything.
    lib.changed();
    await lib.ensureSearch();
    expect(asked.at(-1)).toEqual(['a', true]);

    // A new query starts again from the best page.
    lib.setQuery('ab');
    await vi.advanceTimersByTimeAsync(120);
    expect(asked.at(-1)).toEqual(['ab', false]);
    expect(lib.showingAllTracks).toBe(false);
  });
});
