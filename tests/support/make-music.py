#!/usr/bin/env python3
"""Writes a music folder for paired-mode tests and benchmarks: COUNT short WAV files
(mono, 8 kHz, a sine of their own pitch) tagged with ID3v2.3 (title, artist, album,
track number, year, genre) in the WAV's "id3 " chunk, which the library reads.

Usage: make-music.py DIR COUNT [--seconds S] [--prefix NAME]

Tracks are grouped ten to an album and five albums to an artist; names are made from
the index and the prefix, so two folders made with different prefixes share no track.
Only the standard library is used.
"""

import argparse
import math
import os
import struct


def id3_text_frame(frame_id: str, text: str) -> bytes:
    body = b"\x01" + "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    return frame_id.encode("ascii") + struct.pack(">I", len(body)) + b"\x00\x00" + body


def syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3_tag(fields: dict) -> bytes:
    frames = b"".join(id3_text_frame(k, v) for k, v in fields.items())
    return b"ID3\x03\x00\x00" + syncsafe(len(frames)) + frames


def wav(samples: bytes, rate: int, tag: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(samples)) + samples
    if len(tag) % 2:
        tag += b"\x00"
    chunks += b"id3 " + struct.pack("<I", len(tag)) + tag
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("count", type=int)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--prefix", default="Server")
    args = parser.parse_args()
    rate = 8000
    n = int(rate * args.seconds)
    # 24 pitches, each synthesized once (a 100,000-file folder is written in seconds).
    tones = {}
    for i in range(args.count):
        album_no, track_no = divmod(i, 10)
        artist_no = album_no // 5
        artist = f"{args.prefix} Artist {artist_no + 1}"
        album = f"{args.prefix} Album {album_no + 1}"
        title = f"{args.prefix} Song {i + 1}"
        folder = os.path.join(args.dir, artist, album)
        os.makedirs(folder, exist_ok=True)
        pitch = i % 24
        if pitch not in tones:
            freq = 220.0 * 2 ** (pitch / 12)
            amp = 8000
            tones[pitch] = struct.pack(
                f"<{n}h", *(int(amp * math.sin(2 * math.pi * freq * t / rate)) for t in range(n))
            )
        samples = tones[pitch]
        tag = id3_tag(
            {
                "TIT2": title,
                "TPE1": artist,
                "TPE2": artist,
                "TALB": album,
                "TRCK": str(track_no + 1),
                "TYER": str(2000 + album_no % 25),
                "TCON": "Ambient",
            }
        )
        path = os.path.join(folder, f"{track_no + 1:02d} {title}.wav")
        with open(path, "wb") as f:
            f.write(wav(samples, rate, tag))


if __name__ == "__main__":
    main()
