// End-to-end: Rewind on listening history imported from the hand-made Spotify and
// ListenBrainz fixtures (through the app's own `offbeat import-history`), with one view
// made to fail (OFFBEAT_REWIND_FAULT=wrapUp). The failing card says so and offers a retry;
// the other views show; playback keeps playing and search keeps answering meanwhile. The
// figures on an artist page come from the same history, and a PNG drawn in the page is
// saved through the backend. Run via tests/e2e/run.sh.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { appLauncher, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';

const { repo: REPO, webdriver: WEBDRIVER, binary: BINARY, artifacts: ARTIFACTS } = runner;

const clickButton = (session, scope, text) =>
  session.execute(
    `const b = [...document.querySelectorAll(arguments[0])].find((b) => b.innerText.trim() === arguments[1]);
     if (!b) return false; b.click(); return true;`,
    [scope, text],
  );

test('Rewind shows imported history; a failing view is isolated while playback and search carry on', runnerOptions(150_000), async () => {
  const work = mkdtempSync(join(tmpdir(), 'offbeat-e2e-rewind-'));
  const data = join(work, 'data');
  mkdirSync(data, { recursive: true });
  const demo = join(REPO, 'assets/demo');
  const fixtures = join(REPO, 'tests/fixtures/history');
  // The library and the history, made with the app's own command line before it opens.
  const cli = (...args) => execFileSync(BINARY, args, { env: { ...process.env, OFFBEAT_DATA_DIR: data }, encoding: 'utf8' });
  cli('scan', demo);
  const imported = cli(
    'import-history',
    '--json',
    join(fixtures, 'Streaming_History_Audio_2019-2024_0.json'),
    join(fixtures, 'listens.jsonl'),
    join(fixtures, 'listenbrainz_export.json'),
  )
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    imported.map((r) => [r.format, r.imported, r.skipped]),
    [
      ['Spotify', 5, 4],
      ['ListenBrainz', 3, 3],
      ['ListenBrainz', 2, 1],
    ],
  );

  let session = null;
  try {
    session = await Session.create(WEBDRIVER, appLauncher(work, BINARY, demo, { OFFBEAT_REWIND_FAULT: 'wrapUp' }));
    const tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-rewind-failure.png', pollMs: 150 });
    const text = (css) => session.execute(`return document.querySelector(arguments[0])?.innerText ?? ''`, [css]);

    await tools.waitFor('the library', 60, async () => {
      const n = await session.execute(`return document.querySelectorAll('[data-track-id]').length`);
      return { ok: n >= 8, seen: n };
    });
    // Playback first: it must carry on through everything below.
    await session.execute(`document.querySelector('button[aria-label="Play Aurora"]')?.click()`);
    await tools.waitFor('the player to be playing', 15, async () => {
      const status = await session.execute(`return document.querySelector('[data-status]')?.dataset.status ?? ''`);
      return { ok: status === 'playing', seen: status };
    });

    assert.ok(await clickButton(session, 'nav[aria-label="Library"] button', 'Rewind'), 'the sidebar has Rewind');
    await tools.waitFor('the wrap-up card to fail with a retry, and the other views to show', 20, async () => {
      const wrap = await session.execute(
        `const card = [...document.querySelectorAll('section.card')].find((c) => c.querySelector('h2')?.innerText === 'Wrap-up');
         return card ? { alert: card.querySelector('[role="alert"]')?.innerText ?? '', retry: !!card.querySelector('[role="alert"] button') } : null;`,
      );
      const firsts = await session.execute(
        `return [...document.querySelectorAll('section.card')].find((c) => c.querySelector('h2')?.innerText === 'First listens')?.innerText ?? ''`,
      );
      return {
        ok: Boolean(wrap?.alert.includes('failed on purpose') && wrap.retry && firsts.includes('Aurora Fields') && firsts.includes('Motörhead')),
        seen: { wrap, firsts: firsts.slice(0, 200) },
      };
    });
    await tools.screenshot('e2e-rewind.png');
    await session.execute(
      `[...document.querySelectorAll('section.card')].find((c) => c.querySelector('h2')?.innerText === 'Wrap-up').scrollIntoView({ block: 'center' })`,
    );
    await tools.screenshot('e2e-rewind-failed-view.png');

    // Retry runs the view again: it fails again (the fault stays), and says so again.
    await session.execute(
      `[...document.querySelectorAll('section.card')].find((c) => c.querySelector('h2')?.innerText === 'Wrap-up').querySelector('[role="alert"] button').click()`,
    );
    await tools.waitFor('the retried wrap-up to fail again, quietly', 10, async () => {
      const alert = await session.execute(
        `return [...document.querySelectorAll('section.card')].find((c) => c.querySelector('h2')?.innerText === 'Wrap-up')?.querySelector('[role="alert"]')?.innerText ?? ''`,
      );
      return { ok: alert.includes('failed on purpose') && alert.includes('Retry'), seen: alert };
    });

    // Playback carried on: still playing, and the position (or the track) moved on.
    const where = async () => `${await text('.now-title')} ${await text('.elapsed')}`;
    const before = await where();
    await sleep(2500);
    const after = await where();
    const status = await session.execute(`return document.querySelector('[data-status]')?.dataset.status ?? ''`);
    assert.equal(status, 'playing', 'playback carries on while a Rewind view fails');
    assert.notEqual(after, before, `the position moves on: "${before}" then "${after}"`);

    // Search answers.
    const box = await session.find('input[aria-label="Search"]');
    await session.type(box, 'Drif');
    await tools.waitFor('search results for "Drif"', 10, async () => {
      const titles = await session.execute(`return [...document.querySelectorAll('[data-track-id] .track-title')].map((e) => e.innerText)`);
      return { ok: titles.includes('Driftwood'), seen: titles };
    });

    // An artist page shows when the artist was first and last heard, and how often.
    await session.execute(`document.querySelector('nav[aria-label="Library"] button')?.click()`);
    assert.ok(await clickButton(session, 'nav[aria-label="Library"] button', 'Artists'));
    await tools.waitFor('the Aurora Fields artist page with its listening figures', 15, async () => {
      await session.execute(
        `[...document.querySelectorAll('button.row')].find((b) => b.querySelector('.name')?.innerText === 'Aurora Fields')?.click()`,
      );
      const line = await text('[aria-label="Listening history"]');
      return { ok: line.startsWith('First played 28 Nov 2019') && line.includes('3 plays'), seen: line };
    });

    // A PNG drawn in the page is saved by the backend, as the wrap-up's "Save picture" does.
    const png = join(work, 'wrap-up.png');
    const saved = await session.executeAsync(
      `const done = arguments[arguments.length - 1];
       const c = document.createElement('canvas'); c.width = 64; c.height = 64;
       const g = c.getContext('2d'); g.fillStyle = '#ff7a59'; g.fillRect(0, 0, 64, 64);
       window.__TAURI_INTERNALS__.invoke('save_png', { path: arguments[0], dataUrl: c.toDataURL('image/png') })
         .then(() => done('ok'), (e) => done(JSON.stringify(e)));`,
      [png],
      15_000,
    );
    assert.equal(saved, 'ok');
    assert.ok(existsSync(png));
    assert.equal(readFileSync(png).subarray(1, 4).toString(), 'PNG');
  } finally {
    if (session) await session.delete().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
