// A minimal W3C WebDriver client over Node's fetch, for WebKitWebDriver. Zero dependencies.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

const env = (name) => process.env[name] ?? '';

/**
 * What tests/e2e/run.sh hands each test through the environment: the repository, the
 * WebDriver URL and pid, the app binary, where screenshots go, the audio capture file and
 * the display. `active` is false when a test file is run on its own.
 */
export const runner = {
  active: Boolean(process.env.E2E_WEBDRIVER_URL),
  repo: env('E2E_REPO'),
  webdriver: env('E2E_WEBDRIVER_URL'),
  webdriverPid: Number(env('E2E_WEBDRIVER_PID')),
  binary: env('E2E_APP_BINARY'),
  artifacts: env('E2E_ARTIFACTS'),
  capture: env('E2E_CAPTURE_FILE'),
  display: env('DISPLAY'),
};

/** node:test options for an e2e test: skipped, saying how to run it, outside the runner. */
export function runnerOptions(timeout) {
  return { timeout, skip: runner.active ? false : 'run it with: bash tests/e2e/run.sh' };
}

/** The demo library's manifest (its tracks, tags and drone frequencies); empty outside the runner. */
export function demoManifest() {
  return runner.active ? JSON.parse(readFileSync(join(runner.repo, 'assets/demo/manifest.json'), 'utf8')) : [];
}

/**
 * Writes `<work>/offbeat`, a script that runs the app `binary` with its own data folder
 * (`<work>/data`), `demoDir` as the library a first run scans and `env` set, and returns its path:
 * WebKitWebDriver launches a binary, not a command line with environment variables.
 */
export function appLauncher(work, binary, demoDir, env = {}) {
  const launcher = join(work, 'offbeat');
  const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const extra = Object.entries(env)
    .map(([k, v]) => `${k}=${quote(v)} `)
    .join('');
  writeFileSync(
    launcher,
    `#!/bin/sh\n${extra}OFFBEAT_DATA_DIR=${quote(join(work, 'data'))} OFFBEAT_DEMO_DIR=${quote(demoDir)} exec ${quote(binary)} "$@"\n`,
  );
  chmodSync(launcher, 0o755);
  return launcher;
}

export class WebDriverError extends Error {
  constructor(method, path, status, error, message) {
    super(`${method} ${path} → ${status} ${error}: ${message}`);
    this.status = status;
    this.error = error;
  }
}

/** Calls the driver; returns `value`, or throws WebDriverError with the driver's reason. */
export async function call(base, method, path, body, timeoutMs = 30_000) {
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new WebDriverError(method, path, 'no response', e.name, e.message);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(method, path, res.status, 'bad response', text.slice(0, 300));
  }
  const value = json?.value;
  if (!res.ok || (value && typeof value === 'object' && typeof value.error === 'string')) {
    throw new WebDriverError(method, path, res.status, value?.error ?? 'error', value?.message ?? text.slice(0, 300));
  }
  return value;
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** Starts a session that launches `binary` (WebKitGTK browser options). */
  static async create(base, binary, args = [], timeoutMs = 60_000) {
    const value = await call(
      base,
      'POST',
      '/session',
      { capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary, args } } } },
      timeoutMs,
    );
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body, timeoutMs) {
    return call(this.base, method, `/session/${this.id}${path}`, body, timeoutMs);
  }

  async findAll(css) {
    const found = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return found.map((e) => e[ELEMENT]);
  }

  async find(css) {
    const found = await this.findAll(css);
    return found[0] ?? null;
  }

  /** The element's rendered text as WebDriver sees it (empty when it judges it hidden). */
  text(el) {
    return this.cmd('GET', `/element/${el}/text`);
  }

  property(el, name) {
    return this.cmd('GET', `/element/${el}/property/${encodeURIComponent(name)}`);
  }

  /**
   * The element's `innerText`, trimmed: the text it renders (no display:none parts),
   * without WebDriver's own "is it shown" heuristic; see tests/e2e/README.md.
   */
  async innerText(el) {
    return String((await this.property(el, 'innerText')) ?? '').trim();
  }

  attribute(el, name) {
    return this.cmd('GET', `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  click(el) {
    return this.cmd('POST', `/element/${el}/click`, {});
  }

  type(el, text) {
    return this.cmd('POST', `/element/${el}/value`, { text });
  }

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  executeAsync(script, args = [], timeoutMs) {
    return this.cmd('POST', '/execute/async', { script, args }, timeoutMs);
  }

  /** Calls the app's IPC command `command` from the page, as its UI does; its error throws. */
  async invoke(command, args = {}) {
    const r = await this.executeAsync(
      `const done = arguments[arguments.length - 1];
       window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => done({ ok: v }), (e) => done({ error: String(e?.message ?? JSON.stringify(e)) }));`,
      [command, args],
      30_000,
    );
    if (r.error) throw new Error(`${command}: ${r.error}`);
    return r.ok;
  }

  /** A PNG of the viewport. */
  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  delete(timeoutMs = 20_000) {
    return call(this.base, 'DELETE', `/session/${this.id}`, undefined, timeoutMs);
  }
}

/**
 * Failure reporting and bounded waiting for one session. `describePage()` returns what
 * the page shows (and saves a screenshot named `failureShot` in `artifacts`);
 * `waitFor(expected, seconds, probe)` polls `probe` (returning `{ ok, seen, ... }`) every
 * `pollMs` and fails saying what was expected and what was last seen. Driver errors while
 * polling (a re-rendered, stale element) count as "not yet".
 */
export function pageTools(session, { artifacts, failureShot, pollMs }) {
  async function describePage() {
    let text = '(page text unavailable)';
    try {
      text = await session.execute('return document.body ? document.body.innerText : "(no body)"');
      text = String(text).replace(/\s*\n\s*/g, ' | ').slice(0, 1500);
    } catch (e) {
      text = `(could not read the page: ${e.message})`;
    }
    let shot = '(no screenshot)';
    try {
      shot = join(artifacts, failureShot);
      writeFileSync(shot, await session.screenshot());
    } catch (e) {
      shot = `(screenshot failed: ${e.message})`;
    }
    return `\n  page text: ${text}\n  screenshot: ${shot}`;
  }

  async function waitFor(expected, seconds, probe) {
    const started = Date.now();
    const deadline = started + seconds * 1000;
    let seen = '(nothing yet)';
    for (;;) {
      try {
        const r = await probe();
        if (r.ok) {
          // A wait that took over a third of its bound is a flake in the making: say so,
          // and what was seen while it waited.
          const took = Date.now() - started;
          if (took > (seconds * 1000) / 3) {
            const waited = JSON.stringify(seen)?.slice(0, 600);
            console.log(`slow: ${(took / 1000).toFixed(1)} s of ${seconds} s waiting for ${expected}; seen before: ${waited}`);
          }
          return r;
        }
        seen = r.seen;
      } catch (e) {
        seen = `error: ${e.message}`;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${seconds}s waiting for ${expected}\n  last seen: ${JSON.stringify(seen)}${await describePage()}`,
        );
      }
      await sleep(pollMs);
    }
  }

  /** Saves a screenshot as `name` after two animation frames, so the latest render is painted. */
  async function screenshot(name) {
    await session.executeAsync(
      'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
      [],
      10_000,
    );
    const png = await session.screenshot();
    if (png.subarray(1, 4).toString() !== 'PNG') throw new Error('the WebDriver screenshot is not a PNG');
    writeFileSync(join(artifacts, name), png);
  }

  return { describePage, waitFor, screenshot };
}
