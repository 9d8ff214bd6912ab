import { describe, expect, it } from 'vitest';
import { nextItem, placeMenu } from './place';

describe('placeMenu', () => {
  const window = { width: 1280, height: 800 };
  const menu = { width: 240, height: 300 };

  it('opens at the pointer when it fits', () => {
    expect(placeMenu({ x: 100, y: 120 }, menu, window)).toEqual({ left: 100, top: 120 });
  });

  it('moves left and up to stay inside the window', () => {
    expect(placeMenu({ x: 1200, y: 700 }, menu, window)).toEqual({ left: 1032, top: 492 });
  });

  it('never goes past the top-left corner, even when the window is too small', () => {
    expect(placeMenu({ x: 50, y: 50 }, menu, { width: 200, height: 200 })).toEqual({ left: 8, top: 8 });
  });
});

describe('nextItem', () => {
  it('moves down and up, wrapping at both ends', () => {
    expect(nextItem(0, 3, 'ArrowDown')).toBe(1);
    expect(nextItem(2, 3, 'ArrowDown')).toBe(0);
    expect(nextItem(0, 3, 'ArrowUp')).toBe(2);
  });

  it('jumps to the first and last item', () => {
    expect(nextItem(1, 5, 'Home')).toBe(0);
    expect(nextItem(1, 5, 'End')).toBe(4);
  });

  it('ignores other keys and empty menus', () => {
    expect(nextItem(1, 5, 'x')).toBeNull();
    expect(nextItem(0, 0, 'ArrowDown')).toBeNull();
  });
});
