#!/usr/bin/python3
"""PyTorch peer for bench_train: trains the identical default model (one-hot input (B,T,V) ->
torch.nn.LSTM(V, 256) -> Dropout(0.2) -> Linear(256, V), cross-entropy at every position, Adam with
eps 1e-7, gradient clipping by global norm 5) on a fixed batch, B 64, T 64, V 38, and prints one JSON
line per thread count: {"threads": n, "tokens_per_s": [...repeats...], "median": x, "cpu_median": y}
(cpu_median: tokens per second of this process's own CPU time, the load-independent efficiency figure).
Run with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp so torch uses OpenBLAS.
Usage: torch_train_peer.py [repeats] [seconds_per_repeat]"""
import json
import statistics
import sys
import time

import torch

B, T, H, V = 64, 64, 256, 38
repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(V, H, batch_first=True)
        self.drop = torch.nn.Dropout(0.2)
        self.dense = torch.nn.Linear(H, V)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.dense(self.drop(out))


def measure(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    tokens = torch.randint(0, V, (B, T))
    x = torch.nn.functional.one_hot(tokens, V).float()
    y = torch.randint(0, V, (B, T))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()

    for _ in range(3):
        step()
    rates, cpu_rates = [], []
    for _ in range(repeats):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds:
            step()
            n += 1
        rates.append(n * B * T / (time.perf_counter() - t0))
        cpu_rates.append(n * B * T / (time.process_time() - c0))
    return rates, cpu_rates


for threads in (1, 2):
    rates, cpu_rates = measure(threads)
    print(json.dumps({"threads": threads, "tokens_per_s": rates, "median": statistics.median(rates),
                      "cpu_median": statistics.median(cpu_rates),
                      "torch": torch.__version__, "blas": torch.__config__.show().count("OpenBLAS") > 0}))
    sys.stdout.flush()
