import { describe, expect, it } from 'vitest';
import { computeWindow, rowsPerPage, scrollToReveal, type RowWindow, type WindowRequest } from './virtual';

const base: WindowRequest = { scrollTop: 0, viewportHeight: 480, rowHeight: 48, rowCount: 100, overscan: 0 };

function check(overrides: Partial<WindowRequest>, expected: RowWindow): void {
  expect(computeWindow({ ...base, ...overrides })).toEqual(expected);
}

describe('computeWindow', () => {
  it('renders exactly the visible rows at the top', () => {
    check({}, { start: 0, end: 10, offsetTop: 0, totalHeight: 4800 });
  });

  it('includes partly visible rows at both edges', () => {
    check({ scrollTop: 24 }, { start: 0, end: 11, offsetTop: 0, totalHeight: 4800 });
    check({ scrollTop: 100 }, { start: 2, end: 13, offsetTop: 96, totalHeight: 4800 });
  });

  it('adds overscan on both sides, clamped to the list', () => {
    check({ overscan: 5 }, { start: 0, end: 15, offsetTop: 0, totalHeight: 4800 });
    check({ scrollTop: 960, overscan: 5 }, { start: 15, end: 35, offsetTop: 720, totalHeight: 4800 });
    check({ scrollTop: 4320, overscan: 5 }, { start: 85, end: 100, offsetTop: 4080, totalHeight: 4800 });
  });

  it('handles an empty list and a zero row height', () => {
    check({ rowCount: 0 }, { start: 0, end: 0, offsetTop: 0, totalHeight: 0 });
    check({ rowHeight: 0 }, { start: 0, end: 0, offsetTop: 0, totalHeight: 0 });
  });

  it('shows the last rows when scrolled past the end of a list that shrank', () => {
    check({ rowCount: 12, scrollTop: 40_000 }, { start: 2, end: 12, offsetTop: 96, totalHeight: 576 });
    check({ rowCount: 3, scrollTop: 40_000 }, { start: 0, end: 3, offsetTop: 0, totalHeight: 144 });
  });

  it('renders at least one row before layout has measured the viewport', () => {
    check({ viewportHeight: 0 }, { start: 0, end: 1, offsetTop: 0, totalHeight: 4800 });
  });

  it('ignores negative and non-finite input', () => {
    check({ scrollTop: -300, overscan: -2 }, { start: 0, end: 10, offsetTop: 0, totalHeight: 4800 });
    check({ scrollTop: Number.NaN }, { start: 0, end: 10, offsetTop: 0, totalHeight: 4800 });
  });

  it('keeps the DOM small for 100,000 rows anywhere in the list', () => {
    const rowCount = 100_000;
    for (const scrollTop of [0, 1_234_567, 4_799_520, 10_000_000]) {
      const w = computeWindow({ scrollTop, viewportHeight: 700, rowHeight: 48, rowCount, overscan: 8 });
      expect(w.totalHeight).toBe(4_800_000);
      expect(w.end - w.start).toBeLessThanOrEqual(Math.ceil(700 / 48) + 1 + 16);
      expect(w.end).toBeLessThanOrEqual(rowCount);
      expect(w.offsetTop).toBe(w.start * 48);
    }
    const last = computeWindow({ scrollTop: 4_799_300, viewportHeight: 700, rowHeight: 48, rowCount, overscan: 8 });
    expect(last.end).toBe(rowCount);
  });
});

describe('scrollToReveal', () => {
  it('leaves a visible row alone', () => {
    expect(scrollToReveal(3, 48, 0, 480)).toBe(0);
    expect(scrollToReveal(9, 48, 0, 480)).toBe(0);
  });

  it('scrolls up to a row above the viewport', () => {
    expect(scrollToReveal(2, 48, 500, 480)).toBe(96);
  });

  it('scrolls down just enough for a row below the viewport', () => {
    expect(scrollToReveal(10, 48, 0, 480)).toBe(48);
    expect(scrollToReveal(50, 48, 0, 480)).toBe(51 * 48 - 480);
  });

  it('reveals a partly hidden row', () => {
    expect(scrollToReveal(0, 48, 20, 480)).toBe(0);
  });
});

describe('rowsPerPage', () => {
  it('counts whole rows, at least one', () => {
    expect(rowsPerPage(48, 480)).toBe(10);
    expect(rowsPerPage(48, 500)).toBe(10);
    expect(rowsPerPage(48, 10)).toBe(1);
    expect(rowsPerPage(0, 480)).toBe(1);
  });
});
