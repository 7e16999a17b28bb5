#!/bin/sh
# Training throughput: melodist (OpenBLAS, and BLIS through LD_PRELOAD) beside PyTorch training the
# identical model, and beside the FLOP rate of a large sgemm, in the same run. Medians of repeats.
# Usage: bench/train.sh [BUILD_DIR] [REPEATS]
set -eu
BUILD=${1:-build}
REPEATS=${2:-5}
OUT=${TMPDIR:-/tmp}/melodist-bench-train.$$
mkdir -p "$OUT"
HERE=$(dirname "$0")
BLIS=/usr/lib/x86_64-linux-gnu/blis-openmp/libblis.so.4
run_bench() {  # name, extra env..., filter
  name=$1; shift
  env "$@" "$BUILD/bench/bench_train" --benchmark_repetitions="$REPEATS" --benchmark_report_aggregates_only=false \
    --benchmark_format=json --benchmark_out="$OUT/$name.json" --benchmark_out_format=json \
    ${FILTER:+--benchmark_filter=$FILTER} > /dev/null
}
echo "measuring melodist with OpenBLAS ..." >&2
FILTER= run_bench openblas OPENBLAS_NUM_THREADS=2
if [ -e "$BLIS" ]; then
  echo "measuring melodist with BLIS (LD_PRELOAD) ..." >&2
  FILTER='BM_train_step/[12]/1/|BM_sgemm/2048/1/' run_bench blis1 LD_PRELOAD=$BLIS BLIS_NUM_THREADS=1 OMP_NUM_THREADS=1
  FILTER='BM_sgemm/2048/2/' run_bench blis2 LD_PRELOAD=$BLIS BLIS_NUM_THREADS=2 OMP_NUM_THREADS=2
fi
echo "measuring PyTorch ..." >&2
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 "$HERE/torch_train_peer.py" "$REPEATS" 2 > "$OUT/torch.jsonl"
/usr/bin/python3 - "$OUT" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name + ".json")
    if not os.path.exists(p): return {}
    runs = {}
    for b in json.load(open(p))["benchmarks"]:
        if b.get("run_type") != "iteration": continue
        runs.setdefault(b["run_name"], []).append(b)
    return runs
ob = load("openblas"); bl = {**load("blis1"), **load("blis2")}
torch = [json.loads(l) for l in open(os.path.join(out, "torch.jsonl"))]
torch_best = max(t["median"] for t in torch)
med = lambda rs, k: statistics.median(r[k] for r in rs)
sg_ob = max(med(rs, "gflops") for n, rs in ob.items() if n.startswith("BM_sgemm"))
# CPU-time basis (load-independent efficiency): per second of the process's own CPU time. The sgemm
# reference is the 1-thread product (a multi-threaded BLAS spin-waits, which inflates its CPU time), the
# PyTorch reference its 1-thread run (OpenMP spin-waits too).
sg_cpu = lambda runs: next((med(rs, "gflops_per_cpu_s") for n, rs in runs.items() if n.startswith("BM_sgemm/2048/1/")), None)
torch_cpu = next((t["cpu_median"] for t in torch if t["threads"] == 1), None)
warn = []
print(f"{'configuration':44s} {'tokens/s':>10s} {'GFLOP/s':>8s} {'x PyTorch':>9s} {'% sgemm':>8s} {'other CPU':>9s}"
      f" | {'tok/CPU-s':>10s} {'x PyTorch':>9s} {'% sgemm':>8s}")
for t in torch:
    cpu = f"{t['cpu_median']:10,.0f} {t['cpu_median']/torch_cpu:9.2f}" if t["threads"] == 1 else f"{'(spins)':>10s} {'':>9s}"
    print(f"{'PyTorch torch.nn.LSTM, %d thread(s)' % t['threads']:44s} {t['median']:10,.0f} {'':>8s} {t['median']/torch_best:9.2f} {'':>8s} {'':>9s}"
          f" | {cpu} {'':>8s}")
for label, runs in (("OpenBLAS", ob), ("BLIS", bl)):
    if not runs: continue
    sg_here = max((med(rs, "gflops") for n, rs in runs.items() if n.startswith("BM_sgemm")), default=None)
    sg_cpu_here = sg_cpu(runs)
    for n, rs in sorted(runs.items()):
        if n.startswith("BM_step_product"): continue
        other = med(rs, "other_cpu")
        if other > 0.2: warn.append(f"{label} {n}: other processes used {other:.2f} cores during the measurement")
        if n.startswith("BM_sgemm"):
            threads = n.split('/')[2]
            cpu = f"{med(rs, 'gflops_per_cpu_s'):7.1f} GFLOP/CPU-s" if threads == "1" else ""
            print(f"{label + ' sgemm 2048^3, ' + threads + ' thread(s)':44s} {'':>10s} {med(rs,'gflops'):8.1f} {'':>9s} {'':>8s} {other:9.2f} | {cpu}")
        else:
            w, bt = n.split("/")[1:3]
            tok = med(rs, "tokens_per_s"); gf = med(rs, "gflops")
            tc = med(rs, "tokens_per_cpu_s"); gc = med(rs, "gflops_per_cpu_s")
            cpu = f"{tc:10,.0f} {tc/torch_cpu:9.2f} {100*gc/sg_cpu_here:7.0f}%" if bt == "1" else f"{'(spins)':>10s}"
            print(f"{label + ' melodist, %s worker(s), BLAS threads %s' % (w, bt):44s} {tok:10,.0f} {gf:8.1f} {tok/torch_best:9.2f} {100*gf/sg_here:7.0f}% {other:9.2f} | {cpu}")
sp = {n: rs for n, rs in ob.items() if n.startswith("BM_step_product")}
if sp:
    print("\nThe recurrent step product of one worker, (M, 256) @ w_h (256, 1024) forward and (M, 1024) @ w_h^T backward, 1 thread:")
    for n, rs in sorted(sp.items()):
        packed, M, tr = n.split("/")[1:4]
        how = "w_h packed once (nn/packed_gemm)" if packed == "1" else "cblas_sgemm (packs w_h every call)"
        print(f"  {how:36s} M {M:>3s} {'backward' if tr == '1' else 'forward ':8s} {med(rs, 'gflops'):7.1f} GFLOP/s")
print(f"\nPyTorch best: {torch_best:,.0f} tokens/s; sgemm peak (OpenBLAS, best thread count): {sg_ob:.1f} GFLOP/s; medians of repeats")
print("Right of |: per second of the process's own CPU time (load-independent efficiency; references: 1-thread sgemm, 1-thread PyTorch).")
print("(estimate for an idle machine: wall-clock rate = CPU-time rate x cores kept busy; 2 balanced workers keep 2 busy)")
for w in warn: print("WARNING:", w)
PY
rm -rf "$OUT"
