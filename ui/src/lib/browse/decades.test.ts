import { describe, expect, it } from 'vitest';
import { decadeOf, groupByDecade } from './decades';

describe('decadeOf', () => {
  it('finds the decade start', () => {
    const cases: [number, number][] = [
      [1994, 1990],
      [1990, 1990],
      [1999, 1990],
      [2000, 2000],
      [7, 0],
    ];
    for (const [year, start] of cases) expect(decadeOf(year), String(year)).toBe(start);
  });
});

describe('groupByDecade', () => {
  it('groups newest-first years into newest-first decades with totals', () => {
    const decades = groupByDecade([
      { year: 2023, trackCount: 2 },
      { year: 2021, trackCount: 3 },
      { year: 2019, trackCount: 3 },
      { year: 1999, trackCount: 1 },
      { year: 1990, trackCount: 4 },
    ]);
    expect(decades.map((d) => [d.label, d.trackCount, d.years.map((y) => y.year)])).toEqual([
      ['2020s', 5, [2023, 2021]],
      ['2010s', 3, [2019]],
      ['1990s', 5, [1999, 1990]],
    ]);
    expect(decades[2]?.range).toEqual({ from: 1990, to: 1999 });
  });

  it('gives nothing for no years', () => {
    expect(groupByDecade([])).toEqual([]);
  });
});
