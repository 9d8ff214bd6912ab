// Windowing for a grid of equal tiles: the rows of tiles in view, each row
// windowed like a list row, and keyboard moves between tiles.

import { computeWindow } from '$lib/library/virtual';

export interface GridMetrics {
  /** Narrowest a tile may be. */
  minTileWidth: number;
  /** Space between tiles, across and down. */
  gap: number;
  /** Height under the square art: title, artist, year. */
  captionHeight: number;
  /** At most this many columns; the tiles then stop growing at `maxTileWidth`. */
  maxColumns?: number;
  maxTileWidth?: number;
}

export interface GridLayout {
  columns: number;
  tileWidth: number;
  /** A row of tiles with the gap beneath it. */
  rowHeight: number;
}

/** As many columns as fit `width` at the minimum tile width; tiles share what is left over. */
export function gridLayout(width: number, m: GridMetrics): GridLayout {
  const w = Number.isFinite(width) && width > 0 ? width : 0;
  const fit = Math.max(1, Math.floor((w + m.gap) / (m.minTileWidth + m.gap)));
  const columns = Math.min(fit, m.maxColumns ?? fit);
  const fill = Math.max(1, Math.floor((w - m.gap * (columns - 1)) / columns));
  const tileWidth = Math.min(fill, m.maxTileWidth ?? fill);
  return { columns, tileWidth, rowHeight: tileWidth + m.captionHeight + m.gap };
}

export interface GridWindowRequest {
  scrollTop: number;
  viewportHeight: number;
  layout: GridLayout;
  itemCount: number;
  /** Extra rows of tiles above and below. */
  overscanRows: number;
}

export interface GridWindow {
  /** Index of the first tile to render. */
  start: number;
  /** One past the last tile to render. */
  end: number;
  /** Offset of the first rendered row from the top of the grid. */
  offsetTop: number;
  totalHeight: number;
}

export function computeGridWindow(req: GridWindowRequest): GridWindow {
  const { columns, rowHeight } = req.layout;
  const count = Math.max(0, Math.floor(req.itemCount));
  const rows = Math.ceil(count / columns);
  const w = computeWindow({
    scrollTop: req.scrollTop,
    viewportHeight: req.viewportHeight,
    rowHeight,
    rowCount: rows,
    overscan: req.overscanRows,
  });
  return {
    start: w.start * columns,
    end: Math.min(count, w.end * columns),
    offsetTop: w.offsetTop,
    totalHeight: w.totalHeight,
  };
}

/**
 * The tile a key moves to from `index`: arrows by one tile or row, Page Up/Down
 * by `pageRows` rows, Home/End to the ends. `null` for keys that do not move.
 */
export function gridKeyTarget(key: string, index: number, columns: number, count: number, pageRows: number): number | null {
  if (count <= 0) return null;
  const clamp = (i: number): number => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowRight':
      return clamp(index + 1);
    case 'ArrowLeft':
      return clamp(index - 1);
    case 'ArrowDown':
      return index + columns < count ? index + columns : index;
    case 'ArrowUp':
      return index - columns >= 0 ? index - columns : index;
    case 'PageDown':
      return clamp(index + columns * Math.max(1, pageRows));
    case 'PageUp':
      return clamp(index - columns * Math.max(1, pageRows));
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
