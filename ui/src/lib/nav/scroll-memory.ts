// A Svelte action that remembers how far a page was scrolled and puts it back
// when the user returns to the page. The page's data may still be loading on
// return, so the position is re-applied as the content grows, until it fits,
// the user scrolls, or a few seconds pass.

import type { Route } from './routes';

export interface ScrollMemory {
  store: { savedScroll(route: Route): number; saveScroll(route: Route, top: number): void };
  route: Route;
}

const GIVE_UP_MS = 4000;

export function keepScroll(node: HTMLElement, memory: ScrollMemory): { destroy(): void } {
  let target = memory.store.savedScroll(memory.route);
  let observer: MutationObserver | null = null;
  let giveUp: ReturnType<typeof setTimeout> | undefined;

  const stop = (): void => {
    observer?.disconnect();
    observer = null;
    clearTimeout(giveUp);
    target = 0;
  };
  const restore = (): void => {
    if (target <= 0) return;
    node.scrollTop = target;
    if (Math.abs(node.scrollTop - target) < 2) stop();
  };
  const save = (): void => memory.store.saveScroll(memory.route, node.scrollTop);

  if (target > 0) {
    observer = new MutationObserver(restore);
    observer.observe(node, { subtree: true, childList: true, attributes: true, attributeFilter: ['style'] });
    giveUp = setTimeout(stop, GIVE_UP_MS);
    requestAnimationFrame(restore);
  }
  node.addEventListener('scroll', save, { passive: true });
  // Any scrolling by the user wins over restoring.
  node.addEventListener('wheel', stop, { passive: true });
  node.addEventListener('pointerdown', stop);
  node.addEventListener('keydown', stop);

  return {
    destroy() {
      stop();
      node.removeEventListener('scroll', save);
      node.removeEventListener('wheel', stop);
      node.removeEventListener('pointerdown', stop);
      node.removeEventListener('keydown', stop);
    },
  };
}
