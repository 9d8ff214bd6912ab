import { describe, expect, it } from 'vitest';
import { Nav, type SearchField } from './nav.svelte';

function field(): SearchField & { calls: string[] } {
  const f = {
    query: '',
    calls: [] as string[],
    setQuery(text: string) {
      f.query = text;
      f.calls.push(`set:${text}`);
    },
    clearQuery() {
      f.query = '';
      f.calls.push('clear');
    },
  };
  return f;
}

describe('Nav', () => {
  it('starts on the songs and cannot go back', () => {
    const nav = new Nav(field());
    expect(nav.current).toEqual({ view: 'songs' });
    expect(nav.section).toBe('songs');
    expect(nav.canGoBack).toBe(false);
  });

  it('goes to pages and back again', () => {
    const nav = new Nav(field());
    nav.go({ view: 'artists' });
    nav.go({ view: 'artist', artist: { id: 2, name: 'Mira' } });
    expect(nav.section).toBe('artists');
    nav.back();
    expect(nav.current).toEqual({ view: 'artists' });
    nav.back();
    expect(nav.canGoBack).toBe(false);
  });

  it('keeps the search box in step with the results page', () => {
    const f = field();
    const nav = new Nav(f);
    nav.go({ view: 'albums' });
    nav.search('ti');
    nav.search('tid');
    expect(nav.current).toEqual({ view: 'search', query: 'tid' });
    expect(nav.section).toBeNull();

    // Opening a result leaves the search and empties the box…
    nav.go({ view: 'genre', genre: 'Jazz' });
    expect(f.query).toBe('');
    // …and going back brings the results and their query back.
    nav.back();
    expect(nav.current).toEqual({ view: 'search', query: 'tid' });
    expect(f.query).toBe('tid');

    // Emptying the box returns to the page the search started from.
    nav.search('');
    expect(nav.current).toEqual({ view: 'albums' });
    expect(f.query).toBe('');
  });

  it('remembers the scroll position of each page in the history', () => {
    const nav = new Nav(field());
    nav.go({ view: 'albums' });
    const albums = nav.current;
    nav.saveScroll(albums, 4200);
    nav.go({ view: 'genre', genre: 'Jazz' });
    expect(nav.savedScroll(nav.current)).toBe(0);
    nav.back();
    expect(nav.savedScroll(nav.current)).toBe(4200);
    // A fresh visit to the same kind of page starts at the top.
    nav.go({ view: 'songs' });
    nav.go({ view: 'albums' });
    expect(nav.savedScroll(nav.current)).toBe(0);
  });
});
