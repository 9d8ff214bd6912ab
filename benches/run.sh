#!/usr/bin/env bash
# `make bench`: every area's benchmark, in release mode. Each prints a table with ratios
# against a baseline measured in the same run and writes bench-results/<area>.json.
# The library benchmark generates its corpus into target/bench-corpus/ on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-results
export OFFBEAT_BENCH_RESULTS="$PWD/bench-results"
start=$SECONDS
cargo bench -p offbeat-library --bench library
cargo bench -p offbeat-library --bench history
cargo bench -p offbeat-playback --bench playback
cargo bench -p offbeat-playlists --bench playlists
cargo bench -p offbeat-server --bench server
# The paired-mode benchmark runs the release server binary the line above built.
cargo build --release -p offbeat-server
cargo bench -p offbeat-remote --bench remote
echo "make bench: $((SECONDS - start)) s"
