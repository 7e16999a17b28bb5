#!/bin/sh
# Every benchmark in one go, each beside its peer measured in the same run:
#   preprocessing all of deutschl (songs/s, MB/s), training tokens/s vs PyTorch and vs sgemm's FLOP rate,
#   generation steps/s vs PyTorch stepping and the reference's full-window method.
# Needs the peers: bash scripts/setup.sh --peers.   Usage: bench/run.sh [BUILD_DIR] [REPEATS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
repeats=${2:-3}
cmake --build "$build" --target bench_preprocess bench_train bench_generate
echo "== preprocess (all of ../shared/data/essen/deutschl, --jobs 2) =="
"$build/bench/bench_preprocess" --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true
echo "== train =="
sh "$here/train.sh" "$build" "$repeats"
echo "== generate =="
sh "$here/generate.sh" "$build"
