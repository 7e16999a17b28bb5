// melodist evaluate --model MODEL_DIR --data DATASET_DIR [--split val|heldout|all] [--dynamic-lr X] [--json]
// Held-out figures of a model on the songs of a dataset; see src/evaluate/metrics.h for definitions.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "command.h"
#include "dynamic_eval_options.h"
#include "evaluate/crossval.h"
#include "formats/model_file.h"
#include "preprocess/dataset.h"
#include "evaluate/ensemble.h"
#include "evaluate/metrics.h"
#include "nn/model.h"
#include "util/error.h"

namespace {

struct EvaluateOptions {
  std::vector<std::string> model_dirs;  // one model, or the members of an ensemble (the first sets the split)
  std::string data_dir, split = "val";
  bool json = false;
  melodist::DynamicEvalOptions dynamic;
};

std::string format_figure(double value, int precision) {
  if (!(value == value)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", precision, value);
  return buffer;
}

void run_evaluate(const EvaluateOptions& opt) {
  using namespace melodist;
  std::vector<Model> members;
  std::optional<ModelFile> first;  // its metadata holds the split rule
  for (const auto& dir : opt.model_dirs) {
    ModelFile file = load_model_file(dir);
    members.push_back(file.model);
    if (!first) first = std::move(file);
  }
  check_ensemble(members, opt.model_dirs);
  const Model& model = members.front();
  const std::string& model_dir = opt.model_dirs.front();
  const DatasetSongs data = read_dataset_songs(opt.data_dir);
  // The model's split rule (preprocess/dataset.h): a crossval fold model's held-out fold and inner validation
  // songs, or every k-th song.
  std::vector<size_t> chosen;
  const std::optional<SplitRule> rule = opt.split == "all" ? std::nullopt : SplitRule::of_model(*first, model_dir);
  if (opt.split == "all") {
    for (size_t i = 0; i < data.songs.size(); ++i) chosen.push_back(i);
  } else if (rule && rule->folds > 0) {
    chosen = opt.split == "heldout" ? rule->held_out(data.songs.size()) : rule->validation(data.songs.size());
    if (chosen.empty()) throw Error(opt.data_dir + ": the model's " + opt.split + " songs are not in this dataset");
  } else if (opt.split == "heldout") {
    throw Error(model_dir + ": not a crossval fold model (no metadata \"validation\".\"crossval\"); use --split val or all");
  } else {
    if (!rule) throw Error(model_dir + ": the model records no validation rule (metadata \"validation\".\"every\"); use --split all");
    chosen = rule->validation(data.songs.size());
    if (chosen.empty())
      throw Error(opt.data_dir + ": no validation song (every " + std::to_string(rule->every) + "-th of " +
                  std::to_string(data.songs.size()) + " songs); use --split all");
  }
  const std::string songs_path = data.dir + "/songs.txt";
  std::vector<std::vector<int>> songs;
  for (size_t i : chosen) songs.push_back(song_ids(model, data.songs[i], songs_path, data.lines[i]));
  const int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
  std::vector<const Model*> member_pointers;
  for (const auto& member : members) member_pointers.push_back(&member);
  const EvaluationMetrics m = evaluate_songs(member_pointers, songs, threads, &opt.dynamic);
  if (opt.json) {
    std::cout << to_json(m).dump(2) << "\n";
    return;
  }
  std::printf("evaluated %zu songs (%s split), %zu steps, %zu notes\n", m.songs, opt.split.c_str(), m.steps, m.notes);
  if (members.size() > 1) std::printf("  ensemble of %zu models (the mean of their distributions)\n", members.size());
  if (opt.dynamic.lr > 0)
    std::printf("  with dynamic evaluation (lr %g, segment %d, %d iteration(s) on the %s, decay %g)\n", opt.dynamic.lr,
                opt.dynamic.segment, opt.dynamic.iterations, opt.dynamic.whole_prefix ? "song so far" : "segment",
                opt.dynamic.decay);
  std::printf("  loss                %s nats/step (perplexity %s)\n", format_figure(m.loss_nats_per_step, 4).c_str(),
              format_figure(m.perplexity, 3).c_str());
  std::printf("  accuracy            %s\n", format_figure(m.accuracy, 4).c_str());
  std::printf("  onset accuracy      %s (%zu steps)\n", format_figure(m.onset_accuracy, 4).c_str(), m.onset_steps);
  std::printf("  hold accuracy       %s (%zu steps)\n", format_figure(m.hold_accuracy, 4).c_str(), m.hold_steps);
  std::printf("  bits per note       %s\n", format_figure(m.bits_per_note, 3).c_str());
  std::printf("  pitch bits per note %s (song mean %s)\n", format_figure(m.pitch_bits_per_note, 3).c_str(),
              format_figure(m.pitch_bits_per_note_song_mean, 3).c_str());
}

void setup_evaluate(CLI::App& root) {
  auto opt = std::make_shared<EvaluateOptions>();
  auto* app = root.add_subcommand("evaluate", "Held-out figures of a model: loss, accuracy, bits per note, pitch bits per note");
  app->add_option("--model", opt->model_dirs,
                  "Model directory (or .safetensors file); several (--model A --model B): an ensemble, the mean of their "
                  "distributions (the first model's validation rule picks the split)")
      ->required();
  app->add_option("--data", opt->data_dir, "Dataset directory written by `melodist preprocess`")->required();
  app->add_option("--split", opt->split,
                  "val: the model's validation songs (every k-th; for a `crossval --out` fold model, its inner "
                  "validation songs); heldout: a fold model's held-out fold; all: every song")
      ->check(CLI::IsMember({"val", "heldout", "all"}))
      ->capture_default_str();
  melodist::cli::add_dynamic_eval_options(app, opt->dynamic);
  app->add_flag("--json", opt->json, "Print one JSON object");
  app->callback([opt] { run_evaluate(*opt); });
}

melodist::cli::Command evaluate_command{"evaluate", 70, setup_evaluate};

}  // namespace
