#!/usr/bin/env bash
# The IDyOM benchmark (Pearce 2005, table 6.6): pitch bits per note of every note of every song of one
# Essen set, 10-fold cross-validation (fold i holds out songs i, i+10, ...), one fixed recipe.
#
#   tools/idyom_benchmark.sh KERN_DIR OUT_DIR [--resume] [--cache DIR]
#
# Prints a table and writes OUT_DIR/summary.json (pooled_pitch_bits_per_note and
# pooled_pitch_bits_per_note_dynamic for the recipe; the same for the set-alone and pitch-only rows; per
# fold, times).
# --resume: keep what an earlier run with the same OUT_DIR finished (datasets, the pretrained model,
#   finished folds) and redo only the rest.
# --cache DIR: where the pretrained models live (default OUT_DIR/pretrained). A pretrained model is
#   named by the SHA-256 of its training data and command, so sets whose pretraining corpus comes out the
#   same (no song of theirs is in it) share one model when they share DIR.
# For the tests only: --folds K, --epochs-scale F (every epoch count times F, at least 1), --pretrain DIR...
#   (the pretraining songs instead of the German ones; then only the set's copies are left out). The
#   benchmark is the script without them.
#
# The recipe. Every choice is fixed here, the same for every set; nothing looks at a set's folds.
# - Input: written pitches (no transposition), step 1/12 quarter, every length that is a whole number of
#   steps, one symbol pair per note or rest (preprocess --per-note: "67 :6", its MIDI number and its length
#   in steps); each song starts with its key symbol (K:G, from the kern file's designation) and has "|" at
#   every barline. The pitch-only row reads one symbol per note, its MIDI number (preprocess --pitch-only), the
#   chromatic pitch sequence that the thesis's chapter-6 models predict, nothing else.
# - Pretraining: the German songs of ../shared/data/essen/deutschl, every folder but kinder (a benchmark
#   set itself), less every song whose notes equal a song of the set, or of one of Pearce's five Essen
#   sets, after moving both so that the first note is 0 (a copy, transposed or not:
#   tools/bundled_holdout.py's rule; leaving out the five sets' copies too lets them share one pretrained
#   model, and is never less than the set's own copies), each row by its own encoding:
#   the pitch-only row also leaves out the songs whose pitches alone equal a set song's (the same tune in
#   another rhythm). 30 epochs, dropout 0.2, lr 0.003, weight average 0.998 (the kinder pretraining of the
#   README, 2026-11-30).
# - Each fold: fine-tuned from the pretrained model on its nine training folds (less the inner validation
#   songs that pick the best epoch), 10 epochs, batch 16, dropout 0.3, lr 0.0005, weight average 0.99.
# - The set-alone row: every fold trained from scratch on its nine training folds only (no pretraining),
#   100 epochs, batch 16, dropout 0.3, lr 0.004, weight average 0.99; scored as the recipe.
# - Scored statically, and by dynamic evaluation (5 SGD iterations on the whole song so far). The step
#   encoding's setting (lr 0.1 every 48 steps of 1/12, about a 4/4 bar; chosen on kinder's inner
#   validation songs) taken per symbol: the update is on the mean over the symbols, and a per-note symbol
#   stands for about 4 steps of 1/12 (kinder: 72,267 steps, 20,307 per-note symbols), so lr 0.1 / 4 =
#   0.025, every 12 symbols; a pitch-only symbol for about 8 (8,393 notes), so lr 0.0125 every 6 notes.
set -euo pipefail
shopt -s inherit_errexit   # a failing step inside $(...) stops the script too
here=$(cd "$(dirname "$0")" && pwd)
M=${MELODIST:-$here/../build/melodist}
PY=${PYTHON:-/usr/bin/python3}
usage="usage: tools/idyom_benchmark.sh KERN_DIR OUT_DIR [--resume] [--cache DIR]"
set_dir=${1:?$usage}
out=${2:?$usage}
shift 2
resume=0 folds=10 scale=1 cache="" pretrain=() benchmark=()
while (($#)); do
  case "$1" in
    --resume) resume=1; shift ;;
    --cache) cache=${2:?--cache needs a folder}; shift 2 ;;
    --folds) folds=${2:?}; shift 2 ;;
    --epochs-scale) scale=${2:?}; shift 2 ;;
    --pretrain) shift; while (($#)) && [[ $1 != --* ]]; do pretrain+=("$1"); shift; done ;;
    *) echo "idyom_benchmark: unknown option $1 ($usage)" >&2; exit 2 ;;
  esac
done
[[ -d $set_dir ]] || { echo "idyom_benchmark: $set_dir: not a folder" >&2; exit 2; }
[[ -x $M ]] || { echo "idyom_benchmark: $M: not built (cmake --build build, or set MELODIST)" >&2; exit 2; }
if ((${#pretrain[@]} == 0)); then
  D=$here/../../shared/data/essen/deutschl
  [[ -d $D ]] || { echo "idyom_benchmark: $D: the pretraining corpus is missing (../shared/data)" >&2; exit 2; }
  for f in "$D"/*/; do [[ $(basename "$f") == kinder ]] || pretrain+=("${f%/}"); done
  E=$here/../../shared/data/essen/europa
  for b in "$E/elsass" "$E/jugoslav" "$E/schweiz" "$E/oesterrh" "$D/kinder"; do [[ -d $b ]] && benchmark+=("$b"); done
fi
if ((!resume)) && [[ -e $out ]] && [[ -n $(ls -A "$out") ]]; then
  echo "idyom_benchmark: $out is not empty (give --resume to continue it)" >&2; exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${cache:-$out/pretrained}
mkdir -p "$cache"
epochs() { "$PY" -c "import sys; print(max(1, round($1 * float(sys.argv[1]))))" "$scale"; }

SYMBOLS=(--step 1/12 --durations any --transpose none --per-note --key-symbol --barlines)
PITCH=(--step 1/12 --durations any --transpose none --pitch-only)
PLAIN=(--step 1/12 --durations any --transpose none)
PRETRAIN=(--dropout 0.2 --lr 0.003 --ema 0.998 --epochs "$(epochs 30)" --seed 1)
FOLD=(--folds "$folds" --batch 16 --dropout 0.3 --lr 0.0005 --ema 0.99 --epochs "$(epochs 10)" --seed 1)
ALONE=(--folds "$folds" --batch 16 --dropout 0.3 --lr 0.004 --ema 0.99 --epochs "$(epochs 100)" --seed 1)
DYN=(--dynamic-lr 0.025 --dynamic-segment 12 --dynamic-iterations 5 --dynamic-prefix)
DYN_PITCH=(--dynamic-lr 0.0125 --dynamic-segment 6 --dynamic-iterations 5 --dynamic-prefix)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }'; }   # seconds since $1
preprocess() {  # NAME OPTIONS... INPUTS...: OUT/NAME (skipped when --resume finds it whole)
  local name=$1; shift
  [[ -f $out/$name/manifest.json ]] && ((resume)) && return 0
  rm -rf "${out:?}/$name"
  "$M" preprocess "$@" --out "$out/$name" -q > /dev/null
}

# 1. The set, three ways: the recipe's symbols, pitch only, and plain (for the copy check).
t0=$(now)
preprocess set "${SYMBOLS[@]}" "$set_dir"
preprocess set-pitch "${PITCH[@]}" "$set_dir"
preprocess set-plain "${PLAIN[@]}" "$set_dir"
# The songs no pretraining may hold: the set's and the five benchmark sets' (so the five, and any set
# with no copy among the German songs, share one pretrained model).
preprocess guard-plain "${PLAIN[@]}" "$set_dir" "${benchmark[@]}"
preprocess guard-pitch "${PITCH[@]}" "$set_dir" "${benchmark[@]}"

# 2. The pretraining corpus less those songs and their copies.
preprocess pretrain-plain "${PLAIN[@]}" "${pretrain[@]}"
preprocess pretrain-pitch-all "${PITCH[@]}" "${pretrain[@]}"
"$PY" "$here/idyom_benchmark.py" exclusions --set "$out/guard-plain" --corpus "$out/pretrain-plain" \
  --out "$out/pretrain-exclude.txt"
"$PY" "$here/idyom_benchmark.py" exclusions --set "$out/guard-pitch" --corpus "$out/pretrain-pitch-all" \
  --out "$out/pretrain-pitch-exclude.txt"
preprocess pretrain "${SYMBOLS[@]}" --exclude "$out/pretrain-exclude.txt" "${pretrain[@]}"
preprocess pretrain-pitch "${PITCH[@]}" --exclude "$out/pretrain-pitch-exclude.txt" "${pretrain[@]}"
since "$t0" > "$out/time-preprocess.txt"

# 3. Pretraining, once per distinct corpus and command (named by their hash; --resume continues one that
# was interrupted: train checkpoints every epoch).
pretrained() {  # DATASET -> prints the model folder
  local data=$1 key dir
  key=$(cat "$data/songs.txt" "$data/mapping.json" <(echo "${PRETRAIN[*]}") | sha256sum | cut -c1-16)
  dir=$cache/$key
  if [[ ! -f $dir/done ]]; then
    local t=$(now) more=()
    [[ -f $dir/checkpoint.safetensors ]] && more=(--resume)
    "$M" train --data "$data" --out "$dir" "${PRETRAIN[@]}" "${more[@]}" >&2
    since "$t" > "$dir/seconds"
    touch "$dir/done"
  fi
  echo "$dir"
}
model=$(pretrained "$out/pretrain")
model_pitch=$(pretrained "$out/pretrain-pitch")
cp "$model/seconds" "$out/time-pretrain.txt"
cp "$model_pitch/seconds" "$out/time-pretrain-pitch.txt"

# 4. Every fold fine-tuned from the pretrained model (or trained from scratch: the set-alone row), scored
# statically and dynamically.
crossval() {  # NAME DATA CROSSVAL-OPTIONS...
  local name=$1 data=$2 t more=()
  shift 2
  t=$(now)
  [[ -d $out/$name ]] && more=(--resume)
  "$M" crossval --data "$out/$data" --out "$out/$name" "$@" "${more[@]}" > "$out/$name.txt"
  since "$t" >> "$out/time-$name.txt"   # one line per run; summary adds them
}
crossval cv set --init "$model" "${FOLD[@]}" "${DYN[@]}"
crossval cv-alone set "${ALONE[@]}" "${DYN[@]}"
crossval cv-pitch set-pitch --init "$model_pitch" "${FOLD[@]}" "${DYN_PITCH[@]}"

# 5. The check (folds and pretraining share no song with what they score) and the report.
"$PY" "$here/idyom_benchmark.py" check --out "$out" --folds "$folds"
"$PY" "$here/idyom_benchmark.py" summary --out "$out" --set "$set_dir"
