import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Notices } from './notices.svelte';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Notices', () => {
  it('hides a notice after its time', () => {
    const notices = new Notices({ hideAfterMs: 6000 });
    notices.show('Could not open file');
    expect(notices.items.map((n) => n.message)).toEqual(['Could not open file']);
    vi.advanceTimersByTime(5999);
    expect(notices.items).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(notices.items).toHaveLength(0);
  });

  it('shows a repeated message once and restarts its timer', () => {
    const notices = new Notices({ hideAfterMs: 6000 });
    notices.show('Device lost');
    vi.advanceTimersByTime(4000);
    notices.show('Device lost');
    expect(notices.items).toHaveLength(1);
    vi.advanceTimersByTime(4000);
    expect(notices.items).toHaveLength(1);
    vi.advanceTimersByTime(2000);
    expect(notices.items).toHaveLength(0);
  });

  it('drops the oldest beyond the limit, and dismisses by id', () => {
    const notices = new Notices({ limit: 2 });
    notices.show('one');
    notices.show('two');
    notices.show('three');
    expect(notices.items.map((n) => n.message)).toEqual(['two', 'three']);
    notices.dismiss(notices.items[0]!.id);
    expect(notices.items.map((n) => n.message)).toEqual(['three']);
  });
});
