#!/usr/bin/python3
"""Dumps PyTorch fixtures for tests/test_dynamic_eval.cpp (dynamic evaluation, evaluate/dynamic_eval.h).

Seeded. A small torch.nn.LSTM -> Linear network with random weights scores a stream
"/" x D, s_1 .. s_n, "/" while it learns from it, written here from the definition in
src/evaluate/dynamic_eval.h with torch autograd and plain SGD (independent of melodist's engine):
  cut the input steps into segments of `segment`; for each segment predict its targets, then (unless it
  is the last) take `iterations` SGD steps on the mean -ln p of the scored positions (segment mode: the
  segment from the carried state, which is a constant; prefix mode: the whole stream so far from the zero
  state), each followed by theta += decay * (theta_0 - theta); segment mode carries the state of the
  last forward pass.
melodist has ONE summed LSTM bias: torch's bias_hh is kept at zero and out of the update, so bias_ih
is that bias (an SGD step on both would move their sum twice).

Run: /usr/bin/python3 tools/dump_dynamic_eval_fixture.py  (writes tests/fixtures/dynamic_eval/*.json)
"""
import json
import os

import torch

from dump_lstm_step_fixture import flat, melodist_params

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "dynamic_eval")


def dump(name, V, H, L, D, n, segment, lr, decay, iterations, prefix, seed):
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float64)  # the oracle in double; melodist runs float32
    lstm = torch.nn.LSTM(V, H, num_layers=L)
    dense = torch.nn.Linear(H, V)
    with torch.no_grad():
        for p in list(lstm.parameters()) + list(dense.parameters()):
            p.uniform_(-0.6, 0.6)
        for l in range(L):
            getattr(lstm, f"bias_hh_l{l}").zero_()
    for l in range(L):
        getattr(lstm, f"bias_hh_l{l}").requires_grad_(False)
    trained = [p for p in list(lstm.parameters()) + list(dense.parameters()) if p.requires_grad]
    theta0 = [p.detach().clone() for p in trained]
    # The weights in melodist's layout, BEFORE any update.
    params = melodist_params(lstm, dense, L)

    song = torch.randint(1, V, (n,)).tolist()  # id 0 is "/"
    stream = [0] * D + song + [0]
    N = len(stream) - 1
    first_scored = D - 1

    def run(first, end, state):
        x = torch.nn.functional.one_hot(torch.tensor(stream[first:end]), V).double().unsqueeze(1)  # (T, 1, V)
        hs, new_state = lstm(x, state)
        logp = torch.log_softmax(dense(hs[:, 0, :]), dim=-1)  # (T, V)
        return logp, new_state

    probs = []
    state = None
    for begin in range(0, N, segment):
        end = min(N, begin + segment)
        first = 0 if prefix else begin
        carried = None if prefix else (None if state is None else (state[0].detach(), state[1].detach()))
        logp, new_state = run(first, end, carried)
        for pos in range(begin, end):
            if pos >= first_scored:
                probs.append(flat(torch.exp(logp[pos - first])))
        scored = [pos for pos in range(first, end) if pos >= first_scored]
        last_state = new_state
        if scored and lr > 0 and end < N:
            for it in range(iterations):
                if it > 0:
                    logp, last_state = run(first, end, carried)
                loss = -sum(logp[pos - first, stream[pos + 1]] for pos in scored) / len(scored)
                grads = torch.autograd.grad(loss, trained)
                with torch.no_grad():
                    for p, g, p0 in zip(trained, grads, theta0):
                        p -= lr * g
                        p += decay * (p0 - p)
        state = last_state
    doc = {
        "generator": "tools/dump_dynamic_eval_fixture.py (torch %s, seed %d)" % (torch.__version__, seed),
        "vocab_size": V, "hidden_size": H, "num_layers": L, "delimiter_length": D,
        "options": {"lr": lr, "segment": segment, "decay": decay, "iterations": iterations, "whole_prefix": prefix},
        "params": params, "song": song, "probabilities": probs,
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f)
    print("wrote", name, "scored", len(probs))


if __name__ == "__main__":
    dump("segment_1layer.json", V=6, H=8, L=1, D=3, n=17, segment=4, lr=0.5, decay=0.1, iterations=2, prefix=False, seed=3)
    dump("prefix_2layer.json", V=5, H=6, L=2, D=2, n=13, segment=5, lr=0.8, decay=0.0, iterations=3, prefix=True, seed=4)
