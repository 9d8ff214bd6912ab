// Where the user is in the app, and how going somewhere or back changes the
// history. Pure data and a reducer, so the rules are tested without a DOM.

import type { AlbumSummary, ArtistSummary } from '$lib/backend';

/** An artist as a link knows it: always the id and name, the counts when the link had them. */
export interface ArtistRef {
  id: number;
  name: string;
  summary?: ArtistSummary;
}

/** A run of release years: one year (`from === to`) or a decade. */
export interface YearRange {
  from: number;
  to: number;
}

export type Route =
  | { view: 'songs' }
  | { view: 'artists' }
  | { view: 'albums' }
  | { view: 'genres' }
  | { view: 'years' }
  | { view: 'recent' }
  | { view: 'rewind' }
  | { view: 'problems' }
  | { view: 'settings' }
  | { view: 'playlist'; id: string }
  | { view: 'nowPlaying' }
  | { view: 'search'; query: string }
  | { view: 'artist'; artist: ArtistRef }
  | { view: 'album'; album: AlbumSummary }
  | { view: 'genre'; genre: string }
  | { view: 'yearRange'; range: YearRange };

/** The sidebar's entries, each the top of a part of the app. */
export type Section =
  | 'songs'
  | 'artists'
  | 'albums'
  | 'genres'
  | 'years'
  | 'recent'
  | 'rewind'
  | 'problems'
  | 'settings';

export const HOME: Route = { view: 'songs' };

/** How many entries the history keeps; older ones are forgotten. */
export const HISTORY_LIMIT = 100;

/** The sidebar entry a route belongs to; `null` for search results. */
export function sectionOf(route: Route): Section | null {
  switch (route.view) {
    case 'artist':
      return 'artists';
    case 'album':
      return 'albums';
    case 'genre':
      return 'genres';
    case 'yearRange':
      return 'years';
    case 'search':
    case 'nowPlaying':
    case 'playlist':
      return null;
    default:
      return route.view;
  }
}

/** A string naming the page a route shows: equal keys mean the same page. */
export function routeKey(route: Route): string {
  switch (route.view) {
    case 'search':
      return `search:${route.query}`;
    case 'artist':
      return `artist:${route.artist.id}`;
    case 'album':
      return `album:${route.album.id}`;
    case 'genre':
      return `genre:${route.genre}`;
    case 'yearRange':
      return `years:${route.range.from}-${route.range.to}`;
    case 'playlist':
      return `playlist:${route.id}`;
    default:
      return route.view;
  }
}

/** "1994", or "1990s" for a whole decade. */
export function yearRangeLabel(range: YearRange): string {
  if (range.from === range.to) return String(range.from);
  if (range.from % 10 === 0 && range.to === range.from + 9) return `${range.from}s`;
  return `${range.from}–${range.to}`;
}

export type NavAction =
  /** Open a page; opening the page already shown does nothing. */
  | { type: 'go'; route: Route }
  /** Return to the previous page, if there is one. */
  | { type: 'back' }
  /**
   * The search box now holds `query`. Typing replaces the results page being
   * shown rather than stacking one per keystroke; emptying the box leaves it.
   */
  | { type: 'search'; query: string };

/** The history after `action`; the last entry is the page shown. Never empty. */
export function navigate(history: readonly Route[], action: NavAction): Route[] {
  const current = history[history.length - 1] ?? HOME;
  switch (action.type) {
    case 'go':
      if (routeKey(action.route) === routeKey(current)) return [...history];
      return capped([...history, action.route]);
    case 'back':
      return history.length > 1 ? history.slice(0, -1) : [...history];
    case 'search': {
      const typed = action.query.trim() !== '';
      if (current.view === 'search') {
        if (typed) return [...history.slice(0, -1), { view: 'search', query: action.query }];
        return history.length > 1 ? history.slice(0, -1) : [HOME];
      }
      return typed ? capped([...history, { view: 'search', query: action.query }]) : [...history];
    }
  }
}

function capped(history: Route[]): Route[] {
  return history.length > HISTORY_LIMIT ? history.slice(history.length - HISTORY_LIMIT) : history;
}
