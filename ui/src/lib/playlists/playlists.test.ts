import { describe, expect, it } from 'vitest';
import type { PlaylistSummary } from '$lib/backend';
import { Playlists, type PlaylistsBackend } from './playlists.svelte';

function summary(id: string, name: string, kind: 'playlist' | 'essentials' = 'playlist'): PlaylistSummary {
  return { id, name, kind, description: '', createdAt: 0, updatedAt: 0, entryCount: 0, durationMs: 0, pinned: kind === 'essentials' };
}

/** A backend holding playlists in memory, as the store would. */
function fakeBackend() {
  const all = [summary('e', 'Emergency Essentials', 'essentials'), summary('a', 'Road trip')];
  const deleted = new Set<string>();
  const added: Record<string, number[]> = {};
  const backend: PlaylistsBackend = {
    playlists: async () => all.filter((p) => !deleted.has(p.id)),
    createPlaylist: async (name) => {
      all.push(summary(`p${all.length}`, name));
      return `p${all.length - 1}`;
    },
    deletePlaylist: async (id) => {
      if (id === 'e') throw new Error('Emergency Essentials cannot be deleted');
      deleted.add(id);
    },
    undeletePlaylist: async (id) => {
      deleted.delete(id);
    },
    addToPlaylist: async (id, ids) => {
      added[id] = [...(added[id] ?? []), ...ids];
      return ids.length;
    },
    addToEssentials: async (ids) => {
      added.e = [...(added.e ?? []), ...ids];
      return ids.length;
    },
  };
  return { backend, added };
}

describe('Playlists', () => {
  it('deletes, then undoes the delete', async () => {
    const { backend } = fakeBackend();
    const notices: string[] = [];
    const p = new Playlists(backend, { onError: () => {}, onNotice: (m) => notices.push(m) });
    await p.load();
    expect(p.list.map((x) => x.name)).toEqual(['Emergency Essentials', 'Road trip']);
    expect(await p.remove('a')).toBe(true);
    expect(p.list.map((x) => x.id)).toEqual(['e']);
    expect(notices[0]).toContain('Undo');
    expect(await p.undoDelete()).toBe('a');
    expect(p.list.map((x) => x.id)).toEqual(['e', 'a']);
    expect(await p.undoDelete()).toBeNull();
  });

  it('reports a refused delete and keeps the playlist', async () => {
    const { backend } = fakeBackend();
    const errors: unknown[] = [];
    const p = new Playlists(backend, { onError: (e) => errors.push(e), onNotice: () => {} });
    await p.load();
    expect(await p.remove('e')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(p.list).toHaveLength(2);
    expect(p.lastDeleted).toBeNull();
  });

  it('adds to Essentials and says how many, and bumps the version for open views', async () => {
    const { backend, added } = fakeBackend();
    const notices: string[] = [];
    const p = new Playlists(backend, { onError: () => {}, onNotice: (m) => notices.push(m) });
    await p.load();
    const before = p.version;
    await p.addToEssentials([3, 4]);
    expect(added.e).toEqual([3, 4]);
    expect(notices).toEqual(['Added 2 songs to Emergency Essentials.']);
    expect(p.version).toBe(before + 1);
    expect(p.essentials?.id).toBe('e');
  });
});
