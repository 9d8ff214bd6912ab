// The playlists in the sidebar, and the actions every view can take on them ("Add to
// Essentials", "Add to playlist"). Changes reload the list; deleting offers an undo.

import type { ImportReport, PlaylistSummary } from '$lib/backend';

export interface PlaylistsBackend {
  playlists(): Promise<PlaylistSummary[]>;
  createPlaylist(name: string): Promise<string>;
  deletePlaylist(id: string): Promise<void>;
  undeletePlaylist(id: string): Promise<void>;
  addToPlaylist(id: string, trackIds: number[], position?: number | null): Promise<number>;
  addToEssentials(trackIds: number[]): Promise<number>;
}

export interface PlaylistsEvents {
  onError: (e: unknown) => void;
  /** A short confirmation, with an action (Undo) when there is one. */
  onNotice: (message: string) => void;
}

export class Playlists {
  list = $state<PlaylistSummary[]>([]);
  /** The last deleted playlist, until it is restored or another is deleted. */
  lastDeleted = $state<{ id: string; name: string } | null>(null);
  /** Bumped after every change, so an open playlist view reloads. */
  version = $state(0);
  /** The last import's report, shown on the imported playlist's page until dismissed. */
  importReport = $state<ImportReport | null>(null);

  constructor(
    private backend: PlaylistsBackend,
    private events: PlaylistsEvents,
  ) {}

  get essentials(): PlaylistSummary | undefined {
    return this.list.find((p) => p.kind === 'essentials');
  }

  async load(): Promise<void> {
    try {
      this.list = await this.backend.playlists();
    } catch (e) {
      this.events.onError(e);
    }
  }

  /** Something changed a playlist: reload the list and any open view. */
  async changed(): Promise<void> {
    this.version += 1;
    await this.load();
  }

  async create(name: string): Promise<string | null> {
    try {
      const id = await this.backend.createPlaylist(name);
      await this.changed();
      return id;
    } catch (e) {
      this.events.onError(e);
      return null;
    }
  }

  async remove(id: string): Promise<boolean> {
    const name = this.list.find((p) => p.id === id)?.name ?? 'Playlist';
    try {
      await this.backend.deletePlaylist(id);
      this.lastDeleted = { id, name };
      this.events.onNotice(`Deleted “${name}”. Undo with Ctrl+Z.`);
      await this.changed();
      return true;
    } catch (e) {
      this.events.onError(e);
      return false;
    }
  }

  /** Brings the last deleted playlist back whole. */
  async undoDelete(): Promise<string | null> {
    const deleted = this.lastDeleted;
    if (!deleted) return null;
    try {
      await this.backend.undeletePlaylist(deleted.id);
      this.lastDeleted = null;
      this.events.onNotice(`Restored “${deleted.name}”.`);
      await this.changed();
      return deleted.id;
    } catch (e) {
      this.events.onError(e);
      return null;
    }
  }

  async addTo(id: string, trackIds: number[]): Promise<void> {
    if (trackIds.length === 0) return;
    const name = this.list.find((p) => p.id === id)?.name ?? 'the playlist';
    try {
      const added = await this.backend.addToPlaylist(id, trackIds, null);
      this.events.onNotice(`Added ${added === 1 ? 'a song' : `${added} songs`} to ${name}.`);
      await this.changed();
    } catch (e) {
      this.events.onError(e);
    }
  }

  async addToEssentials(trackIds: number[]): Promise<void> {
    if (trackIds.length === 0) return;
    try {
      const added = await this.backend.addToEssentials(trackIds);
      this.events.onNotice(`Added ${added === 1 ? 'a song' : `${added} songs`} to Emergency Essentials.`);
      await this.changed();
    } catch (e) {
      this.events.onError(e);
    }
  }
}
