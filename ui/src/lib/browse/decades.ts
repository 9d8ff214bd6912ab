// Release years grouped into decades, for the Years page.

import type { YearSummary } from '$lib/backend';
import type { YearRange } from '$lib/nav/routes';

export interface Decade {
  /** First year of the decade, e.g. 1990. */
  start: number;
  /** "1990s". */
  label: string;
  range: YearRange;
  /** The decade's years that have tracks, in the order given (newest first from the backend). */
  years: YearSummary[];
  trackCount: number;
}

/** The first year of `year`'s decade: 1994 → 1990, -5 → -10. */
export function decadeOf(year: number): number {
  return Math.floor(year / 10) * 10;
}

/** Groups years by decade, keeping the order of first appearance (newest first for the backend's list). */
export function groupByDecade(years: readonly YearSummary[]): Decade[] {
  const decades = new Map<number, Decade>();
  for (const y of years) {
    const start = decadeOf(y.year);
    let decade = decades.get(start);
    if (!decade) {
      decade = { start, label: `${start}s`, range: { from: start, to: start + 9 }, years: [], trackCount: 0 };
      decades.set(start, decade);
    }
    decade.years.push(y);
    decade.trackCount += y.trackCount;
  }
  return [...decades.values()];
}
