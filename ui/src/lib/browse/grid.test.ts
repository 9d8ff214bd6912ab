import { describe, expect, it } from 'vitest';
import { computeGridWindow, gridKeyTarget, gridLayout, type GridMetrics } from './grid';

const METRICS: GridMetrics = { minTileWidth: 160, gap: 20, captionHeight: 60 };

describe('gridLayout', () => {
  it('fits as many columns as the width allows and widens the tiles to fill it', () => {
    // 4 × 160 + 3 × 20 = 700 fits 720; 5 columns would need 880.
    expect(gridLayout(720, METRICS)).toEqual({ columns: 4, tileWidth: 165, rowHeight: 245 });
    expect(gridLayout(880, METRICS)).toEqual({ columns: 5, tileWidth: 160, rowHeight: 240 });
  });

  it('caps the columns and the tile width when asked', () => {
    expect(gridLayout(1600, { ...METRICS, maxColumns: 6, maxTileWidth: 200 })).toEqual({
      columns: 6,
      tileWidth: 200,
      rowHeight: 280,
    });
    expect(gridLayout(720, { ...METRICS, maxColumns: 6, maxTileWidth: 200 }).columns).toBe(4);
  });

  it('keeps one column when narrower than a tile, and survives no width', () => {
    expect(gridLayout(100, METRICS).columns).toBe(1);
    expect(gridLayout(100, METRICS).tileWidth).toBe(100);
    expect(gridLayout(0, METRICS).columns).toBe(1);
    expect(gridLayout(Number.NaN, METRICS).tileWidth).toBe(1);
  });
});

describe('computeGridWindow', () => {
  const layout = { columns: 5, tileWidth: 160, rowHeight: 240 };

  it('renders the rows in view, whole rows of tiles', () => {
    expect(computeGridWindow({ scrollTop: 0, viewportHeight: 600, layout, itemCount: 1000, overscanRows: 0 })).toEqual({
      start: 0,
      end: 15,
      offsetTop: 0,
      totalHeight: 200 * 240,
    });
    expect(computeGridWindow({ scrollTop: 2400, viewportHeight: 600, layout, itemCount: 1000, overscanRows: 1 })).toEqual({
      start: 45,
      end: 70,
      offsetTop: 9 * 240,
      totalHeight: 200 * 240,
    });
  });

  it('stops at the last tile of a partial last row', () => {
    const w = computeGridWindow({ scrollTop: 1e9, viewportHeight: 600, layout, itemCount: 23, overscanRows: 2 });
    expect(w.end).toBe(23);
    expect(w.totalHeight).toBe(5 * 240);
  });

  it('keeps the DOM small for 10,000 albums', () => {
    const w = computeGridWindow({ scrollTop: 123_456, viewportHeight: 700, layout, itemCount: 10_000, overscanRows: 2 });
    expect(w.end - w.start).toBeLessThanOrEqual(5 * (Math.ceil(700 / 240) + 1 + 4));
  });

  it('renders nothing for no items', () => {
    expect(computeGridWindow({ scrollTop: 0, viewportHeight: 600, layout, itemCount: 0, overscanRows: 2 })).toEqual({
      start: 0,
      end: 0,
      offsetTop: 0,
      totalHeight: 0,
    });
  });
});

describe('gridKeyTarget', () => {
  it('moves by tile, row, page and to the ends', () => {
    const cases: [string, number, number | null][] = [
      ['ArrowRight', 0, 1],
      ['ArrowLeft', 0, 0],
      ['ArrowDown', 2, 6],
      ['ArrowDown', 20, 20], // no tile below in the last row
      ['ArrowDown', 17, 21],
      ['ArrowUp', 6, 2],
      ['ArrowUp', 2, 2],
      ['PageDown', 1, 9],
      ['PageUp', 21, 13],
      ['Home', 13, 0],
      ['End', 3, 21],
      ['ArrowRight', 21, 21],
      ['a', 3, null],
    ];
    for (const [key, from, to] of cases) expect(gridKeyTarget(key, from, 4, 22, 2), `${key} from ${from}`).toBe(to);
  });

  it('works as a plain list with one column', () => {
    expect(gridKeyTarget('ArrowDown', 3, 1, 10, 5)).toBe(4);
    expect(gridKeyTarget('PageDown', 3, 1, 10, 5)).toBe(8);
    expect(gridKeyTarget('ArrowDown', 0, 1, 0, 5)).toBeNull();
  });
});
