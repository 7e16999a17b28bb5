#!/usr/bin/python3
"""Makes the small Keras-style HDF5 fixtures of tests/test_keras_import.cpp with h5py (seeded).

Files are laid out as Keras's model.save() writes them: root attributes model_config (JSON),
keras_version, backend; weights under model_weights/<layer>/<layer>/<name>:0 listed in each layer
group's weight_names attribute.

  tiny_hard_sigmoid.h5      a VALID model: Sequential (Keras 2.2.4 standalone style: no InputLayer,
                            fixed-length byte-string attributes), 2 stacked LSTM(8) with hard_sigmoid,
                            dropout, Dense(6) softmax; tiny_mapping.json holds its 6 symbols in a
                            deliberately non-sorted id order. tools/keras_reference_probs.py makes
                            its torch probabilities (tiny_hard_sigmoid_probs.json).
  gru.h5                    functional model with a GRU layer
  bidirectional.h5          functional model with Bidirectional(LSTM)
  relu_activation.h5        LSTM with activation relu
  go_backwards.h5           LSTM with go_backwards true
  missing_weight.h5         the tiny model without lstm_2's recurrent_kernel
  wrong_shape.h5            the tiny model with lstm_1's kernel (6, 28) instead of (6, 32)
  truncated.h5              the first 3000 bytes of tiny_hard_sigmoid.h5
  not_hdf5.h5               a text file
  mapping_5_symbols.json    a mapping of 5 symbols (the tiny model outputs 6)

Usage: /usr/bin/python3 tools/make_bad_h5.py tests/fixtures/keras
"""
import json
import os
import sys

import h5py
import numpy as np

V, H = 6, 8
MAPPING = {"60": 0, "_": 1, "/": 2, "64": 3, "r": 4, "62": 5}


def lstm_config(name, units, return_sequences, **overrides):
    cfg = {"name": name, "trainable": True, "return_sequences": return_sequences, "return_state": False,
           "go_backwards": False, "stateful": False, "unroll": False, "units": units, "activation": "tanh",
           "recurrent_activation": "hard_sigmoid", "use_bias": True, "unit_forget_bias": True,
           "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 1}
    cfg.update(overrides)
    return cfg


def dense_config(name, units):
    return {"name": name, "trainable": True, "units": units, "activation": "softmax", "use_bias": True}


def dropout_config(name, rate):
    return {"name": name, "trainable": True, "rate": rate, "noise_shape": None, "seed": None}


def lstm_weights(rng, E, units, scale=0.9):
    return [("kernel:0", rng.normal(0, scale, (E, 4 * units))),
            ("recurrent_kernel:0", rng.normal(0, scale, (units, 4 * units))),
            ("bias:0", rng.normal(0, 0.5, (4 * units,)))]


def dense_weights(rng, units_in, V):
    return [("kernel:0", rng.normal(0, 1.0, (units_in, V))), ("bias:0", rng.normal(0, 0.3, (V,)))]


def create_group(parent, name):
    """A group without modification times, so that rerunning the script gives the same bytes."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))


def write_model(path, model_config, weights, fixed_strings):
    """weights: list of (layer_name, [(weight_name, array), ...]) in layer order (layers without
    weights have an empty list)."""
    def s(text):  # Keras 2.2.4 standalone wrote np.string_ (fixed length); tf.keras a variable str
        return np.bytes_(text.encode()) if fixed_strings else text

    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = s("2.2.4")
        f.attrs["backend"] = s("tensorflow")
        f.attrs["model_config"] = s(json.dumps(model_config))
        g = create_group(f, "model_weights")
        g.attrs["layer_names"] = np.array([n.encode() for n, _ in weights])
        g.attrs["backend"] = s("tensorflow")
        g.attrs["keras_version"] = s("2.2.4")
        for layer, ws in weights:
            lg = create_group(g, layer)
            if ws:
                lg.attrs["weight_names"] = np.array([f"{layer}/{n}".encode() for n, _ in ws])
            else:
                lg.attrs["weight_names"] = np.array([], dtype=np.float64)
            for n, a in ws:
                parent = lg
                for part in f"{layer}/{n}".split("/")[:-1]:
                    parent = parent[part] if part in parent else create_group(parent, part)
                parent.create_dataset(n.split("/")[-1], data=np.asarray(a, dtype=np.float32), track_times=False)


def tiny_model(rng, kernel_cols=4 * H):
    layers = [
        {"class_name": "LSTM", "config": dict(lstm_config("lstm_1", H, True), batch_input_shape=[None, None, V], dtype="float32")},
        {"class_name": "Dropout", "config": dropout_config("dropout_1", 0.3)},
        {"class_name": "LSTM", "config": lstm_config("lstm_2", H, False)},
        {"class_name": "Dropout", "config": dropout_config("dropout_2", 0.3)},
        {"class_name": "Dense", "config": dense_config("dense_1", V)},
    ]
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": layers}}
    w1 = lstm_weights(rng, V, H)
    if kernel_cols != 4 * H:
        w1[0] = ("kernel:0", rng.normal(0, 0.9, (V, kernel_cols)))
    weights = [("lstm_1", w1), ("dropout_1", []), ("lstm_2", lstm_weights(rng, H, H)), ("dropout_2", []),
               ("dense_1", dense_weights(rng, H, V))]
    return config, weights


def functional(layers):
    """A tf.keras functional Model chaining input_1 -> layers[0] -> ... (each entry: class, config)."""
    entries = [{"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
                "config": {"batch_input_shape": [None, None, V], "dtype": "float32", "sparse": False, "name": "input_1"}}]
    previous = "input_1"
    for cls, cfg in layers:
        entries.append({"class_name": cls, "name": cfg["name"], "config": cfg, "inbound_nodes": [[[previous, 0, 0, {}]]]})
        previous = cfg["name"]
    return {"class_name": "Model", "config": {"name": "model", "layers": entries, "input_layers": [["input_1", 0, 0]],
                                               "output_layers": [[previous, 0, 0]]}}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/keras"
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    config, weights = tiny_model(np.random.default_rng(2024))
    write_model(p("tiny_hard_sigmoid.h5"), config, weights, fixed_strings=True)
    with open(p("tiny_mapping.json"), "w") as f:
        json.dump(MAPPING, f, indent=4)

    # Refusals.
    rng = np.random.default_rng(1)
    gru = {"name": "gru", "trainable": True, "return_sequences": False, "units": H, "activation": "tanh",
           "recurrent_activation": "sigmoid", "use_bias": True, "reset_after": True}
    write_model(p("gru.h5"), functional([("GRU", gru), ("Dense", dense_config("dense", V))]),
                [("input_1", []), ("gru", [("kernel:0", rng.normal(0, 1, (V, 3 * H))), ("recurrent_kernel:0", rng.normal(0, 1, (H, 3 * H))),
                                          ("bias:0", rng.normal(0, 1, (2, 3 * H)))]),
                 ("dense", dense_weights(rng, H, V))], fixed_strings=False)

    bidi = {"name": "bidirectional", "trainable": True, "merge_mode": "concat",
            "layer": {"class_name": "LSTM", "config": lstm_config("lstm", H, False, recurrent_activation="sigmoid")}}
    write_model(p("bidirectional.h5"), functional([("Bidirectional", bidi), ("Dense", dense_config("dense", V))]),
                [("input_1", []), ("bidirectional", [("forward_lstm/" + n, a) for n, a in lstm_weights(rng, V, H)] +
                                                    [("backward_lstm/" + n, a) for n, a in lstm_weights(rng, V, H)]),
                 ("dense", dense_weights(rng, 2 * H, V))], fixed_strings=False)

    for name, override in (("relu_activation.h5", {"activation": "relu"}), ("go_backwards.h5", {"go_backwards": True})):
        cfg = lstm_config("lstm", H, False, recurrent_activation="sigmoid", **override)
        write_model(p(name), functional([("LSTM", cfg), ("Dense", dense_config("dense", V))]),
                    [("input_1", []), ("lstm", lstm_weights(rng, V, H)), ("dense", dense_weights(rng, H, V))], fixed_strings=False)

    config, weights = tiny_model(np.random.default_rng(2024))
    weights[2] = ("lstm_2", [w for w in weights[2][1] if w[0] != "recurrent_kernel:0"])
    # weight_names still lists recurrent_kernel (as a file whose dataset went missing would)
    write_model(p("missing_weight.h5"), config, weights, fixed_strings=True)
    with h5py.File(p("missing_weight.h5"), "a") as f:
        f["model_weights/lstm_2"].attrs["weight_names"] = np.array([b"lstm_2/kernel:0", b"lstm_2/recurrent_kernel:0", b"lstm_2/bias:0"])

    config, weights = tiny_model(np.random.default_rng(2024), kernel_cols=28)
    write_model(p("wrong_shape.h5"), config, weights, fixed_strings=True)

    with open(p("tiny_hard_sigmoid.h5"), "rb") as f:
        head = f.read(3000)
    with open(p("truncated.h5"), "wb") as f:
        f.write(head)
    with open(p("not_hdf5.h5"), "w") as f:
        f.write("this is a text file, not a Keras model\n")
    with open(p("mapping_5_symbols.json"), "w") as f:
        json.dump({"60": 0, "_": 1, "/": 2, "64": 3, "r": 4}, f, indent=4)
    print(f"wrote the Keras fixtures to {out}")


if __name__ == "__main__":
    main()
