// End-to-end: in the real app (launched by WebKitWebDriver under Xvfb), search results are
// grouped by kind, the Albums / Artists / Genres pages lead to the right tracks, and a
// damaged file of the scanned folder is listed under Problems with a readable reason.
// Run through tests/e2e/run.sh, which builds the demo folder (assets/demo + broken.flac),
// starts Xvfb, PulseAudio and WebKitWebDriver, and sets the E2E_* variables below.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { demoManifest, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';

const { webdriver: WEBDRIVER, binary: BINARY, artifacts: ARTIFACTS } = runner;

const manifest = demoManifest();
/** Titles of an album's tracks in disc / track order, from the manifest. */
const albumTitles = (album) =>
  manifest
    .filter((x) => x.album === album)
    .sort((a, b) => a.disc_number - b.disc_number || a.track_number - b.track_number)
    .map((x) => x.title);
const albumNames = [...new Set(manifest.map((x) => x.album))];

const SELECTORS = {
  search: 'input[aria-label="Search"]',
  clearSearch: 'button[aria-label="Clear search"]',
  back: 'button[aria-label="Back"]',
  navItems: 'nav[aria-label="Library"] button',
  rowTitle: '[data-track-id] .track-title',
  heading: 'main h1, h1',
  albumTiles: '[role="list"][aria-label="Albums"] button',
  artistRows: '[role="list"][aria-label="Artists"] button',
  artistAlbums: (name) => `ul[aria-label="Albums by ${name}"] button`,
  genreTiles: 'ul[aria-label="Genres"] button',
  problemRows: 'ul[aria-label="Files"] li',
};

const POLL_MS = 200;
const options = runnerOptions(110_000);

test('search groups, album / artist / genre pages and the Problems view in the real app', options, async (t) => {
  assert.deepEqual(albumTitles('Tidal Rooms'), ['Driftwood', 'Undertow', 'Saltwater'], 'the demo manifest changed');

  const t0 = Date.now();
  const stamp = (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

  const session = await Session.create(WEBDRIVER, BINARY).catch((e) => {
    throw new Error(`WebKitWebDriver could not launch ${BINARY}: ${e.message}`);
  });
  stamp(`session ${session.id} started`);

  const { describePage, waitFor, screenshot } = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-browse-failure.png', pollMs: POLL_MS });

  /** Elements matching `css` with their innerText (see README: WebDriver's own text is "" here). */
  async function textsOf(css) {
    const els = await session.findAll(css);
    const texts = await Promise.all(els.map((e) => session.innerText(e)));
    return els.map((el, i) => ({ el, text: texts[i] }));
  }

  /** The lines of an element's text (an avatar's initials, a name, a count…), trimmed. */
  const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

  /** Clicks the element matching `css` one of whose lines of text is `label`. */
  async function clickByText(what, css, label, seconds = 15) {
    const found = await waitFor(`${what} "${label}" (${css})`, seconds, async () => {
      const items = await textsOf(css);
      const hit = items.find((x) => lines(x.text).includes(label));
      return { ok: Boolean(hit), seen: items.map((x) => x.text), el: hit?.el };
    });
    await session.click(found.el);
  }

  const titles = async () => (await textsOf(SELECTORS.rowTitle)).map((x) => x.text);

  /** The page's heading (h1) once it reads `title`. */
  const waitHeading = (title) =>
    waitFor(`the page heading "${title}"`, 15, async () => {
      const hs = (await textsOf(SELECTORS.heading)).map((x) => x.text);
      return { ok: hs.includes(title), seen: hs };
    });

  try {
    // 0. The library is there (scanned now on an empty data folder, or by an earlier test).
    await waitFor(`all ${manifest.length} demo tracks to be listed`, 60, async () => {
      const shown = await titles();
      const missing = manifest.map((x) => x.title).filter((x) => !shown.includes(x));
      return { ok: missing.length === 0, seen: { rows: shown, missing } };
    });
    stamp('library listed');

    // 1. Search "lant": The Lanterns under Artists, their album Tidal Rooms under Albums, and
    // its three songs.
    const search = await waitFor(`the search box (${SELECTORS.search})`, 10, async () => {
      const el = await session.find(SELECTORS.search);
      return { ok: el !== null, seen: el, el };
    });
    await session.click(search.el);
    await session.type(search.el, 'lant');
    const tidal = albumTitles('Tidal Rooms');
    const groups = await waitFor('an "Artists" group with "The Lanterns" and the songs of Tidal Rooms', 15, async () => {
      // Each results group is a <section> labelled by its <h2>; read heading and item names.
      const g = await session.execute(`
        return [...document.querySelectorAll('section[aria-labelledby]')].map((s) => {
          const h = document.getElementById(s.getAttribute('aria-labelledby'));
          return {
            heading: h ? h.innerText.trim() : null,
            items: [...s.querySelectorAll('button')].map((b) => (b.querySelector('.name, .title') ?? b).innerText.trim()),
          };
        });`);
      const artists = g.find((x) => x.heading === 'Artists');
      const albums = g.find((x) => x.heading === 'Albums');
      const headings = await session.execute(
        "return [...document.querySelectorAll('h2')].map((h) => h.innerText.trim())",
      );
      const songs = await titles();
      return {
        ok:
          Boolean(artists?.items.includes('The Lanterns')) &&
          Boolean(albums?.items.some((x) => x.includes('Tidal Rooms'))) &&
          headings.includes('Songs') &&
          songs.length === tidal.length &&
          tidal.every((x) => songs.includes(x)),
        seen: { groups: g, headings, songs },
      };
    });
    t.diagnostic(`search groups: ${JSON.stringify(groups.seen)}`);
    stamp('search "lant" grouped');

    // 2. Browse. Clear the search, then Albums → Tidal Rooms.
    await session.click(await session.find(SELECTORS.clearSearch));
    await waitFor('the search box to be empty', 5, async () => {
      const value = await session.property(search.el, 'value');
      return { ok: value === '', seen: value };
    });
    await clickByText('the sidebar item', SELECTORS.navItems, 'Albums');
    await waitFor(`the album tiles ${albumNames.join(', ')}`, 15, async () => {
      const tiles = (await textsOf(SELECTORS.albumTiles)).map((x) => lines(x.text));
      return {
        ok: tiles.length === albumNames.length && albumNames.every((a) => tiles.some((l) => l.includes(a))),
        seen: tiles,
      };
    });
    stamp('albums listed');
    await clickByText('the album tile', SELECTORS.albumTiles, 'Tidal Rooms');
    await waitHeading('Tidal Rooms');
    await waitFor(`the album page to list ${tidal.join(', ')} in order`, 15, async () => {
      const shown = await titles();
      return { ok: JSON.stringify(shown) === JSON.stringify(tidal), seen: shown };
    });
    await screenshot('e2e-album.png');
    stamp('album page lists its tracks in order');

    await session.click(await session.find(SELECTORS.back));
    await waitHeading('Albums');

    // Artists → Aurora Fields → the album Northern Lights.
    await clickByText('the sidebar item', SELECTORS.navItems, 'Artists');
    await clickByText('the artist', SELECTORS.artistRows, 'Aurora Fields');
    await waitHeading('Aurora Fields');
    await waitFor('the artist page to show the album "Northern Lights"', 15, async () => {
      const tiles = (await textsOf(SELECTORS.artistAlbums('Aurora Fields'))).map((x) => lines(x.text));
      return { ok: tiles.some((l) => l.includes('Northern Lights')), seen: tiles };
    });
    stamp('artist page shows its album');

    // Genres → Jazz → Minuit and Velours.
    const jazz = manifest.filter((x) => x.genre === 'Jazz').map((x) => x.title);
    assert.deepEqual([...jazz].sort(), ['Minuit', 'Velours'], 'the demo manifest changed');
    await clickByText('the sidebar item', SELECTORS.navItems, 'Genres');
    await clickByText('the genre tile', SELECTORS.genreTiles, 'Jazz');
    await waitHeading('Jazz');
    await waitFor(`the Jazz page to list ${jazz.join(', ')}`, 15, async () => {
      const shown = await titles();
      return { ok: shown.length === jazz.length && jazz.every((x) => shown.includes(x)), seen: shown };
    });
    stamp('genre page lists its tracks');

    // 3. Problems: the damaged broken.flac run.sh put in the demo folder, with a reason.
    await clickByText('the sidebar item', SELECTORS.navItems, 'Problems');
    await waitHeading('Problems');
    const problem = await waitFor('a Problems row for "broken.flac", kind "Corrupt", with a reason', 15, async () => {
      const rows = await session.execute(`
        return [...document.querySelectorAll(${JSON.stringify(SELECTORS.problemRows)})].map((li) => ({
          name: li.querySelector('.name')?.innerText.trim() ?? null,
          reason: li.querySelector('.reason')?.innerText.trim() ?? null,
          kind: li.querySelector('.kind')?.innerText.trim() ?? null,
        }));`);
      const row = rows.find((r) => r.name === 'broken.flac');
      // Readable: words, not just a code or an empty string.
      const readable = Boolean(row?.reason && row.reason.length >= 10 && /[a-z]{3,}/i.test(row.reason));
      return { ok: Boolean(row) && row.kind === 'Corrupt' && readable, seen: rows, row };
    });
    t.diagnostic(`problem: ${JSON.stringify(problem.row)}`);
    await screenshot('e2e-problems.png');
    stamp('Problems lists broken.flac');
  } finally {
    await session.delete().catch((e) => t.diagnostic(`ending the session failed: ${e.message}`));
  }
  stamp('session ended');
});
