#pragma once
// `melodist train` as a library call: trains the melodist network (nn/model.h) with the engine of
// nn/engine.h, Adam (nn/adam.h) and clipping by global norm, validates every epoch with THE validation
// loss (generate/song_score.h: each song from a fresh state after the start symbols, mean nats over its
// symbols and the first "/" after it), keeps the best model, and checkpoints every epoch.
//
// Files in out_dir (when not empty): model.safetensors + mapping.json (the best model so far),
// metrics.csv (one row per epoch), checkpoint.safetensors (params, Adam moments, step, epoch, RNG seed,
// history; all written atomically: temporary file, fsync, rename).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/model_file.h"
#include "nn/model.h"
#include "train/batching.h"
#include "train/checkpoint.h"
#include "train/communicator.h"
#include "train/init_model.h"

namespace melodist {

struct TrainOptions {
  // Data: either a dataset folder (validation = every val_every-th song of songs.txt) ...
  std::string data_dir;
  int val_every = 10;
  // ... or, when data_dir is empty, songs and vocabulary in memory with an explicit split (crossval).
  std::vector<std::string> vocabulary;           // (V) id -> symbol; must hold "/"
  std::vector<std::vector<int>> train_songs;     // ids
  std::vector<std::vector<int>> validation_songs;
  nlohmann::json preprocessing;                  // stored in the model's metadata
  nlohmann::json validation_rule;                // stored as metadata "validation" (default {"every": val_every})
  int delimiter_length = 64;                     // "/" between training songs and before validation songs

  std::string out_dir;        // empty: write nothing, return the best model in TrainResult
  bool resume = false;
  // Start from this model's weights instead of the random init (fine-tuning an imported Keras or a
  // pretrained model). The network (hidden, layers, recurrent activation) comes from the model: with an
  // init model, hidden/layers 0 mean "the model's", any other value must equal the model's. The run's
  // vocabulary is training_vocabulary(model, dataset): the same symbols -> the dataset's order (the model
  // is reordered into it, reorder_vocabulary); a model with MORE symbols (pretrained on a larger corpus)
  // -> the model's vocabulary, the dataset's ids remapped into it; a model lacking a dataset symbol is an
  // error. Adam moments start at zero; everything else is a fresh run. A resumed --init run continues
  // from its checkpoint (the init model is not read again; its vocabulary is the checkpoint's);
  // metadata "init" records {"path", "source"} (and "add_symbols").
  std::string init_model_dir;
  // With init_model_dir: dataset symbols the model lacks are added (training_vocabulary, reorder_vocabulary
  // with the seeded fresh init) instead of refused.
  bool add_symbols = false;
  // Transposition augmentation (train/augment.h): each epoch every training song is shifted by a
  // semitone offset drawn from those in [-N, N] that keep it inside the vocabulary. 0 = off. Validation
  // songs are never shifted.
  int augment_transpose = 0;
  // The loss weight of the targets in each song's closing bar (from its last barline symbol to the end
  // "/", the cadence), 1 for every other target: where a network's capacity goes, not what it should
  // predict (the best predictor of a weighted likelihood is the same). Needs barline symbols and windows
  // songs; 1 = the plain likelihood. Validation is never weighted.
  float closing_weight = 1.0f;
  // Free-form facts stored in the model's metadata "about" (`train --about corpus=... --about licence=...`):
  // what the model was trained on and under which licence, shown by `melodist serve` and the API.
  std::vector<std::pair<std::string, std::string>> about;

  // Defaults: the reference's network (LSTM 256, one layer, seq-len 64, batch 64, Adam) with the training
  // recipe measured best for 5 minutes on erk (README "Quality on erk"): dropout 0.3 instead of the
  // reference's 0.2, lr 0.004 with a cosine decay over the epochs instead of a constant 0.001, and the
  // weight average (ema 0.998), 70 epochs (about 4 minutes here). The reference's recipe: --dropout 0.2 --lr 0.001 --lr-schedule constant --ema 0.
  int hidden = 256, layers = 1;
  float dropout = 0.3f;
  // DropConnect on each recurrent matrix w_h during training (AWD-LSTM's weight drop; nn/engine.h):
  // one mask per step and layer, shared by every row. 0 = off.
  float weight_drop = 0.0f;
  int seq_len = 64, batch = 64;
  float lr = 0.004f;
  // "constant", or "cosine": lr x (0.1 + 0.9 x (1 + cos(pi x progress)) / 2), progress = fraction of
  // --epochs done (by step, so a resumed run follows the same schedule).
  std::string lr_schedule = "cosine";
  float clip = 5.0f;          // <= 0: no clipping
  // Exponential moving average of the weights (Polyak averaging): after every Adam step
  // ema = d ema + (1 - d) params with d = min(ema, (1 + step) / (10 + step)). Validation, the best model
  // and the saved model use the averaged weights; training continues from the raw ones. 0 = off.
  float ema = 0.998f;
  int epochs = 70;
  double time_limit = 0;      // seconds, 0 = none; stops at the end of the step that crosses it
  int patience = 0;           // epochs without a better validation loss before stopping; 0 = never
  uint64_t seed = 1;
  int threads = 0;            // 0 = every core
  Objective objective = Objective::all;
  WindowMode windows = WindowMode::songs;  // batching.h: songs mirrors validation
  std::string command_line;   // recorded in the model
  bool verbose = true;        // progress and one line per epoch on stderr
  // Called after each epoch's validation (the public API's progress callback); may throw to stop.
  std::function<void(const EpochMetrics&)> on_epoch;
  // The ranks of a data-parallel run (train/communicator.h; cluster/mpi_communicator.h for MPI), not
  // owned; null: this process alone. Every rank calls train_model with the same options; rank 0 reads
  // --init and --resume, writes the model folder and validates; threads are this rank's workers.
  Communicator* communicator = nullptr;
};

struct TrainResult {
  double best_val_loss = 0;
  int best_epoch = 0;
  int epochs_run = 0;
  int64_t steps = 0;
  std::string stop_reason;    // "epochs", "time limit", "patience"
  std::vector<EpochMetrics> history;
  ModelFile best_model;
};

// Throws melodist::Error with one line for bad options, data or model folders.
TrainResult train_model(const TrainOptions& options);

// The cosine schedule (lr_schedule "cosine"): progress in [0, 1] after steps_done of the steps_in_epoch
// steps of 0-based `epoch` out of `epochs` (by step, never by the clock, so --resume is exact); the
// learning rate is lr x cosine_lr_factor(progress), from lr down to lr / 10.
double schedule_progress(int epoch, int64_t steps_done, int64_t steps_in_epoch, int epochs);
double cosine_lr_factor(double progress);

// Training checkpoints (format "melodist-checkpoint").
inline constexpr const char* kCheckpointFileName = "checkpoint.safetensors";
inline constexpr const char* kMetricsFileName = "metrics.csv";
inline constexpr const char* kMetricsHeader =
    "epoch,step,partial,train_loss,val_loss,val_accuracy,val_perplexity,tokens_per_second,elapsed_seconds";

}  // namespace melodist
