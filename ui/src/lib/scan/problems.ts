// Files a scan could not read, in words a person understands.

import type { ProblemKind, ScanProblem } from '$lib/backend';

const KIND_LABELS: Record<ProblemKind, string> = {
  corrupt: 'Corrupt',
  unsupported: 'Unsupported format',
  permissionDenied: 'Permission denied',
  notAudio: 'Not audio',
};

/** "Corrupt", "Unsupported format", "Permission denied", "Not audio". */
export function problemKindLabel(kind: ProblemKind): string {
  return KIND_LABELS[kind] ?? kind;
}

/** The order kinds are listed in: what the user can fix first, what is harmless last. */
const KIND_ORDER: ProblemKind[] = ['permissionDenied', 'corrupt', 'unsupported', 'notAudio'];

/** How many problems of each kind, in `KIND_ORDER`, leaving out kinds with none. */
export function countByKind(problems: readonly ScanProblem[]): { kind: ProblemKind; count: number }[] {
  const counts = new Map<ProblemKind, number>();
  for (const p of problems) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
  return KIND_ORDER.filter((k) => counts.has(k)).map((kind) => ({ kind, count: counts.get(kind) ?? 0 }));
}

/** The file's name and the folder it is in: "/a/b/c.mp3" → ["c.mp3", "/a/b"]. */
export function splitPath(path: string): { name: string; folder: string } {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (cut < 0) return { name: path, folder: '' };
  return { name: path.slice(cut + 1) || path, folder: path.slice(0, cut) || path.slice(0, 1) };
}
