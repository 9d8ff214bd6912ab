import { describe, expect, it } from 'vitest';
import {
  barHeights,
  busiestHour,
  describeFigures,
  change,
  comparisons,
  formatDay,
  heatLevel,
  hourLabel,
  listenedDetail,
  listenedName,
  monthsOf,
  periodLabel,
  shareFileName,
  yearsAgo,
} from './format';
import type { Listened } from '$lib/backend';

const track: Listened = {
  kind: 'track',
  title: 'Halo',
  artist: 'Beyoncé',
  album: 'I Am... Sasha Fierce',
  trackId: null,
  firstAt: 0,
  lastAt: 0,
  listens: 3,
  minutes: 12,
};

describe('rewind format', () => {
  it('reads local ms with UTC getters, whatever the machine zone', () => {
    expect(formatDay(Date.UTC(2019, 10, 28, 23, 30))).toBe('28 Nov 2019');
    expect(periodLabel(2024, 11)).toBe('November 2024');
    expect(periodLabel(2024, null)).toBe('2024');
  });

  it('names tracks, albums and artists', () => {
    expect(listenedName(track)).toBe('Halo');
    expect(listenedDetail(track)).toBe('Beyoncé · I Am... Sasha Fierce');
    expect(listenedName({ ...track, kind: 'album' })).toBe('I Am... Sasha Fierce');
    expect(listenedDetail({ ...track, kind: 'album' })).toBe('Beyoncé');
    expect(listenedName({ ...track, kind: 'artist' })).toBe('Beyoncé');
    expect(yearsAgo(1)).toBe('1 year ago');
    expect(yearsAgo(7)).toBe('7 years ago');
  });

  it('compares a period with the one before', () => {
    expect(change(120, 100)).toBe('+20%');
    expect(change(50, 100)).toBe('−50%');
    expect(change(5, 0)).toBe('new');
    expect(change(0, 0)).toBe('same');
    const rows = comparisons(
      { minutes: 10, listens: 4, tracks: 2, artists: 1 },
      { minutes: 5, listens: 4, tracks: 4, artists: 0 },
    );
    expect(rows.map((r) => r.change)).toEqual(['+100%', 'same', '−50%', 'new']);
  });

  it('scales bars and heat to the largest value', () => {
    expect(barHeights([0, 5, 10], 100)).toEqual([0, 50, 100]);
    expect(barHeights([0, 0], 100)).toEqual([0, 0]);
    expect([0, 1, 5, 9, 10].map((v) => heatLevel(v, 10))).toEqual([0, 1, 2, 4, 4]);
    const clock = new Array<number>(168).fill(0);
    clock[5 * 24 + 21] = 9;
    expect(busiestHour(clock)).toEqual({ weekday: 'Sat', hour: 21 });
    expect(busiestHour(new Array<number>(168).fill(0))).toBeNull();
    expect(hourLabel(0)).toBe('12 am');
    expect(hourLabel(21)).toBe('9 pm');
  });

  it('offers the months there are, and names the picture', () => {
    const now = new Date(2026, 10, 28);
    expect(monthsOf(2026, now)).toHaveLength(11);
    expect(monthsOf(2025, now)).toHaveLength(12);
    expect(shareFileName(2024, 3)).toBe('offbeat-wrap-up-2024-03.png');
    expect(shareFileName(2024, null)).toBe('offbeat-wrap-up-2024.png');
  });
});

describe('page figures', () => {
  it('says when first and last played, and how often', () => {
    expect(describeFigures({ firstAt: null, lastAt: null, listens: 0 })).toBe('Not played yet');
    const d = Date.UTC(2019, 10, 28, 12);
    expect(describeFigures({ firstAt: d, lastAt: d, listens: 1 })).toBe('Played once, 28 Nov 2019');
    expect(describeFigures({ firstAt: d, lastAt: Date.UTC(2026, 10, 20), listens: 14 })).toBe(
      'First played 28 Nov 2019 · Last played 20 Nov 2026 · 14 plays',
    );
  });
});
