#include "train/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "formats/model_file.h"
#include "formats/text_encoding.h"
#include "melodist/version.h"
#include "nn/adam.h"
#include "nn/blas.h"
#include "nn/engine.h"
#include "nn/grad_clip.h"
#include "nn/song_score.h"
#include "train/augment.h"
#include "preprocess/dataset.h"
#include "train/memory_estimate.h"
#include "train/run_folder.h"
#include "train/worker_pool.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/folder_lock.h"
#include "util/progress.h"

// The mainline, top to bottom: prepare_run (options, --init/--resume, the data, the model folder, the
// starting TrainState, shared by every rank) -> per epoch: epoch_batches (the plan and this epoch's
// augmented songs) -> per step: train_step {fill, forward/backward, reduce, clip, schedule, Adam,
// average} -> end_epoch (validate, keep the best, checkpoint, patience).

namespace melodist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The songs a run trains and validates on, as ids of `vocabulary`.
struct RunData {
  std::vector<std::string> vocabulary;  // (V)
  std::vector<std::vector<int>> train_songs, val_songs;
  nlohmann::json preprocessing, validation_rule;
  int delimiter_length = 64;
  int delimiter = -1;                   // the id of "/"
  std::vector<int> stream;              // the training songs joined (batching.h)
};

// Everything fixed before the first step, and the state that changes with every step.
struct Run {
  TrainOptions o;
  Communicator* comm = nullptr;
  bool root = true;                     // rank 0: reads --init/--resume, validates, writes --out
  FolderLock lock;
  InitPlan init;
  RunData data;
  ModelConfig config;
  Model model;                          // at validation, the weights validated
  nlohmann::json metadata;              // what the saved model records of its training (training_metadata)
  ModelFile best_model;
  TrainState state;
  std::string checkpoint_path;
  std::optional<TransposeAugmenter> augmenter;
  bool song_windows = false, stateful = false;
  std::vector<int64_t> closing_from;    // closing_weight != 1: where each training song's closing bar starts
  int threads = 1;                      // this rank's workers
  Clock::time_point start = Clock::now();
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
};

RunData load_run_data(const TrainOptions& o) {
  RunData d;
  d.preprocessing = o.preprocessing;
  d.validation_rule = o.validation_rule;
  d.delimiter_length = o.delimiter_length;
  if (!o.data_dir.empty()) {
    TrainingData t = load_training_data(o.data_dir);
    const SplitRule rule{o.val_every};
    const std::vector<size_t> ti = rule.training(t.songs.size()), vi = rule.validation(t.songs.size());
    if (vi.empty())
      throw file_error(o.data_dir, 0, "holds " + std::to_string(t.songs.size()) + " songs; validation needs at least --val-every " +
                                          std::to_string(o.val_every) + " of them");
    for (size_t i : ti) d.train_songs.push_back(t.songs[i]);
    for (size_t i : vi) d.val_songs.push_back(t.songs[i]);
    d.vocabulary = t.vocabulary;
    d.preprocessing = t.preprocessing;
    d.delimiter_length = t.delimiter_length;
    d.validation_rule = rule.record(d.delimiter_length);
  } else {
    d.vocabulary = o.vocabulary;
    d.train_songs = o.train_songs;
    d.val_songs = o.validation_songs;
    if (d.validation_rule.is_null()) d.validation_rule = {{"songs", "explicit"}, {"delimiter_length", d.delimiter_length}};
    if (d.val_songs.empty()) throw Error("no validation songs");
    if (d.train_songs.empty()) throw Error("no training songs");
  }
  return d;
}

// train --closing-weight: where each training song's closing bar starts (its last barline symbol;
// transposition does not move it). A vocabulary without barline symbols has no bars to weight.
std::vector<int64_t> closing_starts(const RunData& d) {
  std::vector<bool> barline(d.vocabulary.size());
  for (size_t i = 0; i < d.vocabulary.size(); ++i) barline[i] = bar_countdown(d.vocabulary[i]) >= 0;
  if (std::find(barline.begin(), barline.end(), true) == barline.end())
    throw Error("--closing-weight weights each song's closing bar: the dataset has no barline symbols (preprocess --barlines)");
  return closing_bar_starts(d.train_songs, barline);
}

// The run trains over `used` (a model's vocabulary that holds the dataset's and more): ids remapped.
void adopt_vocabulary(RunData& d, std::vector<std::string> used, const std::string& where, bool verbose) {
  if (used == d.vocabulary) return;
  d.train_songs = remap_songs(d.train_songs, d.vocabulary, used, where);
  d.val_songs = remap_songs(d.val_songs, d.vocabulary, used, where);
  if (verbose)
    std::fprintf(stderr, "training over the model's vocabulary (%zu symbols, with any the dataset adds; the dataset has %zu)\n",
                 used.size(), d.vocabulary.size());
  d.vocabulary = std::move(used);
}

// The delimiter, the ids' range, the training stream, and that the batch plan can be made.
void finish_run_data(RunData& d, const TrainOptions& o) {
  for (size_t i = 0; i < d.vocabulary.size(); ++i)
    if (d.vocabulary[i] == kDelimiterSymbol) d.delimiter = static_cast<int>(i);
  if (d.delimiter < 0) throw Error("the vocabulary has no \"/\" delimiter symbol");
  const int V = static_cast<int>(d.vocabulary.size());
  for (const auto* set : {&d.train_songs, &d.val_songs})
    for (const auto& s : *set)
      for (int id : s)
        if (id < 0 || id >= V) throw Error("a song holds symbol id " + std::to_string(id) + ", outside the vocabulary of " + std::to_string(V));
  d.stream = training_stream(d.train_songs, d.delimiter, d.delimiter_length);
  // Throws when the joined training songs hold less than one window (a --seq-len that makes no sense).
  plan_epoch(static_cast<int64_t>(d.stream.size()), o.seq_len, o.batch, o.objective, WindowMode::shuffled, o.seed, 0);
  if (o.objective == Objective::all && o.windows == WindowMode::songs) plan_song_epoch(d.train_songs, o.seq_len, o.batch, o.seed, 0);
  else plan_epoch(static_cast<int64_t>(d.stream.size()), o.seq_len, o.batch, o.objective, o.windows, o.seed, 0);
}

// --augment-transpose: each epoch's training songs (and, for the stream modes, its stream) are shifted
// copies; lengths do not change, so the plans are the same as without.
void make_augmenter(Run& run) {
  const TrainOptions& o = run.o;
  if (o.augment_transpose <= 0) return;
  run.augmenter = make_transpose_augmenter(run.data.vocabulary, run.data.train_songs, o.augment_transpose);
  if (!o.verbose) return;
  size_t offsets = 0;
  for (const auto& a : run.augmenter->allowed) offsets += a.size();
  std::fprintf(stderr, "transposing each training song every epoch by up to %d semitones (%.1f offsets per song on average)\n",
               o.augment_transpose, static_cast<double>(offsets) / static_cast<double>(run.data.train_songs.size()));
}

// The symbols of a model and a dataset made on other step grids mean other lengths ("_" = one step).
void warn_on_step_mismatch(const Run& run) {
  const nlohmann::json& meta = run.init.model->metadata;
  const nlohmann::json mp = meta.is_object() && meta.contains("preprocessing") ? meta["preprocessing"] : nlohmann::json();
  const nlohmann::json& dp = run.data.preprocessing;
  if (mp.is_object() && dp.is_object() && mp.contains("step") && dp.contains("step") && mp["step"] != dp["step"])
    std::fprintf(stderr, "warning: the --init model %s was trained on steps of %s quarter, this dataset has steps of %s: the same "
                 "symbols stand for other lengths (preprocess both with the same --step)\n",
                 run.o.init_model_dir.c_str(), mp["step"].dump().c_str(), dp["step"].dump().c_str());
}

// Rank 0: the model folder's lock and rules, --init / --resume, the data and the starting state.
void prepare_root(Run& run) {
  TrainOptions& o = run.o;
  // One run per model folder (util/folder_lock.h), taken before the folder is read or written.
  if (!o.out_dir.empty()) {
    if (fs::exists(o.out_dir) && !fs::is_directory(o.out_dir))
      throw file_error(o.out_dir, 0, "exists and is not a folder (--out names the model folder)");
    if (o.resume && !fs::exists(o.out_dir)) throw file_error(o.out_dir, 0, "no such model folder to resume");
    run.lock = FolderLock::inside(o.out_dir);
  }
  // --resume on a folder that holds a model but no checkpoint (what import-keras writes) fine-tunes that
  // model in place: a fresh run started from its weights, as with --init, whose best model replaces it.
  bool fine_tune_in_place = false;
  if (o.resume && o.init_model_dir.empty() && !o.out_dir.empty() && fs::exists(fs::path(o.out_dir) / kModelFileName) &&
      !fs::exists(fs::path(o.out_dir) / kCheckpointFileName) && !fs::exists(fs::path(o.out_dir) / kMetricsFileName)) {
    o.init_model_dir = o.out_dir;
    o.resume = false;
    fine_tune_in_place = true;
  }
  run.init = resolve_init(o);
  check_options(o);
  run.data = load_run_data(o);
  if (run.init.model && o.verbose) warn_on_step_mismatch(run);
  // A model (or the checkpoint of a run started from one) with more symbols than the dataset: the run
  // trains over the model's vocabulary, the songs' ids remapped into it.
  const InitPlan& init = run.init;
  const std::vector<std::string>* model_vocabulary =
      init.model ? &init.model->model.vocabulary : !init.checkpoint_vocabulary.empty() ? &init.checkpoint_vocabulary : nullptr;
  const std::string where = init.model ? o.init_model_dir : (fs::path(o.out_dir) / kCheckpointFileName).string();
  if (model_vocabulary)
    adopt_vocabulary(run.data, training_vocabulary(*model_vocabulary, run.data.vocabulary, where, o.add_symbols && init.model), where,
                     o.verbose);
  finish_run_data(run.data, o);
  make_augmenter(run);
  check_out_dir(o.out_dir, o.resume, fine_tune_in_place);
  if (!o.out_dir.empty()) check_folder_writable(o.out_dir);  // fail now, not after the first epoch
}

// The starting weights and state: random (seed), the --init model's, or the checkpoint's.
void initial_state(Run& run) {
  const TrainOptions& o = run.o;
  run.model = make_model(run.config, run.data.vocabulary, o.seed);
  if (run.init.model) {
    // Fresh --init run: the init model's weights in the dataset's symbol order; Adam moments stay zero.
    run.model.params =
        reorder_vocabulary(run.init.model->model, run.data.vocabulary, o.init_model_dir, o.add_symbols ? &run.model : nullptr).params;
    if (o.verbose)
      std::fprintf(stderr, "starting from %s (%s): %d layer(s) of %d units, %s recurrent activation, %d symbols\n",
                   o.init_model_dir.c_str(), run.init.info["source"].get<std::string>().c_str(), o.layers, o.hidden,
                   to_string(run.init.activation).c_str(), run.config.vocab_size);
  }
  const size_t P = run.model.params.size();
  TrainState& s = run.state;
  s.params = run.model.params;
  s.adam_m.assign(P, 0.0f);
  s.adam_v.assign(P, 0.0f);
  if (o.ema > 0) s.ema = s.params;
  run.best_model.model = run.model;
  if (!o.resume) return;
  if (run.checkpoint_path.empty()) throw Error("--resume needs --out");
  Checkpoint c = load_checkpoint(run.checkpoint_path);
  if (c.options != fixed_options(o, run.init.info))
    throw file_error(run.checkpoint_path, 0, "was written with other options (" + c.options.dump() + "); resume with the same hyperparameters");
  if (c.vocabulary != run.data.vocabulary) throw file_error(run.checkpoint_path, 0, "was trained on another vocabulary than this dataset's");
  if (o.ema > 0 && c.state.ema.size() != P) throw file_error(run.checkpoint_path, 0, "holds no moving average of the weights (--ema)");
  s = std::move(c.state);
  if (o.ema == 0) s.ema.clear();
  run.model.params = s.params;
  const std::string best_path = (fs::path(o.out_dir) / kModelFileName).string();
  run.best_model = fs::exists(best_path) ? load_model_file(best_path) : ModelFile{run.model};
}

// What the saved model records of its training.
nlohmann::json training_metadata(const Run& run) {
  const TrainOptions& o = run.o;
  nlohmann::json m = {{"source", "melodist train"},
                      {"melodist_version", MELODIST_VERSION},
                      {"training", {{"hidden", o.hidden}, {"layers", o.layers}, {"dropout", o.dropout}, {"weight_drop", o.weight_drop}, {"seq_len", o.seq_len},
                                    {"batch", o.batch}, {"lr", o.lr}, {"lr_schedule", o.lr_schedule}, {"clip", o.clip}, {"ema", o.ema}, {"epochs", o.epochs},
                                    {"time_limit", o.time_limit}, {"patience", o.patience}, {"seed", o.seed},
                                    {"objective", to_string(o.objective)}, {"windows", to_string(o.windows)},
                                    {"augment_transpose", o.augment_transpose}, {"closing_weight", o.closing_weight},
                                    {"optimizer", {{"name", "adam"}, {"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-7}}},
                                    {"train_songs", run.data.train_songs.size()}, {"train_symbols", run.data.stream.size()}}},
                      {"validation", run.data.validation_rule},
                      {"preprocessing", run.data.preprocessing},
                      {"command", o.command_line}};
  if (!run.init.info.is_null()) m["init"] = run.init.info;
  for (const auto& [key, value] : o.about) m["about"][key] = value;
  return m;
}

// This rank's worker threads: --threads, or every core shared by the ranks on this machine; a run has at
// most B workers (one row each).
int rank_threads(const TrainOptions& o, const Communicator& comm) {
  const int ranks = comm.size();
  if (ranks > o.batch)
    throw Error(std::to_string(ranks) + " ranks are more than the --batch " + std::to_string(o.batch) + " rows a step splits over them");
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.threads == 0 && ranks > 1) threads = 1;  // one rank per core is the cluster's usual layout
  return std::max(1, std::min(threads, o.batch / ranks));
}

Run prepare_run(const TrainOptions& options, Communicator& comm) {
  Run run;
  run.o = options;
  run.comm = &comm;
  run.root = comm.rank() == 0;
  TrainOptions& o = run.o;
  o.verbose = o.verbose && run.root;
  // Rank 0 prepares and sends the network, the vocabulary and the starting state (a checkpoint's bytes);
  // every other rank reads the same dataset itself and takes the vocabulary and state it is sent.
  std::string start;
  if (run.root) {
    prepare_root(run);
  } else {
    comm.broadcast(start);
    Checkpoint c = parse_checkpoint(start, "the starting state from rank 0");
    o.hidden = c.config.hidden_size;
    o.layers = c.config.num_layers;
    run.init.activation = c.config.recurrent_activation;
    check_options(o);
    run.data = load_run_data(o);
    adopt_vocabulary(run.data, c.vocabulary, o.data_dir, false);
    finish_run_data(run.data, o);
    make_augmenter(run);
    run.state = std::move(c.state);
  }
  run.song_windows = o.objective == Objective::all && o.windows == WindowMode::songs;
  run.stateful = o.objective == Objective::all && o.windows == WindowMode::stateful;
  if (o.closing_weight != 1) run.closing_from = closing_starts(run.data);
  run.config.vocab_size = static_cast<int>(run.data.vocabulary.size());
  run.config.hidden_size = o.hidden;
  run.config.num_layers = o.layers;
  run.config.dropout = o.dropout;
  run.config.recurrent_activation = run.init.activation;
  run.threads = rank_threads(o, comm);
  check_training_memory({run.config, o.seq_len, o.batch, run.threads, o.ema > 0});  // before the first large allocation
  run.checkpoint_path = o.out_dir.empty() || !run.root ? "" : (fs::path(o.out_dir) / kCheckpointFileName).string();
  if (run.root) {
    initial_state(run);
    run.metadata = training_metadata(run);
    if (comm.size() > 1) {
      start = serialize_checkpoint({run.config, run.data.vocabulary, fixed_options(o, run.init.info), o.seed, run.state});
      comm.broadcast(start);
    }
  } else {
    run.model = make_model(run.config, run.data.vocabulary, o.seed);
  }
  if (o.verbose && comm.size() > 1)
    std::fprintf(stderr, "data-parallel over %s, %d worker thread(s) each\n", comm.describe().c_str(), run.threads);
  return run;
}

// windows songs: the state every song starts from, after delimiter_length - 1 "/" from a zero state (the
// last "/" is the first input of every sample); the same for every song, computed once per batch, 1 row.
struct StartState {
  nn::Network net;                // (prefix_steps, 1)
  int steps = 0;
  std::vector<float> h, c;        // (L, H)
};

StartState make_start_state(const Run& run) {
  StartState s;
  s.steps = run.data.delimiter_length - 1;
  const size_t L = static_cast<size_t>(run.o.layers), H = static_cast<size_t>(run.o.hidden);
  s.h.assign(L * H, 0.0f);
  s.c.assign(L * H, 0.0f);
  if (run.song_windows && s.steps > 0) {
    s.net = nn::make_network(run.config, s.steps, 1);
    std::fill(s.net.tokens.begin(), s.net.tokens.end(), run.data.delimiter);
  }
  return s;
}

void compute_start_state(StartState& s, const float* params, int layers, size_t H) {
  if (s.steps <= 0) return;  // zero state
  nn::network_forward(s.net, params, 1, false, 0, 0);
  for (int l = 0; l < layers; ++l) {
    const auto& lb = s.net.layers[l];
    std::copy(lb.h.begin() + (s.steps - 1) * H, lb.h.begin() + s.steps * H, s.h.begin() + l * H);
    std::copy(lb.c.begin() + (s.steps - 1) * H, lb.c.begin() + s.steps * H, s.c.begin() + l * H);
  }
}

// One epoch's batches: its plan and the (augmented) songs or stream they are cut from.
struct EpochBatches {
  EpochPlan plan;
  std::vector<std::vector<int>> augmented_songs;
  std::vector<int> augmented_stream;
  const std::vector<std::vector<int>>* songs = nullptr;
  const std::vector<int>* stream = nullptr;
};

EpochBatches epoch_batches(const Run& run, int epoch) {
  const TrainOptions& o = run.o;
  EpochBatches e;
  e.plan = run.song_windows ? plan_song_epoch(run.data.train_songs, o.seq_len, o.batch, o.seed, epoch)
                            : plan_epoch(static_cast<int64_t>(run.data.stream.size()), o.seq_len, o.batch, o.objective, o.windows, o.seed, epoch);
  e.songs = &run.data.train_songs;
  e.stream = &run.data.stream;
  if (run.augmenter) {
    e.augmented_songs = augment_epoch(*run.augmenter, run.data.train_songs, o.seed, epoch);
    e.songs = &e.augmented_songs;
    if (!run.song_windows) {
      e.augmented_stream = training_stream(e.augmented_songs, run.data.delimiter, run.data.delimiter_length);
      e.stream = &e.augmented_stream;
    }
  }
  return e;
}

[[noreturn]] void diverged(const Run& run, bool loss_finite, int64_t step_in_epoch) {
  throw Error("training diverged: non-finite " + std::string(loss_finite ? "gradient" : "loss") + " at epoch " +
              std::to_string(run.state.epoch + 1) + ", step " + std::to_string(step_in_epoch + 1) + " (global step " +
              std::to_string(run.state.global_step + 1) + "); " +
              (run.checkpoint_path.empty() ? std::string("nothing was saved")
                                           : "the last good checkpoint " + run.checkpoint_path + " and best model are kept") +
              " (try a lower --lr or --clip)");
}

// One optimizer step on batch `step` of the epoch: fill, forward/backward, reduce, clip, schedule, Adam,
// average. Returns the tokens the batch held.
int64_t train_step(Run& run, WorkerPool& pool, StartState& start, const EpochBatches& e, int64_t step, AdamConfig& adam) {
  const TrainOptions& o = run.o;
  TrainState& s = run.state;
  const int T = o.seq_len, B = o.batch;
  const int rows = batch_rows(e.plan, B, step, o.windows);
  const int64_t scored = pool.fill(rows, [&](int b0, int b1, int* tokens, int* targets, float* weights, unsigned char* starts) {
    if (run.song_windows) fill_song_batch(*e.songs, e.plan, T, B, step, run.data.delimiter, b0, b1, tokens, targets, starts);
    else fill_batch(*e.stream, e.plan, T, B, step, o.objective, o.windows, b0, b1, tokens, targets);
    if (!run.closing_from.empty()) fill_closing_weights(run.closing_from, e.plan, T, B, step, b0, b1, o.closing_weight, weights);
  });
  if (run.song_windows) {
    // Rows that begin a song (or idle) start from the start state; the others keep the carried one.
    compute_start_state(start, s.params.data(), o.layers, static_cast<size_t>(o.hidden));
    pool.apply_start_state(start.h, start.c);
  }
  const uint64_t mask_seed = mix_seed(o.seed, 0xd50u + static_cast<uint64_t>(s.global_step));
  pool.run(s.params.data(), 1.0f / static_cast<float>(std::max<int64_t>(1, scored)), mask_seed, run.stateful || run.song_windows);
  double nats = 0;
  float* grads = pool.reduce(nats);
  const size_t P = s.params.size();
  const double norm = global_norm(grads, P);
  if (!std::isfinite(nats) || !std::isfinite(norm)) diverged(run, std::isfinite(nats), step);
  clip_by_global_norm(grads, P, o.clip, norm);
  ++s.global_step;
  if (o.lr_schedule == "cosine")
    adam.lr = static_cast<float>(o.lr * cosine_lr_factor(schedule_progress(s.epoch, step + 1, e.plan.steps, o.epochs)));
  adam_update(s.params.data(), grads, s.adam_m.data(), s.adam_v.data(), P, adam, s.global_step);
  if (!s.ema.empty() && run.root) {  // only rank 0 validates and saves the average
    const float d = std::min(o.ema, static_cast<float>(1 + s.global_step) / static_cast<float>(10 + s.global_step));
    const float* w = s.params.data();
    float* a = s.ema.data();
    for (size_t i = 0; i < P; ++i) a[i] = d * a[i] + (1.0f - d) * w[i];
  }
  s.loss_sum += nats;
  s.loss_count += scored;
  return static_cast<int64_t>(rows) * T;
}

// THE validation loss (nn/song_score.h) of the weights `params`.
void validate(Run& run, const std::vector<float>& params, EpochMetrics& m) {
  run.model.params = params;
  auto scores = score_songs(run.model, run.data.val_songs, true, false, run.data.delimiter_length, run.threads);
  double nats = 0;
  int64_t steps = 0, correct = 0;
  for (const auto& sc : scores) {
    nats += sc.total_nats();
    steps += static_cast<int64_t>(sc.steps());
    for (size_t i = 0; i < sc.steps(); ++i) correct += sc.argmax[i] == sc.targets[i];
  }
  m.val_loss = nats / static_cast<double>(steps);
  m.val_accuracy = static_cast<double>(correct) / static_cast<double>(steps);
}

// Rank 0 at the end of an epoch (or of its part before the time limit): validate the averaged weights,
// keep the best model, write metrics.csv and the checkpoint, and decide on patience. Returns whether the
// run stops for patience; `carried` is the gathered state of a partial songs/stateful epoch.
bool end_epoch(Run& run, EpochMetrics m, bool partial, int start_epoch, std::vector<float> carried, const char* stop_reason) {
  const TrainOptions& o = run.o;
  TrainState& s = run.state;
  validate(run, s.ema.empty() ? s.params : s.ema, m);  // validate and keep the averaged weights
  m.elapsed = run.elapsed();
  s.history.push_back(m);
  if (o.on_epoch) o.on_epoch(m);  // the library API's progress callback
  const bool better = m.val_loss < s.best_val;
  if (better) {
    s.best_val = m.val_loss;
    s.best_epoch = m.epoch;
    s.bad_epochs = 0;
    run.best_model = {run.model, run.metadata};
    run.best_model.metadata["metrics"] = {{"epoch", m.epoch}, {"step", m.step}, {"train_loss", m.train_loss},
                                          {"val_loss", m.val_loss}, {"val_accuracy", m.val_accuracy},
                                          {"val_perplexity", std::exp(m.val_loss)}, {"elapsed_seconds", m.elapsed},
                                          {"unit", "nats per step"}};
    if (!o.out_dir.empty()) save_model(run.best_model, o.out_dir);
  } else if (!partial) {
    ++s.bad_epochs;
  }
  if (!o.out_dir.empty()) {
    write_file_atomically((fs::path(o.out_dir) / kMetricsFileName).string(), metrics_csv(s.history));
    TrainState saved = s;
    if (!partial) saved.epoch = m.epoch, saved.step_in_epoch = 0, saved.loss_sum = 0, saved.loss_count = 0;
    saved.carried = std::move(carried);
    save_checkpoint({run.config, run.data.vocabulary, fixed_options(o, run.init.info), o.seed, std::move(saved)}, run.checkpoint_path);
  }
  const bool stop = *stop_reason == 0 && o.patience > 0 && s.bad_epochs >= o.patience;
  if (o.verbose) {
    const int epoch = m.epoch - 1;
    double left = m.elapsed / std::max(1, epoch + 1 - start_epoch) * (o.epochs - epoch - 1);
    if (o.time_limit > 0) left = std::min(left, std::max(0.0, o.time_limit - m.elapsed));
    if (*stop_reason) left = 0;
    std::fprintf(stderr,
                 "epoch %d/%d%s: train loss %.4f, val loss %.4f nats/step, val accuracy %.1f%%, perplexity %.3f, %s tokens/s, "
                 "%s elapsed, %s left%s\n",
                 m.epoch, o.epochs, partial ? " (partial)" : "", m.train_loss, m.val_loss, 100 * m.val_accuracy,
                 std::exp(m.val_loss), format_count(m.tokens_per_second).c_str(), format_duration(m.elapsed).c_str(),
                 format_duration(left).c_str(), better ? " *best" : "");
  }
  return stop;
}

}  // namespace

double schedule_progress(int epoch, int64_t steps_done, int64_t steps_in_epoch, int epochs) {
  return std::min(1.0, (epoch + static_cast<double>(steps_done) / static_cast<double>(steps_in_epoch)) / epochs);
}

double cosine_lr_factor(double progress) { return 0.1 + 0.9 * 0.5 * (1 + std::cos(3.14159265358979323846 * progress)); }

TrainResult train_model(const TrainOptions& options) {
  std::unique_ptr<Communicator> local;
  if (!options.communicator) local = make_local_communicator();
  Communicator& comm = options.communicator ? *options.communicator : *local;
  Run run = prepare_run(options, comm);
  const TrainOptions& o = run.o;
  TrainState& s = run.state;
  set_blas_threads(1);  // the batch is split over worker threads, BLAS single-threaded inside each
  WorkerPool pool(run.config, o.seq_len, o.batch, run.threads, o.weight_drop, comm);
  StartState start = make_start_state(run);
  AdamConfig adam;
  adam.lr = o.lr;
  const char* stop_reason = "";
  const int start_epoch = s.epoch;
  const int64_t start_step = s.global_step;
  double train_seconds = 0;  // in the step loops, validation and checkpoints left out
  const bool carries = run.stateful || run.song_windows;
  while (s.epoch < o.epochs && !*stop_reason) {
    const EpochBatches e = epoch_batches(run, s.epoch);
    pool.reset_state();
    if (carries && s.step_in_epoch > 0) {
      if (s.carried.size() == static_cast<size_t>(o.layers) * 2 * o.batch * o.hidden) pool.scatter_state(s.carried);
      else if (o.verbose) std::fprintf(stderr, "note: the checkpoint holds no carried state; this epoch's rows continue from a zero state\n");
    }
    s.carried.clear();
    const auto epoch_start = Clock::now();
    int64_t tokens = 0;
    Progress progress("epoch " + std::to_string(s.epoch + 1) + "/" + std::to_string(o.epochs),
                      static_cast<double>(e.plan.steps - s.step_in_epoch) * o.seq_len * o.batch, "tokens", 30.0);
    while (s.step_in_epoch < e.plan.steps) {
      tokens += train_step(run, pool, start, e, s.step_in_epoch, adam);
      ++s.step_in_epoch;
      if (o.verbose) {
        char extra[64];
        std::snprintf(extra, sizeof extra, "train loss %.4f", s.loss_sum / std::max<int64_t>(1, s.loss_count));
        progress.update(static_cast<double>(tokens), extra);
      }
      // The time limit is rank 0's clock, so that every rank stops after the same step.
      if (o.time_limit > 0 && comm.sum(run.root && run.elapsed() >= o.time_limit ? 1 : 0) > 0) {
        stop_reason = "time limit";
        break;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    train_seconds += seconds;
    if (o.verbose) progress.finish(static_cast<double>(tokens));
    const bool partial = s.step_in_epoch < e.plan.steps;
    std::vector<float> carried;
    if (partial && carries && !o.out_dir.empty()) carried = pool.gather_state();  // collective: every rank
    EpochMetrics m;
    m.epoch = s.epoch + 1;
    m.step = s.global_step;
    m.partial = partial;
    m.train_loss = s.loss_sum / std::max<int64_t>(1, s.loss_count);
    m.tokens_per_second = seconds > 0 ? tokens / seconds : 0;
    const bool patience = run.root && end_epoch(run, m, partial, start_epoch, std::move(carried), stop_reason);
    std::string stop(1, patience ? 'p' : '-');  // rank 0's decision; not under the step timeout (validation takes long)
    comm.broadcast(stop);
    if (stop[0] == 'p' && !*stop_reason) stop_reason = "patience";
    if (!partial) s.epoch += 1, s.step_in_epoch = 0, s.loss_sum = 0, s.loss_count = 0;
  }
  if (o.verbose && comm.size() > 1 && s.global_step > start_step) {
    const double steps = static_cast<double>(s.global_step - start_step);
    std::fprintf(stderr, "rank 0 exchanged %.1f KB of gradients per step in %.2f ms of %.2f ms per step (%s)\n",
                 comm.gradient_bytes() / steps / 1e3, 1e3 * comm.gradient_seconds() / steps, 1e3 * train_seconds / steps,
                 comm.describe().c_str());
  }
  TrainResult result;
  result.best_val_loss = s.best_val;
  result.best_epoch = s.best_epoch;
  result.epochs_run = s.history.empty() ? 0 : s.history.back().epoch;
  result.steps = s.global_step;
  result.stop_reason = *stop_reason ? stop_reason : "epochs";
  result.history = s.history;
  result.best_model = std::move(run.best_model);
  return result;
}

}  // namespace melodist
