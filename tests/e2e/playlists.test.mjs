// End-to-end: Emergency Essentials is in the sidebar from the first launch; E adds the
// focused song to it; a new playlist is made, renamed in place, filled from the details
// panel's "Add to playlist…" and a song's right-click menu, and reordered with Alt+↓ held
// and Alt+↑; after a restart all of it is still there (and quitting with Ctrl+Q saved
// their read cache); Ctrl+click and drag move two songs, Shift+click and Delete remove
// three; it is exported as M3U8 and XSPF and the M3U8 imported back; deleting it and
// pressing Ctrl+Z brings it back. A playlist whose file is damaged while the app is closed
// is moved aside and named in a notice. The app gets its own data folder through a
// launcher script. Run via tests/e2e/run.sh.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

    // 3. Three songs added: two from the details panel's "Add to playlist", the third from
    // its row's right-click menu.
    await session.execute(`[...document.querySelectorAll('nav[aria-label="Library"] button')].find((b) => b.innerText.includes('Songs')).click();`);
    for (let i = 0; i < 3; i++) {
      await tools.waitFor('the song list', 10, async () => {
        const n = await session.execute(`return document.querySelectorAll('[data-track-id]').length`);
        return { ok: n >= 3, seen: n };
      });
      if (i === 2) {
        await session.execute(`
          const row = document.querySelectorAll('[data-track-id]')[${i}];
          const r = row.getBoundingClientRect();
          row.dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, cancelable: true, button: 2, clientX: r.left + 200, clientY: r.top + 10 }));`);
        await tools.waitFor(`the menu of "${titles[i]}" with Night drive in it`, 10, async () => {
          const items = await session.execute(
            `return [...document.querySelectorAll('[role="menu"] [role="menuitem"]')].map((b) => b.innerText.trim())`,
          );
          const focused = await session.execute(`return document.activeElement?.innerText?.trim() ?? null`);
          return { ok: items.includes('Night drive') && items[0] === 'Play next' && focused === 'Play next', seen: { items, focused } };
        });
        await session.execute(`return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`);
        await tools.screenshot('e2e-track-menu.png');
        await session.execute(
          `[...document.querySelectorAll('[role="menu"] [role="menuitem"]')].find((b) => b.innerText.trim() === 'Night drive').click();`,
        );
        await tools.waitFor('the menu closed', 5, async () => {
          const n = await session.execute(`return document.querySelectorAll('[role="menu"]').length`);
          return { ok: n === 0, seen: n };
        });
      } else {
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
      }
      await tools.waitFor(`Night drive holding ${i + 1}`, 10, async () => {
        const items = await sidebar();
        return { ok: items.includes(`Night drive ${i + 1}`), seen: items };
      });
    }

    // 4. Reordered with Alt+↓ held (two presses before the first move comes back): the
    // first song moves to the end; then Alt+↑ brings it back above the last.
    await openPlaylist('Night drive');
    await tools.waitFor('the three songs in the order added', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify(titles), seen: e };
    });
    const altArrow = (index, key, times) =>
      session.execute(
        `const r = document.querySelector('[data-entry-index="${index}"]'); r.click(); r.focus(); for (let i = 0; i < ${times}; i++) r.dispatchEvent(new KeyboardEvent('keydown', { key: '${key}', altKey: true, bubbles: true }));`,
      );
    await altArrow(0, 'ArrowDown', 2);
    await tools.waitFor('the first song moved down two', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify([titles[1], titles[2], titles[0]]), seen: e };
    });
    await altArrow(2, 'ArrowUp', 1);
    const reordered = [titles[1], titles[0], titles[2]];
    await tools.waitFor('that song moved up one', 10, async () => {
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
    // ended only once the app has quit.) One more playlist is made first, and one byte of
    // its document file is damaged while the app is closed: it is moved aside and named
    // in a notice, and the rest load.
    const brokenId = await session.invoke('create_playlist', { name: 'Broken one' });
    await session.execute(
      `setTimeout(() => document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'q', ctrlKey: true, bubbles: true })), 100); return true;`,
    );
    const cacheDir = join(work, 'data', 'playlists', 'cache');
    const cached = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => f.endsWith('.json')) : []);
    const deadline = Date.now() + 10_000;
    while (cached().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await session.delete().catch(() => {});
    session = null;
    assert.equal(cached().length, 3, `the read cache saved on quit: ${JSON.stringify(cached())}`);
    const docDir = join(work, 'data', 'playlists', 'repo', brokenId.slice(0, 2), brokenId.slice(2));
    const docFiles = (dir) =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? docFiles(join(dir, e.name)) : [join(dir, e.name)]));
    const victim = docFiles(docDir).sort().at(-1);
    const bytes = readFileSync(victim);
    bytes[bytes.length >> 1] ^= 0x5a;
    writeFileSync(victim, bytes);
    await start();
    await tools.waitFor('both playlists after a restart, the damaged one moved aside', 30, async () => {
      const items = await sidebar();
      return {
        ok: items[0] === 'Emergency Essentials 2' && items.includes('Night drive 3') && !items.some((x) => x.startsWith('Broken one')),
        seen: items,
      };
    });
    await tools.waitFor('a notice naming the damaged playlist', 10, async () => {
      const text = await session.execute(`return document.body.innerText`);
      const notice = text.match(/The playlist “Broken one” could not be read[^\n]*/)?.[0] ?? null;
      return { ok: notice !== null && notice.includes('quarantine'), seen: notice };
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

    // 7. Select with Ctrl+click, drag the two to the end; select a range with Shift+click
    // and press Delete. (The drag is the page's own drag events, as WebKitGTK's WebDriver
    // has no HTML drag and drop: the rows' handlers run as they do for a mouse.)
    const before = await entries();
    assert.equal(before.length, 3 + all);
    const clickRow = (index, extra = '') =>
      session.execute(
        `document.querySelector('[data-entry-index="${index}"]').dispatchEvent(new MouseEvent('click', { bubbles: true ${extra} }));`,
      );
    const selectedRows = () =>
      session.execute(
        `return [...document.querySelectorAll('[data-entry-index][aria-selected="true"]')].map((r) => Number(r.dataset.entryIndex));`,
      );
    await clickRow(0);
    await clickRow(2, ', ctrlKey: true');
    await tools.waitFor('rows 0 and 2 selected', 5, async () => {
      const rows = await selectedRows();
      return { ok: JSON.stringify(rows) === '[0,2]', seen: rows };
    });
    await session.execute(`
      const rows = document.querySelectorAll('[data-entry-index]');
      const from = document.querySelector('[data-entry-index="2"]');
      const last = rows[rows.length - 1];
      const data = new DataTransfer();
      from.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: data }));
      const r = last.getBoundingClientRect();
      last.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: data, clientY: r.bottom - 2 }));
      last.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data, clientY: r.bottom - 2 }));
      from.dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: data }));`);
    const dragged = [...before.filter((_, i) => i !== 0 && i !== 2), before[0], before[2]];
    await tools.waitFor('the two selected songs dragged to the end, in their order', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify(dragged), seen: e };
    });
    await clickRow(0);
    await clickRow(2, ', shiftKey: true');
    await tools.waitFor('rows 0 to 2 selected', 5, async () => {
      const rows = await selectedRows();
      return { ok: JSON.stringify(rows) === '[0,1,2]', seen: rows };
    });
    await session.execute(
      `const r = document.querySelector('[data-entry-index="0"]'); r.focus(); r.dispatchEvent(new KeyboardEvent('keydown', { key: 'Delete', bubbles: true }));`,
    );
    const kept = dragged.slice(3);
    await tools.waitFor('the three selected songs removed', 10, async () => {
      const e = await entries();
      return { ok: JSON.stringify(e) === JSON.stringify(kept), seen: e };
    });

    // 8. Export M3U8 and XSPF from the playlist's buttons, then import the M3U8 from the
    // sidebar's "Import…": a new playlist with the same songs. The GTK file dialogs are
    // answered as a user would, by typing the path (xdotool on the test's display).
    const xdo = (...args) => execFileSync('xdotool', args, { encoding: 'utf8' }).trim();
    // The visible window with this title, or '' (xdotool exits 1 when it finds none).
    const dialogWindow = (title) => {
      try {
        return xdo('search', '--onlyvisible', '--name', `^${title}$`).split('\n')[0];
      } catch {
        return '';
      }
    };
    const answerFileDialog = async (title, path) => {
      const win = await tools.waitFor(`the "${title}" dialog`, 15, async () => {
        const found = dialogWindow(title);
        return { ok: found !== '', seen: found };
      });
      xdo('windowfocus', '--sync', win.seen);
      // Ctrl+L opens the location field in both dialogs (the save dialog's name field
      // takes a whole path too).
      xdo('key', '--clearmodifiers', 'ctrl+l');
      xdo('key', '--clearmodifiers', 'ctrl+a');
      xdo('type', '--delay', '10', path);
      // The location field may take the first Return to accept its completion: press it
      // until the dialog has gone.
      for (let i = 0; i < 5 && dialogWindow(title) !== ''; i++) {
        xdo('key', 'Return');
        await new Promise((r) => setTimeout(r, 700));
      }
      assert.equal(dialogWindow(title), '', `the "${title}" dialog took the path`);
    };
    const exported = join(work, 'night drive.m3u8');
    for (const [file, button] of [[exported, 'Export M3U8'], [join(work, 'night drive.xspf'), 'Export XSPF']]) {
      await session.execute(`[...document.querySelectorAll('.playlist .actions button')].find((b) => b.innerText === ${JSON.stringify(button)}).click();`);
      await answerFileDialog('Export playlist', file);
      await tools.waitFor(`${button}: the file written and the notice shown`, 10, async () => {
        const notice = await session.execute(`return document.body.innerText.match(/Exported \\d+ songs?\\./)?.[0] ?? null`);
        return { ok: existsSync(file) && notice === `Exported ${kept.length} songs.`, seen: { written: existsSync(file), notice } };
      });
    }
    const m3u = readFileSync(exported, 'utf8');
    assert.match(m3u, /^#EXTM3U/);
    assert.equal((m3u.match(/^#EXTINF:/gm) ?? []).length, kept.length);
    assert.equal((readFileSync(join(work, 'night drive.xspf'), 'utf8').match(/<track>/g) ?? []).length, kept.length);
    // The same file under another name (its #PLAYLIST line names the import).
    const renamed = join(work, 'road trip.m3u8');
    writeFileSync(renamed, m3u.replace(/^#PLAYLIST:.*$/m, '#PLAYLIST:Road trip'));
    await session.execute(`[...document.querySelectorAll('button')].find((b) => b.innerText === 'Import…').click();`);
    await answerFileDialog('Import a playlist', renamed);
    await tools.waitFor('the imported playlist opened, its songs in order', 10, async () => {
      const h = await session.execute(`return document.querySelector('.playlist h1')?.innerText ?? null`);
      const e = await entries();
      return { ok: h === 'Road trip' && JSON.stringify(e) === JSON.stringify(kept), seen: { h, e } };
    });
    await tools.waitFor('"Road trip" in the sidebar', 10, async () => {
      const items = await sidebar();
      return { ok: items.includes(`Road trip ${kept.length}`), seen: items };
    });
    await openPlaylist('Night drive');

    // 9. Delete, then Ctrl+Z.
    await session.execute(`[...document.querySelectorAll('.playlist .actions button')].find((b) => b.innerText === 'Delete').click();`);
    await tools.waitFor('Night drive gone from the sidebar', 10, async () => {
      const items = await sidebar();
      return { ok: !items.some((x) => x.startsWith('Night drive')), seen: items };
    });
    await session.execute(`document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'z', ctrlKey: true, bubbles: true }));`);
    await tools.waitFor('Night drive back, whole', 10, async () => {
      const items = await sidebar();
      return { ok: items.includes(`Night drive ${kept.length}`), seen: items };
    });
    stamp('deleted and restored');
  } finally {
    if (session) await session.delete().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
