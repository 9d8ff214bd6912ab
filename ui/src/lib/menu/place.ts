/** Where a menu opened at a point goes: at the point, but moved left or up as far as it
 *  takes to stay inside the window (and never past its top-left corner). */
export function placeMenu(
  at: { x: number; y: number },
  menu: { width: number; height: number },
  window: { width: number; height: number },
  margin = 8,
): { left: number; top: number } {
  const left = Math.min(at.x, window.width - menu.width - margin);
  const top = Math.min(at.y, window.height - menu.height - margin);
  return { left: Math.max(margin, left), top: Math.max(margin, top) };
}

/** The item focus moves to from `current` on a key, wrapping at both ends; `null` for a
 *  key that does not move it. */
export function nextItem(current: number, count: number, key: string): number | null {
  if (count === 0) return null;
  switch (key) {
    case 'ArrowDown':
      return (current + 1 + count) % count;
    case 'ArrowUp':
      return (current - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
