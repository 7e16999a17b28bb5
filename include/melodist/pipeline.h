#pragma once
// Making models: song files -> a dataset folder (preprocess) -> a model folder (train), the library
// form of `melodist preprocess` and `melodist train` with their defaults (see `melodist train --help`).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "melodist/export.h"

namespace melodist::api {

struct PreprocessOptions {
  double step = 0.25;      // quarter notes per symbol
  bool transpose = true;   // major -> C, minor -> A (the reference recipe)
  int jobs = 0;            // threads; 0 = every core (the output does not depend on it)
  bool strict = false;     // an unreadable file is an error instead of a rejected song
  bool progress = false;   // progress lines on stderr
  // Input symbols that take no time (`preprocess --key-symbol --meter-symbol --barlines`): each song's key
  // ("K:G") and meter ("M:6/8") first, "|" at its barlines; a model trained on them can be asked for a
  // key, a meter and a number of bars (GenerationOptions).
  bool key_symbol = false;
  bool meter_symbol = false;
  bool barlines = false;
  // With barlines: the lines that open each song's last N bars are "|N" .. "|1" (`--countdown-bars`), so
  // the model sees the end coming; 0 none.
  int countdown_bars = 0;
  // Triplets in a window of 1, 2, 4 or 8 steps as "(3:W" and three units (`--triplets`); songs without
  // triplets encode the same.
  bool triplets = false;
  // "$" before the step at which each song's last note starts (`--final-mark`): the model knows which
  // note closes the melody; generation draws it in the last bar only.
  bool final_mark = false;
  // With key_symbol and countdown_bars: the key symbol again after the first countdown line
  // (`--countdown-key`); generation forces it there.
  bool countdown_key = false;
  // Encodings for scoring only (`evaluate`, Model::score; generate refuses their models): one symbol pair
  // per note or rest, its MIDI number (or "r") and its length in steps (":6"), with the key, meter and
  // barline symbols above (`--per-note`); or one symbol per note, its MIDI number, nothing else
  // (`--pitch-only`: the chromatic pitch sequence IDyOM's models predict).
  bool per_note = false;
  bool pitch_only = false;
};

struct PreprocessSummary {
  size_t files = 0, accepted = 0, unreadable = 0, steps = 0;
  size_t vocabulary_size = 0;
  std::string line;        // "accepted 1683 of 1700 songs, 38 symbols, 254,530 steps"
};

// Reads every song file under `inputs` (files or folders) and writes songs.txt, mapping.json,
// file_dataset and manifest.json into out_dir. Throws melodist::Error for a missing input, no song
// file, or no accepted song (manifest.json then says why each was rejected).
MELODIST_API PreprocessSummary preprocess(const std::vector<std::string>& inputs, const std::string& out_dir,
                                          const PreprocessOptions& options = {});

struct Epoch {
  int epoch = 0;             // 1-based
  int64_t step = 0;          // optimizer steps so far
  double train_loss = 0;     // nats per symbol
  double val_loss = 0;       // nats per symbol, the validation loss
  double val_accuracy = 0;
  double elapsed = 0;        // seconds
};

struct TrainOptions {
  int hidden = 256, layers = 1;
  int epochs = 70;
  double time_limit = 0;     // seconds; 0 = none
  int patience = 0;          // epochs without improvement before stopping; 0 = never
  uint64_t seed = 1;
  int threads = 0;           // 0 = every core
  bool resume = false;       // continue from out_dir's checkpoint
  bool verbose = false;      // `melodist train`'s lines on stderr
  // Called after every epoch's validation, on the training thread. Throwing from it stops the run
  // (the exception reaches the caller; the best model so far is already in out_dir).
  std::function<void(const Epoch&)> progress;
};

struct TrainSummary {
  double best_val_loss = 0;
  int best_epoch = 0, epochs_run = 0;
  std::string stop_reason;   // "epochs", "time limit", "patience"
  std::vector<Epoch> history;
};

// Trains on a dataset folder (from preprocess) and writes the best model to out_dir (a model folder
// Model::load reads), with metrics.csv and a checkpoint. Throws melodist::Error for bad options or data.
MELODIST_API TrainSummary train(const std::string& dataset_dir, const std::string& out_dir, const TrainOptions& options = {});

}  // namespace melodist::api
