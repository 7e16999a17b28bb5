// The public preprocess and train (include/melodist/pipeline.h) over preprocess/preprocess.h and
// train/train.h, with the commands' defaults.
#include "melodist/pipeline.h"

#include "api/impl.h"
#include "preprocess/preprocess.h"
#include "train/train.h"
#include "util/error.h"

namespace melodist::api {

PreprocessSummary preprocess(const std::vector<std::string>& inputs, const std::string& out_dir, const PreprocessOptions& o) {
  melodist::PreprocessOptions options;
  options.encode.step = step_from_double(o.step, "--step");
  options.encode.durations = reference_durations();
  options.encode.transpose = o.transpose ? TransposeMode::reference : TransposeMode::none;
  options.read.step = options.encode.step;
  if (o.jobs < 0) throw Error("--jobs must be 0 (every core) or more");
  options.jobs = o.jobs;
  options.strict = o.strict;
  options.progress = o.progress;
  options.encode.key_symbol = o.key_symbol;
  options.encode.meter_symbol = o.meter_symbol;
  options.encode.barlines = o.barlines;
  options.encode.countdown_bars = o.countdown_bars;
  options.encode.triplets = o.triplets;
  options.encode.final_mark = o.final_mark;
  options.encode.countdown_key = o.countdown_key;
  options.encode.per_note = o.per_note;
  options.encode.pitch_only = o.pitch_only;
  const Dataset dataset = run_preprocess(inputs, out_dir, options);
  return {dataset.songs, dataset.accepted, dataset.unreadable, dataset.steps, dataset.vocabulary.size(), summary_line(dataset)};
}

TrainSummary train(const std::string& dataset_dir, const std::string& out_dir, const TrainOptions& o) {
  if (dataset_dir.empty()) throw Error("give the dataset folder (from preprocess)");
  melodist::TrainOptions options;
  options.data_dir = dataset_dir;
  options.out_dir = out_dir;
  options.hidden = o.hidden;
  options.layers = o.layers;
  options.epochs = o.epochs;
  options.time_limit = o.time_limit;
  options.patience = o.patience;
  options.seed = o.seed;
  options.threads = o.threads;
  options.resume = o.resume;
  options.verbose = o.verbose;
  options.command_line = "melodist::api::train";
  auto epoch = [](const EpochMetrics& m) { return Epoch{m.epoch, m.step, m.train_loss, m.val_loss, m.val_accuracy, m.elapsed}; };
  if (o.progress) options.on_epoch = [&](const EpochMetrics& m) { o.progress(epoch(m)); };
  const TrainResult r = train_model(options);
  TrainSummary out{r.best_val_loss, r.best_epoch, r.epochs_run, r.stop_reason, {}};
  for (const EpochMetrics& m : r.history) out.history.push_back(epoch(m));
  return out;
}

}  // namespace melodist::api
