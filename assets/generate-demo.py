#!/usr/bin/env python3
"""Generate Offbeat's demo music library into assets/demo/.

Synthesizes 8 short, pleasant instrumental tracks (3 albums, 5 formats) in pure
Python, encodes them with ffmpeg, tags them with mutagen (including embedded
cover art), verifies everything, and writes assets/demo/manifest.json.

Every track carries a sustained root-tone drone at its own fundamental
("drone_hz") that is by far the strongest spectral component of the track, so
automated tests can identify which track is playing from captured audio.

Requirements: Python 3.11+, ffmpeg/ffprobe on PATH (with libmp3lame, libvorbis),
and `pip install mutagen`.

Usage:  python3 assets/generate-demo.py

The output is deterministic (fixed seeds, bit-exact ffmpeg flags) and the script
is re-runnable: previously generated album folders are replaced.
"""

from __future__ import annotations

import array
import base64
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

try:
    from mutagen.flac import FLAC, Picture
    from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
    from mutagen.mp4 import MP4, MP4Cover
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE
except ImportError:  # pragma: no cover
    sys.exit("error: mutagen is required (pip install mutagen)")

SR = 44100
TWO_PI = 2.0 * math.pi
PEAK_DBFS = -3.0
DRONE_AMP = 0.35  # the drone voice; all other voices together stay <= 0.30
FADE_IN = 0.6
FADE_OUT = 1.0

ROOT = Path(__file__).resolve().parent
DEMO = ROOT / "demo"

# --------------------------------------------------------------------------
# Library definition
# --------------------------------------------------------------------------

ALBUMS = {
    "northern": dict(
        album="Northern Lights", album_dir="Northern Lights",
        album_artist="Aurora Fields", artist_dir="Aurora Fields",
        year=2021, genre="Ambient", track_total=3,
        colours=((10, 18, 48), (16, 70, 84), (90, 230, 160), (170, 110, 230)),
        cover_style="aurora",
    ),
    "tidal": dict(
        album="Tidal Rooms", album_dir="Tidal Rooms",
        album_artist="The Lanterns", artist_dir="The Lanterns",
        year=2019, genre="Electronic", track_total=3,
        colours=((20, 150, 170), (8, 32, 82), (240, 214, 160), (120, 220, 230)),
        cover_style="ripples",
    ),
    "cafe": dict(
        album="Café Nocturne", album_dir="Cafe Nocturne",
        album_artist="Élodie Marchand", artist_dir="Elodie Marchand",
        year=2023, genre="Jazz", track_total=2,
        colours=((92, 20, 36), (28, 12, 16), (240, 170, 70), (200, 120, 90)),
        cover_style="moon",
    ),
}

# Candidate drone frequencies (all >15 % apart). Each track uses one of them.
DRONES = [98.0, 123.47, 146.83, 174.61, 220.0, 261.63, 329.63, 392.0]

MAJ_PENT = [0, 2, 4, 7, 9]
MIN_PENT = [0, 3, 5, 7, 10]

# chords: semitones relative to `ref` (the key root in the pad register)
# form: indices into chords; the final entry is held and rings out.
TRACKS = [
    dict(album="northern", n=1, title="Aurora", artist="Aurora Fields", fmt="FLAC",
         drone=98.0, ref=196.0, bpm=66, beats=4, style="ambient", seed=101,
         chords=[[0, 4, 7, 11], [2, 6, 9, 14], [4, 7, 11, 14], [5, 9, 12, 16]],
         form=[0, 1, 2, 3, 0], scale=MAJ_PENT, arp=0, ring=1.8,
         motif=[(0, 2), (2, 1), (3, 1)]),
    dict(album="northern", n=2, title="Polar Night", artist="Aurora Fields", fmt="FLAC",
         drone=146.83, ref=293.66, bpm=60, beats=4, style="ambient", seed=102,
         chords=[[0, 3, 7, 10], [-4, 0, 5, 9], [3, 7, 10, 14], [-2, 2, 5, 12]],
         form=[0, 1, 2, 3, 0], scale=MIN_PENT, arp=0, ring=1.5,
         motif=[(0, 1.5), (1.5, 0.5), (2, 2)]),
    dict(album="northern", n=3, title="Snowfield", artist="Aurora Fields", fmt="FLAC",
         drone=220.0, ref=220.0, bpm=104, beats=4, style="ambient", seed=103,
         chords=[[0, 4, 7, 11], [-3, 0, 4, 7], [5, 9, 12, 16], [7, 12, 14, 19]],
         form=[0, 1, 2, 3, 0, 1, 2, 3, 0], scale=MAJ_PENT, arp=2, ring=1.2,
         motif=[(0, 3), (3, 1)]),
    dict(album="tidal", n=1, title="Driftwood", artist="The Lanterns", fmt="MP3",
         drone=123.47, ref=246.94, bpm=108, beats=4, style="electronic", seed=201,
         chords=[[0, 3, 7, 10], [-4, 0, 3, 7], [3, 7, 10, 14], [-2, 2, 5, 10]],
         form=[0, 1, 2, 3, 0, 1, 2, 3, 0], scale=MIN_PENT, arp=4, ring=1.0,
         motif=[(0, 1.5), (1.5, 1.5), (3, 1)], lead=False),
    dict(album="tidal", n=2, title="Undertow", artist="The Lanterns feat. Mira", fmt="MP3",
         drone=174.61, ref=349.23, bpm=96, beats=4, style="electronic", seed=202,
         chords=[[0, 3, 7, 10], [-4, 0, 3, 7], [-9, -5, -2, 3], [-2, 2, 5, 10]],
         form=[0, 1, 2, 3, 0, 1, 2, 0], scale=MIN_PENT, arp=2, ring=1.2,
         motif=[(0, 2.5), (2.5, 1.5)], lead=True),
    dict(album="tidal", n=3, title="Saltwater", artist="The Lanterns", fmt="Ogg Vorbis",
         drone=261.63, ref=261.63, bpm=112, beats=4, style="electronic", seed=203,
         chords=[[0, 4, 7, 11], [-3, 0, 4, 7], [5, 9, 12, 16], [7, 11, 14, 16]],
         form=[0, 1, 2, 3, 0, 1, 2, 3, 0], scale=MAJ_PENT, arp=4, ring=1.0,
         motif=[(0, 1), (1, 1), (2, 2)], lead=False),
    dict(album="cafe", n=1, title="Minuit", artist="Élodie Marchand", fmt="M4A",
         drone=329.63, ref=164.81, bpm=72, beats=4, style="jazz", seed=301,
         chords=[[3, 7, 10, 14], [5, 8, 12, 15], [8, 12, 15, 19], [7, 11, 14, 17]],
         form=[0, 1, 2, 3, 0], scale=MIN_PENT, arp=0, ring=1.5,
         motif=[(0, 1), (1, 2 / 3), (5 / 3, 1 + 1 / 3), (3, 1)]),
    dict(album="cafe", n=2, title="Velours", artist="Élodie Marchand", fmt="WAV",
         drone=392.0, ref=196.0, bpm=100, beats=4, style="jazz", seed=302,
         chords=[[2, 5, 9, 12], [-5, -1, 2, 5], [0, 4, 7, 11], [-3, 0, 4, 7]],
         form=[0, 1, 2, 3, 0, 1, 2], scale=MAJ_PENT, arp=0, ring=1.2,
         motif=[(0, 2 / 3), (2 / 3, 1 + 1 / 3), (2, 1), (3, 1)]),
]

FORMATS = {
    "FLAC": dict(ext="flac", args=["-c:a", "flac", "-compression_level", "8",
                                   "-sample_fmt", "s16", "-ar", "44100", "-ac", "2"]),
    "MP3": dict(ext="mp3", args=["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100",
                                 "-ac", "2", "-id3v2_version", "0", "-write_xing", "1"]),
    "Ogg Vorbis": dict(ext="ogg", args=["-c:a", "libvorbis", "-q:a", "3", "-ar", "44100",
                                        "-ac", "2"]),
    "M4A": dict(ext="m4a", args=["-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2",
                                 "-f", "ipod", "-movflags", "+faststart"]),
    "WAV": dict(ext="wav", args=["-c:a", "pcm_s16le", "-ar", "22050", "-ac", "1"]),
}


def fail(msg: str) -> None:
    sys.exit(f"error: {msg}")


def run(cmd: list[str], *, capture: bool = False, binary: bool = False):
    res = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    if res.returncode != 0:
        fail(f"command failed ({res.returncode}): {' '.join(cmd)}\n"
             f"{res.stderr.decode(errors='replace')}")
    if capture:
        return res.stdout if binary else res.stdout.decode()
    return None


# --------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------

class Mix:
    def __init__(self, seconds: float):
        self.n = int(seconds * SR)
        self.l = [0.0] * self.n
        self.r = [0.0] * self.n

    def add(self, start_s: float, samples: list[float], amp: float, pan: float = 0.5) -> None:
        """Mix mono `samples` in at `start_s`; pan 0 = left, 0.5 = centre, 1 = right."""
        start = int(start_s * SR)
        if start >= self.n:
            return
        gl = amp * min(1.0, 2.0 * (1.0 - pan))
        gr = amp * min(1.0, 2.0 * pan)
        end = min(self.n, start + len(samples))
        L, R = self.l, self.r
        for i in range(start, end):
            v = samples[i - start]
            L[i] += gl * v
            R[i] += gr * v


def partial_tone(freq: float, length: int, partials) -> list[float]:
    """Sum of sine partials via the stable rotation recurrence.
    partials: (ratio, amplitude, decay_tau_seconds or None)."""
    out = [0.0] * length
    nyq = SR * 0.45
    for ratio, pamp, tau in partials:
        f = freq * ratio
        if f >= nyq:
            continue
        w = TWO_PI * f / SR
        c = 2.0 * math.cos(w)
        y, yp = 0.0, -math.sin(w)
        e = pamp
        k = math.exp(-1.0 / (tau * SR)) if tau else 1.0
        for i in range(length):
            out[i] += e * y
            y, yp = c * y - yp, y
            e *= k
    return out


def envelope(samples: list[float], attack: float, hold: float, release: float) -> list[float]:
    """Smooth (raised-cosine) attack, hold, raised-cosine release."""
    n = len(samples)
    na = max(1, int(attack * SR))
    nh = int(hold * SR)
    nr = max(1, int(release * SR))
    for i in range(min(na, n)):
        samples[i] *= 0.5 - 0.5 * math.cos(math.pi * i / na)
    rs = max(na, nh)
    for i in range(rs, n):
        j = i - rs
        samples[i] *= (0.5 + 0.5 * math.cos(math.pi * j / nr)) if j < nr else 0.0
    return samples


def note(freq, dur, partials, attack, release, decay=None):
    length = int((dur + release) * SR)
    s = partial_tone(freq, length, partials)
    if decay:
        k = math.exp(-1.0 / (decay * SR))
        e = 1.0
        for i in range(length):
            s[i] *= e
            e *= k
    return envelope(s, attack, dur, release)


def lead_note(freq, dur, attack, release, vib_hz=5.0, vib_depth=0.004):
    """Voice-like lead (sine + soft harmonics) with delayed vibrato."""
    length = int((dur + release) * SR)
    out = [0.0] * length
    ph = 0.0
    sin = math.sin
    for i in range(length):
        t = i / SR
        depth = vib_depth * min(1.0, t / 0.4)
        f = freq * (1.0 + depth * sin(TWO_PI * vib_hz * t))
        ph += TWO_PI * f / SR
        out[i] = sin(ph) + 0.45 * sin(2 * ph) + 0.18 * sin(3 * ph) + 0.06 * sin(4 * ph)
    return envelope(out, attack, dur, release)


def kick() -> list[float]:
    length = int(0.35 * SR)
    out = [0.0] * length
    ph = 0.0
    for i in range(length):
        t = i / SR
        f = 48.0 + 80.0 * math.exp(-t / 0.03)
        ph += TWO_PI * f / SR
        out[i] = math.sin(ph) * math.exp(-t / 0.12)
    return envelope(out, 0.002, 0.3, 0.05)


def noise_hit(rng: random.Random, dur: float, tau: float, bright: bool) -> list[float]:
    length = int(dur * SR)
    out = [0.0] * length
    prev = 0.0
    lp = 0.0
    for i in range(length):
        x = rng.uniform(-1.0, 1.0)
        if bright:
            v = x - prev  # simple high-pass
            prev = x
        else:
            lp += 0.25 * (x - lp)  # soft low-pass "brush"
            v = lp * 2.0
        out[i] = v * math.exp(-(i / SR) / tau)
    return envelope(out, 0.003 if bright else 0.02, dur * 0.6, dur * 0.4)


def fq(ref: float, semis: float) -> float:
    return ref * 2.0 ** (semis / 12.0)


def synthesize(t: dict) -> tuple[list[float], list[float], float]:
    rng = random.Random(t["seed"])
    beat = 60.0 / t["bpm"]
    chord_len = beat * t["beats"]
    body = chord_len * len(t["form"])
    total = body + t["ring"]
    mix = Mix(total)
    style = t["style"]
    ref = t["ref"]
    chords = t["chords"]
    last = len(t["form"]) - 1

    # ---- drone / root tone (the identifying component) -------------------
    d = t["drone"]
    wd = TWO_PI * d / SR
    drone = [0.0] * mix.n
    sin = math.sin
    for i in range(mix.n):
        tt = i / SR
        swell = 1.0 + 0.04 * sin(TWO_PI * 0.07 * tt)
        drone[i] = swell * (sin(wd * i) + 0.06 * sin(2.0 * wd * i))
    mix.add(0.0, drone, DRONE_AMP / 1.06)

    # ---- harmony ----------------------------------------------------------
    for ci, idx in enumerate(t["form"]):
        start = ci * chord_len
        held = ci == last
        dur = chord_len + (t["ring"] * 0.4 if held else 0.0)
        tones = chords[idx]
        if style in ("ambient", "electronic"):
            amp = 0.030 if style == "ambient" else 0.026
            parts = [(1.0, 1.0, None), (1.003, 0.5, None), (2.0, 0.22, None), (3.0, 0.07, None)]
            for k, s in enumerate(tones):
                pan = 0.4 if k % 2 == 0 else 0.6
                att = 0.9 if style == "ambient" else 0.35
                mix.add(start, note(fq(ref, s), dur, parts, att, 1.2), amp / 1.5, pan)
        else:  # jazz: soft electric-piano comping, swung
            parts = [(1.0, 1.0, 1.4), (2.0, 0.3, 0.5), (3.0, 0.1, 0.25), (4.01, 0.05, 0.12)]
            hits = [(0.0, 1.6)] if held else [(0.0, 1.2), (1 + 2 / 3, 0.5), (3.0, 0.9)]
            for off, hl in hits:
                for k, s in enumerate(tones):
                    spread = 0.012 * k  # gentle strum
                    pan = 0.35 + 0.1 * k
                    vel = 1.0 if off == 0.0 else 0.7
                    mix.add(start + off * beat + spread,
                            note(fq(ref, s), hl * beat if not held else dur, parts, 0.008, 0.4),
                            0.034 * vel / 1.45, pan)

        # arpeggio (plucked)
        if t["arp"] and not held:
            step = beat / t["arp"]
            arp_tones = sorted(tones) + [tones[0] + 12, tones[1] + 12]
            pattern = [0, 1, 2, 3, 4, 3, 2, 1] if t["arp"] == 2 else [0, 2, 1, 3, 2, 4, 3, 5]
            parts = [(1.0, 1.0, 0.5), (2.0, 0.45, 0.16), (3.0, 0.2, 0.08), (4.0, 0.1, 0.05)]
            count = int(t["beats"] * t["arp"])
            for j in range(count):
                s = arp_tones[pattern[j % len(pattern)] % len(arp_tones)] + 12
                f = fq(ref, s)
                pan = 0.3 if j % 2 == 0 else 0.7
                vel = 1.0 if j % t["arp"] == 0 else 0.75
                amp = 0.05 if t["arp"] == 4 else 0.045
                mix.add(start + j * step, note(f, step * 0.9, parts, 0.004, 0.35, decay=0.35),
                        amp * vel / 1.8, pan)

    # ---- melody (bells / vibes / voice) -------------------------------------
    scale = t["scale"]
    # pitch pool: scale degrees over two octaves above ref*2 (ref*1 for high refs)
    mel_ref = ref * 2 if ref < 250 else ref
    pool = [o * 12 + s for o in range(0, 2) for s in scale] + [24]
    pos = rng.randrange(3, 7)
    motif_pitches = None
    for ci, idx in enumerate(t["form"]):
        start = ci * chord_len
        tones = chords[idx]
        if ci == last:
            events = [(0.0, t["beats"] * 0.8)]
        else:
            events = t["motif"]
        # chord tones (as pitch-class relative to the key) available in the pool
        chord_pcs = {s % 12 for s in tones}
        pitches = []
        for ei, (off, dl) in enumerate(events):
            if ci == last:
                cands = [i for i, p in enumerate(pool) if p % 12 == 0]
                pos = min(cands, key=lambda i: abs(i - pos))
            elif ei == 0:
                cands = [i for i, p in enumerate(pool) if p % 12 in chord_pcs] or [pos]
                near = sorted(cands, key=lambda i: abs(i - pos))[:2]
                pos = rng.choice(near)
            else:
                pos = max(0, min(len(pool) - 1, pos + rng.choice([-2, -1, -1, 1, 1, 2])))
            pitches.append(pool[pos])
        if motif_pitches is not None and ci % 2 == 1 and ci != last:
            # echo the previous phrase's contour now and then for coherence
            pitches = [p if rng.random() < 0.5 else q for p, q in zip(pitches, motif_pitches)]
        motif_pitches = pitches
        for (off, dl), p in zip(events, pitches):
            f = fq(mel_ref, p)
            when = start + off * beat
            if style == "ambient":
                parts = [(1.0, 1.0, 2.0), (2.0, 0.3, 0.7), (2.76, 0.12, 0.35), (5.4, 0.05, 0.12)]
                mix.add(when, note(f, dl * beat, parts, 0.01, 0.9, decay=1.6), 0.055 / 1.3, 0.5)
            elif style == "jazz":
                parts = [(1.0, 1.0, 1.6), (4.0, 0.18, 0.25), (10.0, 0.03, 0.06)]
                s = note(f, dl * beat, parts, 0.004, 0.6, decay=1.5)
                for i in range(len(s)):  # vibraphone tremolo
                    s[i] *= 0.85 + 0.15 * math.cos(TWO_PI * 5.2 * i / SR)
                mix.add(when, s, 0.06 / 1.2, 0.55)
            elif t.get("lead"):
                mix.add(when, lead_note(f, dl * beat * 0.95, 0.12, 0.5), 0.055 / 1.7, 0.5)

    # ---- percussion -----------------------------------------------------------
    perc_end = last * chord_len
    if style == "electronic":
        k = kick()
        nbeats = int(perc_end / beat)
        for b in range(nbeats):
            if b % 2 == 0:
                mix.add(b * beat, k, 0.07)
            mix.add(b * beat + beat / 2, noise_hit(rng, 0.07, 0.02, True), 0.022, 0.62)
    elif style == "jazz":
        nbeats = int(perc_end / beat)
        for b in range(nbeats):
            if b % 2 == 1:
                mix.add(b * beat, noise_hit(rng, 0.22, 0.08, False), 0.03, 0.45)
            mix.add(b * beat + beat * 2 / 3, noise_hit(rng, 0.05, 0.015, True), 0.01, 0.6)

    # ---- fades + normalisation -------------------------------------------------
    nin = int(FADE_IN * SR)
    nout = int(FADE_OUT * SR)
    L, R = mix.l, mix.r
    for i in range(nin):
        g = 0.5 - 0.5 * math.cos(math.pi * i / nin)
        L[i] *= g
        R[i] *= g
    for j in range(nout):
        i = mix.n - nout + j
        g = 0.5 + 0.5 * math.cos(math.pi * j / nout)
        L[i] *= g
        R[i] *= g
    peak = max(max(L), -min(L), max(R), -min(R))
    gain = 10 ** (PEAK_DBFS / 20.0) / peak
    for i in range(mix.n):
        L[i] *= gain
        R[i] *= gain
    return L, R, total


def write_wav(path: Path, L: list[float], R: list[float]) -> None:
    data = array.array("h", bytes(4 * len(L)))
    for i in range(len(L)):
        data[2 * i] = max(-32767, min(32767, round(L[i] * 32767.0)))
        data[2 * i + 1] = max(-32767, min(32767, round(R[i] * 32767.0)))
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(data.tobytes())


# --------------------------------------------------------------------------
# Cover art
# --------------------------------------------------------------------------

def lerp(a, b, t):
    return tuple(a[i] + (b[i] - a[i]) * t for i in range(3))


def make_cover(album: dict, seed: int, ppm: Path, jpg: Path) -> bytes:
    size = 300
    c_top, c_bot, acc1, acc2 = album["colours"]
    style = album["cover_style"]
    rng = random.Random(seed)
    stars = {(rng.randrange(size), rng.randrange(int(size * 0.55))) for _ in range(40)}
    buf = bytearray()
    for y in range(size):
        for x in range(size):
            fy, fx = y / (size - 1), x / (size - 1)
            col = lerp(c_top, c_bot, fy)
            if style == "aurora":
                for k, (amp, ph, accent) in enumerate(((0.07, 0.0, acc1), (0.05, 1.7, acc2))):
                    centre = 0.38 + 0.12 * k + amp * math.sin(TWO_PI * (1.3 * fx) + ph)
                    dist = fy - centre
                    # curtain: sharp-ish lower edge, long soft upper glow
                    w = math.exp(-(dist / 0.025) ** 2) if dist > 0 else math.exp(-(dist / 0.12) ** 2)
                    w *= 0.75 + 0.25 * math.sin(TWO_PI * 6 * fx + 3 * k)
                    col = lerp(col, accent, 0.8 * w)
                if (x, y) in stars:
                    col = lerp(col, (255, 255, 255), 0.7)
                if fy > 0.82 + 0.03 * math.sin(TWO_PI * 2.2 * fx):  # hills
                    col = lerp(col, (4, 8, 20), 0.9)
            elif style == "ripples":
                cx, cy = 0.62, 0.40
                r = math.hypot(fx - cx, fy - cy)
                ring = 0.5 + 0.5 * math.cos(TWO_PI * r * 9.0)
                col = lerp(col, acc2, 0.28 * ring * math.exp(-r * 2.0))
                if fy > 0.78:
                    col = lerp(col, acc1, 0.85 * min(1.0, (fy - 0.78) / 0.05))
                sun = math.hypot(fx - 0.25, fy - 0.22)
                if sun < 0.09:
                    col = lerp(col, acc1, min(1.0, (0.09 - sun) / 0.01))
            else:  # moon
                r = math.hypot(fx - 0.5, fy - 0.42)
                glow = math.exp(-((r - 0.0) / 0.35) ** 2)
                col = lerp(col, acc2, 0.35 * glow)
                if r < 0.22:
                    col = lerp(col, acc1, min(1.0, (0.22 - r) / 0.012))
                if (x + y) % 24 < 2 and fy > 0.72:
                    col = lerp(col, acc1, 0.35)
            buf += bytes(max(0, min(255, int(c + 0.5))) for c in col)
    ppm.write_bytes(b"P6\n%d %d\n255\n" % (size, size) + bytes(buf))
    for q in (3, 5, 7, 9, 12):
        run(["ffmpeg", "-y", "-v", "error", "-i", str(ppm), "-fflags", "+bitexact",
             "-flags", "+bitexact", "-pix_fmt", "yuvj420p", "-q:v", str(q), str(jpg)])
        if jpg.stat().st_size <= 40 * 1024:
            break
    else:
        fail(f"cover {jpg} is larger than 40 KB")
    return jpg.read_bytes()


# --------------------------------------------------------------------------
# Encoding and tagging
# --------------------------------------------------------------------------

def encode(src: Path, dst: Path, fmt: str) -> None:
    run(["ffmpeg", "-y", "-v", "error", "-i", str(src), "-map_metadata", "-1",
         "-fflags", "+bitexact", "-flags:a", "+bitexact", *FORMATS[fmt]["args"], str(dst)])


def flac_picture(cover: bytes) -> Picture:
    pic = Picture()
    pic.type = 3
    pic.mime = "image/jpeg"
    pic.desc = "Front Cover"
    pic.width = pic.height = 300
    pic.depth = 24
    pic.data = cover
    return pic


def expected_tags(t: dict, album: dict) -> dict:
    return dict(title=t["title"], artist=t["artist"], album=album["album"],
                album_artist=album["album_artist"], track=t["n"], tracks=album["track_total"],
                disc=1, discs=1, year=str(album["year"]), genre=album["genre"])


def write_tags(path: Path, fmt: str, e: dict, cover: bytes) -> None:
    if fmt in ("MP3", "WAV"):
        frames = [
            TIT2(encoding=3, text=e["title"]), TPE1(encoding=3, text=e["artist"]),
            TALB(encoding=3, text=e["album"]), TPE2(encoding=3, text=e["album_artist"]),
            TRCK(encoding=3, text=f"{e['track']}/{e['tracks']}"),
            TPOS(encoding=3, text=f"{e['disc']}/{e['discs']}"),
            TDRC(encoding=3, text=e["year"]), TCON(encoding=3, text=e["genre"]),
            APIC(encoding=3, mime="image/jpeg", type=3, desc="Front Cover", data=cover),
        ]
        if fmt == "MP3":
            tags = ID3()
            for fr in frames:
                tags.add(fr)
            tags.save(str(path), v2_version=4)
        else:
            w = WAVE(str(path))
            if w.tags is None:
                w.add_tags()
            w.tags.clear()
            for fr in frames:
                w.tags.add(fr)
            w.save(v2_version=4)
    elif fmt in ("FLAC", "Ogg Vorbis"):
        f = FLAC(str(path)) if fmt == "FLAC" else OggVorbis(str(path))
        if f.tags is None:
            f.add_tags()
        f.tags.clear()
        comments = dict(TITLE=e["title"], ARTIST=e["artist"], ALBUM=e["album"],
                        ALBUMARTIST=e["album_artist"], TRACKNUMBER=str(e["track"]),
                        TRACKTOTAL=str(e["tracks"]), DISCNUMBER=str(e["disc"]),
                        DISCTOTAL=str(e["discs"]), DATE=e["year"], GENRE=e["genre"])
        for k, v in comments.items():
            f[k] = [v]
        pic = flac_picture(cover)
        if fmt == "FLAC":
            f.clear_pictures()
            f.add_picture(pic)
        else:
            f["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]
        f.save()
    elif fmt == "M4A":
        f = MP4(str(path))
        if f.tags is None:
            f.add_tags()
        f.tags.clear()
        f["\xa9nam"] = [e["title"]]
        f["\xa9ART"] = [e["artist"]]
        f["\xa9alb"] = [e["album"]]
        f["aART"] = [e["album_artist"]]
        f["trkn"] = [(e["track"], e["tracks"])]
        f["disk"] = [(e["disc"], e["discs"])]
        f["\xa9day"] = [e["year"]]
        f["\xa9gen"] = [e["genre"]]
        f["covr"] = [MP4Cover(cover, imageformat=MP4Cover.FORMAT_JPEG)]
        f.save()
    else:
        fail(f"unknown format {fmt}")


def read_tags(path: Path, fmt: str) -> dict:
    """Read tags back with mutagen into the same shape as expected_tags (+ cover bytes)."""
    def split(v):
        a, _, b = str(v).partition("/")
        return int(a), (int(b) if b else None)

    if fmt in ("MP3", "WAV"):
        tags = ID3(str(path)) if fmt == "MP3" else WAVE(str(path)).tags
        if tags is None:
            return {}
        g = lambda k: str(tags[k].text[0]) if k in tags else None  # noqa: E731
        out = dict(title=g("TIT2"), artist=g("TPE1"), album=g("TALB"), album_artist=g("TPE2"),
                   year=g("TDRC"), genre=g("TCON"))
        if "TRCK" in tags:
            out["track"], out["tracks"] = split(g("TRCK"))
        if "TPOS" in tags:
            out["disc"], out["discs"] = split(g("TPOS"))
        apics = tags.getall("APIC")
        out["cover"] = apics[0].data if apics and apics[0].type == 3 else None
        out["version"] = tags.version
        return out
    if fmt in ("FLAC", "Ogg Vorbis"):
        f = FLAC(str(path)) if fmt == "FLAC" else OggVorbis(str(path))
        g = lambda k: f[k][0] if k in f else None  # noqa: E731
        out = dict(title=g("TITLE"), artist=g("ARTIST"), album=g("ALBUM"),
                   album_artist=g("ALBUMARTIST"), year=g("DATE"), genre=g("GENRE"))
        for key, name in (("track", "TRACKNUMBER"), ("tracks", "TRACKTOTAL"),
                          ("disc", "DISCNUMBER"), ("discs", "DISCTOTAL")):
            out[key] = int(g(name)) if g(name) else None
        if fmt == "FLAC":
            pics = [p for p in f.pictures if p.type == 3]
            out["cover"] = pics[0].data if pics else None
        else:
            b64 = g("METADATA_BLOCK_PICTURE")
            out["cover"] = Picture(base64.b64decode(b64)).data if b64 else None
        return out
    f = MP4(str(path))
    g = lambda k: f[k][0] if k in f else None  # noqa: E731
    out = dict(title=g("\xa9nam"), artist=g("\xa9ART"), album=g("\xa9alb"),
               album_artist=g("aART"), year=g("\xa9day"), genre=g("\xa9gen"))
    if g("trkn"):
        out["track"], out["tracks"] = g("trkn")
    if g("disk"):
        out["disc"], out["discs"] = g("disk")
    out["cover"] = bytes(g("covr")) if g("covr") else None
    return out


def probe(path: Path) -> dict:
    info = json.loads(run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                           "format=duration:stream=codec_name,sample_rate,channels,bit_rate",
                           "-of", "json", str(path)], capture=True))
    st = info["streams"][0]
    return dict(duration=float(info["format"]["duration"]), codec=st["codec_name"],
                sample_rate=int(st["sample_rate"]), channels=int(st["channels"]))


def check_decodes(path: Path) -> None:
    res = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if res.returncode != 0 or res.stderr.strip():
        fail(f"{path} does not decode cleanly:\n{res.stderr.decode(errors='replace')}")


# --------------------------------------------------------------------------
# Spectral check (drone must dominate)
# --------------------------------------------------------------------------

def decode_mono(path: Path, rate: int) -> array.array:
    raw = run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-acodec", "pcm_s16le",
               "-ac", "1", "-ar", str(rate), "-"], capture=True, binary=True)
    a = array.array("h")
    a.frombytes(raw)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def goertzel_amp(x, freq: float, rate: int) -> float:
    """Amplitude (0..1 full scale) of the sinusoid at `freq` over the whole signal."""
    w = TWO_PI * freq / rate
    c = 2.0 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - c * s1 * s2
    return 2.0 * math.sqrt(max(power, 0.0)) / len(x) / 32768.0


def fft(re: list[float], im: list[float]) -> None:
    n = len(re)
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            re[i], re[j] = re[j], re[i]
            im[i], im[j] = im[j], im[i]
    size = 2
    while size <= n:
        half = size // 2
        ang = -TWO_PI / size
        tw = [(math.cos(ang * k), math.sin(ang * k)) for k in range(half)]
        for start in range(0, n, size):
            for k in range(half):
                wr, wi = tw[k]
                a = start + k
                b = a + half
                tr = re[b] * wr - im[b] * wi
                ti = re[b] * wi + im[b] * wr
                re[b] = re[a] - tr
                im[b] = im[a] - ti
                re[a] += tr
                im[a] += ti
        size *= 2


def strongest_peak(x, rate: int, n: int = 8192, lo: float = 40.0, hi: float = 3500.0) -> float:
    """Welch-averaged (Hann) power spectrum; returns the frequency of the strongest bin."""
    win = [0.5 - 0.5 * math.cos(TWO_PI * i / (n - 1)) for i in range(n)]
    acc = [0.0] * (n // 2)
    for start in range(0, len(x) - n + 1, n // 2):
        re = [x[start + i] * win[i] for i in range(n)]
        im = [0.0] * n
        fft(re, im)
        for k in range(n // 2):
            acc[k] += re[k] * re[k] + im[k] * im[k]
    klo, khi = int(lo * n / rate), int(hi * n / rate)
    k = max(range(klo, khi), key=lambda i: acc[i])
    # parabolic interpolation for a finer estimate
    a, b, c = (math.log(acc[k - 1] + 1e-9), math.log(acc[k] + 1e-9), math.log(acc[k + 1] + 1e-9))
    delta = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) else 0.0
    return (k + delta) * rate / n


def spectral_check(path: Path, drone: float) -> dict:
    x = decode_mono(path, SR)
    amps = {f: goertzel_amp(x, f, SR) for f in DRONES}
    others = sorted(((a, f) for f, a in amps.items() if f != drone), reverse=True)
    ratio_db = 20 * math.log10(amps[drone] / others[0][0])
    peak = strongest_peak(decode_mono(path, 8000), 8000)
    ok = (max(amps, key=amps.get) == drone and ratio_db >= 12.0
          and abs(peak - drone) / drone < 0.02)
    return dict(drone_amp=amps[drone], runner_up_hz=others[0][1], runner_up_amp=others[0][0],
                ratio_db=ratio_db, peak_hz=peak, ok=ok)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main() -> None:
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            fail(f"{tool} not found on PATH")
    drones = [t["drone"] for t in TRACKS]
    for i, a in enumerate(drones):
        for b in drones[i + 1:]:
            if abs(a - b) / max(a, b) < 0.15:
                fail(f"drone frequencies {a} and {b} are within 15 %")

    DEMO.mkdir(parents=True, exist_ok=True)
    for album in ALBUMS.values():  # re-runnable: replace what we generated before
        d = DEMO / album["artist_dir"]
        if d.exists():
            shutil.rmtree(d)
    (DEMO / "manifest.json").unlink(missing_ok=True)

    manifest = []
    with tempfile.TemporaryDirectory(prefix="offbeat-demo-") as tmp_s:
        tmp = Path(tmp_s)
        covers = {}
        for ai, (key, album) in enumerate(ALBUMS.items()):
            folder = DEMO / album["artist_dir"] / album["album_dir"]
            folder.mkdir(parents=True, exist_ok=True)
            covers[key] = make_cover(album, 900 + ai, tmp / f"{key}.ppm", folder / "cover.jpg")
            print(f"cover  {(folder / 'cover.jpg').relative_to(DEMO)}  "
                  f"({len(covers[key])} bytes)")

        for t in TRACKS:
            album = ALBUMS[t["album"]]
            fmt = t["fmt"]
            L, R, _ = synthesize(t)
            src = tmp / f"{t['seed']}.wav"
            write_wav(src, L, R)
            rel = (Path(album["artist_dir"]) / album["album_dir"]
                   / f"{t['n']:02d} {t['title']}.{FORMATS[fmt]['ext']}")
            dst = DEMO / rel
            encode(src, dst, fmt)
            exp = expected_tags(t, album)
            write_tags(dst, fmt, exp, covers[t["album"]])

            # ---- verification -----------------------------------------------
            got = read_tags(dst, fmt)
            for k, v in exp.items():
                if got.get(k) != v:
                    fail(f"{rel}: tag {k!r} is {got.get(k)!r}, expected {v!r}")
            if got.get("cover") != covers[t["album"]]:
                fail(f"{rel}: embedded front cover missing or wrong")
            check_decodes(dst)
            info = probe(dst)
            if not 15.0 <= info["duration"] <= 30.0:
                fail(f"{rel}: duration {info['duration']:.2f}s outside 15-30 s")
            spec = spectral_check(dst, t["drone"])
            if not spec["ok"]:
                fail(f"{rel}: drone {t['drone']} Hz is not clearly dominant: {spec}")

            manifest.append(dict(
                path=rel.as_posix(), title=t["title"], artist=t["artist"], album=album["album"],
                album_artist=album["album_artist"], track_number=t["n"],
                track_total=album["track_total"], disc_number=1, year=album["year"],
                genre=album["genre"], format=fmt, duration_ms=int(round(info["duration"] * 1000)),
                drone_hz=t["drone"], sample_rate=info["sample_rate"], channels=info["channels"],
            ))
            print(f"track  {rel}  [{fmt}, {info['codec']}, {info['sample_rate']} Hz, "
                  f"{info['channels']} ch, {info['duration']:.2f} s, "
                  f"{dst.stat().st_size // 1024} KiB]  artist={t['artist']!r}  "
                  f"drone={t['drone']} Hz (peak {spec['peak_hz']:.1f} Hz, "
                  f"amp {spec['drone_amp']:.3f}, next {spec['runner_up_hz']} Hz "
                  f"amp {spec['runner_up_amp']:.4f}, +{spec['ratio_db']:.1f} dB)")

    (DEMO / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    print(f"manifest  manifest.json  ({len(manifest)} tracks)")
    print(f"total size of {DEMO.relative_to(ROOT.parent)}: {total / 1e6:.2f} MB")
    if total >= 4.5e6:
        fail("assets/demo exceeds 4.5 MB")


if __name__ == "__main__":
    main()
