#!/usr/bin/env python3
"""Draws Offbeat's app icon (a record with an off-centre beat dot) as RGBA PNGs.

Stdlib only, so the icon can be regenerated anywhere: python3 assets/make-icon.py
"""
import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src-tauri" / "icons"


def png(width, height, pixels):
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def draw(size):
    rows = []
    c = size / 2
    for y in range(size):
        row = []
        for x in range(size):
            dx, dy = x + 0.5 - c, y + 0.5 - c
            r = math.hypot(dx, dy) / c
            alpha = max(0.0, min(1.0, (0.96 - r) * size / 4))
            t = (x + y) / (2 * size)
            red, green, blue = 255 * (0.95 - 0.35 * t), 255 * (0.35 + 0.1 * t), 255 * (0.45 + 0.45 * t)
            groove = 0.88 + 0.12 * math.cos(r * 60)
            red, green, blue = red * groove, green * groove, blue * groove
            bx, by = dx - 0.28 * c, dy + 0.22 * c
            if math.hypot(bx, by) < 0.16 * c or r < 0.1:
                red, green, blue = 250, 246, 240
            row += [int(red), int(green), int(blue), int(alpha * 255)]
        rows.append(row)
    return png(size, size, rows)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size in [("icon.png", 512), ("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256)]:
        (OUT / name).write_bytes(draw(size))
        print("wrote", OUT / name)
