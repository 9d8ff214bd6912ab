import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration, formatTotalDuration } from './format';

function check<I, O>(f: (input: I) => O, cases: [I, O][]): void {
  for (const [input, expected] of cases) expect(f(input), `input ${String(input)}`).toBe(expected);
}

describe('formatDuration', () => {
  it('formats minutes and seconds', () => {
    check(formatDuration, [
      [0, '0:00'],
      [999, '0:00'],
      [1000, '0:01'],
      [59_999, '0:59'],
      [60_000, '1:00'],
      [61_500, '1:01'],
      [754_000, '12:34'],
      [3_599_999, '59:59'],
    ]);
  });

  it('adds hours from one hour up', () => {
    check(formatDuration, [
      [3_600_000, '1:00:00'],
      [3_661_000, '1:01:01'],
      [36_000_000 + 9_000, '10:00:09'],
    ]);
  });

  it('reads nonsense as zero', () => {
    check(formatDuration, [
      [-5000, '0:00'],
      [Number.NaN, '0:00'],
      [Number.POSITIVE_INFINITY, '0:00'],
    ]);
  });
});

describe('formatCount', () => {
  it('pluralises and groups digits', () => {
    expect(formatCount(1, 'song')).toBe('1 song');
    expect(formatCount(0, 'song')).toBe('0 songs');
    expect(formatCount(12_480, 'song')).toBe('12,480 songs');
    expect(formatCount(2, 'match', 'matches')).toBe('2 matches');
  });

  it('marks a count that stopped at a limit', () => {
    expect(formatCount(1_000, 'song', 'songs', true)).toBe('1,000+ songs');
    expect(formatCount(1, 'artist', 'artists', true)).toBe('1+ artists');
  });
});

describe('formatTotalDuration', () => {
  it('scales its unit with the total', () => {
    check(formatTotalDuration, [
      [0, '0 min'],
      [26_400, '26 sec'],
      [59_600, '1 min'],
      [42 * 60_000, '42 min'],
      [60 * 60_000, '1 hr'],
      [185 * 60_000, '3 hr 5 min'],
      [52 * 3_600_000, '2 days 4 hr'],
      [72 * 3_600_000, '3 days'],
    ]);
  });
});
