#!/usr/bin/env bash
# The IDyOM benchmark on Pearce's five Essen sets and deutschl/fink, one after another, sharing the
# pretrained models (tools/idyom_benchmark.sh), then the README's table (OUT_ROOT/table.md).
#   tools/idyom_benchmark_all.sh OUT_ROOT [--resume]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: tools/idyom_benchmark_all.sh OUT_ROOT [--resume]}
shift
D=$here/../../shared/data/essen/deutschl
E=$here/../../shared/data/essen/europa
mkdir -p "$root"
for set in "$E/elsass" "$E/jugoslav" "$E/schweiz" "$E/oesterrh" "$D/kinder" "$D/fink"; do
  name=$(basename "$set")
  echo "idyom_benchmark_all: $name ($(date -u +%H:%M:%S))" >&2
  "$here/idyom_benchmark.sh" "$set" "$root/$name" --cache "$root/pretrained" "$@"
done
/usr/bin/python3 "$here/idyom_benchmark.py" table --root "$root" --sets elsass jugoslav schweiz oesterrh kinder fink \
  > "$root/table.md"
cat "$root/table.md"
