#!/usr/bin/env bash
# Generates assets/fixtures/gapless/: one continuous 441 Hz sine (0.75 s, stereo,
# 44.1 kHz, exactly 33,075 frames) cut at frame 17,640 into two files, in every format
# the engine plays gaplessly. Played back to back, the two halves must join with no gap
# and no jump (crates/playback/tests/queue.rs). Committed; run this only to remake them.
#
# Needs ffmpeg (libmp3lame, libvorbis, libopus). Output is bit-exact except the random
# serial number of each Ogg stream, so a re-run changes only those bytes.
set -euo pipefail
cd "$(dirname "$0")/fixtures/gapless"

RATE=44100
CUT=17640
TOTAL=33075
SINE="aevalsrc=0.5*sin(2*PI*441*n/$RATE):s=$RATE:c=stereo:n=$TOTAL"

# format | extension | ffmpeg codec arguments
FORMATS=(
  "flac|flac|-c:a flac -sample_fmt s16"
  "wav|wav|-c:a pcm_s16le"
  "mp3|mp3|-c:a libmp3lame -b:a 192k -write_xing 1"
  "ogg|ogg|-c:a libvorbis -q:a 6"
  "m4a|m4a|-c:a aac -b:a 192k -f ipod"
  "opus|opus|-c:a libopus -b:a 96k"
)
for spec in "${FORMATS[@]}"; do
  IFS='|' read -r name ext codec <<<"$spec"
  for part in a b; do
    if [[ $part == a ]]; then trim="atrim=start_sample=0:end_sample=$CUT"; else trim="atrim=start_sample=$CUT:end_sample=$TOTAL"; fi
    # shellcheck disable=SC2086
    ffmpeg -v error -y -fflags +bitexact -f lavfi -i "$SINE" -af "$trim,asetpts=PTS-STARTPTS" \
      -flags:a +bitexact -map_metadata -1 $codec "sine-$part.$ext"
  done
done

# For Opus seek accuracy: 12 s of a demo track (music, so a position can be told apart).
ffmpeg -v error -y -fflags +bitexact -i "../../demo/Elodie Marchand/Cafe Nocturne/02 Velours.wav" \
  -t 12 -flags:a +bitexact -map_metadata -1 -c:a libopus -b:a 40k velours-12s.opus
ls -l
