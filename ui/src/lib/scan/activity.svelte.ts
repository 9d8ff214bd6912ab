// The running scan as the sidebar shows it, whoever started it (this window's
// "Add folder", or the first-run demo scan): files done of files found, the
// folder being read, how fast it goes, and stopping it.

import type { ScanProgress, Unsubscribe } from '$lib/backend';
import { nextRate, type ScanRate } from './rate';

/** What the activity needs from the backend; tests pass fakes. */
export interface ScanControls {
  cancelScan(): Promise<void>;
  onScanProgressed(handler: (progress: ScanProgress) => void): Promise<Unsubscribe>;
  /** The backend's word that a cancelled scan has stopped, and how far it got. */
  onScanStopped(handler: (progress: ScanProgress) => void): Promise<Unsubscribe>;
}

export interface ScanActivityOptions {
  /** Milliseconds on a steady clock, for the rate. */
  now?: () => number;
  /** Called when a progress event says more files were indexed; views may refresh. */
  onIndexed?: () => void;
  onError?: (error: unknown) => void;
  /**
   * How long to wait after a cancelled scan's last event before calling it stopped,
   * should the backend's `scanStopped` event not come.
   */
  stopGraceMs?: number;
}

/** Where a cancelled scan had got to when it stopped. */
export interface StoppedScan {
  filesDone: number;
  filesFound: number;
}

export class ScanActivity {
  /** The latest event of the running scan; `null` when none runs (or none has reported yet). */
  progress = $state.raw<ScanProgress | null>(null);
  /** Files per second, once two events have come in. */
  perSecond = $state<number | null>(null);
  /** The user asked to stop and the scan has not stopped yet. */
  stopping = $state(false);
  /** The last scan was stopped by the user; cleared by the next scan or `dismiss()`. */
  stopped = $state.raw<StoppedScan | null>(null);

  /** A scan this window started, before its first event: the folder it reads. */
  #starting = $state<string | null>(null);
  #rate: ScanRate | null = null;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #controls: ScanControls;
  readonly #now: () => number;
  readonly #onIndexed: () => void;
  readonly #onError: (error: unknown) => void;
  readonly #stopGraceMs: number;

  constructor(controls: ScanControls, options: ScanActivityOptions = {}) {
    this.#controls = controls;
    this.#now = options.now ?? (() => Date.now());
    this.#onIndexed = options.onIndexed ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#stopGraceMs = options.stopGraceMs ?? 8000;
  }

  readonly running: boolean = $derived(this.#starting !== null || this.progress !== null);
  /** 0..1, or `null` while the scan is still finding files. */
  readonly fraction: number | null = $derived(
    this.progress && this.progress.filesFound > 0
      ? Math.min(1, this.progress.filesDone / this.progress.filesFound)
      : null,
  );
  /** The folder being read. */
  readonly folder: string | null = $derived(this.progress?.currentFolder ?? this.#starting);

  /** Follows the backend's progress events. */
  async start(): Promise<Unsubscribe> {
    try {
      const progressed = await this.#controls.onScanProgressed((p) => this.apply(p));
      const stopped = await this.#controls.onScanStopped((p) => this.stoppedAt(p)).catch((e: unknown) => {
        progressed();
        throw e;
      });
      return () => {
        progressed();
        stopped();
      };
    } catch (e) {
      this.#onError(e);
      return () => {};
    }
  }

  /** The backend says the cancelled scan stopped, having read `p.filesDone` files. */
  stoppedAt(p: ScanProgress): void {
    this.progress = p;
    this.#markStopped();
    this.#reset();
    this.#onIndexed();
  }

  /** This window is about to scan `folder`: show it at once, before the first event. */
  begin(folder: string): void {
    this.#reset();
    this.stopped = null;
    this.#starting = folder;
  }

  /** The scan is over (its command returned, or `scanFinished` came). */
  end(): void {
    if (this.stopping) this.#markStopped();
    this.#reset();
  }

  /** Takes in one progress event. */
  apply(p: ScanProgress): void {
    const previous = this.progress;
    if (this.stopped && !this.running && p.filesFound === this.stopped.filesFound && p.filesDone >= this.stopped.filesDone) {
      // The tail of the scan that was cancelled.
      return;
    }
    this.#rate = nextRate(this.#rate, { done: p.filesDone, at: this.#now() });
    if (previous && p.filesDone > previous.filesDone) this.#onIndexed();

    if (p.filesDone >= p.filesFound) {
      // The scan's final event.
      this.#reset();
      return;
    }
    this.progress = p;
    this.perSecond = this.#rate.perSecond;
    this.#starting = null;
    if (this.stopping) {
      // The batch that was being read when the user cancelled has landed; the
      // scan stops after it, but a batch already under way may still report.
      this.#armGrace();
    } else {
      this.stopped = null;
    }
  }

  /** Asks the backend to stop the scan after its current batch. */
  async cancel(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    try {
      await this.#controls.cancelScan();
      this.#armGrace();
    } catch (e) {
      this.stopping = false;
      this.#onError(e);
    }
  }

  /** Hides the "scan stopped" note. */
  dismiss(): void {
    this.stopped = null;
  }

  #armGrace(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      this.#markStopped();
      this.#reset();
    }, this.#stopGraceMs);
  }

  #markStopped(): void {
    const p = this.progress;
    this.stopped = { filesDone: p?.filesDone ?? 0, filesFound: p?.filesFound ?? 0 };
  }

  #reset(): void {
    clearTimeout(this.#graceTimer);
    this.progress = null;
    this.perSecond = null;
    this.stopping = false;
    this.#starting = null;
    this.#rate = null;
  }
}
