import { describe, expect, it } from 'vitest';
import { hueOf, initialsOf } from './artwork';

describe('initialsOf', () => {
  it('takes the first and last significant words', () => {
    const cases: [string, string][] = [
      ['Kind of Blue', 'KB'],
      ['The Dark Side of the Moon', 'DM'],
      ['Abbey Road', 'AR'],
      ['Blonde', 'B'],
      ['1989', '1'],
      ['élan vital', 'ÉV'],
      ['', '♪'],
      ['  --  ', '♪'],
    ];
    for (const [name, expected] of cases) expect(initialsOf(name), name).toBe(expected);
  });
});

describe('hueOf', () => {
  it('is stable and in range', () => {
    expect(hueOf('Abbey Road')).toBe(hueOf('Abbey Road'));
    for (const name of ['', 'a', 'Kind of Blue', 'x'.repeat(500)]) {
      const h = hueOf(name);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(360);
    }
  });
});
