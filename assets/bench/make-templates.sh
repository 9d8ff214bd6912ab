#!/usr/bin/env bash
# Regenerates the untagged template files the library benchmark copies into its corpus:
# 0.75 s of a 440 Hz sine, mono, one file per format the scanner reads. Needs ffmpeg with
# libmp3lame, libvorbis and libopus. Bit-exact flags keep the output reproducible, and
# every container is written without metadata so the benchmark adds all the tags.
set -euo pipefail
cd "$(dirname "$0")"

src=(-f lavfi -i "sine=frequency=440:sample_rate=44100:duration=0.75")
common=(-hide_banner -loglevel error -y -ac 1 -map_metadata -1 -fflags +bitexact -flags:a +bitexact)

ffmpeg "${src[@]}" "${common[@]}" -ar 22050 -c:a flac -compression_level 8 template.flac
ffmpeg "${src[@]}" "${common[@]}" -c:a libmp3lame -b:a 64k -id3v2_version 0 -write_id3v1 0 template.mp3
ffmpeg "${src[@]}" "${common[@]}" -c:a libvorbis -q:a 0 template.ogg
ffmpeg "${src[@]}" "${common[@]}" -c:a libopus -b:a 32k template.opus
ffmpeg "${src[@]}" "${common[@]}" -c:a aac -b:a 64k template.m4a
ffmpeg "${src[@]}" "${common[@]}" -ar 11025 -c:a pcm_s16le template.wav

ls -l template.*
