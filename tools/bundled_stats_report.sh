#!/usr/bin/env bash
# The musical statistics of a bundled model's melodies against its held-out songs (issue 16's table):
#   tools/bundled_stats_report.sh MELODIST MODEL HELDOUT_DATA OUT_DIR [TEMPERATURE] [STEPS] [COUNT] [GENERATE_OPTION...]
#   BARS_OPTIONS="--candidates 4" tools/bundled_stats_report.sh ...   options for the --bars set only
#   BARS=32 tools/bundled_stats_report.sh ...   the bars of that set (default 16)
# COUNT melodies (default 1,000: one standard error of a rate near 0.7 is then 0.015, with 200 it was 0.03;
# seed 2026, temperature 1 and at most 500 steps unless given) left to end themselves, and COUNT with --bars
# $BARS (the default 16 candidates each, unless BARS_OPTIONS says otherwise), each set through
# `stats --against HELDOUT_DATA` (a dataset folder of the held-out songs, as tools/train_bundled_models.sh
# leaves in WORK_DIR/NAME-heldout). The GENERATE_OPTIONs (such as --cadence-temperature 0.3) go to both.
# Prints both reports and writes OUT_DIR/free.json and OUT_DIR/bars$BARS.json.
set -euo pipefail
M=${1:?usage: tools/bundled_stats_report.sh MELODIST MODEL HELDOUT_DATA OUT_DIR [TEMPERATURE] [STEPS] [COUNT] [GENERATE_OPTION...]}
model=${2:?model}; heldout=${3:?held-out dataset folder}; out=${4:?output folder}; t=${5:-1}; steps=${6:-500}; n=${7:-1000}
shift $(( $# < 7 ? $# : 7 ))
read -r -a bars_options <<< "${BARS_OPTIONS:-}"
bars=${BARS:-16}
mkdir -p "$out/free" "$out/bars$bars"
rm -f "$out"/free/m-*.txt "$out/bars$bars"/m-*.txt
"$M" generate --model "$model" -n "$n" --seed 2026 -t "$t" --steps "$steps" "$@" --out "$out/free/m.txt" > "$out/free/log.txt"
"$M" generate --model "$model" -n "$n" --seed 2026 -t "$t" --steps "$steps" --bars "$bars" "$@" "${bars_options[@]}" \
  --out "$out/bars$bars/m.txt" > "$out/bars$bars/log.txt"
for set in free "bars$bars"; do
  echo "== $set: $(grep -c 'ended by the model' "$out/$set/log.txt" || true) of $n ended by the model"
  "$M" stats "$out/$set"/m-*.txt --against "$heldout"
  "$M" stats "$out/$set"/m-*.txt --against "$heldout" --json > "$out/$set.json"
done
