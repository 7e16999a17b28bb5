#!/bin/sh
# Byte-identity harness for behaviour-preserving changes (issue 13): computes the SHA-256 of what a
# user sees and compares it with the committed baseline tools/output_hashes.txt.
#   (a) the tensors of the model file of `train` with the defaults on erk (the earlier bundled model's command:
#       seed 1, 2 threads); the file's JSON header is left out, its metadata holds the elapsed seconds;
#       several minutes on 2 cores, so --skip-train leaves it out
#   (b) `generate --num-outputs 20 --seed 7` with the bundled model, as MIDI and as text
#   (c) `evaluate --json` of the bundled model on erk (the JSON holds no timing fields)
#   (d) `preprocess` of all of deutschl: songs.txt, mapping.json, file_dataset (manifest.json is left
#       out: it gains a content hash and per-song meter in the same round)
# Usage: tools/check_outputs.sh [--skip-train] [--record] [--build DIR] [--out FILE]
#   --record writes the baseline instead of comparing with it. Exit 1 when a hash differs.
# The figures depend on the CPU (AVX-512 builds round differently from others in the last bits):
# record and compare on the same machine and build options.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
baseline=$here/tools/output_hashes.txt
out=
skip_train=0
record=0
while [ $# -gt 0 ]; do
  case $1 in
    --skip-train) skip_train=1 ;;
    --record) record=1 ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--skip-train] [--record] [--build DIR] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
build=$(cd "$build" && pwd)
melodist=$build/melodist
essen=$here/../shared/data/essen/deutschl
model=$here/models/essen-german
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -n "$out" ] || out=$work/hashes.txt
: >"$out"
hash() {  # hash NAME FILE
  printf '%s  %s\n' "$(sha256sum "$2" | cut -d' ' -f1)" "$1" >>"$out"
}
tensors() {  # tensors FILE: the tensor bytes of a safetensors file (after the 8-byte header length and the header)
  n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
  tail -c +$((n + 9)) "$1"
}

# (d) preprocess of all of deutschl
"$melodist" preprocess "$essen" --out "$work/deutschl" --jobs 2 >/dev/null
for f in songs.txt mapping.json file_dataset; do hash "preprocess-deutschl/$f" "$work/deutschl/$f"; done

# (b) generate with the bundled model
mkdir -p "$work/gen"
# run inside the folder: the printed lines name the output files, so they must not hold the temporary path
(cd "$work/gen" && "$melodist" generate --model "$model" --num-outputs 20 --seed 7 --out melody.mid >stdout-mid.txt)
(cd "$work/gen" && "$melodist" generate --model "$model" --num-outputs 20 --seed 7 --out melody.txt >stdout-txt.txt)
for f in $(cd "$work/gen" && ls | sort); do hash "generate/$f" "$work/gen/$f"; done

# (c) evaluate --json on erk
"$melodist" preprocess "$essen/erk" --out "$work/erk" >/dev/null
"$melodist" evaluate --model "$model" --data "$work/erk" --json >"$work/evaluate.json"
hash "evaluate-erk.json" "$work/evaluate.json"

# (a) train with the defaults on erk, as the earlier bundled model was made
if [ "$skip_train" = 0 ]; then
  "$melodist" train --data "$work/erk" --out "$work/essen-german" --seed 1 --threads 2 >/dev/null
  tensors "$work/essen-german/model.safetensors" >"$work/tensors.bin"
  hash "train-bundled/model.safetensors:tensors" "$work/tensors.bin"
fi

if [ "$record" = 1 ]; then
  cp "$out" "$baseline"
  echo "recorded $(wc -l <"$baseline") hashes in $baseline"
  exit 0
fi
# Compare each computed line with the baseline (a skipped part is not compared).
status=0
while read -r sum name; do
  want=$(awk -v n="$name" '$2 == n { print $1 }' "$baseline" 2>/dev/null || true)
  if [ -z "$want" ]; then
    echo "NEW      $name"; status=1
  elif [ "$want" = "$sum" ]; then
    echo "same     $name"
  else
    echo "DIFFERS  $name"; status=1
  fi
done <"$out"
[ "$status" = 0 ] && echo "all $(wc -l <"$out") outputs match tools/output_hashes.txt" || echo "outputs differ from tools/output_hashes.txt"
exit $status
