import { describe, expect, it } from 'vitest';
import { trackColumns } from './columns';

describe('trackColumns', () => {
  it('drops the genre, then the year, as the list narrows', () => {
    const at = (width: number) => {
      const c = trackColumns(width, { album: true });
      return [c.album, c.year, c.genre];
    };
    expect(at(1000)).toEqual([true, true, true]);
    expect(at(800)).toEqual([true, true, false]);
    expect(at(600)).toEqual([true, false, false]);
    expect(at(640)).toEqual([true, true, false]);
  });

  it('gives the genre room sooner without an album column', () => {
    const c = trackColumns(800, { album: false });
    expect([c.album, c.year, c.genre]).toEqual([false, true, true]);
  });

  it('has one track for each column shown', () => {
    const count = (width: number, album: boolean) => trackColumns(width, { album }).template.split(/ (?![^(]*\))/).length;
    expect(count(1000, true)).toBe(8);
    expect(count(800, true)).toBe(7);
    expect(count(600, true)).toBe(6);
    expect(count(600, false)).toBe(5);
  });
});
