#!/bin/sh
# Rebuilds the bundled model models/essen-german/ exactly as it was made: melodist itself, default
# settings (LSTM 256, dropout 0.2, seq-len 64, batch 64, Adam 1e-3, every-next-symbol objective),
# 10 minutes of training on the Essen "erk" songs (1,700 German folk songs), seed 1.
# The training command is also stored in the model's metadata ("command") by `melodist train`.
#   tools/train_bundled_model.sh [MELODIST_BINARY] [ESSEN_DIR]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
melodist=${1:-$here/build/melodist}
essen=${2:-$here/../shared/data/essen/deutschl/erk}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$melodist" preprocess "$essen" --out "$work/erk"
# The committed model is the best epoch (51, validation loss 0.749 nats/step) of a run made with
# `--epochs 200 --time-limit 2100` that was stopped after epoch 53; with the constant learning rate,
# --epochs only decides when to stop, so this command reproduces it (same seed, same 2 workers).
"$melodist" train --data "$work/erk" --out "$work/essen-german" --epochs 53 --seed 1
mkdir -p "$here/models/essen-german"
# The weights (with their metadata), the mapping and the per-epoch metrics are committed; the
# checkpoint (Adam moments, 3.7 MB) stays behind.
cp "$work/essen-german/model.safetensors" "$work/essen-german/mapping.json" "$work/essen-german/metrics.csv" "$here/models/essen-german/"
"$melodist" generate --model "$here/models/essen-german" --temperature 0.8 --seed 1 --out "$work/check.mid"
