// Text the UI shows for numbers: durations, counts, totals.

/** `ms` as "m:ss", or "h:mm:ss" from one hour up. Negative or non-finite input reads "0:00". */
export function formatDuration(ms: number): string {
  const totalSeconds = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
  return `${minutes}:${ss}`;
}

const countFormat = new Intl.NumberFormat('en-US');

/**
 * "1 song", "12,480 songs"; with `atLeast`, a count that stopped at a limit: "1,000+ songs".
 */
export function formatCount(n: number, singular: string, plural = `${singular}s`, atLeast = false): string {
  return `${countFormat.format(n)}${atLeast ? '+' : ''} ${n === 1 && !atLeast ? singular : plural}`;
}

/** A total length in words: "26 sec", "42 min", "3 hr 5 min", "2 days 4 hr". */
export function formatTotalDuration(ms: number): string {
  const seconds = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 1000) : 0;
  if (seconds > 0 && seconds < 60) return `${seconds} sec`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours} hr` : `${hours} hr ${rest} min`;
  }
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours === 0 ? `${days} days` : `${days} days ${restHours} hr`;
}
