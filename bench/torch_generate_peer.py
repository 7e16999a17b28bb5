#!/usr/bin/python3
"""PyTorch peer for bench/bench_generate.cpp: the default network (one-hot input of V 38 symbols,
torch.nn.LSTM(38, 256), Linear(256, 38), softmax), random weights, float32, CPU, no_grad.

  step     stateful stepping: one call of the LSTM per symbol with (h, c) carried over, batch 1 and 64
  window   the reference's method: for every new symbol the whole 64-step window is run again, batch 1

Prints one JSON object per line: {"method", "batch", "threads", "steps_per_s", "us_per_step" (wall),
"cpu_us_per_step" (process CPU time: on a busy machine the fairer figure for one thread)}.
Run with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 (bench/generate.sh).
"""
import argparse
import json
import time

import torch

V, H, WINDOW = 38, 256, 64


def timed(fn, min_time):
    """(wall seconds, process CPU seconds) per call."""
    fn()  # warm-up
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / n, (time.process_time() - cpu) / n


def median(runs):
    runs = sorted(runs)
    return runs[len(runs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(V, H, batch_first=True)
    dense = torch.nn.Linear(H, V)
    results = []
    with torch.no_grad():
        for batch in (1, 64):
            tokens = torch.randint(0, V, (batch,))
            x = torch.nn.functional.one_hot(tokens, V).float().unsqueeze(1)  # (B, 1, V)
            state = [(torch.zeros(1, batch, H), torch.zeros(1, batch, H))]

            def step():
                out, state[0] = lstm(x, state[0])
                torch.softmax(dense(out[:, 0]), dim=-1)

            t, cpu = median([timed(step, a.min_time) for _ in range(a.repeats)])
            results.append({"method": "torch_step", "batch": batch, "threads": a.threads, "us_per_step": t * 1e6,
                            "cpu_us_per_step": cpu * 1e6, "steps_per_s": batch / t})
        window = torch.nn.functional.one_hot(torch.randint(0, V, (1, WINDOW)), V).float()  # (1, 64, V)

        def full_window():
            out, _ = lstm(window)
            torch.softmax(dense(out[:, -1]), dim=-1)

        t, cpu = median([timed(full_window, a.min_time) for _ in range(a.repeats)])
        results.append({"method": "torch_window", "batch": 1, "threads": a.threads, "us_per_step": t * 1e6,
                        "cpu_us_per_step": cpu * 1e6, "steps_per_s": 1 / t})
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
