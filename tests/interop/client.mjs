// A JavaScript automerge-repo client (the npm packages, over their WebSocket adapter)
// talking to offbeat-server, for crates/server/tests/interop.rs. One command per run:
//
//   node client.mjs create PORT TOKEN PEER NAME TITLE...   makes a playlist, prints its id
//   node client.mjs read   PORT TOKEN PEER DOC_ID          prints the document as JSON
//   node client.mjs add    PORT TOKEN PEER DOC_ID TITLE    adds an entry at the end
//
// Each waits until the server has its changes (the server's heads, which samod reports
// through its storage id, include ours) and exits non-zero on a timeout or refusal.
import { Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';

const [command, port, token, peerId, ...rest] = process.argv.slice(2);
const url = `ws://127.0.0.1:${port}/api/v1/sync?access_token=${encodeURIComponent(token)}&peer=${encodeURIComponent(peerId)}`;

class Adapter extends WebSocketClientAdapter {
  constructor(...args) {
    super(...args);
    // The stock adapter rethrows a refused upgrade (401) inside an event handler.
    this.onError = (e) => {
      console.error(`connection error: ${e?.message ?? e}`);
      process.exit(3);
    };
  }
}

const repo = new Repo({ network: [new Adapter(url, 1000)], peerId });
const within = (ms, what, p) =>
  Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error(`timed out: ${what}`)), ms).unref())]);

const server = await within(10_000, 'the handshake', new Promise((ok) => repo.networkSubsystem.once('peer', ok)));
const storageId = server.peerMetadata?.storageId;

/** Resolves once the server has every change of `handle`. */
const pushed = (handle) =>
  within(
    15_000,
    'the server to have our changes',
    new Promise((ok) => {
      const has = () => {
        const theirs = handle.getSyncInfo(storageId)?.lastHeads ?? [];
        return handle.heads().every((h) => theirs.includes(h));
      };
      if (has()) return ok();
      const on = () => {
        if (has()) {
          handle.off('remote-heads', on);
          ok();
        }
      };
      handle.on('remote-heads', on);
    }),
  );

const entry = (title, pos) => ({
  track_uid: `h:js-${title}`,
  title,
  artist: 'JS Artist',
  album: 'JS Album',
  duration_ms: 180000,
  pos,
  added_at: Date.now(),
});
const randomId = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

try {
  if (command === 'create') {
    const [name, ...titles] = rest;
    const entries = {};
    titles.forEach((t, i) => (entries[randomId()] = entry(t, `V${String.fromCharCode(65 + i)}`)));
    const now = Date.now();
    const handle = repo.create({
      schema: 'offbeat.playlist/1',
      kind: 'playlist',
      name,
      description: '',
      created_at: now,
      updated_at: now,
      entries,
    });
    await pushed(handle);
    console.log(handle.documentId);
  } else if (command === 'read') {
    const handle = await repo.find(rest[0], { signal: AbortSignal.timeout(15_000) });
    console.log(JSON.stringify(handle.doc()));
  } else if (command === 'add') {
    const [docId, title] = rest;
    const handle = await repo.find(docId, { signal: AbortSignal.timeout(15_000) });
    handle.change((d) => {
      const last = Object.values(d.entries).map((e) => String(e.pos)).sort().at(-1) ?? 'V';
      d.entries[randomId()] = entry(title, `${last}V`);
      d.updated_at = Date.now();
    });
    await pushed(handle);
  } else {
    throw new Error(`unknown command ${command}`);
  }
  await repo.shutdown();
  process.exit(0);
} catch (e) {
  console.error(e?.message ?? String(e));
  process.exit(2);
}
