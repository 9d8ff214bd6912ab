// Words and shapes for the Rewind views. Every time the backend sends here is "local ms":
// the wall-clock time where the listen happened, counted like Unix ms, so it is read
// back with UTC getters (never the machine's zone, which may differ from the listen's).

import type { Listened, PeriodTotals } from '$lib/backend';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "28 Nov 2019". */
export function formatDay(localMs: number): string {
  const d = new Date(localMs);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** "November 2024", or "2024" without a month. */
export function periodLabel(year: number, month: number | null): string {
  return month == null ? `${year}` : `${MONTH_NAMES[month - 1] ?? ''} ${year}`;
}

/** The short name of month `index` (0–11). */
export function monthShort(index: number): string {
  return MONTHS[index] ?? '';
}

/** "1 year ago", "5 years ago". */
export function yearsAgo(years: number): string {
  return years === 1 ? '1 year ago' : `${years} years ago`;
}

/** "3,120 minutes", "1 minute". */
export function formatMinutes(minutes: number): string {
  return minutes === 1 ? '1 minute' : `${minutes.toLocaleString('en-GB')} minutes`;
}

/** What a listened line is called: a track's title, an album's title, an artist's name. */
export function listenedName(item: Listened): string {
  switch (item.kind) {
    case 'track':
      return item.title ?? 'Unknown track';
    case 'album':
      return item.album ?? 'Unknown album';
    case 'artist':
      return item.artist ?? 'Unknown Artist';
  }
}

/** The line under a name: a track's artist (and album), an album's artist. */
export function listenedDetail(item: Listened): string {
  switch (item.kind) {
    case 'track':
      return [item.artist, item.album].filter(Boolean).join(' · ');
    case 'album':
      return item.artist ?? '';
    case 'artist':
      return '';
  }
}

/** "+12%", "−40%", "new" (nothing before), "same". */
export function change(now: number, before: number): string {
  if (before === 0) return now === 0 ? 'same' : 'new';
  const pct = Math.round(((now - before) / before) * 100);
  if (pct === 0) return 'same';
  return pct > 0 ? `+${pct}%` : `−${Math.abs(pct)}%`;
}

/** The figure pairs a wrap-up compares, as label, now, before and the change. */
export function comparisons(
  now: PeriodTotals,
  before: PeriodTotals,
): { label: string; now: number; before: number; change: string }[] {
  const rows: [string, keyof PeriodTotals][] = [
    ['Minutes', 'minutes'],
    ['Listens', 'listens'],
    ['Tracks', 'tracks'],
    ['Artists', 'artists'],
  ];
  return rows.map(([label, key]) => ({
    label,
    now: now[key],
    before: before[key],
    change: change(now[key], before[key]),
  }));
}

/** Bars for values, as heights out of `height` (the largest fills it; all zero: none). */
export function barHeights(values: number[], height: number): number[] {
  const max = Math.max(0, ...values);
  return values.map((v) => (max === 0 ? 0 : Math.round((v / max) * height * 10) / 10));
}

/** A heatmap cell's shade, 0 (none) to 4 (the busiest hour), by its share of the maximum. */
export function heatLevel(value: number, max: number): number {
  if (value <= 0 || max <= 0) return 0;
  return Math.min(4, Math.ceil((value / max) * 4));
}

/** The busiest weekday and hour of a listening clock (`clock[weekday * 24 + hour]`). */
export function busiestHour(clock: number[]): { weekday: string; hour: number } | null {
  let best = -1;
  let at = -1;
  clock.forEach((v, i) => {
    if (v > best) {
      best = v;
      at = i;
    }
  });
  if (best <= 0) return null;
  return { weekday: WEEKDAYS[Math.floor(at / 24)] ?? '', hour: at % 24 };
}

/** "9 pm", "12 am". */
export function hourLabel(hour: number): string {
  const h = hour % 12 === 0 ? 12 : hour % 12;
  return `${h} ${hour < 12 ? 'am' : 'pm'}`;
}

/** The months a wrap-up can be asked for, in a year: all twelve, or those up to now. */
export function monthsOf(year: number, now: Date): number[] {
  const last = year === now.getFullYear() ? now.getMonth() + 1 : year > now.getFullYear() ? 0 : 12;
  return Array.from({ length: last }, (_, i) => i + 1);
}

/** A file name for a wrap-up's picture: "offbeat-wrap-up-2024-11.png". */
export function shareFileName(year: number, month: number | null): string {
  return `offbeat-wrap-up-${year}${month == null ? '' : `-${String(month).padStart(2, '0')}`}.png`;
}

/** A page's listening line: "First played 28 Nov 2019 · Last played 20 Nov 2026 · 14 plays". */
export function describeFigures(f: { firstAt: number | null; lastAt: number | null; listens: number }): string {
  if (f.listens === 0 || f.firstAt == null || f.lastAt == null) return 'Not played yet';
  const count = f.listens === 1 ? '1 play' : `${f.listens.toLocaleString('en-GB')} plays`;
  if (f.listens === 1) return `Played once, ${formatDay(f.firstAt)}`;
  return `First played ${formatDay(f.firstAt)} · Last played ${formatDay(f.lastAt)} · ${count}`;
}

/** "under a minute", "1 min", "42 min". */
export function shortMinutes(minutes: number): string {
  return minutes < 1 ? 'under a minute' : `${minutes.toLocaleString('en-GB')} min`;
}
