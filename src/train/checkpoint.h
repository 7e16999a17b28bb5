#pragma once
// A training run's state (TrainState: everything `--resume` needs to continue a run to the result it
// would have reached uninterrupted) and its file, the checkpoint. One safetensors file (so its tensor
// data is covered by the container's CRC-32):
//   tensors  params, adam.m, adam.v: (P) each, in the nn/model.h layout
//            ema (P), only with --ema: the moving average of the weights
//            carried (L, 2, B, H), only when a stateful or songs epoch stopped mid-way: the h (then c)
//            state of each layer and batch row that the next step continues from
//   metadata format "melodist-checkpoint", format_version, config, vocabulary,
//            options (the hyperparameters that must not change on resume),
//            state (epoch, step_in_epoch, global_step, RNG seed, best loss, patience count, history ...)
// The same bytes travel from rank 0 to the other ranks of an MPI run (serialize_checkpoint).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/model.h"

namespace melodist {

inline constexpr const char* kCheckpointFormat = "melodist-checkpoint";
inline constexpr int kCheckpointFormatVersion = 1;

struct EpochMetrics {
  int epoch = 0;              // 1-based
  int64_t step = 0;           // optimizer steps so far
  bool partial = false;       // cut short by the time limit
  double train_loss = 0;      // mean nats per scored training position in the epoch
  double val_loss = 0;        // nats per step (validation loss)
  double val_accuracy = 0;    // fraction of validation steps whose most likely symbol is right
  double tokens_per_second = 0;
  double elapsed = 0;         // seconds since the run (or the resumed part) began
};

// What a run carries from step to step, saved and loaded whole.
struct TrainState {
  std::vector<float> params;   // (P) the raw weights training continues from
  std::vector<float> adam_m;   // (P)
  std::vector<float> adam_v;   // (P)
  std::vector<float> ema;      // (P) the moving average of the weights (--ema), or empty
  std::vector<float> carried;  // (L, 2, B, H) mid-epoch songs/stateful state, or empty
  int epoch = 0;               // 0-based epoch the run is in (or starts next)
  int64_t step_in_epoch = 0;   // steps of that epoch already taken
  int64_t global_step = 0;     // Adam steps so far
  double best_val = INFINITY;  // best validation loss so far
  int best_epoch = 0, bad_epochs = 0;
  double loss_sum = 0;         // training nats of the unfinished epoch so far
  int64_t loss_count = 0;      // and their scored positions
  std::vector<EpochMetrics> history;
};

// The checkpoint: the run's state, saved and loaded whole, beside what must match to resume it.
struct Checkpoint {
  ModelConfig config;
  std::vector<std::string> vocabulary;  // (V) id -> symbol
  nlohmann::json options;               // the hyperparameters that must not change on resume
  uint64_t seed = 0;                    // --seed (state "rng"), with which the shuffles and masks go on
  TrainState state;
};

// Serialise / parse the whole checkpoint; parsing throws melodist::Error naming `where` when the file or
// its state is malformed.
std::string serialize_checkpoint(const Checkpoint& checkpoint);
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& where);
// Atomic (temporary file, fsync, rename).
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
// Throws melodist::Error naming the file when it is missing, truncated or corrupted (checksum), not a
// checkpoint, or of another format version.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace melodist
