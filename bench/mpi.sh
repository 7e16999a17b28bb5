#!/bin/sh
# Data-parallel training throughput on this machine: tokens/s of the default model (H 256, B 64, T 64) on
# erk with R ranks x t worker threads, beside the one-process run of the same workers, and the gradient
# bytes and seconds each step exchanges (rank 0's figures). The model of docs/scaling.md takes its compute
# time and gradient size from this run.
# Usage: bench/mpi.sh [BUILD_DIR] [SECONDS_PER_RUN]   (needs ../shared/data/essen/deutschl/erk, mpirun)
set -eu
BUILD=${1:-build}
SECONDS_PER_RUN=${2:-40}
M=$(cd "$BUILD" && pwd)/melodist
ERK=$(dirname "$0")/../../shared/data/essen/deutschl/erk
[ -d "$ERK" ] || { echo "bench/mpi.sh: $ERK is missing (../shared)" >&2; exit 2; }
OUT=${TMPDIR:-/tmp}/melodist-bench-mpi.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$M" preprocess "$ERK" --out "$OUT/erk" >/dev/null
run() {  # label ranks threads [extra train options]
  label=$1 ranks=$2 threads=$3; shift 3
  launcher=""
  [ "$ranks" -gt 0 ] && launcher="mpirun -np $ranks --oversubscribe --bind-to none"
  $launcher "$M" train --data "$OUT/erk" --out "$OUT/$label" --threads "$threads" --time-limit "$SECONDS_PER_RUN" --seed 1 "$@" \
    >/dev/null 2>"$OUT/$label.err"
  # tokens/s: the first epoch's row of metrics.csv (full, or partial when the time limit cut it)
  tps=$(sed -n 2p "$OUT/$label/metrics.csv" | cut -d, -f8)
  exch=$(grep -o 'exchanged .*per step' "$OUT/$label.err" || true)
  printf '%-44s %10.0f   %s\n' "$label" "$tps" "${exch:-(one process)}"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores)"
printf '%-44s %10s   %s\n' configuration tokens/s "gradient exchange (rank 0)"
run "1 process x 1 thread" 0 1
run "1 process x 2 threads" 0 2
run "mpirun -np 1 x 2 threads" 1 2
run "mpirun -np 2 x 1 thread (ordered)" 2 1
run "mpirun -np 2 x 1 thread (--reduction mpi)" 2 1 --reduction mpi
run "mpirun -np 4 x 1 thread (oversubscribed)" 4 1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
