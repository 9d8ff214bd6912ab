// The app's one instance of each domain's state, wired to the backend.
// Components import these; tests build their own instances with fakes.

import * as backend from '$lib/backend';
import { BackendError } from '$lib/backend';
import { FolderScan } from '$lib/library/scan.svelte';
import { Library } from '$lib/library/library.svelte';
import { Notices } from '$lib/notices/notices.svelte';
import { Player } from '$lib/player/player.svelte';

export const backendAvailable = backend.isBackendAvailable();

export const notices = new Notices();

/** Shows a failure as a notice. Outside the shell the banner already says why nothing works. */
export function report(error: unknown): void {
  const e = BackendError.from(error);
  if (e.code === 'unavailable') return;
  notices.show(e.message);
}

export const library = new Library(backend, { onError: report });
export const player = new Player(backend, { onError: report });
export const folderScan = new FolderScan(backend, () => library.refreshSoon(), report);

/** Loads the library, follows the player and scans; returns a function that stops following. */
export function startApp(): () => void {
  if (!backendAvailable) {
    library.loaded = true;
    return () => {};
  }
  void library.refresh();
  const stops: Promise<backend.Unsubscribe>[] = [
    player.start(),
    backend.onScanFinished(() => library.refreshSoon()).catch((e: unknown) => {
      report(e);
      return () => {};
    }),
  ];
  return () => {
    for (const stop of stops) void stop.then((f) => f());
  };
}
