import { describe, expect, it } from 'vitest';
import { CardData } from './card.svelte';

describe('CardData', () => {
  it('keeps the value, or says why it failed, and a retry can succeed', async () => {
    let fail = true;
    const card = new CardData(async () => {
      if (fail) throw new Error('wrapUp failed on purpose');
      return 42;
    });
    await card.load();
    expect(card.value).toBeNull();
    expect(card.error).toContain('failed on purpose');
    expect(card.loading).toBe(false);
    fail = false;
    await card.load();
    expect(card.value).toBe(42);
    expect(card.error).toBeNull();
  });

  it('lets a newer load win over an older one that answers later', async () => {
    const answers: ((v: number) => void)[] = [];
    const card = new CardData(() => new Promise<number>((resolve) => answers.push(resolve)));
    const first = card.load();
    const second = card.load();
    answers[1]?.(2);
    answers[0]?.(1);
    await Promise.all([first, second]);
    expect(card.value).toBe(2);
  });
});
