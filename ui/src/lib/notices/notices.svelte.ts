// Quiet, non-modal messages: a failed action, a playback error. Each one hides
// itself after a while; the same message twice shows once, with a fresh timer.

/** A problem (the default), or a confirmation that something was done. */
export type NoticeTone = 'problem' | 'done';

export interface Notice {
  id: number;
  message: string;
  tone: NoticeTone;
}

export interface NoticeOptions {
  hideAfterMs?: number;
  /** Older notices are dropped beyond this many. */
  limit?: number;
}

export class Notices {
  items = $state<Notice[]>([]);

  #nextId = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();
  readonly #hideAfterMs: number;
  readonly #limit: number;

  constructor(options: NoticeOptions = {}) {
    this.#hideAfterMs = options.hideAfterMs ?? 6000;
    this.#limit = options.limit ?? 3;
  }

  show(message: string, tone: NoticeTone = 'problem'): void {
    const existing = this.items.find((n) => n.message === message);
    const id = existing?.id ?? this.#nextId++;
    if (!existing) {
      this.items.push({ id, message, tone });
      while (this.items.length > this.#limit) {
        const oldest = this.items[0];
        if (oldest) this.dismiss(oldest.id);
      }
    }
    clearTimeout(this.#timers.get(id));
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), this.#hideAfterMs),
    );
  }

  dismiss(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    const index = this.items.findIndex((n) => n.id === id);
    if (index !== -1) this.items.splice(index, 1);
  }
}
