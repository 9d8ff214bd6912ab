// Adding a music folder: the user picks it, the backend scans it, and the
// sidebar shows progress (see `ScanActivity`) and then what the scan found.

import type { ScanReport } from '$lib/backend';

export interface FolderSource {
  chooseFolder(): Promise<string | null>;
  addFolder(path: string): Promise<ScanReport>;
}

/** The running-scan display, told when this window's scan starts and ends. */
export interface ScanDisplay {
  readonly running: boolean;
  /** The user asked to stop the scan: its failure is the stop, not an error. */
  readonly stopping: boolean;
  begin(folder: string): void;
  end(): void;
}

export type ScanPhase = 'idle' | 'scanning' | 'done';

export class FolderScan {
  phase = $state<ScanPhase>('idle');
  /** The folder being scanned or last scanned. */
  folder = $state<string | null>(null);
  report = $state.raw<ScanReport | null>(null);

  readonly #source: FolderSource;
  readonly #display: ScanDisplay;
  readonly #afterScan: () => void;
  readonly #onError: (error: unknown) => void;

  constructor(source: FolderSource, display: ScanDisplay, afterScan: () => void, onError: (error: unknown) => void) {
    this.#source = source;
    this.#display = display;
    this.#afterScan = afterScan;
    this.#onError = onError;
  }

  /** True while any scan runs, this window's or another (the backend runs one at a time). */
  get busy(): boolean {
    return this.phase === 'scanning' || this.#display.running;
  }

  /** Asks for a folder and scans it; does nothing if the user cancels or a scan is running. */
  async addFolder(): Promise<void> {
    if (this.busy) return;
    let path: string | null;
    try {
      path = await this.#source.chooseFolder();
    } catch (e) {
      this.#onError(e);
      return;
    }
    if (path === null || this.busy) return;

    this.phase = 'scanning';
    this.folder = path;
    this.report = null;
    this.#display.begin(path);
    try {
      this.report = await this.#source.addFolder(path);
      this.phase = 'done';
    } catch (e) {
      this.phase = 'idle';
      if (!this.#display.stopping) this.#onError(e);
    }
    this.#display.end();
    this.#afterScan();
  }

  /** Hides the last scan's summary. */
  dismiss(): void {
    if (this.phase === 'done') this.phase = 'idle';
    this.report = null;
  }
}
