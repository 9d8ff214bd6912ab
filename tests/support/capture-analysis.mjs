// Analysis of audio captured by the ALSA `file` plugin (tests/support/alsa-capture.conf):
// raw S16_LE, stereo, 44.1 kHz. Zero dependencies.

import { readFileSync } from 'node:fs';

export const SAMPLE_RATE = 44100;
export const CHANNELS = 2;
const BYTES_PER_FRAME = 2 * CHANNELS;

/** Reads a raw S16_LE stereo capture as a mono mix in [-1, 1). */
export function readMonoCapture(path) {
  const buf = readFileSync(path);
  const frames = Math.floor(buf.length / BYTES_PER_FRAME);
  const mono = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    const o = i * BYTES_PER_FRAME;
    mono[i] = (buf.readInt16LE(o) + buf.readInt16LE(o + 2)) / 65536;
  }
  return mono;
}

/** RMS of each consecutive window of `windowMs` milliseconds. */
export function windowRms(samples, windowMs = 50, rate = SAMPLE_RATE) {
  const n = Math.max(1, Math.round((rate * windowMs) / 1000));
  const out = [];
  for (let start = 0; start + n <= samples.length; start += n) {
    let sum = 0;
    for (let i = start; i < start + n; i++) sum += samples[i] * samples[i];
    out.push(Math.sqrt(sum / n));
  }
  return out;
}

/**
 * The non-silent part of a capture: the windows whose RMS is above `threshold`.
 * Returns the first and last loud sample (a span that may contain short quiet gaps)
 * and how many seconds in total were loud.
 */
export function nonSilentSpan(samples, { windowMs = 50, threshold = 0.003, rate = SAMPLE_RATE } = {}) {
  const rms = windowRms(samples, windowMs, rate);
  const n = Math.round((rate * windowMs) / 1000);
  let first = -1;
  let last = -1;
  let loud = 0;
  rms.forEach((r, i) => {
    if (r > threshold) {
      if (first < 0) first = i;
      last = i;
      loud++;
    }
  });
  const peakRms = rms.reduce((a, b) => Math.max(a, b), 0);
  if (first < 0) return { start: 0, end: 0, loudSeconds: 0, peakRms, totalSeconds: samples.length / rate };
  return {
    start: first * n,
    end: (last + 1) * n,
    loudSeconds: (loud * windowMs) / 1000,
    peakRms,
    totalSeconds: samples.length / rate,
  };
}

/** Goertzel power of `freq` over samples[start, end), Hann-windowed, normalised by length. */
export function goertzelPower(samples, freq, start = 0, end = samples.length, rate = SAMPLE_RATE) {
  const n = end - start;
  if (n <= 0) return 0;
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const s0 = samples[start + i] * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (n * n);
}

/**
 * Mean Goertzel power of each frequency over consecutive `windowSeconds` windows of
 * samples[start, end). Short windows keep the analysis tolerant of small pitch offsets.
 */
export function bandEnergies(samples, freqs, { start = 0, end = samples.length, windowSeconds = 0.5, rate = SAMPLE_RATE } = {}) {
  const n = Math.round(windowSeconds * rate);
  const totals = freqs.map(() => 0);
  let windows = 0;
  for (let s = start; s + n <= end; s += n) {
    freqs.forEach((f, k) => (totals[k] += goertzelPower(samples, f, s, s + n, rate)));
    windows++;
  }
  return freqs.map((f, k) => ({ hz: f, energy: windows ? totals[k] / windows : 0 }));
}
