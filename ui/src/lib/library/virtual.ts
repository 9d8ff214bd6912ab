// Windowing for fixed-height lists: which rows to render for a scroll position.
// Pure arithmetic, so a list of 100,000 tracks costs the DOM only a screenful.

export interface WindowRequest {
  /** Pixels scrolled past the first row. */
  scrollTop: number;
  /** Height of the area rows are visible in. */
  viewportHeight: number;
  rowHeight: number;
  rowCount: number;
  /** Extra rows rendered above and below the visible ones, so fast scrolling shows no gaps. */
  overscan: number;
}

export interface RowWindow {
  /** Index of the first row to render. */
  start: number;
  /** One past the last row to render; `start === end` when nothing is rendered. */
  end: number;
  /** Offset of row `start` from the top of the list. */
  offsetTop: number;
  /** Height of all rows, for the spacer that gives the scrollbar its size. */
  totalHeight: number;
}

function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export function computeWindow(req: WindowRequest): RowWindow {
  const rowCount = Math.floor(nonNegative(req.rowCount));
  const rowHeight = nonNegative(req.rowHeight);
  const totalHeight = rowCount * rowHeight;
  if (rowCount === 0 || rowHeight === 0) return { start: 0, end: 0, offsetTop: 0, totalHeight };

  const overscan = Math.floor(nonNegative(req.overscan));
  const viewportHeight = nonNegative(req.viewportHeight);
  // A list that shrank under the scroll position (a new search) still shows its last rows.
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const scrollTop = Math.min(nonNegative(req.scrollTop), maxScroll);

  const firstVisible = Math.min(rowCount - 1, Math.floor(scrollTop / rowHeight));
  const lastVisible = Math.min(rowCount, Math.ceil((scrollTop + viewportHeight) / rowHeight));
  const start = Math.max(0, firstVisible - overscan);
  const end = Math.min(rowCount, Math.max(lastVisible, firstVisible + 1) + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight };
}

/**
 * The scroll position that brings row `index` fully into view while moving as
 * little as possible; the current position when the row is already visible.
 */
export function scrollToReveal(
  index: number,
  rowHeight: number,
  scrollTop: number,
  viewportHeight: number,
): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** How many whole rows fit in the viewport, at least one; the step for Page Up and Page Down. */
export function rowsPerPage(rowHeight: number, viewportHeight: number): number {
  if (!(rowHeight > 0)) return 1;
  return Math.max(1, Math.floor(nonNegative(viewportHeight) / rowHeight));
}
