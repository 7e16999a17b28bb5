#pragma once
// k-fold cross-validation over the songs of one dataset (`melodist crossval`).
//
// Fold f (1-based) holds out the songs f, f+k, f+2k, ... of songs.txt (1-based). Each fold trains a
// model FROM SCRATCH (train/train.h) on the other folds only, or, with train.init_model_dir, fine-tunes
// that model (pretrained on other songs) on them: of those training songs, every
// val_every-th (in songs.txt order) is set aside as the fold's inner validation set, which picks the best
// epoch (and drives --patience); the held-out fold is never seen before it is scored. The held-out fold
// is then scored with evaluate_songs (evaluate/metrics.h) in the fold model's vocabulary: a pretrained
// model's vocabulary may hold more symbols (pitches) than the dataset's; the fold trains over it, and
// pitch_bits_per_note renormalises over all of its pitch symbols (pitches the dataset never uses keep
// their share of probability mass, so the figure is not flattered by the smaller alphabet).
// train.augment_transpose shifts each fold's training songs only (train/augment.h).
// Summary per figure: mean, sample standard deviation (n - 1), min and max over the folds; and the
// figures pooled over every held-out song of every fold (each song is held out exactly once, so the
// pooled pitch_bits_per_note is the mean over every note of the corpus, the figure IDyOM reports).
// With dynamic evaluation on, the JSON gains "dynamic" (the options), "summary_dynamic" and
// "pooled_dynamic", and every fold a "test_dynamic".
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluate/metrics.h"
#include "preprocess/dataset.h"
#include "train/train.h"

namespace melodist {

struct CrossvalOptions {
  std::string data_dir;
  int folds = 10;
  TrainOptions train;      // model and optimiser options; data fields are filled per fold
  std::string out_dir;     // when set: OUT/fold-01 ... (model, metrics.csv) and OUT/crossval.json
  int eval_threads = 1;
  // ensemble > 1: every fold trains that many models, with seeds seed, seed + 1, ... (OUT/fold-01,
  // OUT/fold-01-member-2, ...), and scores the held-out fold with their mixture (evaluate/ensemble.h).
  int ensemble = 1;
  // resume: a fold model whose folder already holds a checkpoint continues from it (a finished one is
  // only loaded), so an interrupted run, or one given more ensemble members, redoes nothing.
  bool resume = false;
  // lr > 0: every held-out fold is ALSO scored by dynamic evaluation (evaluate/dynamic_eval.h); the
  // figures appear beside the static ones (FoldResult::dynamic, CrossvalResult::pooled_dynamic).
  DynamicEvalOptions dynamic;
};

struct FoldResult {
  int fold = 0;            // 1-based
  // Training figures of the first member; members lists each member's {seed, epochs_run, best_epoch,
  // best_val_loss, stop_reason}.
  nlohmann::json members = nlohmann::json::array();
  size_t train_songs = 0, validation_songs = 0, test_songs = 0;
  int epochs_run = 0, best_epoch = 0;
  double best_val_loss = 0;
  std::string stop_reason;
  double seconds = 0;
  EvaluationMetrics test;
  EvaluationMetrics dynamic;  // only when CrossvalOptions::dynamic.lr > 0
};

struct CrossvalResult {
  std::vector<FoldResult> folds;
  EvaluationMetrics pooled;
  bool has_dynamic = false;
  DynamicEvalOptions dynamic_options;
  EvaluationMetrics pooled_dynamic;  // only when has_dynamic
};

// fold_indices and inner_validation_indices (the fold rule): preprocess/dataset.h.

// Throws melodist::Error for folds < 2, more folds than songs, or training failures.
CrossvalResult run_crossval(const CrossvalOptions& options);

nlohmann::json to_json(const CrossvalResult& result);

}  // namespace melodist
