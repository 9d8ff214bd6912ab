// A wrap-up as a picture to share: drawn on a canvas (no network, no fonts to fetch) and
// handed back as a PNG `data:` URL.

import type { WrapUp } from '$lib/backend';
import { busiestHour, hourLabel, listenedName, monthShort, periodLabel } from './format';

const WIDTH = 1080;
const HEIGHT = 1350;

/** Draws `wrap` and returns the PNG; `null` where the page has no 2D canvas. */
export function shareImage(wrap: WrapUp): string | null {
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;

  const bg = ctx.createLinearGradient(0, 0, WIDTH, HEIGHT);
  bg.addColorStop(0, '#1b1d23');
  bg.addColorStop(1, '#3a1420');
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, WIDTH, HEIGHT);

  const font = (size: number, weight = 400) => `${weight} ${size}px system-ui, sans-serif`;
  ctx.fillStyle = '#ff7a59';
  ctx.font = font(34, 600);
  ctx.fillText('OFFBEAT · REWIND', 80, 120);
  ctx.fillStyle = '#eef0f4';
  ctx.font = font(76, 750);
  ctx.fillText(periodLabel(wrap.year, wrap.month), 80, 210);

  ctx.font = font(150, 800);
  ctx.fillText(wrap.totals.minutes.toLocaleString('en-GB'), 80, 390);
  ctx.fillStyle = '#a2a7b3';
  ctx.font = font(36);
  ctx.fillText(`minutes · ${wrap.totals.listens.toLocaleString('en-GB')} listens · ${wrap.totals.artists} artists`, 80, 445);

  const list = (title: string, names: string[], x: number, y: number) => {
    ctx.fillStyle = '#ff7a59';
    ctx.font = font(30, 650);
    ctx.fillText(title, x, y);
    ctx.fillStyle = '#eef0f4';
    ctx.font = font(32, 500);
    names.slice(0, 5).forEach((name, i) => {
      ctx.fillText(`${i + 1}. ${clip(ctx, name, 420)}`, x, y + 56 + i * 50);
    });
  };
  list('Top artists', wrap.topArtists.map(listenedName), 80, 540);
  list('Top tracks', wrap.topTracks.map(listenedName), 560, 540);

  // Minutes by month (or day): columns along the bottom.
  const values = wrap.minutesByPart;
  const max = Math.max(1, ...values);
  const left = 80;
  const base = 1180;
  const span = WIDTH - 160;
  const step = span / Math.max(1, values.length);
  ctx.fillStyle = '#ff7a59';
  values.forEach((v, i) => {
    const h = (v / max) * 280;
    ctx.fillRect(left + i * step + step * 0.15, base - h, step * 0.7, h);
  });
  ctx.fillStyle = '#6f7582';
  ctx.font = font(22);
  if (wrap.month == null) {
    values.forEach((_, i) => ctx.fillText(monthShort(i), left + i * step + step * 0.15, base + 32));
  }
  const busiest = busiestHour(wrap.clock);
  ctx.fillStyle = '#a2a7b3';
  ctx.font = font(28);
  const footer = [
    wrap.longestStreakDays > 1 ? `Longest streak ${wrap.longestStreakDays} days` : null,
    busiest ? `Busiest: ${busiest.weekday} ${hourLabel(busiest.hour)}` : null,
    `${wrap.discoveries.artists} new artists`,
  ]
    .filter(Boolean)
    .join(' · ');
  ctx.fillText(footer, 80, 1280);
  return canvas.toDataURL('image/png');
}

function clip(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > width) t = t.slice(0, -1);
  return `${t}…`;
}
