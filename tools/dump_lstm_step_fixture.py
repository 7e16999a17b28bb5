#!/usr/bin/python3
"""Dumps PyTorch fixtures for tests/test_lstm_step.cpp (stateful one-step inference).

Seeded. Builds small LSTM -> Linear networks with random weights, runs a token sequence through them
in ONE full-sequence call (one-hot input), and writes the weights in melodist's layout (nn/model.h:
w_x (E,4H) = weight_ih^T, w_h (H,4H) = weight_hh^T, b = bias_ih + bias_hh, w_y (H,V) = Linear.weight^T)
with the logits at every step. The sigmoid case uses torch.nn.LSTM itself; Keras 2.2.4's hard_sigmoid
(clip(0.2x+0.5, 0, 1), which torch.nn.LSTM cannot do) is the same cell written with torch ops.

Run: /usr/bin/python3 tools/dump_lstm_step_fixture.py  (writes tests/fixtures/lstm_step/*.json)
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "lstm_step")


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def melodist_params(lstm, dense, L):
    """The weights of torch.nn.LSTM + Linear in melodist's layout (nn/model.h), by tensor name."""
    params = {}
    for l in range(L):
        params[f"lstm.{l}.w_x"] = flat(getattr(lstm, f"weight_ih_l{l}").t())
        params[f"lstm.{l}.w_h"] = flat(getattr(lstm, f"weight_hh_l{l}").t())
        params[f"lstm.{l}.b"] = flat(getattr(lstm, f"bias_ih_l{l}") + getattr(lstm, f"bias_hh_l{l}"))
    params["dense.w_y"] = flat(dense.weight.t())
    params["dense.b_y"] = flat(dense.bias)
    return params


def dump(name, V, H, L, activation, T, seed):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(V, H, num_layers=L, batch_first=True)
    dense = torch.nn.Linear(H, V)
    with torch.no_grad():
        for p in list(lstm.parameters()) + list(dense.parameters()):
            p.uniform_(-0.5, 0.5)
    tokens = torch.randint(0, V, (T,))
    x = torch.nn.functional.one_hot(tokens, V).float().unsqueeze(0)  # (1, T, V)
    with torch.no_grad():
        if activation == "sigmoid":
            hs, _ = lstm(x)  # (1, T, H)
        else:
            act = lambda a: torch.clamp(0.2 * a + 0.5, 0.0, 1.0)
            inp = x[0]
            for l in range(L):
                wih = getattr(lstm, f"weight_ih_l{l}")
                whh = getattr(lstm, f"weight_hh_l{l}")
                b = getattr(lstm, f"bias_ih_l{l}") + getattr(lstm, f"bias_hh_l{l}")
                h = torch.zeros(H)
                c = torch.zeros(H)
                outs = []
                for t in range(T):
                    a = wih @ inp[t] + whh @ h + b
                    i, f, g, o = a[0:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:4 * H]
                    c = act(f) * c + act(i) * torch.tanh(g)
                    h = act(o) * torch.tanh(c)
                    outs.append(h)
                inp = torch.stack(outs)
            hs = inp.unsqueeze(0)
        logits = dense(hs)[0]  # (T, V)
    params = melodist_params(lstm, dense, L)
    doc = {
        "generator": "tools/dump_lstm_step_fixture.py (torch %s, seed %d)" % (torch.__version__, seed),
        "vocab_size": V, "hidden_size": H, "num_layers": L, "recurrent_activation": activation,
        "params": params, "tokens": tokens.tolist(), "logits": [flat(r) for r in logits],
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f)
    print("wrote", name)


if __name__ == "__main__":
    dump("sigmoid_2layer.json", V=7, H=12, L=2, activation="sigmoid", T=30, seed=1)
    dump("hard_sigmoid_1layer.json", V=6, H=10, L=1, activation="hard_sigmoid", T=30, seed=2)
