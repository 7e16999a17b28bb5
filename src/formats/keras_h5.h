#pragma once
// Import of a model saved by the Keras recipe (`model.save("model.h5")`) plus its mapping.json.
//
// Isolation: libhdf5 can crash on a damaged file (4 of 2,774 random byte mutations of a small model
// segfaulted inside it, issue 21). melodist checks what it can first (the HDF5 signature and the
// superblock's file size, by hand: no library call before the file is known to be worth opening), then
// does every HDF5 call in a forked child (util/subprocess.h) that sends back what it read in the
// length-prefixed form of encode_keras_contents. The parent checks that reply field by field before
// using any of it; a child that crashes, exits non-zero, hangs past the timeout or replies malformed
// bytes becomes "FILE: not a readable Keras HDF5 file (REASON)".
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
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/model_file.h"
#include "nn/model.h"

namespace melodist {

struct KerasLayer {
  std::string name;        // Keras layer name, e.g. "lstm"
  std::string class_name;  // "InputLayer", "LSTM", "Dropout", "Dense"
  int units = 0;           // LSTM / Dense units; 0 otherwise
  std::string detail;      // one human-readable line: activations, return_sequences, rate
};

struct KerasImport {
  ModelFile file;  // an ordinary melodist model; metadata["source"] == "keras import"
  std::string keras_version;
  std::string backend;
  std::vector<KerasLayer> layers;  // in file order
};

// Reads and checks h5_path and mapping_path. Throws melodist::Error (one line, naming the file) for a
// file that is not HDF5, a missing attribute, an unsupported layer/activation/option, a missing or
// wrongly shaped weight, a mapping that does not match the model's vocabulary size, or a file the
// HDF5 reading child could not read (see above; `timeout` bounds it).
KerasImport import_keras_model(const std::string& h5_path, const std::string& mapping_path,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));

// ---- the HDF5 side, exposed for the fuzz target and the tests ----

inline constexpr int kMaxWeightRank = 8;
inline constexpr uint64_t kMaxWeightValues = uint64_t{1} << 28;      // floats in one weight (1 GiB)
inline constexpr uint64_t kMaxKerasFileBytes = uint64_t{16} << 30;   // larger files are refused unread

// One weight of one layer as stored, or why it could not be read.
struct KerasWeight {
  std::string layer;             // "lstm_1"
  std::string name;              // "kernel", "recurrent_kernel", "bias"
  std::vector<uint64_t> shape;   // as stored, e.g. (6, 32)
  std::vector<float> values;     // product of shape, row-major
  std::string error;             // non-empty: the one-line message (then shape and values are empty)
};

// Everything import_keras_model needs from the file: the root attributes and, for each LSTM and Dense
// layer that model_config names, its kernel, recurrent_kernel (LSTM) and bias.
struct KerasFileContents {
  std::optional<std::string> model_config, keras_version, backend, training_config;
  std::vector<KerasWeight> weights;
};

// Checks, without the HDF5 library, that h5_path can be an HDF5 file: size at most kMaxKerasFileBytes,
// the signature at byte 0, 512, 1024, ..., a known superblock version, and a file at least as long as
// the superblock's end-of-file address says. Throws melodist::Error naming the file.
void check_hdf5_superblock(const std::string& h5_path);

// The HDF5 reading itself, in this process (what the child runs). Throws melodist::Error naming the
// file; a missing or unreadable weight is recorded in KerasWeight::error instead.
KerasFileContents read_keras_file_contents(const std::string& h5_path);

// The child's reply: "MKH5" 0x01, then records (tag byte, u64 payload length, payload) ending in 'z';
// strings are u32 length + bytes. 'a' attribute (name, value); 'w' weight (layer, name, u32 rank,
// rank u64 dims, floats); 'x' weight error (layer, name, message); 'e' the child's Error message.
std::string encode_keras_contents(const KerasFileContents& contents);
std::string encode_keras_error(const std::string& message);
// The checks and the model from what the child read (import_keras_model without the file and the child).
KerasImport import_keras_contents(const KerasFileContents& contents, const std::string& h5_path, const std::string& mapping_path);

// Decodes and validates a reply. Throws melodist::Error naming h5_path: the child's own message for an
// 'e' record, "not a readable Keras HDF5 file (...)" for anything malformed.
KerasFileContents decode_keras_contents(std::string_view reply, const std::string& h5_path);

// Reads a Keras mapping.json ({"symbol": id, ...}) into vocabulary[id] = symbol. The ids must be
// 0..N-1, each once; every symbol must be one of the text encoding's ("/", "_", "r", MIDI 0..127).
std::vector<std::string> read_keras_mapping(const std::string& mapping_path);

}  // namespace melodist
