// Adding a music folder: the user picks it, the backend scans it, and the
// sidebar shows progress and then what the scan found.

import type { ScanReport } from '$lib/backend';

export interface FolderSource {
  chooseFolder(): Promise<string | null>;
  addFolder(path: string): Promise<ScanReport>;
}

export type ScanPhase = 'idle' | 'scanning' | 'done';

export class FolderScan {
  phase = $state<ScanPhase>('idle');
  /** The folder being scanned or last scanned. */
  folder = $state<string | null>(null);
  report = $state.raw<ScanReport | null>(null);

  readonly #source: FolderSource;
  readonly #afterScan: () => void;
  readonly #onError: (error: unknown) => void;

  constructor(source: FolderSource, afterScan: () => void, onError: (error: unknown) => void) {
    this.#source = source;
    this.#afterScan = afterScan;
    this.#onError = onError;
  }

  /** Asks for a folder and scans it; does nothing if the user cancels or a scan is running. */
  async addFolder(): Promise<void> {
    if (this.phase === 'scanning') return;
    let path: string | null;
    try {
      path = await this.#source.chooseFolder();
    } catch (e) {
      this.#onError(e);
      return;
    }
    if (path === null) return;

    this.phase = 'scanning';
    this.folder = path;
    this.report = null;
    try {
      this.report = await this.#source.addFolder(path);
      this.phase = 'done';
    } catch (e) {
      this.phase = 'idle';
      this.#onError(e);
    }
    this.#afterScan();
  }

  /** Hides the last scan's summary. */
  dismiss(): void {
    if (this.phase === 'done') this.phase = 'idle';
    this.report = null;
  }
}
