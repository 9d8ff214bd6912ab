// Which pages of a long list to fetch, and how long the list is known to be
// when its length is only learnt by reading it: a page shorter than asked for
// is the last one.

/** The pages holding items `start` to `end` (exclusive). */
export function pagesCovering(start: number, end: number, pageSize: number): number[] {
  if (!(pageSize > 0) || end <= start) return [];
  const first = Math.max(0, Math.floor(start / pageSize));
  const last = Math.max(first, Math.floor((end - 1) / pageSize));
  const pages: number[] = [];
  for (let p = first; p <= last; p++) pages.push(p);
  return pages;
}

export interface Extent {
  /** Items known to exist. */
  count: number;
  /** The last page has been read: there are no more items. */
  complete: boolean;
}

/** The known extent from the lengths of the pages read so far. */
export function knownExtent(pageLengths: ReadonlyMap<number, number>, pageSize: number): Extent {
  if (pageLengths.size === 0) return { count: 0, complete: false };
  const last = Math.max(...pageLengths.keys());
  const length = pageLengths.get(last) ?? 0;
  if (length < pageSize) return { count: last * pageSize + length, complete: true };
  return { count: (last + 1) * pageSize, complete: false };
}
