// The UI's only door to the Offbeat backend. Every call returns plain data or
// throws a `BackendError`; every event subscription returns an unsubscribe
// function. Nothing outside this folder imports Tauri.

import { getCurrentWindow } from '@tauri-apps/api/window';
import { open, save } from '@tauri-apps/plugin-dialog';
import { commands, events, type Result } from './bindings';
import type {
  AlbumSummary,
  ArtistSummary,
  GenreSummary,
  ExportReport,
  Health,
  ImportReport,
  LibraryStatus,
  PlayerState,
  PlaylistSummary,
  PlaylistView,
  Quarantined,
  OutputDevice,
  QueueState,
  RemoteSettings,
  RepeatMode,
  ReplayGainMode,
  ScanProblem,
  ScanProgress,
  ScanReport,
  SearchResults,
  Track,
  TrackDetails,
  YearSummary,
  Anniversary,
  DayInYear,
  EssentialsSuggestion,
  FirstListens,
  HistoryImportProgressed,
  HistoryImportReport,
  ListenFigures,
  ListenSubject,
  Listened,
  WrapUp,
} from './bindings';
import { BackendError } from './error';

export type {
  AlbumSummary,
  AppErrorCode,
  ArtistSummary,
  GenreSummary,
  ExportReport,
  Health,
  HealthState,
  ImportProblem,
  ImportReport,
  LibraryStatus,
  MusicBrainzIds,
  PlaylistEntryView,
  PlaylistKind,
  PlaylistSummary,
  PlaylistView,
  Quarantined,
  TrackRef,
  PlaybackStatus,
  PlayerState,
  ProblemKind,
  Progress,
  RemoteSettings,
  OutputDevice,
  QueueItem,
  QueueState,
  RepeatMode,
  ReplayGainMode,
  ReplayGain,
  ScanProblem,
  ScanProgress,
  ScanReport,
  SearchResults,
  Track,
  TrackDetails,
  TrackSource,
  YearSummary,
} from './bindings';
export type {
  Anniversary,
  DayInYear,
  EssentialsSuggestion,
  FirstListens,
  GenreListens,
  HistoryImportIssue,
  HistoryImportProgressed,
  HistoryImportReport,
  ListenFigures,
  ListenKind,
  ListenSubject,
  Listened,
  NewCounts,
  PeriodTotals,
  WrapUp,
} from './bindings';
export { BackendError, errorMessage, type BackendErrorCode } from './error';

export type Unsubscribe = () => void;

/** True when the page runs inside the Offbeat shell and can reach the backend. */
export function isBackendAvailable(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export const UNAVAILABLE_MESSAGE = 'Not running inside Offbeat — backend unavailable';

async function run<T>(call: () => Promise<Result<T, unknown>>): Promise<T> {
  if (!isBackendAvailable()) throw new BackendError('unavailable', UNAVAILABLE_MESSAGE);
  let result: Result<T, unknown>;
  try {
    result = await call();
  } catch (e) {
    throw BackendError.from(e);
  }
  if (result.status === 'error') throw BackendError.from(result.error);
  return result.data;
}

/** Closes the window as its close button does: the app saves what it must and quits. */
export async function quit(): Promise<void> {
  if (!isBackendAvailable()) return;
  try {
    await getCurrentWindow().close();
  } catch (e) {
    throw BackendError.from(e);
  }
}

export function libraryStatus(): Promise<LibraryStatus> {
  return run(() => commands.libraryStatus());
}

export function listTracks(): Promise<Track[]> {
  return run(() => commands.listTracks());
}

/**
 * Search grouped by kind: matching artists, albums, then the best tracks (a page of
 * them, or with `allTracks` as many as the backend sends) and how many match.
 */
export function searchAll(query: string, allTracks = false): Promise<SearchResults> {
  return run(() => commands.searchAll(query, allTracks));
}

/** Every tag field and stream property of one track. */
export function trackDetails(trackId: number): Promise<TrackDetails> {
  return run(() => commands.trackDetails(trackId));
}

/** Every artist, sorted by name. */
export function artists(): Promise<ArtistSummary[]> {
  return run(() => commands.artists());
}

/** An artist's albums (as album artist), oldest first. */
export function artistAlbums(artistId: number): Promise<AlbumSummary[]> {
  return run(() => commands.artistAlbums(artistId));
}

/** One page of the albums, sorted by album artist then title. */
export function albums(offset: number, limit: number): Promise<AlbumSummary[]> {
  return run(() => commands.albums(Math.max(0, Math.floor(offset)), Math.max(0, Math.floor(limit))));
}

/** An album's tracks in disc and track order. */
export function albumTracks(albumId: number): Promise<Track[]> {
  return run(() => commands.albumTracks(albumId));
}

export function genres(): Promise<GenreSummary[]> {
  return run(() => commands.genres());
}

export function genreTracks(genre: string): Promise<Track[]> {
  return run(() => commands.genreTracks(genre));
}

/** Release years that have tracks, newest first. */
export function years(): Promise<YearSummary[]> {
  return run(() => commands.years());
}

/** Tracks released from `from` to `to` inclusive: one year, or a decade. */
export function yearTracks(from: number, to: number): Promise<Track[]> {
  return run(() => commands.yearTracks(from, to));
}

/** The most recently added tracks, newest first. */
export function recentlyAdded(): Promise<Track[]> {
  return run(() => commands.recentlyAdded());
}

/** Every file the scans could not index, with the reason. */
export function scanProblems(): Promise<ScanProblem[]> {
  return run(() => commands.scanProblems());
}

export function addFolder(path: string): Promise<ScanReport> {
  return run(() => commands.addFolder(path));
}

/**
 * Stops the running scan after its current batch; what was indexed stays. The
 * scan's own promise then rejects (for `addFolder`), and no `scanFinished` follows.
 */
export async function cancelScan(): Promise<void> {
  await run(() => commands.cancelScan());
}

/** Plays `trackIds` as the queue (an album, a list, search results), from the one at `start`. */
export async function playTracks(trackIds: number[], start: number): Promise<void> {
  await run(() => commands.playTracks(trackIds, Math.max(0, Math.floor(start))));
}

/** Queues tracks right after the playing one (`next`), or at the end. */
export async function enqueue(trackIds: number[], next: boolean): Promise<void> {
  await run(() => commands.enqueue(trackIds, next));
}

export async function removeFromQueue(entryIds: number[]): Promise<void> {
  await run(() => commands.removeFromQueue(entryIds));
}

/** Moves a queue entry to position `to` of the queue. */
export async function moveInQueue(entryId: number, to: number): Promise<void> {
  await run(() => commands.moveInQueue(entryId, Math.max(0, Math.floor(to))));
}

export async function clearQueue(): Promise<void> {
  await run(() => commands.clearQueue());
}

export async function playEntry(entryId: number): Promise<void> {
  await run(() => commands.playEntry(entryId));
}

export async function nextTrack(): Promise<void> {
  await run(() => commands.nextTrack());
}

/** Restarts the track when more than 3 s in, else plays the one before. */
export async function previousTrack(): Promise<void> {
  await run(() => commands.previousTrack());
}

export async function setShuffle(on: boolean): Promise<void> {
  await run(() => commands.setShuffle(on));
}

export async function setRepeat(repeat: RepeatMode): Promise<void> {
  await run(() => commands.setRepeat(repeat));
}

/** The output devices the system offers now. */
export function outputDevices(): Promise<OutputDevice[]> {
  return run(() => commands.outputDevices());
}

/** Plays through this device from now on; `null` for the system's default. */
export async function setOutputDevice(deviceId: string | null): Promise<void> {
  await run(() => commands.setOutputDevice(deviceId));
}

export async function setReplayGain(mode: ReplayGainMode, preampDb: number): Promise<void> {
  await run(() => commands.setReplayGain(mode, preampDb));
}

export function queueState(): Promise<QueueState> {
  return run(() => commands.queueState());
}

export async function pause(): Promise<void> {
  await run(() => commands.pause());
}

export async function resume(): Promise<void> {
  await run(() => commands.resume());
}

export async function stop(): Promise<void> {
  await run(() => commands.stop());
}

export async function seek(positionMs: number): Promise<void> {
  await run(() => commands.seek(Math.max(0, Math.round(positionMs))));
}

/** `volume` is linear gain; values outside 0..=1 are clamped. */
export async function setVolume(volume: number): Promise<void> {
  await run(() => commands.setVolume(Math.min(1, Math.max(0, volume))));
}

export function playerState(): Promise<PlayerState> {
  return run(() => commands.playerState());
}

export function playlists(): Promise<PlaylistSummary[]> {
  return run(() => commands.playlists());
}

/** Playlists that could not be read at start and were moved aside. */
export function quarantinedPlaylists(): Promise<Quarantined[]> {
  return run(() => commands.quarantinedPlaylists());
}

export function playlist(id: string): Promise<PlaylistView> {
  return run(() => commands.playlist(id));
}

export function createPlaylist(name: string): Promise<string> {
  return run(() => commands.createPlaylist(name));
}

export async function renamePlaylist(id: string, name: string): Promise<void> {
  await run(() => commands.renamePlaylist(id, name));
}

export async function setPlaylistDescription(id: string, description: string): Promise<void> {
  await run(() => commands.setPlaylistDescription(id, description));
}

export async function deletePlaylist(id: string): Promise<void> {
  await run(() => commands.deletePlaylist(id));
}

export async function undeletePlaylist(id: string): Promise<void> {
  await run(() => commands.undeletePlaylist(id));
}

export function duplicatePlaylist(id: string): Promise<string> {
  return run(() => commands.duplicatePlaylist(id));
}

/** Adds library tracks at `position` of the playlist (`null`: the end); returns how many. */
export function addToPlaylist(id: string, trackIds: number[], position: number | null = null): Promise<number> {
  return run(() => commands.addToPlaylist(id, trackIds, position));
}

export function addToEssentials(trackIds: number[]): Promise<number> {
  return run(() => commands.addToEssentials(trackIds));
}

export function removeFromPlaylist(id: string, entryIds: string[]): Promise<number> {
  return run(() => commands.removeFromPlaylist(id, entryIds));
}

/** Moves entries together before the entry at `position` of the list without them (`null`: the end). */
export async function moveInPlaylist(id: string, entryIds: string[], position: number | null): Promise<void> {
  await run(() => commands.moveInPlaylist(id, entryIds, position));
}

export async function setPlaylistPinned(id: string, pinned: boolean): Promise<void> {
  await run(() => commands.setPlaylistPinned(id, pinned));
}

export function importPlaylist(path: string): Promise<ImportReport> {
  return run(() => commands.importPlaylist(path));
}

export function exportPlaylist(id: string, path: string): Promise<ExportReport> {
  return run(() => commands.exportPlaylist(id, path));
}

/** Asks for a playlist file to import; `null` if the user cancels. */
export async function choosePlaylistFile(): Promise<string | null> {
  if (!isBackendAvailable()) throw new BackendError('unavailable', UNAVAILABLE_MESSAGE);
  try {
    const picked = await open({
      multiple: false,
      title: 'Import a playlist',
      filters: [{ name: 'Playlists', extensions: ['m3u', 'm3u8', 'xspf'] }],
    });
    return typeof picked === 'string' ? picked : null;
  } catch (e) {
    throw BackendError.from(e);
  }
}

/** Asks where to export a playlist; `null` if the user cancels. */
export async function chooseExportPath(name: string, extension: 'm3u8' | 'xspf'): Promise<string | null> {
  if (!isBackendAvailable()) throw new BackendError('unavailable', UNAVAILABLE_MESSAGE);
  try {
    const picked = await save({
      title: 'Export playlist',
      defaultPath: `${name}.${extension}`,
      filters: [{ name: extension.toUpperCase(), extensions: [extension] }],
    });
    return typeof picked === 'string' ? picked : null;
  } catch (e) {
    throw BackendError.from(e);
  }
}

export function rewindFirstListens(): Promise<FirstListens> {
  return run(() => commands.rewindFirstListens());
}

export function rewindOnThisDay(): Promise<DayInYear[]> {
  return run(() => commands.rewindOnThisDay());
}

export function rewindAnniversaries(): Promise<Anniversary[]> {
  return run(() => commands.rewindAnniversaries());
}

export function rewindForgotten(): Promise<Listened[]> {
  return run(() => commands.rewindForgotten());
}

/** The years with listens, newest first. */
export function rewindYears(): Promise<number[]> {
  return run(() => commands.rewindYears());
}

export function rewindWrapUp(year: number, month: number | null): Promise<WrapUp> {
  return run(() => commands.rewindWrapUp(year, month));
}

export function suggestEssentials(): Promise<EssentialsSuggestion> {
  return run(() => commands.suggestEssentials());
}

/** First played, last played and how often, for a track, artist or album page. */
export function listenFigures(subject: ListenSubject): Promise<ListenFigures> {
  return run(() => commands.listenFigures(subject));
}

/** Imports a Spotify or ListenBrainz export; progress arrives through `onHistoryImportProgress`. */
export function importHistory(path: string): Promise<HistoryImportReport> {
  return run(() => commands.importHistory(path));
}

export function onHistoryImportProgress(handler: (p: HistoryImportProgressed) => void): Promise<Unsubscribe> {
  return subscribe(events.historyImportProgressed, handler);
}

/** Writes a PNG (a `data:image/png;base64,` URL) to `path`. */
export async function savePng(path: string, dataUrl: string): Promise<void> {
  await run(() => commands.savePng(path, dataUrl));
}

/** Asks for listening-history exports to import; empty if the user cancels. */
export async function chooseHistoryFiles(): Promise<string[]> {
  if (!isBackendAvailable()) throw new BackendError('unavailable', UNAVAILABLE_MESSAGE);
  try {
    const picked = await open({
      multiple: true,
      title: 'Import listening history',
      filters: [{ name: 'Spotify or ListenBrainz export', extensions: ['json', 'jsonl'] }],
    });
    if (picked == null) return [];
    return Array.isArray(picked) ? picked : [picked];
  } catch (e) {
    throw BackendError.from(e);
  }
}

/** Asks where to save a wrap-up's picture; `null` if the user cancels. */
export async function choosePngPath(name: string): Promise<string | null> {
  if (!isBackendAvailable()) throw new BackendError('unavailable', UNAVAILABLE_MESSAGE);
  try {
    const picked = await save({
      title: 'Save wrap-up picture',
      defaultPath: name,
      filters: [{ name: 'PNG image', extensions: ['png'] }],
    });
    return typeof picked === 'string' ? picked : null;
  } catch (e) {
    throw BackendError.from(e);
  }
}

/** Asks the user for one folder with the system dialog; `null` if they cancel. */
export async function chooseFolder(): Promise<string | null> {
  if (!isBackendAvailable()) throw new BackendError('unavailable', UNAVAILABLE_MESSAGE);
  try {
    const picked = await open({ directory: true, multiple: false, title: 'Add a music folder' });
    return typeof picked === 'string' ? picked : null;
  } catch (e) {
    throw BackendError.from(e);
  }
}

async function subscribe<T>(
  event: { listen: (cb: (e: { payload: T }) => void) => Promise<() => void> },
  handler: (payload: T) => void,
): Promise<Unsubscribe> {
  if (!isBackendAvailable()) return () => {};
  try {
    return await event.listen((e) => handler(e.payload));
  } catch (e) {
    throw BackendError.from(e);
  }
}

/** Called whenever the queue's contents or order change. */
export function onQueueState(handler: (state: QueueState) => void): Promise<Unsubscribe> {
  return subscribe(events.queueState, handler);
}

/** Called on every change of the player, and about four times a second while playing. */
export function onPlayerState(handler: (state: PlayerState) => void): Promise<Unsubscribe> {
  return subscribe(events.playerState, handler);
}

/** Called while a scan runs: at its start, after every batch of files, and at its end. */
export function onScanProgressed(handler: (progress: ScanProgress) => void): Promise<Unsubscribe> {
  return subscribe(events.scanProgressed, handler);
}

/** Called when a cancelled scan has stopped, with how far it got. */
export function onScanStopped(handler: (progress: ScanProgress) => void): Promise<Unsubscribe> {
  return subscribe(events.scanStopped, handler);
}

export function serverHealth(): Promise<Health> {
  return run(() => commands.serverHealth());
}

/** Checks the URL and token against the server; stores them only when they work. */
export function pairServer(url: string, token: string): Promise<Health> {
  return run(() => commands.pairServer(url, token));
}

/** Forgets the server: its catalog and cached files go; playlists and local files stay. */
export function unpairServer(): Promise<Health> {
  return run(() => commands.unpairServer());
}

export async function retryServer(): Promise<void> {
  await run(() => commands.retryServer());
}

export function remoteSettings(): Promise<RemoteSettings> {
  return run(() => commands.remoteSettings());
}

export async function setCacheBudget(mb: number): Promise<void> {
  await run(() => commands.setCacheBudget(Math.max(1, Math.round(mb))));
}

/** Called whenever the server health indicator's state or figures change. */
export function onHealthChanged(handler: (health: Health) => void): Promise<Unsubscribe> {
  return subscribe(events.healthChanged, handler);
}

/** Called when a folder scan ends, whoever started it. */
export function onScanFinished(handler: (report: ScanReport) => void): Promise<Unsubscribe> {
  return subscribe(events.scanFinished, handler);
}

/**
 * The URL of a cover thumbnail for the album of `trackId`, served by the app's `cover:`
 * scheme (the webview has no file access). Sizes the backend serves: 96 and 300.
 * Answers 404 when the track has no cover; show a placeholder then.
 */
export function coverUrl(trackId: number, size: 96 | 300): string {
  const base = navigator.userAgent.includes('Windows') ? 'http://cover.localhost' : 'cover://localhost';
  return `${base}/track/${trackId}/${size}`;
}
