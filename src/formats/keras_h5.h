#pragma once
// Import of a model saved by the Keras recipe (`model.save("model.h5")`) plus its mapping.json.
//
// What is read (through the HDF5 C library, Debian libhdf5-dev):
//   * root attributes  model_config (JSON: the architecture), keras_version, backend, training_config
//   * weights          model_weights/<layer>/<weight name listed in the group's weight_names attribute>,
//                      e.g. model_weights/lstm/lstm/kernel:0
// Accepted architecture: an input of V one-hot symbols, L >= 1 stacked LSTM layers (all but the last
// with return_sequences; equal units; activation tanh; recurrent_activation sigmoid or hard_sigmoid;
// use_bias), Dropout layers after LSTM layers, and exactly one Dense(V) with softmax as the last layer.
// Anything else (GRU, Bidirectional, Embedding, another activation, go_backwards, ...) is refused with
// a one-line melodist::Error naming the layer and the option.
//
// Weight conversion: none is needed. Keras's kernel (E, 4H), recurrent_kernel (H, 4H), bias (4H) with
// gates i, f, c, o and Dense kernel (H, V), bias (V) are melodist's w_x, w_h, b, w_y, b_y as stored
// (see nn/model.h). The file's own symbol ids are kept: model.vocabulary[id] = symbol of mapping.json.
#include <string>
#include <vector>

#include "nn/model.h"

namespace melodist {

struct KerasLayer {
  std::string name;        // Keras layer name, e.g. "lstm"
  std::string class_name;  // "InputLayer", "LSTM", "Dropout", "Dense"
  int units = 0;           // LSTM / Dense units; 0 otherwise
  std::string detail;      // one human-readable line: activations, return_sequences, rate
};

struct KerasImport {
  Model model;  // an ordinary melodist model; metadata["source"] == "keras import"
  std::string keras_version;
  std::string backend;
  std::vector<KerasLayer> layers;  // in file order
};

// Reads and checks h5_path and mapping_path. Throws melodist::Error (one line, naming the file) for a
// file that is not HDF5, a missing attribute, an unsupported layer/activation/option, a missing or
// wrongly shaped weight, or a mapping that does not match the model's vocabulary size.
KerasImport import_keras_model(const std::string& h5_path, const std::string& mapping_path);

// Reads a Keras mapping.json ({"symbol": id, ...}) into vocabulary[id] = symbol. The ids must be
// 0..N-1, each once; every symbol must be one of the text encoding's ("/", "_", "r", MIDI 0..127).
std::vector<std::string> read_keras_mapping(const std::string& mapping_path);

}  // namespace melodist
