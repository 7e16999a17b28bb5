#!/usr/bin/env bash
# Trains the bundled models from ../shared/data, exactly as they are committed in models/:
#   tools/train_bundled_models.sh german|nottingham [WORK_DIR]     (default WORK_DIR: /tmp/melodist-bundled)
#   STAGE1=MODEL_DIR tools/train_bundled_models.sh ...   starts stage 2 (below) from a stage-1 model already trained
# Each model reads written pitches (no transposition to C/Am) and knows the key, the meter and the bars:
# every song starts with its key and meter symbols (K:G M:3/4) and has a "|" at every barline; training moves
# every song by up to 6 semitones each epoch (key symbol along), so every key is learned. The held-out
# tenth of each corpus (every 10th accepted song, the rule of `train --val-every 10`) and any copy of a
# held-out song elsewhere in the corpus (same notes, transposed or not: tools/bundled_holdout.py) are left
# out of training; WORK_DIR/NAME-heldout holds them, encoded as the model reads them, for `evaluate`
# (WORK_DIR/NAME-heldout-scored: those whose symbols training has seen, what evaluate scores).
# The command lines below are recorded in each model's metadata (train records its own command line;
# preprocess records its options and --exclude list in the manifest, which train copies).
set -euo pipefail
cd "$(dirname "$0")/.."
M=${MELODIST:-./build/melodist}
which=${1:?usage: tools/train_bundled_models.sh german|nottingham [WORK_DIR]}
W=${2:-/tmp/melodist-bundled}
mkdir -p "$W"
SYMBOLS=(--transpose none --key-symbol --meter-symbol --barlines)
COMMON=(--dropout 0.3 --ema 0.998 --augment-transpose 6 --val-every 10 --seed 1)
TRAIN=("${COMMON[@]}" --lr 0.004)
CLOSE=("${COMMON[@]}" --lr 0.002 --seq-len 256)

heldout_and_exclusions() {  # NAME CORPUS HELDOUT_SOURCE [OPTIONS...]: $W/NAME-heldout.txt, $W/NAME-exclude.txt
  local name=$1 corpus=$2 source=$3; shift 3
  "$M" preprocess "$source" --out "$W/$name-heldout-source" "$@" -q          # the held-out rule's song order
  "$M" preprocess "$corpus" --out "$W/$name-corpus-plain" --transpose none "$@" -q   # for the duplicate check
  /usr/bin/python3 tools/bundled_holdout.py --heldout-from "$W/$name-heldout-source" --every 10 \
    --corpus "$W/$name-corpus-plain" --heldout "$W/$name-heldout.txt" --exclude "$W/$name-exclude.txt"
}

train_model() {  # NAME CORPUS OUT_MODEL_DIR ABOUT_CORPUS ABOUT_LICENCE PREPROCESS_OPTIONS...
  local name=$1 corpus=$2 out=$3 about_corpus=$4 about_licence=$5; shift 5
  "$M" preprocess "$corpus" --out "$W/$name-train" --exclude "$W/$name-exclude.txt" "${SYMBOLS[@]}" "$@" -q
  local about=(--about "corpus=$about_corpus" --about "licence=$about_licence" --about "heldout=$out/heldout.txt")
  if [ -n "${STAGE1:-}" ]; then  # stage 1 already trained (the committed models' stage 2 started from git 96f1081's models)
    mkdir -p "$W/$name-model" && cp "$STAGE1/model.safetensors" "$STAGE1/mapping.json" "$STAGE1/metrics.csv" "$W/$name-model/"
  else
    "$M" train --data "$W/$name-train" --out "$W/$name-model" "${TRAIN[@]}" "${TRAIN_EXTRA[@]}" "${about[@]}"
  fi
  # Stage 2, the endings: $CLOSE_EPOCHS more epochs on the same songs with the key restated where the
  # countdown starts (--countdown-key: "|4 K:G") and 256-step windows (the gradient reaches 256 steps
  # back, 16 bars of 4/4, instead of 64), from stage 1 at half its rate. Stage 1 ends songs on the tonic
  # 0.595 of the time (essen-german, 2,000 melodies), stage 2 0.686; the same epochs without the two
  # changes 0.61 (README, "Endings").
  "$M" preprocess "$corpus" --out "$W/$name-train-ck" --exclude "$W/$name-exclude.txt" "${SYMBOLS[@]}" --countdown-key "$@" -q
  "$M" preprocess "$corpus" --out "$W/$name-heldout" --include "$W/$name-heldout.txt" "${SYMBOLS[@]}" --countdown-key "$@" -q
  "$M" train --data "$W/$name-train-ck" --out "$W/$name-close" --init "$W/$name-model" "${CLOSE[@]}" --epochs "$CLOSE_EPOCHS" "${about[@]}"
  # The weights (with their metadata), the mapping and the per-epoch metrics of both stages (stage 2's
  # epochs numbered on from stage 1's) are committed; the checkpoints (Adam moments) stay behind.
  mkdir -p "$out"
  cp "$W/$name-close/model.safetensors" "$W/$name-close/mapping.json" "$out/"
  local first=$(($(wc -l < "$W/$name-model/metrics.csv") - 1))
  { cat "$W/$name-model/metrics.csv"
    awk -F, -v OFS=, -v first="$first" 'NR > 1 { $1 += first; print }' "$W/$name-close/metrics.csv"; } > "$out/metrics.csv"
  # The held-out songs, named relative to ../shared/data, so anyone can evaluate on the same ones.
  sed "s|^$(realpath ../shared/data)/||" "$W/$name-heldout.txt" > "$out/heldout.txt"
  # A held-out song with a symbol no training song has (Nottingham: the two tunes with a quarter-note
  # triplet window, "(3:2") cannot be scored: evaluate the others, WORK_DIR/NAME-heldout-scored.
  /usr/bin/python3 - "$W/$name-heldout" "$W/$name-train/mapping.json" "$W/$name-heldout-scored.txt" <<'PY'
import json, sys
held, mapping, out = sys.argv[1:]
known = set(json.load(open(mapping)))
names = [f["path"] for f in json.load(open(held + "/manifest.json"))["files"] if f["status"] == "accepted"]
songs = open(held + "/songs.txt").read().splitlines()
keep = [n for n, s in zip(names, songs) if set(s.split()) <= known]
for n in sorted(set(names) - set(keep)): print(f"not scored (a symbol no training song has): {n}", file=sys.stderr)
open(out, "w").write("".join(n + "\n" for n in keep))
PY
  "$M" preprocess "$corpus" --out "$W/$name-heldout-scored" --include "$W/$name-heldout-scored.txt" "${SYMBOLS[@]}" --countdown-key "$@" -q
  "$M" evaluate --model "$out" --data "$W/$name-heldout-scored" --split all
}

case "$which" in
  german)
    # All of deutschl but the held-out erk songs (every 10th accepted erk song, as the earlier bundled
    # model, trained on erk alone with the default options, held out) and their copies in other folders.
    D=../shared/data/essen/deutschl
    heldout_and_exclusions german "$D" "$D/erk"
    # LSTM 384, 150 epochs (about an hour on 2 cores): 2.004 pitch bits per note on the held-out songs,
    # where LSTM 256 gave 2.338 at 30 epochs and 2.087 at 120 (README, The bundled model).
    TRAIN_EXTRA=(--hidden 384 --epochs 150)
    CLOSE_EPOCHS=25  # stage 2: 15 min
    # The lines that open each song's last 4 bars count down ("|4" .. "|1"): the model sees the end coming.
    SYMBOLS+=(--countdown-bars 4)
    train_model german "$D" models/essen-german \
      "Essen Folksong Collection, deutschl: 5,365 German folk songs in **kern (all but the held-out tenth of erk and its copies)" \
      "CCARH: academic research use, with attribution to CCARH (../shared/data/essen/LICENSE-CCARH.txt)"
    ;;
  nottingham)
    # Step 1/4 (a sixteenth) with triplet windows ("(3:1": three notes in a quarter): 1,031 of the 1,034
    # tunes (two are malformed ABC, one holds a 3/8-quarter note; the manifest says which). Without
    # --triplets step 1/4 refused the 148 tunes with triplets; at step 1/12, which takes them, a note is
    # followed by 6 to 12 holds and the model learned the holds long before the onsets (40 epochs: 4.8%
    # onset accuracy, 3.67 pitch bits per note on the held-out tunes).
    N=../shared/data/nottingham/abc
    heldout_and_exclusions nottingham "$N" "$N" --step 1/4 --triplets
    TRAIN_EXTRA=(--hidden 384 --epochs 100)
    CLOSE_EPOCHS=30  # stage 2: 7 min (2026-12-08)
    SYMBOLS+=(--countdown-bars 4 --triplets)
    train_model nottingham "$N" models/nottingham \
      "Nottingham Music Database (Jukedeck's cleaned ABC), 1,034 British and American folk tunes: the 1,031 that encode at step 1/4 with triplets, all but the held-out tenth" \
      "GPL-3.0 (../shared/data/nottingham/LICENSE.md): the model is trained on GPL-3.0 data" --step 1/4
    ;;
  *) echo "usage: tools/train_bundled_models.sh german|nottingham [WORK_DIR]" >&2; exit 2 ;;
esac
