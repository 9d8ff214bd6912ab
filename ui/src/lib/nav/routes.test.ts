import { describe, expect, it } from 'vitest';
import type { AlbumSummary } from '$lib/backend';
import { HISTORY_LIMIT, HOME, navigate, routeKey, sectionOf, yearRangeLabel, type NavAction, type Route } from './routes';

const ALBUM: AlbumSummary = {
  id: 7,
  title: 'Tidal Rooms',
  albumArtist: 'The Lanterns',
  albumArtistId: 3,
  year: 2019,
  trackCount: 3,
  durationMs: 60_000,
  coverTrackId: 4,
};

const artists: Route = { view: 'artists' };
const album: Route = { view: 'album', album: ALBUM };

function check(history: Route[], action: NavAction, expected: Route[]): void {
  expect(navigate(history, action)).toEqual(expected);
}

describe('navigate', () => {
  it('pushes a new page and ignores the page already shown', () => {
    check([HOME], { type: 'go', route: artists }, [HOME, artists]);
    check([HOME, artists], { type: 'go', route: { view: 'artists' } }, [HOME, artists]);
    check([HOME, album], { type: 'go', route: { view: 'album', album: { ...ALBUM } } }, [HOME, album]);
  });

  it('goes back one page, but never past the first', () => {
    check([HOME, artists, album], { type: 'back' }, [HOME, artists]);
    check([HOME], { type: 'back' }, [HOME]);
  });

  it('pushes one results page for a search and replaces it while typing', () => {
    check([HOME], { type: 'search', query: 'd' }, [HOME, { view: 'search', query: 'd' }]);
    check([HOME, { view: 'search', query: 'd' }], { type: 'search', query: 'dri' }, [
      HOME,
      { view: 'search', query: 'dri' },
    ]);
  });

  it('leaves the results page when the box is emptied', () => {
    check([HOME, album, { view: 'search', query: 'x' }], { type: 'search', query: '  ' }, [HOME, album]);
    check([{ view: 'search', query: 'x' }], { type: 'search', query: '' }, [HOME]);
    check([HOME, album], { type: 'search', query: '' }, [HOME, album]);
  });

  it('keeps a results page in the history when a result is opened', () => {
    const results: Route = { view: 'search', query: 'tid' };
    const after = navigate([HOME, results], { type: 'go', route: album });
    expect(after).toEqual([HOME, results, album]);
    expect(navigate(after, { type: 'back' })).toEqual([HOME, results]);
  });

  it('forgets the oldest pages beyond the limit', () => {
    let history: Route[] = [HOME];
    for (let i = 0; i < HISTORY_LIMIT + 20; i++) {
      history = navigate(history, { type: 'go', route: { view: 'genre', genre: `g${i}` } });
    }
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history[history.length - 1]).toEqual({ view: 'genre', genre: `g${HISTORY_LIMIT + 19}` });
  });

  it('does not change the history it was given', () => {
    const history: Route[] = [HOME, artists];
    navigate(history, { type: 'back' });
    navigate(history, { type: 'go', route: album });
    expect(history).toEqual([HOME, artists]);
  });
});

describe('sectionOf', () => {
  it('puts detail pages under their sidebar entry', () => {
    const cases: [Route, string | null][] = [
      [HOME, 'songs'],
      [album, 'albums'],
      [{ view: 'artist', artist: { id: 1, name: 'A' } }, 'artists'],
      [{ view: 'genre', genre: 'Jazz' }, 'genres'],
      [{ view: 'yearRange', range: { from: 1990, to: 1999 } }, 'years'],
      [{ view: 'problems' }, 'problems'],
      [{ view: 'search', query: 'a' }, null],
    ];
    for (const [route, section] of cases) expect(sectionOf(route), routeKey(route)).toBe(section);
  });
});

describe('yearRangeLabel', () => {
  it('names a year, a decade, or a span', () => {
    expect(yearRangeLabel({ from: 1994, to: 1994 })).toBe('1994');
    expect(yearRangeLabel({ from: 1990, to: 1999 })).toBe('1990s');
    expect(yearRangeLabel({ from: 1993, to: 1996 })).toBe('1993–1996');
  });
});
