// End-to-end: Emergency Essentials is in the sidebar from the first launch; E adds the
// focused song to it; a new playlist is made, renamed in place, filled from the details
// panel's "Add to playlist…", and reordered with Alt+↓; after a restart all of it is still
// there (and quitting with Ctrl+Q saved their read cache); deleting it and pressing Ctrl+Z brings it back. The app gets its own data folder
// through a launcher script. Run via tests/e2e/run.sh.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { appLauncher, demoManifest, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';

const { repo: REPO, webdriver: WEBDRIVER, binary: BINARY, artifacts: ARTIFACTS } = runner;

const options = runnerOptions(180_000);

test('Essentials from the first launch; a playlist made, filled, reordered, kept, deleted and restored', options, async (t) => {
  const t0 = Date.now();
  const stamp = (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  const work = mkdtempSync(join(tmpdir(), 'offbeat-e2e-playlists-'));
  const launcher = appLauncher(work, BINARY, join(REPO, 'assets/demo'));
  let session = null;
  let tools = null;
  const start = async () => {
    session = await Session.create(WEBDRIVER, launcher);
    tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-playlists-failure.png', pollMs: 150 });
  };
  const sidebar = () =>
    session.execute(
      `return [...document.querySelectorAll('nav[aria-label="Playlists"] button')].map((b) => b.innerText.replace(/\\s+/g, ' ').trim());`,
    );
  const entries = () =>
    session.execute(`return [...document.querySelectorAll('[data-entry-id] .title')].map((e) => e.innerText);`);
  const openPlaylist = async (name) => {
    await session.execute(
      `[...document.querySelectorAll('nav[aria-label="Playlists"] button')].find((b) => b.innerText.includes(${JSON.stringify(name)})).click();`,
    );
    await tools.waitFor(`the page of "${name}"`, 10, async () => {
      const h = await session.execute(`return document.querySelector('.playlist h1')?.innerText ?? null`);
      return { ok: h === name, seen: h };
    });
  };
  const keyOnRow = (index, key, extra = '') =>
    session.execute(
      `const r = document.querySelectorAll('[data-track-id]')[${index}]; r.focus(); r.dispatchEvent(new KeyboardEvent('keydown', { key: ${JSON.stringify(key)}, bubbles: true ${extra} }));`,
    );
  try {
    await start();
    await tools.waitFor('the demo library listed', 60, async () => {
      const n = await session.execute(`return document.querySelectorAll('[data-track-id]').length`);
      return { ok: n >= 3, seen: n };
    });
    const listed = await tools.waitFor('Emergency Essentials first in the sidebar', 10, async () => {
      const items = await sidebar();
      return { ok: items[0]?.startsWith('Emergency Essentials'), seen: items };
    });
    stamp(`sidebar: ${JSON.stringify(listed.seen)}`);
    const titles = await session.execute(
      `return [...document.querySelectorAll('[data-track-id] .track-title')].slice(0, 3).map((e) => e.innerText)`,
    );

    // 1. E on a focused song: into Essentials (its count in the sidebar goes up).
    await keyOnRow(0, 'e');
    await keyOnRow(1, 'E');
    await tools.waitFor('Essentials holding two songs', 10, async () => {
      const items = await sidebar();
      return { ok: items[0] === 'Emergency Essentials 2', seen: items };
    });

    // 2. A new playlist, renamed in place.
    await session.click(await session.find('button[aria-label="New playlist"]'));
    await tools.waitFor('the new playlist page', 10, async () => {
      const h = await session.execute(`return document.querySelector('.playlist h1')?.innerText ?? null`);
      return { ok: h === 'New playlist', seen: h };
    });
    await session.execute(`[...document.querySelectorAll('.playlist .actions button')].find((b) => b.innerText === 'Rename').click();`);
    await tools.waitFor('the name field', 5, async () => {
      const n = await session.execute(`return document.querySelectorAll('input[aria-label="Playlist name"]').length`);
      return { ok: n === 1, seen: n };
    });
    await session.execute(
      `const i = document.querySelector('input[aria-label="Playlist name"]'); i.value = 'Night drive'; i.dispatchEvent(new Event('input', { bubbles: true })); i.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));`,
    );
    await tools.waitFor('"Night drive" in the sidebar', 10, async () => {
      const items = await sidebar();
      return { ok: items.some((x) => x.startsWith('Night drive')), seen: items };
    });

    // 3. Three songs added from the details panel's "Add to playlist".
    await session.execute(`[...document.querySelectorAll('nav[aria-label="Library"] button')].find((b) => b.innerText.includes('Songs')).click();`);
    for (let i = 0; i < 3; i++) {
      await tools.waitFor('the song list', 10, async () => {
        const n = await session.execute(`return document.querySelectorAll('[data-track-id]').length`);
        return { ok: n >= 3, seen: n };
      });
      await keyOnRow(i, 'i');
      await tools.waitFor(`the details of "${titles[i]}" with a playlist to add to`, 10, async () => {
        const options = await session.execute(
          `return [...document.querySelectorAll('select[aria-label="Add this song to a playlist"] option')].map((o) => o.innerText)`,
        );
        const panel = await session.execute(`return document.querySelector('aside[aria-label="Track details"]')?.innerText ?? ''`);
        return { ok: options.includes('Night drive') && panel.includes(titles[i]), seen: { options, panel: panel.slice(0, 80) } };
      });
      await session.execute(
        `const s = document.querySelector('select[aria-label="Add this song to a playlist"]'); s.value = [...s.options].find((o) => o.innerText === 'Night drive').value; s.dispatchEvent(new Event('change', { bubbles: true }));`,
      );
      await tools.waitFor(`Night drive holding ${i + 1}`, 10, async () => {
        const items = await sidebar();
        return { ok: items.includes(`Night drive ${i + 1}`), seen: items };
      });
    }

    // 4. Reordered with Alt+↓: the first song moves below the second.
    await openPlaylist('Night drive');
    await tools.waitFor('the three songs in the order added', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify(titles), seen: e };
    });
    await session.execute(
      `const r = document.querySelector('[data-entry-index="0"]'); r.click(); r.focus(); r.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', altKey: true, bubbles: true }));`,
    );
    const reordered = [titles[1], titles[0], titles[2]];
    await tools.waitFor('the first song moved down one', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify(reordered), seen: e };
    });
    const meta = await session.execute(`return document.querySelector('[data-testid="playlist-meta"]').innerText`);
    assert.match(meta, /^3 songs · /);
    await session.execute(`return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`);
    await tools.screenshot('e2e-playlists.png');

    // 5. A restart keeps all of it. Ctrl+Q quits the app on its own, saving the playlists'
    // read cache, which the next launch shows them from. (The key is pressed after this
    // call returns, since the window closing mid-call fails the call; the session is
    // ended only once the app has quit.)
    await session.execute(
      `setTimeout(() => document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'q', ctrlKey: true, bubbles: true })), 100); return true;`,
    );
    const cacheDir = join(work, 'data', 'playlists', 'cache');
    const cached = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => f.endsWith('.json')) : []);
    const deadline = Date.now() + 10_000;
    while (cached().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await session.delete().catch(() => {});
    session = null;
    assert.equal(cached().length, 2, `the read cache saved on quit: ${JSON.stringify(cached())}`);
    await start();
    await tools.waitFor('both playlists after a restart', 30, async () => {
      const items = await sidebar();
      return { ok: items[0] === 'Emergency Essentials 2' && items.includes('Night drive 3'), seen: items };
    });
    await openPlaylist('Night drive');
    await tools.waitFor('the order kept', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify(reordered), seen: e };
    });

    // 6. A whole list at once: every song of the Songs page, from "Add to playlist…".
    await session.execute(`[...document.querySelectorAll('nav[aria-label="Library"] button')].find((b) => b.innerText.includes('Songs')).click();`);
    await tools.waitFor('the Songs page with its "Add to playlist…"', 10, async () => {
      const n = await session.execute(`return document.querySelectorAll('select[aria-label="Add these songs to a playlist"] option').length`);
      return { ok: n >= 3, seen: n };
    });
    // Every song of the demo library.
    const all = demoManifest().length;
    await session.execute(
      `const s = document.querySelector('select[aria-label="Add these songs to a playlist"]'); s.value = [...s.options].find((o) => o.innerText === 'Night drive').value; s.dispatchEvent(new Event('change', { bubbles: true }));`,
    );
    await tools.waitFor(`Night drive holding ${3 + all}`, 10, async () => {
      const items = await sidebar();
      return { ok: items.includes(`Night drive ${3 + all}`), seen: items };
    });
    await openPlaylist('Night drive');

    // 7. Delete, then Ctrl+Z.
    await session.execute(`[...document.querySelectorAll('.playlist .actions button')].find((b) => b.innerText === 'Delete').click();`);
    await tools.waitFor('Night drive gone from the sidebar', 10, async () => {
      const items = await sidebar();
      return { ok: !items.some((x) => x.startsWith('Night drive')), seen: items };
    });
    await session.execute(`document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'z', ctrlKey: true, bubbles: true }));`);
    await tools.waitFor('Night drive back, whole', 10, async () => {
      const items = await sidebar();
      return { ok: items.includes(`Night drive ${3 + all}`), seen: items };
    });
    stamp('deleted and restored');
  } finally {
    if (session) await session.delete().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
