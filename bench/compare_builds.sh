#!/bin/sh
# Before/after speed of a behaviour-preserving change: the training step (bench_train, BM_train_step: 1 and
# 2 workers, 1 worker with 2 BLAS threads) and generation (bench_generate: model_step at batch 1 and 64,
# 500 sampled steps for 1 and 64 outputs) of two builds, alternated REPEATS times in the same run so that
# drift in the machine's load falls on both; medians, their spread, and new / old.
#   bench/compare_builds.sh OLD_BUILD_DIR NEW_BUILD_DIR [REPEATS]   (default 5; each build needs its
#   bench_train and bench_generate targets)
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OLD_BUILD_DIR NEW_BUILD_DIR [REPEATS]" >&2; exit 2; }
old=$1
new=$2
repeats=${3:-5}
for b in "$old" "$new"; do
  for t in bench_train bench_generate; do
    [ -x "$b/bench/$t" ] || { echo "$0: $b/bench/$t is not built" >&2; exit 2; }
  done
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
r=1
while [ "$r" -le "$repeats" ]; do
  for side in old new; do
    [ "$side" = old ] && b=$old || b=$new
    echo "repeat $r/$repeats: $side ($b)" >&2
    OPENBLAS_NUM_THREADS=2 "$b/bench/bench_train" --benchmark_filter='BM_train_step' --benchmark_format=json \
      --benchmark_out="$tmp/$side-train-$r.json" --benchmark_out_format=json >/dev/null
    "$b/bench/bench_generate" --benchmark_filter='BM_model_step|BM_generate_500/' --benchmark_format=json \
      --benchmark_out="$tmp/$side-generate-$r.json" --benchmark_out_format=json >/dev/null
  done
  r=$((r + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/python3 - "$tmp" <<'PY'
import glob, json, os, statistics, sys
tmp = sys.argv[1]
def rates(side):
    out = {}
    for path in sorted(glob.glob(os.path.join(tmp, side + "-*.json"))):
        runs = json.load(open(path))["benchmarks"]
        # one rate per benchmark and file: its iteration, or its median where it repeats (model_step)
        repeated = {b["run_name"] for b in runs if b.get("run_type") == "aggregate"}
        for b in runs:
            kind = "median" if b["run_name"] in repeated else None
            if b.get("aggregate_name") != kind: continue
            name = b["run_name"].split("/min_time")[0]
            if "tokens_per_s" in b: rate, unit = b["tokens_per_s"], "tokens/s"
            elif "steps_per_s" in b: rate, unit = b["steps_per_s"], "steps/s"
            else:  # model_step: one step of the batch per iteration
                seconds = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
                rate, unit = int(name.split("batch:")[1].split("/")[0]) / seconds, "rows/s"
            out.setdefault((name, unit), []).append(rate)
    return out
old, new = rates("old"), rates("new")
print(f"{'benchmark':40s} {'unit':>9s} {'old median':>12s} {'new median':>12s} {'new/old':>8s}  spread old, new")
worst = float("inf")
for key in sorted(old):
    if key not in new: continue
    o, n = statistics.median(old[key]), statistics.median(new[key])
    spread = lambda xs: (max(xs) - min(xs)) / statistics.median(xs)
    worst = min(worst, n / o)
    print(f"{key[0]:40s} {key[1]:>9s} {o:12,.0f} {n:12,.0f} {n / o:8.3f}  {100 * spread(old[key]):4.1f}%, {100 * spread(new[key]):4.1f}%")
print(f"\nlowest new/old: {worst:.3f} (medians of {len(next(iter(old.values())))} alternated repeats)")
PY
