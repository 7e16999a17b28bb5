#pragma once
// A training checkpoint: everything `--resume` needs to continue a run to the result it would have
// reached uninterrupted. One safetensors file (so its tensor data is covered by the container's CRC-32):
//   tensors  params, adam.m, adam.v: (P) each, in the nn/model.h layout
//            ema (P), only with --ema: the moving average of the weights
//            carried (L, 2, B, H), only when a stateful or songs epoch stopped mid-way: the h (then c)
//            state of each layer and batch row that the next step continues from
//   metadata format "melodist-checkpoint", format_version, config, vocabulary,
//            options (the hyperparameters that must not change on resume),
//            state (epoch, step_in_epoch, global_step, RNG seed, best loss, patience count, history ...)
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/model.h"

namespace melodist {

inline constexpr const char* kCheckpointFormat = "melodist-checkpoint";
inline constexpr int kCheckpointFormatVersion = 1;

struct Checkpoint {
  ModelConfig config;
  std::vector<std::string> vocabulary;
  std::vector<float> params;  // (P)
  std::vector<float> adam_m;  // (P)
  std::vector<float> adam_v;  // (P)
  std::vector<float> carried; // (L, 2, B, H) or empty
  std::vector<float> ema;     // (P) the moving average of the weights (--ema), or empty
  nlohmann::json options;
  nlohmann::json state;
};

// Atomic (temporary file, fsync, rename).
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
// Throws melodist::Error naming the file when it is missing, truncated or corrupted (checksum), not a
// checkpoint, or of another format version.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace melodist
