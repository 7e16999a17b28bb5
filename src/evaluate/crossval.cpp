#include "evaluate/crossval.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "formats/model_file.h"
#include "formats/text_encoding.h"
#include "preprocess/dataset.h"
#include "evaluate/ensemble.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/folder_lock.h"

namespace melodist {

namespace {

// The dataset's songs as ids of its own vocabulary.
struct CrossvalData {
  std::vector<std::string> vocabulary;
  std::vector<std::vector<int>> songs;
  nlohmann::json preprocessing;
  int delimiter_length = 0;
};

CrossvalData load_crossval_data(const CrossvalOptions& options) {
  const DatasetSongs text = read_dataset_songs(options.data_dir);  // songs and mapping of one set
  Model vocab_model;  // only for symbol ids
  vocab_model.vocabulary = dataset_vocabulary(text);
  CrossvalData data{vocab_model.vocabulary, {}, text.options, text.delimiter_length};
  for (size_t i = 0; i < text.songs.size(); ++i)
    data.songs.push_back(song_ids(vocab_model, text.songs[i], text.dir + "/songs.txt", text.lines[i]));
  const size_t n = data.songs.size();
  if (static_cast<size_t>(options.folds) > n)
    throw Error(options.data_dir + ": " + std::to_string(n) + " songs cannot make " + std::to_string(options.folds) +
                " folds");
  if (options.train.val_every < 2) throw Error("crossval: --val-every must be at least 2");
  // A pretrained --init model must hold every symbol of the dataset: refused before any fold trains.
  if (!options.train.init_model_dir.empty())
    training_vocabulary(load_model(options.train.init_model_dir).vocabulary, data.vocabulary, options.train.init_model_dir);
  return data;
}

// Fold `fold`'s training options (its training and inner validation songs, its split record) and its
// held-out songs.
TrainOptions fold_training(const CrossvalOptions& options, const CrossvalData& data, int fold, std::vector<std::vector<int>>& test_songs) {
  const size_t n = data.songs.size();
  TrainOptions t = options.train;
  const SplitRule rule{0, options.folds, fold, t.val_every};
  std::vector<bool> held(n, false), inner(n, false);
  for (size_t i : rule.held_out(n)) held[i] = true;
  for (size_t i : rule.validation(n)) inner[i] = true;
  t.data_dir.clear();
  t.vocabulary = data.vocabulary;
  t.preprocessing = data.preprocessing;
  t.delimiter_length = data.delimiter_length;
  t.train_songs.clear();
  t.validation_songs.clear();
  test_songs.clear();
  for (size_t i = 0; i < n; ++i) {
    if (held[i]) test_songs.push_back(data.songs[i]);
    else if (inner[i]) t.validation_songs.push_back(data.songs[i]);
    else t.train_songs.push_back(data.songs[i]);
  }
  t.validation_rule = rule.record(data.delimiter_length);
  return t;
}

// The fold's ensemble: member k (1-based) trains with seed + k - 1 into fold-NN[-member-k].
std::vector<Model> train_fold_members(const CrossvalOptions& options, TrainOptions t, int fold, FoldResult& f,
                                      std::vector<std::string>& member_names) {
  char name[32];
  std::snprintf(name, sizeof name, "fold-%02d", fold);
  std::vector<Model> members;
  const uint64_t first_seed = t.seed;
  for (int k = 1; k <= options.ensemble; ++k) {
    const std::string member = k == 1 ? std::string(name) : std::string(name) + "-member-" + std::to_string(k);
    t.seed = first_seed + static_cast<uint64_t>(k - 1);
    t.out_dir = options.out_dir.empty() ? "" : (std::filesystem::path(options.out_dir) / member).string();
    t.resume = options.resume && !t.out_dir.empty() &&
               std::filesystem::exists(std::filesystem::path(t.out_dir) / kCheckpointFileName);
    if (t.verbose && options.ensemble > 1)
      std::fprintf(stderr, "fold %d, member %d of %d (seed %llu)%s\n", fold, k, options.ensemble,
                   static_cast<unsigned long long>(t.seed), t.resume ? ": resuming its checkpoint" : "");
    TrainResult trained = train_model(t);
    if (k == 1) {
      f.epochs_run = trained.epochs_run;
      f.best_epoch = trained.best_epoch;
      f.best_val_loss = trained.best_val_loss;
      f.stop_reason = trained.stop_reason;
    }
    f.members.push_back({{"seed", t.seed},
                         {"epochs_run", trained.epochs_run},
                         {"best_epoch", trained.best_epoch},
                         {"best_val_loss", trained.best_val_loss},
                         {"stop_reason", trained.stop_reason}});
    members.push_back(std::move(trained.best_model.model));
    member_names.push_back(t.out_dir.empty() ? member : t.out_dir);
  }
  check_ensemble(members, member_names);
  return members;
}

// The ensemble's metrics on the held-out songs, static or (with `dynamic`) with dynamic evaluation;
// every song is also added to `pooled`.
EvaluationMetrics score_fold(const std::vector<Model>& members, const std::vector<std::vector<int>>& test_songs,
                             const DynamicEvalOptions* dynamic, int threads, MetricSums& pooled) {
  std::vector<const Model*> member_pointers;
  for (const auto& m : members) member_pointers.push_back(&m);
  MetricSums sums;
  for (const auto& s : score_songs_ensemble(member_pointers, test_songs, kDefaultDelimiterLength, dynamic, threads)) {
    add_song(sums, members.front(), s);
    add_song(pooled, members.front(), s);
  }
  return finish_metrics(sums);
}

}  // namespace

CrossvalResult run_crossval(const CrossvalOptions& options) {
  if (options.folds < 2) throw Error("crossval: --folds must be at least 2 (got " + std::to_string(options.folds) + ")");
  if (options.ensemble < 1) throw Error("crossval: --ensemble must be at least 1 (got " + std::to_string(options.ensemble) + ")");
  if (options.resume && options.out_dir.empty()) throw Error("crossval: --resume needs --out");
  // One run per crossval folder (util/folder_lock.h); each fold's model folder is locked by train_model.
  FolderLock lock;
  if (!options.out_dir.empty()) lock = FolderLock::inside(options.out_dir);
  const CrossvalData data = load_crossval_data(options);
  if (!options.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    if (ec) throw Error(options.out_dir + ": cannot create the output folder (" + ec.message() + ")");
  }
  check_dynamic_options(options.dynamic);
  CrossvalResult result;
  result.has_dynamic = options.dynamic.lr > 0;
  result.dynamic_options = options.dynamic;
  MetricSums pooled, pooled_dynamic;
  for (int fold = 1; fold <= options.folds; ++fold) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::vector<int>> test_songs;
    const TrainOptions t = fold_training(options, data, fold, test_songs);
    if (t.verbose)
      std::fprintf(stderr, "fold %d of %d: training on %zu songs (validation %zu), %zu held out\n", fold,
                   options.folds, t.train_songs.size(), t.validation_songs.size(), test_songs.size());
    FoldResult f;
    f.fold = fold;
    f.train_songs = t.train_songs.size();
    f.validation_songs = t.validation_songs.size();
    f.test_songs = test_songs.size();
    std::vector<std::string> member_names;
    const std::vector<Model> members = train_fold_members(options, t, fold, f, member_names);
    // The fold model's vocabulary may be a pretrained --init model's (more symbols than the dataset's):
    // the held-out songs are scored in its ids, and pitch bits renormalise over its pitch symbols.
    if (members.front().vocabulary != data.vocabulary)
      test_songs = remap_songs(test_songs, data.vocabulary, members.front().vocabulary, member_names.front());
    f.test = score_fold(members, test_songs, nullptr, options.eval_threads, pooled);
    if (result.has_dynamic) {
      f.dynamic = score_fold(members, test_songs, &options.dynamic, options.eval_threads, pooled_dynamic);
      if (t.verbose)
        std::fprintf(stderr, "fold %d: with dynamic evaluation: %.4f nats/step, pitch %.3f bits/note\n", fold,
                     f.dynamic.loss_nats_per_step, f.dynamic.pitch_bits_per_note);
    }
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t.verbose)
      std::fprintf(stderr, "fold %d: held-out loss %.4f nats/step, pitch %.3f bits/note, %.3f bits/note (%.0f s)\n",
                   fold, f.test.loss_nats_per_step, f.test.pitch_bits_per_note, f.test.bits_per_note, f.seconds);
    result.folds.push_back(f);
  }
  result.pooled = finish_metrics(pooled);
  if (result.has_dynamic) result.pooled_dynamic = finish_metrics(pooled_dynamic);
  if (!options.out_dir.empty())
    write_file_atomically((std::filesystem::path(options.out_dir) / "crossval.json").string(),
                          to_json(result).dump(2) + "\n");
  return result;
}

namespace {
// Mean, sample standard deviation, min and max of every figure over the folds.
nlohmann::json summarise(const CrossvalResult& r, bool dynamic) {
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& name : metric_names()) {
    std::vector<double> values;
    for (const auto& f : r.folds) {
      const double v = metric_value(dynamic ? f.dynamic : f.test, name);
      if (std::isfinite(v)) values.push_back(v);
    }
    if (values.empty()) {
      summary[name] = nullptr;
      continue;
    }
    double mean = 0, lo = values[0], hi = values[0];
    for (double v : values) mean += v, lo = std::min(lo, v), hi = std::max(hi, v);
    mean /= static_cast<double>(values.size());
    double sq = 0;
    for (double v : values) sq += (v - mean) * (v - mean);
    const double sd = values.size() > 1 ? std::sqrt(sq / static_cast<double>(values.size() - 1)) : 0.0;
    summary[name] = {{"mean", mean}, {"std", sd}, {"min", lo}, {"max", hi}};
  }
  return summary;
}
}  // namespace

nlohmann::json to_json(const CrossvalResult& r) {
  nlohmann::json j;
  j["folds"] = nlohmann::json::array();
  for (const auto& f : r.folds) {
    j["folds"].push_back({{"fold", f.fold},
                          {"train_songs", f.train_songs},
                          {"validation_songs", f.validation_songs},
                          {"test_songs", f.test_songs},
                          {"epochs_run", f.epochs_run},
                          {"best_epoch", f.best_epoch},
                          {"best_val_loss", f.best_val_loss},
                          {"stop_reason", f.stop_reason},
                          {"seconds", f.seconds},
                          {"members", f.members},
                          {"test", to_json(f.test)}});
    if (r.has_dynamic) j["folds"].back()["test_dynamic"] = to_json(f.dynamic);
  }
  j["summary"] = summarise(r, false);
  j["pooled"] = to_json(r.pooled);
  if (r.has_dynamic) {
    j["dynamic"] = {{"lr", r.dynamic_options.lr}, {"segment", r.dynamic_options.segment}, {"decay", r.dynamic_options.decay}};
    j["summary_dynamic"] = summarise(r, true);
    j["pooled_dynamic"] = to_json(r.pooled_dynamic);
  }
  return j;
}

}  // namespace melodist
