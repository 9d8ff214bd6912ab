// End-to-end: a playlist with songs that are not on this device (made beforehand with
// the seed_playlist example, since the UI only adds songs it has). They show greyed; Play
// queues the others, and each missing song is announced when playback reaches its place:
// the first at once (it comes before the first song), the second only when the song after
// it starts. Run via tests/e2e/run.sh.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { appLauncher, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';

const { repo: REPO, webdriver: WEBDRIVER, binary: BINARY, artifacts: ARTIFACTS } = runner;

test('songs not on this device are greyed and announced as playback reaches them', runnerOptions(120_000), async () => {
  const work = mkdtempSync(join(tmpdir(), 'offbeat-e2e-skips-'));
  mkdirSync(join(work, 'data'), { recursive: true });
  // Built with the test binaries (cargo test builds examples), beside the app.
  execFileSync(join(dirname(BINARY), 'examples', 'seed_playlist'), [
    join(work, 'data', 'playlists'),
    join(REPO, 'assets/demo/manifest.json'),
    'Partly here',
    'absent:Gone Song',
    'demo:0',
    'absent:Ghost Two',
    'demo:1',
  ]);
  let session = null;
  try {
    session = await Session.create(WEBDRIVER, appLauncher(work, BINARY, join(REPO, 'assets/demo')));
    const tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-skips-failure.png', pollMs: 150 });
    const notices = () =>
      session.execute(`return document.querySelector('[aria-label="Notifications"]')?.innerText ?? ''`);

    await tools.waitFor('the demo library scanned', 60, async () => {
      const n = await session.execute(`return document.querySelectorAll('[data-track-id]').length`);
      return { ok: n >= 3, seen: n };
    });
    await session.execute(
      `[...document.querySelectorAll('nav[aria-label="Playlists"] button')].find((b) => b.innerText.includes('Partly here')).click();`,
    );
    await tools.waitFor('the playlist page, two rows greyed', 10, async () => {
      const rows = await session.execute(
        `return [...document.querySelectorAll('[data-entry-id]')].map((r) => [r.querySelector('.title')?.innerText, r.classList.contains('absent')])`,
      );
      const ok = JSON.stringify(rows) === JSON.stringify([['Gone Song', true], ['Aurora', false], ['Ghost Two', true], ['Polar Night', false]]);
      return { ok, seen: rows };
    });

    await session.execute(`[...document.querySelectorAll('.playlist .actions button')].find((b) => b.innerText.includes('Play')).click();`);
    await tools.waitFor('"Gone Song" announced as playback starts', 10, async () => {
      const text = await notices();
      return { ok: text.includes('Skipped “Gone Song”'), seen: text };
    });
    assert.ok(!(await notices()).includes('Ghost Two'), 'the second missing song is announced only when reached');

    // Next: Polar Night starts, and the song skipped before it is announced.
    await session.execute(`document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', ctrlKey: true, bubbles: true }));`);
    await tools.waitFor('"Ghost Two" announced when Polar Night starts', 10, async () => {
      const text = await notices();
      const bar = await session.execute(`return document.querySelector('footer, .player-bar')?.innerText ?? document.body.innerText`);
      return { ok: text.includes('Skipped “Ghost Two”') && bar.includes('Polar Night'), seen: text };
    });
    await tools.screenshot('e2e-skips.png');
  } finally {
    if (session) await session.delete().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
