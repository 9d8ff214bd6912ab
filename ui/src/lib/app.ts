// The app's one instance of each domain's state, wired to the backend.
// Components import these; tests build their own instances with fakes.

import * as backend from '$lib/backend';
import { BackendError } from '$lib/backend';
import { PagedList } from '$lib/browse/paged-list.svelte';
import { Resource } from '$lib/browse/resource.svelte';
import { TrackInfo } from '$lib/details/details.svelte';
import { FolderScan } from '$lib/library/scan.svelte';
import { Library } from '$lib/library/library.svelte';
import { Nav } from '$lib/nav/nav.svelte';
import type { YearRange } from '$lib/nav/routes';
import { Notices } from '$lib/notices/notices.svelte';
import { Player } from '$lib/player/player.svelte';
import { PlayQueue } from '$lib/queue/queue.svelte';
import { Playlists } from '$lib/playlists/playlists.svelte';
import { SkipWatcher } from '$lib/playlists/skips.svelte';
import { Panels } from '$lib/layout/panels.svelte';
import { ScanActivity } from '$lib/scan/activity.svelte';
import { ServerHealth } from '$lib/server/health.svelte';
import { throttle } from '$lib/throttle';

export const backendAvailable = backend.isBackendAvailable();

export const notices = new Notices();

/** Shows a failure as a notice. Outside the shell the banner already says why nothing works. */
export function report(error: unknown): void {
  const e = BackendError.from(error);
  if (e.code === 'unavailable') return;
  notices.show(e.message);
}

/** How often a running scan may make the page shown reload, so results appear as they are indexed. */
const LIVE_REFRESH_MS = 2000;

export const library = new Library(backend, { onError: report });
export const nav = new Nav(library);
export const playlists = new Playlists(backend, { onError: report, onNotice: (m) => notices.show(m, 'done') });

/**
 * The paired server's health. A moved catalog, a finished sync or a change in what can be
 * reached reloads what shows (server songs, playlists merged from other devices).
 */
export const serverHealth = new ServerHealth(
  backend,
  () => {
    library.changed();
    // Sources and copies changed: readiness ("N of M would play") and badges move.
    void playlists.changed();
  },
  () => void playlists.changed(),
  report,
);
export const player = new Player(backend, {
  onError: report,
  playable: (t) => serverHealth.playable(t),
  onNotice: (m) => notices.show(m),
});
export const playQueue = new PlayQueue(backend, report);
/** Announces a playlist's songs that are not on this device as playback reaches them. */
export const playlistSkips = new SkipWatcher(playQueue, (message) => notices.show(message));
export const panels = new Panels();
export const trackInfo = new TrackInfo(backend);
/** Files the scans could not read; the sidebar counts them. */
export const problems = new Resource(() => backend.scanProblems(), { onError: report });
export const artistList = new Resource(() => backend.artists(), { onError: report });
export const genreList = new Resource(() => backend.genres(), { onError: report });
export const yearList = new Resource(() => backend.years(), { onError: report });
export const albumPages = new PagedList((offset, limit) => backend.albums(offset, limit), {
  pageSize: 200,
  onError: report,
});

function resource<T>(fetch: () => Promise<T>): Resource<T> {
  return new Resource(fetch, { onError: report });
}

/** The data of one page, loaded when the page opens and reloaded while it shows as the library changes. */
export const pageData = {
  artistAlbums: (artistId: number) => resource(() => backend.artistAlbums(artistId)),
  albumTracks: (albumId: number) => resource(() => backend.albumTracks(albumId)),
  genreTracks: (genre: string) => resource(() => backend.genreTracks(genre)),
  yearTracks: (range: YearRange) => resource(() => backend.yearTracks(range.from, range.to)),
  recentlyAdded: () => resource(() => backend.recentlyAdded()),
};

const liveRefresh = throttle(() => library.changed(), LIVE_REFRESH_MS);
export const scanActivity = new ScanActivity(backend, { onIndexed: () => liveRefresh.request(), onError: report });

let scanEndTimer: ReturnType<typeof setTimeout> | undefined;
/**
 * A scan ended. Both the command's answer and the `scanFinished` event say so;
 * arriving together, they cause one reload.
 */
function scanEnded(): void {
  clearTimeout(scanEndTimer);
  scanEndTimer = setTimeout(() => {
    liveRefresh.cancel();
    library.changed();
    void problems.load();
  }, 150);
}

export const folderScan = new FolderScan(backend, scanActivity, scanEnded, report);

/** Loads the library, follows the player and scans; returns a function that stops following. */
export function startApp(): () => void {
  if (!backendAvailable) {
    library.loaded = true;
    return () => {};
  }
  void library.refresh();
  void problems.load();
  void playlists.load();
  void backend
    .quarantinedPlaylists()
    .then((lost) => {
      for (const q of lost) {
        notices.show(`The playlist “${q.name ?? q.id}” could not be read (${q.reason}); it was moved to ${q.movedTo}.`);
      }
    })
    .catch(report);
  const quiet = (e: unknown): backend.Unsubscribe => {
    report(e);
    return () => {};
  };
  const stops: Promise<backend.Unsubscribe>[] = [
    player.start(),
    playQueue.start(),
    scanActivity.start(),
    serverHealth.start().catch(quiet),
    backend
      .onScanFinished(() => {
        scanActivity.end();
        scanEnded();
      })
      .catch(quiet),
  ];
  return () => {
    liveRefresh.cancel();
    for (const stop of stops) void stop.then((f) => f());
  };
}
