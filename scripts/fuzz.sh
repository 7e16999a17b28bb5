#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan+UBSan) and runs each for SECONDS, one after another,
# each on a copy of its seed corpus from tests/fixtures in /tmp (libFuzzer adds what it finds to that
# folder; nothing is written into the source tree). Prints each target's executions and result, and
# exits non-zero if any target found a crash (its reproducer is the crash-* file named in its log).
# Usage: bash scripts/fuzz.sh [SECONDS=600] [TARGET...]     TARGET: kern midi keras abc musicxml
#   e.g. bash scripts/fuzz.sh 60 keras       build dir: build-fuzz (MELODIST_FUZZ_BUILD to change)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(kern midi keras abc musicxml)
build="${MELODIST_FUZZ_BUILD:-build-fuzz}"
work="${TMPDIR:-/tmp}/melodist-fuzz"

CXX=clang++ CC=clang cmake -S . -B "$build" -G Ninja -DMELODIST_FUZZ=ON -DMELODIST_NATIVE=OFF -DMELODIST_PYTHON=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
names=()
for t in "${targets[@]}"; do
  case "$t" in
    kern|midi|abc|musicxml) names+=("fuzz_${t}_reader") ;;
    keras) names+=(fuzz_keras_import) ;;
    *) echo "unknown target $t (kern midi keras abc musicxml)" >&2; exit 2 ;;
  esac
done
cmake --build "$build" --target "${names[@]}"

# seeds TARGET DIR: the fixtures the target's reader takes.
seeds() {
  case "$1" in
    kern) cp tests/fixtures/kern/*.krn tests/fixtures/hostile/kern/*.krn "$2" ;;
    midi) cp tests/fixtures/midi/*.mid "$2" ;;
    abc) cp tests/fixtures/abc/*.abc "$2" ;;
    musicxml) cp tests/fixtures/musicxml/*.musicxml tests/fixtures/musicxml/*.mxl "$2" 2>/dev/null || true ;;
    keras) cp tests/fixtures/keras/*.h5 tests/fixtures/keras/mutated/*.h5 "$2" ;;
  esac
}

failed=0
for i in "${!targets[@]}"; do
  t="${targets[$i]}"
  exe="$build/fuzz/${names[$i]}"
  corpus="$work/corpus-$t"
  log="$work/$t.log"
  mkdir -p "$corpus" "$work/artifacts-$t"
  seeds "$t" "$corpus"
  if [ "$t" = keras ]; then
    # The child's replies for the seed files, so the reply validator starts from real replies too.
    mkdir -p "$work/corpus-keras-replies"
    MELODIST_FUZZ_KERAS_REPLIES="$work/corpus-keras-replies" "$exe" -runs=0 "$corpus" >/dev/null 2>&1 || true
    extra=("$work/corpus-keras-replies")
  else
    extra=()
  fi
  status=0
  nice -n 10 "$exe" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts-$t/" "$corpus" "${extra[@]}" >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  if [ "$status" -eq 0 ]; then
    echo "$t: ${runs:-?} executions in ${seconds} s, clean"
  else
    echo "$t: FOUND A CRASH after ${runs:-?} executions (exit $status); see $log and $work/artifacts-$t/"
    failed=1
  fi
done
exit "$failed"
