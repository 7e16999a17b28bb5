#!/bin/sh
# Generation benchmark: melodist's stateful model_step (bench_generate) beside PyTorch stepping with
# state and the reference's full-window method (bench/torch_generate_peer.py, better of 1 and 2
# threads), in the same run, default model (H 256, V 38). Prints a table with ratios.
#   bench/generate.sh [BUILD_DIR]   (default: build; the bench_generate target must be built)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
"$build/bench/bench_generate" --benchmark_format=json --benchmark_out="$tmp/melodist.json" --benchmark_out_format=json >/dev/null
for t in 1 2; do
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 "$here/torch_generate_peer.py" --threads $t >>"$tmp/torch.jsonl"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$tmp/melodist.json" "$tmp/torch.jsonl" <<'PY'
import json, sys
mel = json.load(open(sys.argv[1]))["benchmarks"]
peer = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]

def mel_step(batch):
    b = [x for x in mel if x["name"].startswith("BM_model_step/batch:%d/" % batch) and x.get("aggregate_name") == "median"][0]
    # wall and CPU time per batch step (us); Google Benchmark reports ns
    return b["real_time"] / 1e3, b["cpu_time"] / 1e3

def mel_gen(n):
    b = [x for x in mel if x["name"].startswith("BM_generate_500/outputs:%d" % n)][0]
    return b["steps_per_s"]

def best(method, batch):
    rows = [p for p in peer if p["method"] == method and p["batch"] == batch]
    return min(rows, key=lambda p: p["us_per_step"])

print()
print("%-52s %10s %12s %12s %12s" % ("method (default model H 256, V 38)", "batch", "us/step", "cpu us/step", "steps/s"))
m1w, m1c = mel_step(1)
m64w, m64c = mel_step(64)
t1, t64, tw = best("torch_step", 1), best("torch_step", 64), best("torch_window", 1)
rows = [
    ("melodist model_step (1 thread)", 1, m1w, m1c, 1e6 / m1w),
    ("melodist model_step (2 threads)", 64, m64w, None, 64e6 / m64w),  # cpu clock: calling thread only
    ("PyTorch nn.LSTM stepping with state (%d thr)" % t1["threads"], 1, t1["us_per_step"], t1["cpu_us_per_step"], t1["steps_per_s"]),
    ("PyTorch nn.LSTM stepping with state (%d thr)" % t64["threads"], 64, t64["us_per_step"], t64["cpu_us_per_step"], t64["steps_per_s"]),
    ("PyTorch full 64-step window per note (%d thr)" % tw["threads"], 1, tw["us_per_step"], tw["cpu_us_per_step"], tw["steps_per_s"]),
]
for name, b, w, c, s in rows:
    print("%-52s %10d %12.1f %12s %12.0f" % (name, b, w, "-" if c is None else "%.1f" % c, s))
print("%-52s %10d %12s %12s %12.0f" % ("melodist generate, 500 steps incl. sampling", 1, "", "", mel_gen(1)))
print("%-52s %10d %12s %12s %12.0f" % ("melodist generate, 500 steps incl. sampling", 64, "", "", mel_gen(64)))
print()
print("ratios (wall time, same run):")
print("  batch 64 / batch 1 steps/s (melodist):            %6.1fx" % ((64e6 / m64w) / (1e6 / m1w)))
print("  melodist vs PyTorch stepping, batch 1:            %6.1fx   (cpu time: %.1fx)" % (t1["us_per_step"] / m1w, t1["cpu_us_per_step"] / m1c))
print("  melodist vs PyTorch stepping, batch 64:           %6.1fx" % (t64["us_per_step"] / m64w))
print("  melodist vs reference full-window method, batch 1: %5.0fx   (cpu time: %.0fx)" % (tw["us_per_step"] / m1w, tw["cpu_us_per_step"] / m1c))
flops = 2.0 * (256 * 1024 + 256 * 38)
print("  melodist batch 1: %.1f GFLOP/s, weights streamed at %.1f GB/s (cpu time)" % (flops / m1c / 1e3, 4.0 * (256 * 1024 + 256 * 38 + 1024) / m1c / 1e3))
print("  melodist batch 64: %.1f GFLOP/s on 2 cores (wall time)" % (64 * flops / m64w / 1e3))
PY
