#!/usr/bin/python3
"""Independent oracle for `melodist import-keras`: loads a Keras model.h5 with h5py into PyTorch and
dumps next-symbol probabilities for a set of contexts into a JSON fixture.

The conversion is written here from the Keras documentation, not from melodist's code:
  Keras LSTM kernel (E, 4H), recurrent_kernel (H, 4H), bias (4H), gates i, f, c, o
    -> torch.nn.LSTM weight_ih_l{k} = kernel.T (4H, E), weight_hh_l{k} = recurrent_kernel.T (4H, H),
       bias_ih_l{k} = bias, bias_hh_l{k} = 0 (torch's gate order i, f, g, o is the same)
  Keras Dense kernel (H, V), bias (V) -> torch.nn.Linear weight = kernel.T (V, H), bias.
torch.nn.LSTM only has the logistic sigmoid; when the file's recurrent_activation is hard_sigmoid
(Keras: clip(0.2 x + 0.5, 0, 1)) the cell is written out in torch ops instead.
Everything runs in float64, so the oracle's own rounding is far below the 1e-5 tolerance.

Contexts: each is run from a zero state through the network; the fixture holds, for every position
from `first_scored` on, the distribution over the NEXT symbol after reading the context up to and
including that position.

Usage (Debian's interpreter, which has python3-torch and python3-h5py):
  /usr/bin/python3 tools/keras_reference_probs.py --h5 ../shared/data/keras-reference/model.h5 \
      --mapping ../shared/data/keras-reference/mapping.json --out tests/fixtures/keras/reference_probs.json
  /usr/bin/python3 tools/keras_reference_probs.py --h5 tests/fixtures/keras/tiny_hard_sigmoid.h5 \
      --mapping tests/fixtures/keras/tiny_mapping.json --out tests/fixtures/keras/tiny_hard_sigmoid_probs.json
"""
import argparse
import json

import h5py
import numpy as np
import torch

SEQUENCE_LENGTH = 64  # the reference's start symbols ("/" x 64)
REFERENCE_SEEDS = [
    "67 _ 67 _ 67 _ _ 65 64 _ 64 _ 64 _ _",
    "67 _ _ _ _ _ 65 _ 64 _ 62 _ 60 _ _ _",
]


def text(attr):
    return attr.decode("utf-8") if isinstance(attr, bytes) else str(attr)


def load_keras(h5_path):
    """Returns (layers, lstm_specs, dense_spec) read straight from the HDF5 file."""
    f = h5py.File(h5_path, "r")
    config = json.loads(text(f.attrs["model_config"]))
    layer_list = config["config"] if isinstance(config["config"], list) else config["config"]["layers"]
    lstms, dense = [], None
    weights = f["model_weights"]

    def weight(layer, short):
        group = weights[layer]
        for name in group.attrs["weight_names"]:
            name = text(name)
            if name.split("/")[-1] in (short + ":0", short):
                return np.asarray(group[name], dtype=np.float64)
        raise KeyError(f"{layer}/{short}")

    for layer in layer_list:
        cls, cfg = layer["class_name"], layer["config"]
        if cls == "LSTM":
            assert cfg["activation"] == "tanh" and cfg.get("use_bias", True) and not cfg.get("go_backwards", False)
            lstms.append({
                "name": cfg["name"], "units": cfg["units"], "recurrent_activation": cfg["recurrent_activation"],
                "kernel": weight(cfg["name"], "kernel"), "recurrent_kernel": weight(cfg["name"], "recurrent_kernel"),
                "bias": weight(cfg["name"], "bias"),
            })
        elif cls == "Dense":
            assert cfg["activation"] == "softmax"
            dense = {"name": cfg["name"], "kernel": weight(cfg["name"], "kernel"), "bias": weight(cfg["name"], "bias")}
        elif cls not in ("InputLayer", "Dropout"):
            raise ValueError(f"unsupported layer {cls}")
    return f.attrs.get("keras_version"), lstms, dense


def make_torch_forward(lstms, dense):
    """Returns run(x (T, V) float64 one-hot) -> probabilities (T, V)."""
    hard = [l["recurrent_activation"] == "hard_sigmoid" for l in lstms]
    linear = torch.nn.Linear(dense["kernel"].shape[0], dense["kernel"].shape[1]).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(dense["kernel"].T))
        linear.bias.copy_(torch.from_numpy(dense["bias"]))

    torch_lstms = []
    for l in lstms:
        if l["recurrent_activation"] == "sigmoid":
            m = torch.nn.LSTM(l["kernel"].shape[0], l["units"], num_layers=1, batch_first=False).double()
            with torch.no_grad():
                m.weight_ih_l0.copy_(torch.from_numpy(l["kernel"].T))
                m.weight_hh_l0.copy_(torch.from_numpy(l["recurrent_kernel"].T))
                m.bias_ih_l0.copy_(torch.from_numpy(l["bias"]))
                m.bias_hh_l0.zero_()
            torch_lstms.append(("torch", m))
        elif l["recurrent_activation"] == "hard_sigmoid":
            torch_lstms.append(("hard", {k: torch.from_numpy(l[k]) for k in ("kernel", "recurrent_kernel", "bias")}))
        else:
            raise ValueError(l["recurrent_activation"])

    def hard_sigmoid(x):
        return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)

    def hand_lstm(w, x):  # x (T, E) -> (T, H); Keras's cell with hard_sigmoid gates
        H = w["recurrent_kernel"].shape[0]
        h = torch.zeros(H, dtype=torch.float64)
        c = torch.zeros(H, dtype=torch.float64)
        out = []
        for t in range(x.shape[0]):
            z = x[t] @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"]
            i, f, g, o = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
            c = hard_sigmoid(f) * c + hard_sigmoid(i) * torch.tanh(g)
            h = hard_sigmoid(o) * torch.tanh(c)
            out.append(h)
        return torch.stack(out)

    def run(x):
        with torch.no_grad():
            y = x
            for kind, m in torch_lstms:
                if kind == "torch":
                    y, _ = m(y.unsqueeze(1))  # (T, 1, H)
                    y = y.squeeze(1)
                else:
                    y = hand_lstm(m, y)
            return torch.softmax(linear(y), dim=-1)

    return run


def contexts(vocabulary, seed):
    """(name, symbols, first_scored) triples; all start with the 64 start symbols like the reference."""
    start = ["/"] * SEQUENCE_LENGTH
    rng = np.random.default_rng(seed)
    out = [("start symbols only", start, SEQUENCE_LENGTH - 1)]
    seeds = []
    for s in REFERENCE_SEEDS:
        if all(symbol in vocabulary for symbol in s.split()):
            seeds.append(("reference seed: " + s, s.split()))
        else:  # a small test vocabulary: a seeded random seed of the same length instead
            melody = [vocabulary[i] for i in rng.integers(0, len(vocabulary), 16) if vocabulary[i] != "/"]
            seeds.append(("random seed: " + " ".join(melody), melody))
    for name, melody in seeds:
        out.append((name, start + melody, SEQUENCE_LENGTH - 1))
    # Every symbol of the vocabulary once after the start symbols: touches every row of the input kernel.
    # (Not a random string of symbols: such a sequence drives this trained network into states so
    # sensitive that float32 PyTorch itself lands 1e-2 away from float64 after ~70 steps.)
    for symbol in vocabulary:
        out.append((f"start symbols, then {symbol}", start + [symbol], SEQUENCE_LENGTH))
    # A song boundary inside the context (no state reset, as in training on the joined dataset).
    out.append(("two songs joined", start + seeds[0][1] + start + seeds[1][1], SEQUENCE_LENGTH - 1))
    return out, seeds[0][1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--h5", required=True)
    p.add_argument("--mapping", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sampled-steps", type=int, default=48,
                   help="length of an extra context sampled from the model itself (seeded)")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    mapping = json.load(open(a.mapping))
    vocabulary = [None] * len(mapping)
    for symbol, i in mapping.items():
        vocabulary[i] = symbol
    keras_version, lstms, dense = load_keras(a.h5)
    assert dense["kernel"].shape[1] == len(vocabulary)
    run = make_torch_forward(lstms, dense)
    V = len(vocabulary)

    def one_hot(symbols):
        x = torch.zeros(len(symbols), V, dtype=torch.float64)
        for t, s in enumerate(symbols):
            x[t, mapping[s]] = 1.0
        return x

    cases, first_seed = contexts(vocabulary, a.seed)
    # A melody the model composes itself (multinomial, seeded), continuing the first seed: a context of
    # the kind generation produces, 128 symbols long (two of the reference generator's 64-step
    # windows). Not longer, because of float32, not of melodist: 70-90 steps into a melody, the
    # reference model's state amplifies rounding so much that float32 LSTMs that differ only in the
    # order of their sums (PyTorch's own float32 LSTM included) land up to 1.5e-5 away from this
    # float64 oracle, and ~300 steps into a melody that has not ended, up to 3e-3. Up to here every
    # float32 order we tried stays within ~5e-6 of it, so the C++ test's 1e-5 measures the import,
    # not the luck of a summation order.
    symbols = ["/"] * SEQUENCE_LENGTH + first_seed
    g = torch.Generator().manual_seed(a.seed)
    for _ in range(a.sampled_steps):
        p_next = run(one_hot(symbols))[-1]
        symbols.append(vocabulary[int(torch.multinomial(p_next, 1, generator=g))])
    cases.append((f"{a.sampled_steps} steps sampled from the model (seed {a.seed})", symbols, SEQUENCE_LENGTH - 1))

    fixture = {
        "generator": "tools/keras_reference_probs.py (h5py + torch.nn.LSTM, float64)",
        "h5": a.h5.split("/")[-1],
        "keras_version": text(keras_version) if keras_version is not None else None,
        "recurrent_activation": [l["recurrent_activation"] for l in lstms],
        "vocabulary": vocabulary,
        "contexts": [],
    }
    for name, symbols, first in cases:
        probs = run(one_hot(symbols)).numpy()
        fixture["contexts"].append({
            "name": name,
            "symbols": " ".join(symbols),
            "first_scored": first,  # probabilities[k] = p(next | symbols[0..first+k])
            "probabilities": [[float(f"{v:.9g}") for v in row] for row in probs[first:]],
        })
    with open(a.out, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")
    rows = sum(len(c["probabilities"]) for c in fixture["contexts"])
    print(f"wrote {a.out}: {len(fixture['contexts'])} contexts, {rows} distributions over {V} symbols")


if __name__ == "__main__":
    main()
