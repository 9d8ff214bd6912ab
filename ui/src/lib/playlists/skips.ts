// Playing a playlist whose entries are not all on this device: the queue holds only the
// songs that are, and each missing one is announced when playback reaches the place it
// would have played (not all at once when Play is pressed).

/** What a notice says about an entry that was skipped. */
export interface Skipped {
  title: string;
  artist: string;
}

/** A playlist entry as far as playing it goes. */
export interface PlayableEntry {
  trackId: number | null;
  track: Skipped;
}

/** The queue a playlist was played as, and where its missing entries fall in it. */
export interface SkipPlan {
  /** The queue, as track ids. */
  trackIds: number[];
  /** Queue position to start at. */
  start: number;
  /** `before[i]`: the missing entries just before queue position `i` (from the start on). */
  before: Skipped[][];
  /** Missing entries after the last song on this device. */
  after: Skipped[];
}

/** The queue for playing `entries` from index `from`, with its skipped entries placed. */
export function planSkips(entries: PlayableEntry[], from: number): SkipPlan {
  const trackIds: number[] = [];
  const before: Skipped[][] = [];
  let pending: Skipped[] = [];
  let start = 0;
  entries.forEach((entry, index) => {
    if (entry.trackId === null) {
      if (index >= from) pending.push({ title: entry.track.title, artist: entry.track.artist });
      return;
    }
    if (index < from) start += 1;
    before.push(pending);
    pending = [];
    trackIds.push(entry.trackId);
  });
  return { trackIds, start, before, after: pending };
}

/** Whether the queue is (still) the one the plan was made for. */
export function isPlanned(plan: SkipPlan, queueTrackIds: number[]): boolean {
  return queueTrackIds.length === plan.trackIds.length && queueTrackIds.every((id, i) => id === plan.trackIds[i]);
}

/**
 * The entries reached when queue position `current` starts playing: the missing ones just
 * before it, and, at the last song, also those after it (the queue ends there).
 */
export function reached(plan: SkipPlan, current: number | null): Skipped[] {
  if (current === null) return [];
  const before = plan.before[current] ?? [];
  return current === plan.trackIds.length - 1 ? [...before, ...plan.after] : before;
}

/** The notice for entries skipped at one place. */
export function skipNotice(skipped: Skipped[]): string {
  const name = (s: Skipped) => `“${s.title}”${s.artist ? ` by ${s.artist}` : ''}`;
  const [only] = skipped;
  if (skipped.length === 1 && only) return `Skipped ${name(only)}: it is not on this device.`;
  const shown = skipped.slice(0, 3).map(name).join(', ');
  const more = skipped.length > 3 ? ` and ${skipped.length - 3} more` : '';
  return `Skipped ${skipped.length} songs not on this device: ${shown}${more}.`;
}
