import { describe, expect, it } from 'vitest';
import { formatRate, formatTimeLeft, nextRate, secondsLeft, type ScanRate } from './rate';

function feed(samples: [done: number, at: number][]): ScanRate | null {
  let rate: ScanRate | null = null;
  for (const [done, at] of samples) rate = nextRate(rate, { done, at });
  return rate;
}

describe('nextRate', () => {
  it('has no rate from a single event', () => {
    expect(feed([[0, 1000]])?.perSecond).toBeNull();
  });

  it('measures files per second between two events', () => {
    expect(feed([
      [0, 0],
      [500, 2000],
    ])?.perSecond).toBe(250);
  });

  it('smooths later measurements', () => {
    // 250/s, then 500/s: 250 × 0.6 + 500 × 0.4.
    expect(feed([
      [0, 0],
      [500, 2000],
      [1500, 4000],
    ])?.perSecond).toBeCloseTo(350);
  });

  it('starts over when a new scan begins', () => {
    const rate = feed([
      [0, 0],
      [5000, 1000],
      [0, 2000],
    ]);
    expect(rate?.perSecond).toBeNull();
    expect(rate?.sample).toEqual({ done: 0, at: 2000 });
  });

  it('ignores an event with no time since the last', () => {
    const rate = feed([
      [0, 0],
      [500, 1000],
      [1000, 1000],
    ]);
    expect(rate?.perSecond).toBe(500);
    expect(rate?.sample).toEqual({ done: 500, at: 1000 });
  });
});

describe('secondsLeft', () => {
  it('divides what is left by the rate', () => {
    expect(secondsLeft(1000, 3000, 100)).toBe(20);
    expect(secondsLeft(3000, 3000, 100)).toBe(0);
    expect(secondsLeft(0, 10, null)).toBeNull();
    expect(secondsLeft(0, 10, 0)).toBeNull();
  });
});

describe('formatting', () => {
  it('reads naturally', () => {
    expect(formatRate(1234.4)).toBe('1,234 files/s');
    expect(formatTimeLeft(30)).toBe('<1 min left');
    expect(formatTimeLeft(190)).toBe('~3 min left');
    expect(formatTimeLeft(3600)).toBe('~1 hr left');
    expect(formatTimeLeft(4800)).toBe('~1 hr 20 min left');
  });
});
