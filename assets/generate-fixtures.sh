#!/usr/bin/env bash
# Generates assets/fixtures/: one short tagged file per format the demo library does not
# carry (Opus, ALAC, AIFF, MP3 with ID3v2.3, MPEG layer II, and a 5.1 FLAC whose tone is
# only in the centre channel), for the per-format tag tests in
# crates/library/tests/details.rs. The files are committed; run this only to remake them.
#
# Needs ffmpeg with libopus. Output is bit-exact, so re-running changes nothing.
set -euo pipefail
cd "$(dirname "$0")/fixtures"

# name | format | ext | title | track | ffmpeg codec arguments
FIXTURES=(
  "Ember|Opus|opus|Ember|1|-ac 2 -c:a libopus -b:a 48k -ar 48000"
  "Quartz|ALAC|m4a|Quartz|2|-ac 2 -c:a alac -sample_fmt s16p -ar 44100"
  "Basalt|AIFF|aiff|Basalt|3|-ac 2 -c:a pcm_s16be -ar 44100 -write_id3v2 1"
  "Slate|MP3|mp3|Slate|4|-ac 2 -c:a libmp3lame -b:a 96k -ar 44100 -id3v2_version 3"
  "Gneiss|MP2|mp2|Gneiss|5|-ac 2 -c:a mp2 -b:a 192k -ar 44100 -f mp2"
  "Feldspar|FLAC|flac|Feldspar|6|-af pan=5.1|FC=c0 -c:a flac -sample_fmt s16 -ar 44100"
)
ALBUM="Mineral Samples"
ARTIST="Offbeat Fixtures"
YEAR=2024
GENRE="Test Tones"
TOTAL=${#FIXTURES[@]}

entries=()
for spec in "${FIXTURES[@]}"; do
  IFS='|' read -r name format ext title track codec <<<"$spec"
  file="$(printf '%02d %s.%s' "$track" "$name" "$ext")"
  # A one-second tone per file, each at its own pitch (stereo, but for the 5.1 file).
  # shellcheck disable=SC2086
  ffmpeg -v error -y -fflags +bitexact -f lavfi \
    -i "sine=frequency=$((220 * track)):sample_rate=48000:duration=1" \
    -metadata title="$title" -metadata artist="$ARTIST" -metadata album="$ALBUM" \
    -metadata album_artist="$ARTIST" -metadata track="$track/$TOTAL" -metadata disc="1/1" \
    -metadata date="$YEAR" -metadata genre="$GENRE" \
    -flags:a +bitexact $codec "$file"
  if [[ $ext == mp2 ]]; then
    # ffmpeg's MP2 muxer writes no tags: prepend an ID3v2.3 tag as the MP3 muxer would.
    python3 - "$file" "$title" "$ARTIST" "$ALBUM" "$track/$TOTAL" "$YEAR" "$GENRE" <<'PY'
import struct, sys
path, title, artist, album, track, year, genre = sys.argv[1:]
def frame(fid, text):
    body = b"\x01" + "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    return fid.encode() + struct.pack(">I", len(body)) + b"\x00\x00" + body
frames = b"".join(frame(k, v) for k, v in [("TIT2", title), ("TPE1", artist),
    ("TALB", album), ("TPE2", artist), ("TRCK", track), ("TPOS", "1/1"),
    ("TYER", year), ("TCON", genre)])
n = len(frames)
size = bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])
audio = open(path, "rb").read()
open(path, "wb").write(b"ID3\x03\x00\x00" + size + frames + audio)
PY
  fi
  rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$file")
  channels=$(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "$file")
  duration_ms=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file" |
    awk '{ printf "%d", $1 * 1000 + 0.5 }')
  entries+=("$(printf '  {"path": "%s", "title": "%s", "artist": "%s", "album": "%s", "album_artist": "%s", "track_number": %d, "track_total": %d, "disc_number": 1, "year": %d, "genre": "%s", "format": "%s", "duration_ms": %d, "sample_rate": %d, "channels": %d}' \
    "$file" "$title" "$ARTIST" "$ALBUM" "$ARTIST" "$track" "$TOTAL" "$YEAR" "$GENRE" "$format" "$duration_ms" "$rate" "$channels")")
done
{
  echo "["
  for i in "${!entries[@]}"; do
    sep=","
    [[ $i -eq $((${#entries[@]} - 1)) ]] && sep=""
    echo "${entries[$i]}$sep"
  done
  echo "]"
} >manifest.json

# Files the library must report as unsupported rather than list: 5.1 Opus (libopus's
# plain decoder, which the player uses, takes one or two channels) and 5.1 AAC
# (symphonia's AAC decoder takes one or two).
mkdir -p unsupported
ffmpeg -v error -y -fflags +bitexact -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=1" \
  -af "pan=5.1|FC=c0" -flags:a +bitexact -c:a libopus -b:a 96k "unsupported/5.1 Opus.opus"
ffmpeg -v error -y -fflags +bitexact -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=1" \
  -af "pan=5.1|FC=c0" -flags:a +bitexact -c:a aac -b:a 192k -f ipod "unsupported/5.1 AAC.m4a"
ls -l . unsupported
