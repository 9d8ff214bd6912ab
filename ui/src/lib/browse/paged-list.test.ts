import { describe, expect, it, vi } from 'vitest';
import { PagedList } from './paged-list.svelte';
import { knownExtent, pagesCovering } from './paging';

describe('pagesCovering', () => {
  it('lists the pages holding a range', () => {
    expect(pagesCovering(0, 10, 200)).toEqual([0]);
    expect(pagesCovering(190, 410, 200)).toEqual([0, 1, 2]);
    expect(pagesCovering(200, 400, 200)).toEqual([1]);
    expect(pagesCovering(5, 5, 200)).toEqual([]);
  });
});

describe('knownExtent', () => {
  it('knows the end once a short page is read', () => {
    expect(knownExtent(new Map(), 200)).toEqual({ count: 0, complete: false });
    expect(knownExtent(new Map([[0, 0]]), 200)).toEqual({ count: 0, complete: true });
    expect(knownExtent(new Map([[0, 200]]), 200)).toEqual({ count: 200, complete: false });
    expect(
      knownExtent(
        new Map([
          [0, 200],
          [1, 200],
          [2, 37],
        ]),
        200,
      ),
    ).toEqual({ count: 437, complete: true });
  });
});

/** A list of `total` numbers, with each read recorded and answered by hand. */
function source(initialTotal: number) {
  let total = initialTotal;
  const reads: number[] = [];
  const waiting: (() => void)[] = [];
  const fetch = vi.fn((offset: number, limit: number) => {
    reads.push(offset);
    const snapshot = total;
    return new Promise<number[]>((resolve) => {
      waiting.push(() => {
        const n = Math.max(0, Math.min(limit, snapshot - offset));
        resolve(Array.from({ length: n }, (_, i) => offset + i));
      });
    });
  });
  const answerAll = async (): Promise<void> => {
    while (waiting.length) waiting.shift()?.();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { fetch, reads, answerAll, setTotal: (n: number) => (total = n) };
}

describe('PagedList', () => {
  it('reads the first page, then more as the range nears the known end', async () => {
    const s = source(450);
    const list = new PagedList(s.fetch, { pageSize: 200 });
    list.ensure(0, 30);
    await s.answerAll();
    expect(list.loaded).toBe(true);
    expect(list.count).toBe(200);
    expect(list.complete).toBe(false);
    expect(list.item(5)).toBe(5);
    expect(list.item(250)).toBeNull();

    list.ensure(80, 120); // within half a page of 200
    await s.answerAll();
    expect(s.reads).toEqual([0, 200]);
    expect(list.count).toBe(400);

    list.ensure(380, 420);
    await s.answerAll();
    expect(list.count).toBe(450);
    expect(list.complete).toBe(true);
    expect(list.item(449)).toBe(449);

    // Everything is known and current: nothing more to read.
    list.ensure(0, 450);
    expect(s.reads).toEqual([0, 200, 400]);
  });

  it('does not read a page twice while it is on its way', async () => {
    const s = source(100);
    const list = new PagedList(s.fetch, { pageSize: 200 });
    list.ensure(0, 10);
    list.ensure(0, 20);
    expect(s.reads).toEqual([0]);
    await s.answerAll();
    expect(list.count).toBe(100);
  });

  it('re-reads pages in view after the library changes, keeping old items meanwhile', async () => {
    const s = source(450);
    const list = new PagedList(s.fetch, { pageSize: 200 });
    list.sync(1);
    list.ensure(0, 10);
    await s.answerAll();
    list.ensure(150, 250);
    await s.answerAll();
    list.ensure(350, 450);
    await s.answerAll();
    expect(list.count).toBe(450);

    s.setTotal(150);
    list.sync(1); // same revision: nothing stale
    list.ensure(0, 10);
    expect(s.reads).toEqual([0, 200, 400]);

    list.sync(2);
    list.ensure(0, 10);
    expect(list.item(300)).toBe(300);
    await s.answerAll();
    // Page 0 came back short: the list now ends there.
    expect(list.count).toBe(150);
    expect(list.complete).toBe(true);
    expect(list.item(300)).toBeNull();
  });

  it('reports a failed read once and does not retry until the library changes', async () => {
    const onError = vi.fn();
    const fetch = vi.fn(() => Promise.reject(new Error('locked')));
    const list = new PagedList<number>(fetch, { pageSize: 200, onError });
    list.ensure(0, 10);
    await Promise.resolve();
    await Promise.resolve();
    list.ensure(0, 10);
    expect(fetch).toHaveBeenCalledOnce();
    expect(onError).toHaveBeenCalledOnce();
    list.invalidate();
    list.ensure(0, 10);
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
