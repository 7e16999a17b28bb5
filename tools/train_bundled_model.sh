#!/bin/sh
# Rebuilds the bundled model models/essen-german/ as it was made: melodist itself, default settings
# (LSTM 256, dropout 0.3, seq-len 64, batch 64, Adam lr 0.004 with a cosine decay over 70 epochs, weight
# average 0.998, every-next-symbol objective, song windows) on the Essen "erk" songs (1,700 German folk
# songs), seed 1, 2 worker threads. The training command is also stored in the model's metadata.
#   tools/train_bundled_model.sh [MELODIST_BINARY] [ESSEN_DIR]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
melodist=${1:-$here/build/melodist}
essen=${2:-$here/../shared/data/essen/deutschl/erk}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$melodist" preprocess "$essen" --out "$work/erk"
# The committed model is the best epoch (54 of 70, validation loss 0.7248 nats/step) of
# `melodist train --data erk --out DIR --time-limit 300` on a quiet 2-core machine, which finished its 70
# epochs in 4 min 12 s, so the limit did not bind and this command gives the same weights (same seed,
# 2 workers, an AVX-512 build: other CPUs round differently in the last bits).
"$melodist" train --data "$work/erk" --out "$work/essen-german" --seed 1 --threads 2
mkdir -p "$here/models/essen-german"
# The weights (with their metadata), the mapping and the per-epoch metrics are committed; the
# checkpoint (Adam moments, 3.7 MB) stays behind.
cp "$work/essen-german/model.safetensors" "$work/essen-german/mapping.json" "$work/essen-german/metrics.csv" "$here/models/essen-german/"
"$melodist" generate --model "$here/models/essen-german" --temperature 0.8 --seed 1 --out "$work/check.mid"
