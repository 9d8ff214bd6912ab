// How fast a scan goes, from the progress events it sends: files per second,
// smoothed so one slow batch does not make the number jump about.

/** Files done at a moment, in milliseconds on any steady clock. */
export interface RateSample {
  done: number;
  at: number;
}

export interface ScanRate {
  /** The last sample, the base for the next one. */
  sample: RateSample;
  /** Files per second, or `null` until two samples with time between them. */
  perSecond: number | null;
}

/** Weight of the newest measurement in the smoothed rate. */
const SMOOTHING = 0.4;

/** The rate after one more progress event. Fewer files done than before means a new scan. */
export function nextRate(previous: ScanRate | null, sample: RateSample): ScanRate {
  if (previous === null || sample.done < previous.sample.done) return { sample, perSecond: null };
  const seconds = (sample.at - previous.sample.at) / 1000;
  if (!(seconds > 0)) return { sample: previous.sample, perSecond: previous.perSecond };
  const measured = (sample.done - previous.sample.done) / seconds;
  const perSecond =
    previous.perSecond === null ? measured : previous.perSecond * (1 - SMOOTHING) + measured * SMOOTHING;
  return { sample, perSecond };
}

/** Seconds left at `perSecond`, or `null` when there is no rate to go by. */
export function secondsLeft(done: number, found: number, perSecond: number | null): number | null {
  if (perSecond === null || !(perSecond > 0)) return null;
  return Math.max(0, found - done) / perSecond;
}

const rateFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** "1,234 files/s". */
export function formatRate(perSecond: number): string {
  return `${rateFormat.format(Math.max(0, perSecond))} files/s`;
}

/** Short enough for the sidebar: "<1 min left", "~3 min left", "~1 hr 20 min left". */
export function formatTimeLeft(seconds: number): string {
  if (seconds < 60) return '<1 min left';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `~${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `~${hours} hr left` : `~${hours} hr ${rest} min left`;
}
