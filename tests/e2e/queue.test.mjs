// End-to-end: playing a song queues its list; the queue panel shows it; Next (button) and
// Ctrl+→ (keyboard) move on and the next track is what the sound card gets; an entry is
// removed from the panel with Delete; after a restart (and another without playing) the
// queue, the track and the place in it come back, paused; and a track of another format
// that follows gaplessly plays at its own speed; a listen in progress when the app quits
// is kept; deleting the only entry leaves focus on the panel's close button. The app gets
// its own data folder through a launcher script, so the other tests' library and session
// are untouched. Run via tests/e2e/run.sh.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { appLauncher, demoManifest, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';
import { bandEnergies, readMonoCapture, SAMPLE_RATE } from '../support/capture-analysis.mjs';

const { repo: REPO, webdriver: WEBDRIVER, binary: BINARY, artifacts: ARTIFACTS, capture: CAPTURE } = runner;

const options = runnerOptions(120_000);

const manifest = demoManifest();

/** The demo track whose drone is strongest in the last `seconds` of the capture. */
function heardLast(seconds) {
  const samples = readMonoCapture(CAPTURE);
  const end = samples.length;
  const start = Math.max(0, end - Math.round(seconds * SAMPLE_RATE));
  const energies = bandEnergies(samples, manifest.map((x) => x.drone_hz), { start, end, windowSeconds: 0.25 });
  const best = energies.reduce((a, b) => (b.energy > a.energy ? b : a));
  return manifest.find((x) => x.drone_hz === best.hz)?.title ?? '?';
}

test('a queue from the list: next, Ctrl+→, remove, and the session restored after a restart', options, async (t) => {
  const t0 = Date.now();
  const stamp = (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  const work = mkdtempSync(join(tmpdir(), 'offbeat-e2e-queue-'));
  const launcher = appLauncher(work, BINARY, join(REPO, 'assets/demo'));
  let session = null;
  try {
    session = await Session.create(WEBDRIVER, launcher);
    let tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-queue-failure.png', pollMs: 150 });
    const text = (css) =>
      session.execute(`const e = document.querySelector(${JSON.stringify(css)}); return e ? e.innerText : null;`);
    const nowPlaying = () => text('section[aria-label="Player"]');
    const queueTitles = () =>
      session.execute(
        `return [...document.querySelectorAll('[aria-label="Queued songs"] [role="option"]')].map((o) => [o.querySelector('.title').innerText, o.getAttribute('aria-current') === 'true']);`,
      );

    // 1. Play the first song of the list: the list becomes the queue.
    await tools.waitFor('the demo library listed', 60, async () => {
      const n = await session.execute(`return document.querySelectorAll('[data-track-id]').length`);
      return { ok: n >= manifest.length, seen: n };
    });
    const first = await session.execute(`return document.querySelector('[data-track-id] .track-title').innerText`);
    await session.execute(
      `document.querySelector('[data-track-id]').dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));`,
    );
    await tools.waitFor(`"${first}" playing`, 15, async () => {
      const bar = await nowPlaying();
      const playing = await session.execute(`return document.querySelector('section[aria-label="Player"]').dataset.status`);
      return { ok: bar?.includes(first) && playing === 'playing', seen: { bar, playing } };
    });
    await session.click(await session.find('button[aria-label="Queue"]'));
    const queued = await tools.waitFor('the queue panel with every song, the first playing', 10, async () => {
      const items = await queueTitles();
      return { ok: items.length === manifest.length && items[0]?.[1] === true, seen: items };
    });
    stamp(`queue: ${queued.seen.map((x) => x[0]).join(', ')}`);
    const order = queued.seen.map((x) => x[0]);

    // 2. Next (the button): the second song plays, and it is what the sound card gets.
    await session.click(await session.find('button[aria-label="Next"]'));
    await tools.waitFor(`"${order[1]}" in the player bar`, 10, async () => {
      const bar = await nowPlaying();
      return { ok: bar?.includes(order[1]), seen: bar };
    });
    await sleep(2500);
    const heard = heardLast(1.5);
    stamp(`heard after Next: ${heard}`);
    assert.equal(heard, order[1], 'the sound card plays the next song');

    // The cover in the player bar opens the now-playing page: this song, and what follows.
    await session.click(await session.find('button[aria-label="Now playing"]'));
    await tools.waitFor(`the now-playing page for "${order[1]}"`, 10, async () => {
      const page = await text('main');
      return { ok: page?.includes('Up next') && page.includes(order[1]) && page.includes(order[2]), seen: page?.slice(0, 300) };
    });

    // 3. Ctrl+→ (real key presses), typed where the click on Next left focus: the
    // shortcuts work on a focused button too. The third song.
    await session.type(await session.find('button[aria-label="Next"]'), '\uE009\uE014\uE000');
    await tools.waitFor(`"${order[2]}" after Ctrl+→`, 10, async () => {
      const bar = await nowPlaying();
      return { ok: bar?.includes(order[2]), seen: bar };
    });

    // 4. Delete on a focused entry removes it (the last one).
    await session.execute(
      `const o = [...document.querySelectorAll('[aria-label="Queued songs"] [role="option"]')].at(-1); o.focus(); o.dispatchEvent(new KeyboardEvent('keydown', { key: 'Delete', bubbles: true }));`,
    );
    const removed = await tools.waitFor('the last entry gone from the queue', 10, async () => {
      const items = await queueTitles();
      return { ok: items.length === manifest.length - 1 && !items.some((x) => x[0] === order.at(-1)), seen: items };
    });
    await tools.screenshot('e2e-queue.png');

    // 5. Seek a few seconds in (→ typed on the queue entry that has focus now: a list
    // row whose arrows do not seek would swallow it), pause, quit; the next launch is
    // where we left.
    const focusedEntry = await session.execute(
      `const f = document.activeElement; return f?.getAttribute('role') === 'option' ? f.innerText : null;`,
    );
    assert.ok(focusedEntry, 'a queue entry has focus after Delete');
    await session.execute(`document.activeElement.dataset.e2eFocused = '1';`);
    await session.type(await session.find('[data-e2e-focused="1"]'), '\uE014');
    await sleep(500);
    await session.execute(`document.body.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));`);
    const paused = await tools.waitFor('paused', 10, async () => {
      const status = await session.execute(`return document.querySelector('section[aria-label="Player"]').dataset.status`);
      const clock = await session.execute(
        `return [...document.querySelectorAll('section[aria-label="Player"] .time')].map((e) => e.innerText)`,
      );
      return { ok: status === 'paused', seen: { status, clock } };
    });
    stamp(`paused at ${JSON.stringify(paused.seen.clock)}`);
    await session.delete();
    session = null;

    session = await Session.create(WEBDRIVER, launcher);
    tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-queue-failure.png', pollMs: 150 });
    const restored = await tools.waitFor(`"${order[2]}" restored, paused`, 20, async () => {
      const bar = await nowPlaying();
      const status = await session.execute(`return document.querySelector('section[aria-label="Player"]').dataset.status`);
      return { ok: bar?.includes(order[2]) && status === 'paused', seen: { bar, status } };
    });
    stamp(`restored: ${JSON.stringify(restored.seen)}`);
    await session.click(await session.find('button[aria-label="Queue"]'));
    await tools.waitFor('the queue as it was, without the removed entry', 10, async () => {
      const items = await queueTitles();
      const same = JSON.stringify(items.map((x) => x[0])) === JSON.stringify(removed.seen.map((x) => x[0]));
      return { ok: same && items[2]?.[1] === true, seen: items };
    });
    const position = await session.execute(`return document.querySelector('input[aria-label="Seek"]')?.value`);
    stamp(`restored position: ${position}`);
    assert.ok(Number(position) >= 4000, `the place in the track is kept (${position} ms)`);

    // Launched and quit again without playing: the place is still kept.
    await session.delete();
    session = await Session.create(WEBDRIVER, launcher);
    tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-queue-failure.png', pollMs: 150 });
    await tools.waitFor('the place kept through a launch without playing', 20, async () => {
      const bar = await nowPlaying();
      const at = await session.execute(`return document.querySelector('input[aria-label="Seek"]')?.value`);
      return { ok: bar?.includes(order[2]) && Number(at) >= 4000, seen: { at } };
    });
    await session.click(await session.find('button[aria-label="Queue"]'));

    // 6. Across a change of format, on the real device: Minuit (M4A, 44.1 kHz stereo) is
    // followed on its album by Velours (WAV, 22.05 kHz mono), joined gaplessly in one
    // output stream. Play Minuit (Enter on its entry), seek to 3 s before its end (→ three
    // times, typed on the entry), and Velours must be heard at its own pitch and speed.
    await session.execute(
      `[...document.querySelectorAll('[aria-label="Queued songs"] [role="option"]')].find((o) => o.querySelector('.title').innerText === 'Minuit').dataset.e2eMinuit = '1';`,
    );
    const minuit = await session.find('[data-e2e-minuit="1"]');
    await session.type(minuit, '\uE007');
    await tools.waitFor('"Minuit" playing', 10, async () => {
      const bar = await nowPlaying();
      const status = await session.execute(`return document.querySelector('section[aria-label="Player"]').dataset.status`);
      return { ok: bar?.includes('Minuit') && status === 'playing', seen: { bar, status } };
    });
    await session.type(minuit, '\uE014\uE014\uE014');
    await tools.waitFor('"Velours" after Minuit ends', 15, async () => {
      const bar = await nowPlaying();
      return { ok: bar?.includes('Velours'), seen: bar };
    });
    await sleep(2500);
    const joined = heardLast(1.5);
    stamp(`heard after the join: ${joined}`);
    assert.equal(joined, 'Velours', 'the WAV after the M4A plays at its own speed');

    // 7. Quit while Velours plays, past half of it: the next launch counts that listen.
    await tools.waitFor('Velours past half its length', 20, async () => {
      const at = await session.execute(`return document.querySelector('input[aria-label="Seek"]')?.value`);
      return { ok: Number(at) >= 10_000, seen: at };
    });
    const velours = manifest.find((x) => x.title === 'Velours');
    const veloursId = await session.execute(
      `return Number([...document.querySelectorAll('[data-track-id]')].find((r) => r.querySelector('.track-title')?.innerText === 'Velours')?.dataset.trackId)`,
    );
    assert.ok(velours && veloursId > 0, `Velours's track id (${veloursId})`);
    // Ctrl+Q, the app's own quit (pressed after this call returns: the window closing
    // mid-call fails it); the session ends once the app has had time to quit.
    await session.execute(
      `setTimeout(() => document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'q', ctrlKey: true, bubbles: true })), 100); return true;`,
    );
    await sleep(3000);
    await session.delete().catch(() => {});
    session = await Session.create(WEBDRIVER, launcher);
    tools = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-queue-failure.png', pollMs: 150 });
    const heardBefore = await tools.waitFor('the listen in progress at the quit in the history', 10, async () => {
      const figures = await session.invoke('listen_figures', { subject: { kind: 'track', id: veloursId } });
      return { ok: figures.listens >= 1, seen: figures };
    });
    stamp(`Velours after the quit: ${JSON.stringify(heardBefore.seen)}`);

    // 8. Delete on the only entry empties the queue; focus stays in the panel (on its
    // close button), not lost to the page.
    await session.invoke('play_tracks', { trackIds: [veloursId], start: 0 });
    await session.click(await session.find('button[aria-label="Queue"]'));
    await tools.waitFor('a queue of one', 10, async () => {
      const items = await queueTitles();
      return { ok: items.length === 1, seen: items };
    });
    await session.execute(
      `const o = document.querySelector('[aria-label="Queued songs"] [role="option"]'); o.focus(); o.dispatchEvent(new KeyboardEvent('keydown', { key: 'Delete', bubbles: true }));`,
    );
    await tools.waitFor('the queue empty, focus on its close button', 10, async () => {
      const items = await queueTitles();
      const focused = await session.execute(`return document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName`);
      return { ok: items.length === 0 && focused === 'Close queue', seen: { items, focused } };
    });
  } finally {
    if (session) await session.delete().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
