// End-to-end: a large first scan in the real app shows its progress (files done of files
// found, both rising: the folder is walked while files are read), can be cancelled from
// the progress card, and keeps what it read: the card says how far it got and the Songs
// count shows the tracks indexed so far.
// The library is 80,000 hard links to the demo files, so it costs no disk and a scan
// lasts long enough to be cancelled; the app gets its own empty data folder through a
// launcher script, so the other tests' library is untouched. Run through
// tests/e2e/run.sh (see browse.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { appLauncher, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';

const { repo: REPO, webdriver: WEBDRIVER, binary: BINARY, artifacts: ARTIFACTS } = runner;

/** Copies of the demo library's audio files: 8 per copy. */
const COPIES = 10_000;
const AUDIO = /\.(flac|mp3|ogg|m4a|wav)$/;
const POLL_MS = 100;
const options = runnerOptions(120_000);

/** Every file under `dir`, relative to it. */
function files(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, base) : [relative(base, path)];
  });
}

/** "1,234 of 40,000 files" → [1234, 40000]. */
function counts(text) {
  const m = /([\d,]+) of ([\d,]+) files?/.exec(text);
  return m ? [Number(m[1].replaceAll(',', '')), Number(m[2].replaceAll(',', ''))] : null;
}

test('a large scan shows rising progress, cancels, and keeps what it read', options, async (t) => {
  const t0 = Date.now();
  const stamp = (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  const work = mkdtempSync(join(tmpdir(), 'offbeat-e2e-scan-'));
  let session = null;
  try {
    const demo = join(REPO, 'assets/demo');
    const audio = files(demo).filter((f) => AUDIO.test(f));
    const music = join(work, 'music');
    for (let i = 0; i < COPIES; i++) {
      for (const f of audio) {
        const to = join(music, `Copy ${i}`, f);
        mkdirSync(join(to, '..'), { recursive: true });
        linkSync(join(demo, f), to);
      }
    }
    const total = COPIES * audio.length;
    stamp(`${total} files linked`);

    // The app with an empty data folder, whose first-run scan is of `music`.
    const launcher = appLauncher(work, BINARY, music);
    session = await Session.create(WEBDRIVER, launcher).catch((e) => {
      throw new Error(`WebKitWebDriver could not launch ${launcher}: ${e.message}`);
    });
    const { waitFor, screenshot } = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-scan-failure.png', pollMs: POLL_MS });
    const cardText = () =>
      session.execute(`const c = document.querySelector('section[aria-label="Scan progress"]'); return c ? c.innerText : null;`);

    // 1. The card shows files done of files found (found, too, grows until the walk is
    // done), and the count rises.
    const first = await waitFor(`the scan progress card to count some of the ${total} files`, 30, async () => {
      const text = await cardText();
      const c = text && counts(text);
      return { ok: Boolean(c && c[0] > 0 && c[0] < c[1] && c[1] <= total), seen: text, c };
    });
    stamp(`progress: ${first.c[0]} of ${first.c[1]}`);
    await screenshot('e2e-scan-progress.png');
    const later = await waitFor('the count of files done to rise', 15, async () => {
      const text = await cardText();
      const c = text && counts(text);
      return { ok: Boolean(c && c[0] > first.c[0] && c[0] < c[1] && c[1] >= first.c[1]), seen: text, c };
    });
    stamp(`progress: ${later.c[0]} of ${later.c[1]}`);
    assert.match(await cardText(), /files\/s|\/s/, 'the card shows the scan rate');

    // 2. Cancel: the card says the scan stopped and how far it got.
    const cancel = await session.find('section[aria-label="Scan progress"] button');
    assert.ok(cancel, 'the progress card has a Cancel button');
    await session.click(cancel);
    // The backend's scanStopped event ends it at once (the UI's fallback waits 8 s).
    const stopped = await waitFor('the "Scan stopped" note within 5 s of Cancel', 5, async () => {
      const text = await session.execute(
        `const n = [...document.querySelectorAll('[role="status"]')].find((e) => e.innerText.includes('Scan stopped')); return n ? n.innerText : null;`,
      );
      const c = text && counts(text);
      return { ok: Boolean(c && c[0] >= later.c[0] && c[0] < total), seen: text, c };
    });
    stamp(`stopped: ${stopped.c[0]} of ${stopped.c[1]}`);

    // 3. What was read stays: the Songs count in the sidebar comes to the files read.
    const songs = await waitFor(`the Songs count to come to the ${stopped.c[0]} files read`, 20, async () => {
      const text = await session.execute(
        `const b = [...document.querySelectorAll('nav[aria-label="Library"] button')].find((e) => e.innerText.includes('Songs')); return b ? b.innerText : null;`,
      );
      const n = Number((/([\d,]+)/.exec(text ?? '')?.[1] ?? '0').replaceAll(',', ''));
      return { ok: n === stopped.c[0], seen: text, n };
    });
    stamp(`songs listed: ${songs.n}`);
    await screenshot('e2e-scan-stopped.png');

    // 4. A search matching more songs than a keystroke sends says so, and "Show all"
    // brings the rest: "aur" matches the 3 Aurora Fields tracks of every copy read.
    const box = await session.find('input[aria-label="Search"]');
    await session.click(box);
    await session.type(box, 'aur');
    const mainText = () => session.execute('const m = document.querySelector("main"); return m ? m.innerText : "";');
    const partial = await waitFor('"The best 200 songs of …" and a Show all button', 15, async () => {
      const text = await mainText();
      return { ok: /The best 200 songs of [\d,]+\+? matches/.test(text) && /Show all/.test(text), seen: text.slice(0, 400) };
    });
    stamp(`partial: ${/The best[^\n]*/.exec(partial.seen)?.[0]}`);
    await screenshot('e2e-search-partial.png');
    await session.execute(
      `[...document.querySelectorAll('button')].find((b) => b.innerText.trim() === 'Show all').click();`,
    );
    // The songs "aur" matches are the Aurora Fields tracks read, counted here from the
    // whole song list. (Which files a cancelled scan wrote is not exactly the first ones
    // found: tag readers work in parallel and finish out of order. About three per copy.)
    const listed = await session.invoke('list_tracks');
    const expected = listed.filter((t) => t.artist === 'Aurora Fields').length;
    assert.equal(listed.length, stopped.c[0]);
    assert.ok(Math.abs(expected - (3 * stopped.c[0]) / audio.length) <= 24, `${expected} Aurora Fields tracks of ${stopped.c[0]} songs`);
    const all = await waitFor(`all ${expected} matching songs, counted exactly in the heading`, 15, async () => {
      const text = await mainText();
      const n = Number((/([\d,]+) songs/.exec(text)?.[1] ?? '0').replaceAll(',', ''));
      return { ok: n === expected && !/The best 200/.test(text), seen: text.slice(0, 300), n };
    });
    stamp(`show all: ${all.n} songs`);
  } finally {
    if (session) await session.delete().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
