// End-to-end: the real app, launched by WebKitWebDriver under Xvfb, scans the demo library,
// finds a track by search, plays it, and the sound that reaches ALSA is that track.
// Run through tests/e2e/run.sh, which starts Xvfb, PulseAudio and WebKitWebDriver and sets
// the E2E_* variables below.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

import { demoManifest, pageTools, runner, runnerOptions, Session } from './webdriver.mjs';
import { bandEnergies, nonSilentSpan, readMonoCapture, SAMPLE_RATE } from '../support/capture-analysis.mjs';

const {
  webdriver: WEBDRIVER,
  webdriverPid: WEBDRIVER_PID,
  binary: BINARY,
  capture: CAPTURE,
  artifacts: ARTIFACTS,
  display: DISPLAY,
} = runner;

// Outside run.sh (e.g. a bare `node --test` at the repository root) there is no app to drive.

const manifest = demoManifest();

/** Words of a title, artist or album, lower-cased without accents, as the search sees them. */
function words(s) {
  return s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}
const matches = (t, query) =>
  [t.title, t.artist, t.album].some((f) => words(f).some((w) => w.startsWith(query.toLowerCase())));

/**
 * The track to find and play, and what to type: Driftwood and "Drif", or, should the demo
 * change, the first track whose title's first four letters match no other track.
 * (The search matches the start of any word of a title, artist or album.)
 */
const candidates = [...manifest].sort((a, b) => (b.title === 'Driftwood') - (a.title === 'Driftwood'));
const target = candidates.find((t) => {
  const q = t.title.slice(0, 4);
  return q.length === 4 && manifest.filter((x) => matches(x, q)).length === 1;
});
const TARGET_TITLE = target?.title ?? 'Driftwood';
const QUERY = TARGET_TITLE.slice(0, 4);
const matchesQuery = (t) => matches(t, QUERY);

const SELECTORS = {
  row: '[data-track-id]',
  rowTitle: '[data-track-id] .track-title',
  search: 'input[aria-label="Search"]',
  playerBar: '[data-status]',
  nowTitle: '.now-title',
  elapsed: '.elapsed',
  playButton: (title) => `button[aria-label="Play ${title}"]`,
};

const POLL_MS = 200;

/** "m:ss" or "h:mm:ss" → seconds, or NaN. */
function parseClock(text) {
  const m = /^\s*(?:(\d+):)?(\d+):(\d\d)\s*$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** The pids of `pid`'s descendants. */
function descendants(pid) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: the ppid follows the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  const frontier = [pid];
  while (frontier.length) {
    const p = frontier.pop();
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        frontier.push(child);
      }
    }
  }
  return out;
}

/** Running instances of the app binary that WebKitWebDriver started. */
function appProcesses() {
  const binary = realpathSync(BINARY);
  return descendants(WEBDRIVER_PID).filter((p) => {
    try {
      return readlinkSync(`/proc/${p}/exe`).replace(/ \(deleted\)$/, '') === binary;
    } catch {
      return false;
    }
  });
}

const options = runnerOptions(110_000);

test('search, play and hear a track in the real app', options, async (t) => {
  assert.ok(target, 'no demo track has a title whose first four letters match only that track');
  const expectedTitles = manifest.filter(matchesQuery).map((x) => x.title);
  const hiddenTitles = manifest.filter((x) => !matchesQuery(x)).map((x) => x.title);
  assert.deepEqual(expectedTitles, [TARGET_TITLE], `the query "${QUERY}" should match only ${TARGET_TITLE}`);

  const t0 = Date.now();
  const stamp = (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

  const session = await Session.create(WEBDRIVER, BINARY).catch((e) => {
    throw new Error(`WebKitWebDriver could not launch ${BINARY}: ${e.message}`);
  });
  stamp(`session ${session.id} started`);
  let sessionOpen = true;

  const { describePage, waitFor, screenshot } = pageTools(session, { artifacts: ARTIFACTS, failureShot: 'e2e-failure.png', pollMs: POLL_MS });

  const visibleTitles = async () => {
    const els = await session.findAll(SELECTORS.rowTitle);
    return Promise.all(els.map((e) => session.innerText(e)));
  };

  try {
    // 1. The empty library fills with the demo on first launch.
    await waitFor(`all ${manifest.length} demo tracks to be listed (${SELECTORS.row})`, 60, async () => {
      const titles = await visibleTitles();
      const missing = manifest.map((x) => x.title).filter((x) => !titles.includes(x));
      return { ok: missing.length === 0, seen: { rows: titles, missing } };
    });
    stamp('library listed');

    // 2. Search: typing a prefix of the title filters the list to that track.
    const search = await waitFor(`the search box (${SELECTORS.search})`, 10, async () => {
      const el = await session.find(SELECTORS.search);
      return { ok: el !== null, seen: el, el };
    });
    await session.click(search.el);
    await session.type(search.el, QUERY);
    await waitFor(`the search box to hold "${QUERY}"`, 5, async () => {
      const value = await session.property(search.el, 'value');
      return { ok: value === QUERY, seen: value };
    });
    await waitFor(`the list to show only "${TARGET_TITLE}" after typing "${QUERY}"`, 15, async () => {
      const titles = await visibleTitles();
      const stillShown = hiddenTitles.filter((x) => titles.includes(x));
      return {
        ok: titles.includes(TARGET_TITLE) && stillShown.length === 0,
        seen: { rows: titles, nonMatchingStillShown: stillShown },
      };
    });
    stamp(`search "${QUERY}" filtered the list`);

    // 3. Play it with the row's play button (select the row first, as a user's pointer would
    //    hover it: the button is transparent until then).
    const rowTitle = await waitFor(`the row of "${TARGET_TITLE}"`, 10, async () => {
      for (const el of await session.findAll(SELECTORS.rowTitle)) {
        if ((await session.innerText(el)) === TARGET_TITLE) return { ok: true, seen: TARGET_TITLE, el };
      }
      return { ok: false, seen: await visibleTitles() };
    });
    await session.click(rowTitle.el);
    const play = await waitFor(`the button ${SELECTORS.playButton(TARGET_TITLE)}`, 10, async () => {
      const el = await session.find(SELECTORS.playButton(TARGET_TITLE));
      return { ok: el !== null, seen: el, el };
    });
    await session.click(play.el);
    stamp('clicked play');

    // 4. The player bar says it is playing that track, and the position moves.
    await waitFor(`the player bar to be playing "${TARGET_TITLE}"`, 15, async () => {
      const bar = await session.find(SELECTORS.playerBar);
      const status = bar && (await session.attribute(bar, 'data-status'));
      const nowEl = await session.find(SELECTORS.nowTitle);
      const now = nowEl && (await session.innerText(nowEl));
      return { ok: status === 'playing' && now === TARGET_TITLE, seen: { status, nowTitle: now } };
    });
    const playingSince = Date.now();
    stamp('player bar shows playing');

    const readElapsed = async () => {
      const el = await session.find(SELECTORS.elapsed);
      return el ? session.innerText(el) : null;
    };
    const first = await readElapsed();
    await sleep(3000); // deliberate: let the position advance in real time
    const second = await readElapsed();
    stamp(`elapsed ${first} → ${second}`);
    if (!(parseClock(second) > parseClock(first))) {
      assert.fail(`the elapsed time should advance while playing, but it read "${first}" then "${second}" 3 s later${await describePage()}`);
    }

    // 5. Screenshots: the page as WebDriver renders it (after two frames) and the X screen.
    await screenshot('e2e-playing.png');
    await promisify(execFile)('import', ['-display', DISPLAY, '-window', 'root', join(ARTIFACTS, 'e2e-window.png')], {
      timeout: 15_000,
    });
    stamp('screenshots saved');

    // Let it play until the player has played 5 s of the track (the position counts the
    // samples the audio output took, so this is 5 s of audio even on a loaded machine).
    await waitFor('the elapsed time to reach 0:05', 20, async () => {
      const elapsed = await readElapsed();
      return { ok: parseClock(elapsed) >= 5, seen: elapsed };
    });
    stamp(`played to 0:05 in ${((Date.now() - playingSince) / 1000).toFixed(1)} s`);
  } finally {
    if (sessionOpen) {
      await session.delete().catch((e) => t.diagnostic(`ending the session failed: ${e.message}`));
      sessionOpen = false;
    }
  }
  stamp('session ended');

  // 6. Ending the session closes the app.
  const exitDeadline = Date.now() + 15_000;
  while (appProcesses().length > 0) {
    if (Date.now() > exitDeadline) {
      assert.fail(`the app is still running 15 s after the WebDriver session ended (pids ${appProcesses().join(', ')})`);
    }
    await sleep(POLL_MS);
  }
  stamp('app exited');

  // 7. What reached ALSA is the chosen track: enough non-silent audio, and the strongest of
  //    the demo's drone frequencies in it is this track's.
  let size = 0;
  try {
    size = statSync(CAPTURE).size;
  } catch {
    assert.fail(`no audio was captured: ${CAPTURE} does not exist (did the app open the ALSA default device?)`);
  }
  const samples = readMonoCapture(CAPTURE);
  const span = nonSilentSpan(samples, { windowMs: 50, threshold: 0.01 });
  t.diagnostic(
    `capture: ${size} bytes = ${span.totalSeconds.toFixed(2)} s; non-silent ${span.loudSeconds.toFixed(2)} s ` +
      `from ${(span.start / SAMPLE_RATE).toFixed(2)} s to ${(span.end / SAMPLE_RATE).toFixed(2)} s; peak RMS ${span.peakRms.toFixed(4)}`,
  );
  assert.ok(
    span.loudSeconds >= 3,
    `expected at least 3 s of non-silent audio in the capture, got ${span.loudSeconds.toFixed(2)} s ` +
      `(capture ${span.totalSeconds.toFixed(2)} s long, peak 50 ms RMS ${span.peakRms.toFixed(4)})`,
  );
  const energies = bandEnergies(
    samples,
    manifest.map((x) => x.drone_hz),
    { start: span.start, end: span.end, windowSeconds: 0.5 },
  );
  const table = energies
    .map((e, i) => ({ title: manifest[i].title, hz: e.hz, energy: e.energy }))
    .sort((a, b) => b.energy - a.energy);
  t.diagnostic('drone energies over the non-silent span (mean Goertzel power of 0.5 s Hann windows):');
  for (const row of table) {
    t.diagnostic(`  ${String(row.hz).padStart(7)} Hz  ${row.title.padEnd(12)} ${row.energy.toExponential(3)}`);
  }
  assert.equal(
    table[0].title,
    TARGET_TITLE,
    `the strongest drone in the captured audio is ${table[0].hz} Hz (${table[0].title}), expected ${target.drone_hz} Hz (${TARGET_TITLE})`,
  );
  const runnerUp = table[1];
  assert.ok(
    table[0].energy > 10 * runnerUp.energy,
    `the ${target.drone_hz} Hz drone should dominate clearly, but ${runnerUp.hz} Hz (${runnerUp.title}) has ` +
      `${(runnerUp.energy / table[0].energy).toFixed(3)} of its energy`,
  );
  stamp('audio verified');
});
