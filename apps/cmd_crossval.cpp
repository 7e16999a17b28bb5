// melodist crossval --data DATASET_DIR --folds 10 [train options] [--json]
// k-fold cross-validation (src/evaluate/crossval.h): each fold trains from scratch (or, with --init, from a
// pretrained model) on the other folds and is scored on its held-out songs with every `evaluate` figure;
// prints mean, spread and pooled figures.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "command.h"
#include "dynamic_eval_options.h"
#include "evaluate/crossval.h"
#include "util/error.h"

namespace {

struct CrossvalArgs {
  melodist::CrossvalOptions options;
  std::string objective = "all";
  std::string windows = "songs";
  bool json = false;
  CLI::Option* hidden = nullptr;
  CLI::Option* layers = nullptr;
};

void run_crossval_command(CrossvalArgs& a) {
  using namespace melodist;
  a.options.train.objective = parse_objective(a.objective);
  a.options.train.windows = parse_window_mode(a.windows);
  a.options.train.command_line = "melodist crossval (fold training)";
  // With --init the network's shape comes from the model unless given (as in `melodist train`).
  if (!a.options.train.init_model_dir.empty()) {
    if (a.hidden->count() == 0) a.options.train.hidden = 0;
    if (a.layers->count() == 0) a.options.train.layers = 0;
  }
  a.options.eval_threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
  if (a.json) a.options.train.verbose = false;
  const CrossvalResult r = run_crossval(a.options);
  const nlohmann::json j = to_json(r);
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (a.options.train.init_model_dir.empty())
    std::printf("%d-fold cross-validation on %s (each fold trained from scratch on the other folds)\n",
                a.options.folds, a.options.data_dir.c_str());
  else
    std::printf("%d-fold cross-validation on %s (each fold fine-tuned from %s on the other folds)\n", a.options.folds,
                a.options.data_dir.c_str(), a.options.train.init_model_dir.c_str());
  if (a.options.ensemble > 1)
    std::printf("each fold scored by an ensemble of %d models (seeds %llu..%llu; figures of the first in the epochs column)\n",
                a.options.ensemble, static_cast<unsigned long long>(a.options.train.seed),
                static_cast<unsigned long long>(a.options.train.seed + a.options.ensemble - 1));
  std::printf("%5s %6s %6s %8s %9s %9s %9s %9s %9s\n", "fold", "songs", "epochs", "loss", "accuracy", "onset acc",
              "hold acc", "bits/note", "pitch b/n");
  for (const auto& f : r.folds)
    std::printf("%5d %6zu %6d %8.4f %9.4f %9.4f %9.4f %9.3f %9.3f\n", f.fold, f.test_songs, f.epochs_run,
                f.test.loss_nats_per_step, f.test.accuracy, f.test.onset_accuracy, f.test.hold_accuracy,
                f.test.bits_per_note, f.test.pitch_bits_per_note);
  const char* summary_key = "summary";
  const char* pooled_key = "pooled";
  auto stat = [&](const char* name, const char* key) {
    const auto& s = j[summary_key][key];
    const auto& p = j[pooled_key][key];
    if (s.is_null()) return;
    std::printf("  %-22s mean %8.4f  sd %7.4f  min %8.4f  max %8.4f  pooled %8.4f\n", name, s["mean"].get<double>(),
                s["std"].get<double>(), s["min"].get<double>(), s["max"].get<double>(),
                p.is_null() ? NAN : p.get<double>());
  };
  std::printf("over %zu folds (pooled: every held-out song of every fold together):\n", r.folds.size());
  stat("loss (nats/step)", "loss_nats_per_step");
  stat("perplexity", "perplexity");
  stat("accuracy", "accuracy");
  stat("onset accuracy", "onset_accuracy");
  stat("hold accuracy", "hold_accuracy");
  stat("bits per note", "bits_per_note");
  stat("pitch bits per note", "pitch_bits_per_note");
  std::printf("  %zu songs, %zu notes, %zu steps held out in all\n", r.pooled.songs, r.pooled.notes, r.pooled.steps);
  if (!r.has_dynamic) return;
  summary_key = "summary_dynamic";
  pooled_key = "pooled_dynamic";
  std::printf("the same held-out songs with dynamic evaluation (lr %g, segment %d, %d iteration(s) on the %s, decay %g):\n",
              r.dynamic_options.lr, r.dynamic_options.segment, r.dynamic_options.iterations,
              r.dynamic_options.whole_prefix ? "song so far" : "segment", r.dynamic_options.decay);
  stat("loss (nats/step)", "loss_nats_per_step");
  stat("accuracy", "accuracy");
  stat("bits per note", "bits_per_note");
  stat("pitch bits per note", "pitch_bits_per_note");
}

void setup_crossval(CLI::App& root) {
  auto args = std::make_shared<CrossvalArgs>();
  auto* app = root.add_subcommand("crossval",
                                  "k-fold cross-validation: train from scratch on k-1 folds, score the held-out fold, report every evaluate figure");
  auto& o = args->options;
  auto& t = o.train;
  app->add_option("--data", o.data_dir, "dataset folder written by `melodist preprocess`")->required();
  app->add_option("--folds", o.folds, "number of folds; fold i holds out songs i, i+k, i+2k, ...")->capture_default_str();
  app->add_option("--out", o.out_dir, "optional folder for the fold models (fold-01 ...) and crossval.json");
  args->hidden = app->add_option("--hidden", t.hidden, "LSTM units per layer (with --init: the model's)")->capture_default_str();
  args->layers = app->add_option("--layers", t.layers, "stacked LSTM layers (with --init: the model's)")->capture_default_str();
  app->add_option("--dropout", t.dropout, "dropout rate on each LSTM output")->capture_default_str();
  app->add_option("--weight-drop", t.weight_drop, "DropConnect on each recurrent matrix in training (AWD-LSTM weight drop; one mask per step, 0: off)")->capture_default_str();
  app->add_option("--seq-len", t.seq_len, "steps per training window")->capture_default_str();
  app->add_option("--batch", t.batch, "windows per batch")->capture_default_str();
  app->add_option("--lr", t.lr, "Adam learning rate")->capture_default_str();
  app->add_option("--lr-schedule", t.lr_schedule, "constant or cosine (see train)")->capture_default_str();
  app->add_option("--clip", t.clip, "clip gradients to this global norm (0: off)")->capture_default_str();
  app->add_option("--ema", t.ema, "average the weights over steps with this decay (e.g. 0.999) and validate and save the average; 0: off")->capture_default_str();
  app->add_option("--epochs", t.epochs, "passes over the training songs, per fold")->capture_default_str();
  app->add_option("--time-limit", t.time_limit, "seconds of training per fold (0: none)")->capture_default_str();
  app->add_option("--patience", t.patience, "stop a fold after N epochs without a better validation loss (0: never)")
      ->capture_default_str();
  app->add_option("--val-every", t.val_every,
                  "every N-th training song of a fold is its inner validation song (picks the best epoch)")
      ->capture_default_str();
  app->add_option("--seed", t.seed, "random seed (the same for every fold)")->check(melodist::cli::seed_range())->capture_default_str();
  app->add_option("--threads", t.threads, "worker threads (0: every core)")->capture_default_str();
  app->add_option("--objective", args->objective, "all or last (see train)")->capture_default_str();
  app->add_option("--windows", args->windows, "songs, shuffled or stateful (see train)")->capture_default_str();
  app->add_option("--init", t.init_model_dir,
                  "fine-tune every fold from this model (e.g. pretrained on other songs, never these) instead of a random "
                  "init; its vocabulary may hold more symbols than the dataset's, and then the folds train and are scored over it");
  app->add_option("--augment-transpose", t.augment_transpose,
                  "each epoch, shift every training song by a random offset in [-N, N] semitones that keeps its pitches "
                  "(and key symbol) in the vocabulary (0: off); validation and held-out songs are never shifted")
      ->capture_default_str();
  app->add_option("--ensemble", o.ensemble,
                  "models per fold (seeds seed, seed+1, ...: OUT/fold-01, OUT/fold-01-member-2, ...); the held-out fold is "
                  "scored with the mean of their distributions")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_flag("--resume", o.resume,
                "with --out: a fold model whose folder holds a checkpoint continues from it (a finished one is only "
                "loaded), so an interrupted run or one given more --ensemble members redoes nothing");
  melodist::cli::add_dynamic_eval_options(app, o.dynamic);
  app->add_flag("--json", args->json, "Print one JSON object (folds, summary, pooled)");
  app->callback([args] { run_crossval_command(*args); });
}

melodist::cli::Command crossval_command{"crossval", 80, setup_crossval};

}  // namespace
