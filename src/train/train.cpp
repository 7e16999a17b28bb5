#include "train/train.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "formats/text_encoding.h"
#include "generate/song_score.h"
#include "melodist/version.h"
#include "nn/adam.h"
#include "nn/blas.h"
#include "nn/engine.h"
#include "nn/grad_clip.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/memory_estimate.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/folder_lock.h"
#include "util/progress.h"

namespace melodist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void check_options(const TrainOptions& o) {
  auto bad = [](const std::string& m) { throw Error(m); };
  if (o.seq_len < 1 || o.seq_len > 100000) bad("--seq-len " + std::to_string(o.seq_len) + " makes no sense (1 to 100000 steps)");
  if (o.batch < 1 || o.batch > 100000) bad("--batch " + std::to_string(o.batch) + " makes no sense (1 to 100000 windows)");
  if (static_cast<int64_t>(o.seq_len) * o.batch > 50'000'000) bad("--seq-len x --batch is too large for memory");
  if (o.hidden < 1 || o.hidden > 8192) bad("--hidden " + std::to_string(o.hidden) + " makes no sense (1 to 8192)");
  if (o.layers < 1 || o.layers > 16) bad("--layers " + std::to_string(o.layers) + " makes no sense (1 to 16)");
  if (!(o.dropout >= 0 && o.dropout < 1)) bad("--dropout must be in [0, 1)");
  if (!(o.weight_drop >= 0 && o.weight_drop < 1)) bad("--weight-drop must be in [0, 1)");
  if (!(o.lr > 0 && std::isfinite(o.lr))) bad("--lr must be a positive number");
  if (!(o.ema >= 0 && o.ema < 1)) bad("--ema must be in [0, 1) (0: off)");
  if (o.lr_schedule != "constant" && o.lr_schedule != "cosine") bad("unknown --lr-schedule \"" + o.lr_schedule + "\" (use constant or cosine)");
  if (!std::isfinite(o.clip)) bad("--clip must be a number (0 = no clipping)");
  if (o.epochs < 1) bad("--epochs must be at least 1");
  if (!(o.time_limit >= 0)) bad("--time-limit must be >= 0 seconds");
  if (o.patience < 0) bad("--patience must be >= 0");
  if (o.data_dir.empty() ? false : o.val_every < 2) bad("--val-every must be at least 2");
  if (o.threads < 0 || o.threads > 256) bad("--threads must be between 0 (every core) and 256");
  if (o.augment_transpose < 0 || o.augment_transpose > 127)
    bad("--augment-transpose " + std::to_string(o.augment_transpose) + " makes no sense (0 = off, up to 127 semitones)");
}

// The hyperparameters a resumed run must share with the checkpoint; "init" ({"path", "source"}) only
// for a run started from --init and "augment_transpose" only when on (so checkpoints of other runs keep
// their options).
nlohmann::json fixed_options(const TrainOptions& o, const nlohmann::json& init_info) {
  nlohmann::json j = {{"hidden", o.hidden},   {"layers", o.layers},     {"dropout", o.dropout},
                      {"seq_len", o.seq_len}, {"batch", o.batch},       {"lr", o.lr},
                      {"clip", o.clip},       {"val_every", o.val_every}, {"seed", o.seed},
                      {"objective", to_string(o.objective)}, {"windows", to_string(o.windows)}, {"lr_schedule", o.lr_schedule}};
  if (!init_info.is_null()) j["init"] = init_info;
  if (o.augment_transpose != 0) j["augment_transpose"] = o.augment_transpose;
  if (o.ema != 0) j["ema"] = o.ema;
  if (o.weight_drop != 0) j["weight_drop"] = o.weight_drop;
  return j;
}

std::string symbol_list(const std::vector<std::string>& symbols) {
  std::string out;
  for (size_t i = 0; i < symbols.size() && i < 20; ++i) out += (i ? " " : "") + ("\"" + symbols[i] + "\"");
  if (symbols.size() > 20) out += " and " + std::to_string(symbols.size() - 20) + " more";
  return out;
}

// What --init (or the checkpoint of a resumed run) fixes before the run starts.
struct InitPlan {
  nlohmann::json info;             // {"path", "source"}; null when the run did not start from --init
  std::optional<Model> model;      // the init model, fresh --init runs only
  std::vector<std::string> checkpoint_vocabulary;  // resumed --init runs: the vocabulary the run trains
  RecurrentActivation activation = RecurrentActivation::sigmoid;
};

// Resolves o.hidden / o.layers (0 = "the model's" / "the checkpoint's") and the recurrent activation.
// Fresh --init run: from the init model. Resumed run: from its checkpoint (the init model is not read
// again, it may be gone). Explicit values that contradict an --init model are refused.
InitPlan resolve_init(TrainOptions& o) {
  InitPlan plan;
  int hidden = 0, layers = 0;
  std::string from;
  const std::string checkpoint_path = o.out_dir.empty() ? "" : (fs::path(o.out_dir) / kCheckpointFileName).string();
  if (o.resume && !checkpoint_path.empty() && fs::exists(checkpoint_path)) {
    Checkpoint c = load_checkpoint(checkpoint_path);
    hidden = c.config.hidden_size;
    layers = c.config.num_layers;
    plan.activation = c.config.recurrent_activation;
    if (c.options.contains("init")) {
      plan.info = c.options["init"];
      plan.checkpoint_vocabulary = c.vocabulary;
      const std::string started = plan.info.value("path", std::string());
      if (!o.init_model_dir.empty() && fs::weakly_canonical(o.init_model_dir).string() != started)
        throw file_error(checkpoint_path, 0, "is of a run started from --init " + started + "; resume with that --init or without one");
      from = "the checkpoint of the run started from --init " + started;
    } else if (!o.init_model_dir.empty()) {
      throw file_error(checkpoint_path, 0, "is of a run that did not start from --init; resume it without --init");
    }
  } else if (!o.init_model_dir.empty()) {
    Model m = load_model(o.init_model_dir);
    const auto& src = m.metadata.contains("source") ? m.metadata["source"] : nlohmann::json();
    plan.info = {{"path", fs::weakly_canonical(o.init_model_dir).string()}, {"source", src.is_string() ? src : nlohmann::json("unknown")}};
    hidden = m.config.hidden_size;
    layers = m.config.num_layers;
    plan.activation = m.config.recurrent_activation;
    from = "the --init model " + o.init_model_dir;
    plan.model = std::move(m);
  }
  if (!plan.info.is_null()) {
    if (o.hidden != 0 && o.hidden != hidden)
      throw Error("--hidden " + std::to_string(o.hidden) + " contradicts the " + std::to_string(hidden) + " units of " + from +
                  "; leave --hidden out (the network comes from the model)");
    if (o.layers != 0 && o.layers != layers)
      throw Error("--layers " + std::to_string(o.layers) + " contradicts the " + std::to_string(layers) + " layers of " + from +
                  "; leave --layers out (the network comes from the model)");
  }
  if (hidden > 0 && (o.hidden == 0 || !plan.info.is_null())) o.hidden = hidden;
  if (layers > 0 && (o.layers == 0 || !plan.info.is_null())) o.layers = layers;
  if (o.resume && hidden == 0) {
    // No checkpoint to take the shape from: check_out_dir reports that; the defaults keep the options valid.
    if (o.hidden == 0) o.hidden = TrainOptions{}.hidden;
    if (o.layers == 0) o.layers = TrainOptions{}.layers;
  }
  return plan;
}

// MODEL_DIR may hold only what training writes (and temporaries of interrupted atomic writes).
void check_out_dir(const std::string& dir, bool resume, bool fine_tune_in_place) {
  if (dir.empty()) return;
  if (fs::exists(dir) && !fs::is_directory(dir)) throw file_error(dir, 0, "exists and is not a folder (--out names the model folder)");
  if (!fs::exists(dir)) {
    if (resume) throw file_error(dir, 0, "no such model folder to resume");
    return;
  }
  bool has_ours = false;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name == kLockFileName) continue;
    if (name == kModelFileName || name == "mapping.json" || name == kMetricsFileName || name == kCheckpointFileName) {
      has_ours = true;
      continue;
    }
    throw file_error(dir, 0, "holds \"" + name + "\", which is not a melodist model file; choose an empty or new folder for --out");
  }
  const std::string model_path = (fs::path(dir) / kModelFileName).string();
  if (fs::exists(model_path)) load_model(model_path);  // throws for a foreign or corrupted model file
  if (has_ours && !resume && !fine_tune_in_place)
    throw file_error(dir, 0, "already holds a model or checkpoint; pass --resume to continue that run, or choose another folder");
  if (resume && !fs::exists(fs::path(dir) / kCheckpointFileName))
    throw file_error((fs::path(dir) / kCheckpointFileName).string(), 0, "no checkpoint to resume from");
}

std::string metrics_csv(const std::vector<EpochMetrics>& history) {
  std::string out = std::string(kMetricsHeader) + "\n";
  char line[512];
  for (const auto& m : history) {
    std::snprintf(line, sizeof line, "%d,%lld,%d,%.6f,%.6f,%.6f,%.6f,%.1f,%.2f\n", m.epoch, static_cast<long long>(m.step),
                  m.partial ? 1 : 0, m.train_loss, m.val_loss, m.val_accuracy, std::exp(m.val_loss), m.tokens_per_second,
                  m.elapsed);
    out += line;
  }
  return out;
}

nlohmann::json to_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch}, {"step", m.step}, {"partial", m.partial}, {"train_loss", m.train_loss},
          {"val_loss", m.val_loss}, {"val_accuracy", m.val_accuracy}, {"tokens_per_second", m.tokens_per_second},
          {"elapsed", m.elapsed}};
}
EpochMetrics metrics_from_json(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch");
  m.step = j.at("step");
  m.partial = j.at("partial");
  m.train_loss = j.at("train_loss");
  m.val_loss = j.at("val_loss");
  m.val_accuracy = j.at("val_accuracy");
  m.tokens_per_second = j.at("tokens_per_second");
  m.elapsed = j.at("elapsed");
  return m;
}

// One worker's share of a batch: its own engine buffers and gradient buffer.
struct Worker {
  nn::Network net;
  std::vector<float> grads;  // (P)
  std::vector<unsigned char> starts;  // (rows) windows songs: 1 where a row starts from the start state
  int row_begin = 0, row_end = 0;
  nn::ForwardStats stats;
};

}  // namespace

Model reorder_vocabulary(const Model& model, const std::vector<std::string>& vocabulary, const std::string& where) {
  const ModelConfig& cfg = model.config;
  std::vector<std::string> missing, extra;
  std::vector<int> old_id(vocabulary.size());  // (V) new id -> the model's id
  for (size_t i = 0; i < vocabulary.size(); ++i) {
    old_id[i] = model.symbol_id(vocabulary[i]);
    if (old_id[i] < 0) missing.push_back(vocabulary[i]);
  }
  const std::set<std::string> wanted(vocabulary.begin(), vocabulary.end());
  for (const auto& s : model.vocabulary)
    if (!wanted.count(s)) extra.push_back(s);
  if (!missing.empty())
    throw file_error(where, 0, "the model has no symbol " + symbol_list(missing) +
                                   " of the dataset's vocabulary; it cannot be trained on this data (train from scratch instead)");
  if (!extra.empty())
    throw file_error(where, 0, "the model's vocabulary has symbol " + symbol_list(extra) + " that the dataset lacks; its output layer (" +
                                   std::to_string(cfg.vocab_size) + " symbols) must match the dataset's " +
                                   std::to_string(vocabulary.size()) + " symbols");
  if (wanted.size() != vocabulary.size() || static_cast<int>(vocabulary.size()) != cfg.vocab_size)
    throw Error("the vocabulary holds a symbol twice");
  Model out = model;
  out.vocabulary = vocabulary;
  const size_t V = vocabulary.size(), H = static_cast<size_t>(cfg.hidden_size), G = 4 * H;
  const ParameterViews src = parameter_views(cfg, const_cast<float*>(model.params.data()));
  const ParameterViews dst = parameter_views(cfg, out.params.data());
  for (size_t i = 0; i < V; ++i) {
    const size_t o = static_cast<size_t>(old_id[i]);
    std::copy(src.lstm[0].w_x + o * G, src.lstm[0].w_x + (o + 1) * G, dst.lstm[0].w_x + i * G);  // (V, 4H) rows
    for (size_t h = 0; h < H; ++h) dst.w_y[h * V + i] = src.w_y[h * V + o];                        // (H, V) columns
    dst.b_y[i] = src.b_y[o];                                                                       // (V)
  }
  return out;
}

std::vector<std::string> training_vocabulary(const std::vector<std::string>& model_vocabulary,
                                             const std::vector<std::string>& dataset_vocabulary, const std::string& where) {
  const std::set<std::string> have(model_vocabulary.begin(), model_vocabulary.end());
  std::vector<std::string> missing;
  for (const auto& s : dataset_vocabulary)
    if (!have.count(s)) missing.push_back(s);
  if (!missing.empty())
    throw file_error(where, 0, "the model has no symbol " + symbol_list(missing) +
                                   " of the dataset's vocabulary; it cannot be trained on this data (train from scratch instead)");
  if (have.size() != model_vocabulary.size()) throw file_error(where, 0, "the model's vocabulary holds a symbol twice");
  // Same symbols: the dataset's order (the model is reordered into it). More: the model's order.
  return have.size() == std::set<std::string>(dataset_vocabulary.begin(), dataset_vocabulary.end()).size() ? dataset_vocabulary
                                                                                                           : model_vocabulary;
}

std::vector<std::vector<int>> remap_songs(const std::vector<std::vector<int>>& songs, const std::vector<std::string>& from,
                                          const std::vector<std::string>& to, const std::string& where) {
  std::vector<int> to_id(from.size(), -1);  // (V_from) -> id in `to`, -1 when absent
  for (size_t i = 0; i < from.size(); ++i)
    for (size_t j = 0; j < to.size(); ++j)
      if (to[j] == from[i]) to_id[i] = static_cast<int>(j);
  std::vector<std::vector<int>> out;
  out.reserve(songs.size());
  for (const auto& song : songs) {
    out.emplace_back();
    out.back().reserve(song.size());
    for (int id : song) {
      if (id < 0 || id >= static_cast<int>(from.size())) throw Error("a song holds symbol id " + std::to_string(id) + ", outside its vocabulary");
      if (to_id[id] < 0) throw file_error(where, 0, "the vocabulary has no symbol \"" + from[id] + "\" of the songs");
      out.back().push_back(to_id[id]);
    }
  }
  return out;
}

double schedule_progress(int epoch, int64_t steps_done, int64_t steps_in_epoch, int epochs) {
  return std::min(1.0, (epoch + static_cast<double>(steps_done) / static_cast<double>(steps_in_epoch)) / epochs);
}

double cosine_lr_factor(double progress) { return 0.1 + 0.9 * 0.5 * (1 + std::cos(3.14159265358979323846 * progress)); }

TrainResult train_model(const TrainOptions& options) {
  TrainOptions o = options;
  // One run per model folder (util/folder_lock.h), taken before the folder is read or written.
  FolderLock lock;
  if (!o.out_dir.empty()) {
    if (fs::exists(o.out_dir) && !fs::is_directory(o.out_dir))
      throw file_error(o.out_dir, 0, "exists and is not a folder (--out names the model folder)");
    if (o.resume && !fs::exists(o.out_dir)) throw file_error(o.out_dir, 0, "no such model folder to resume");
    lock = FolderLock::inside(o.out_dir);
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
  InitPlan init = resolve_init(o);
  check_options(o);
  const auto run_start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - run_start).count(); };

  // ---- data ----
  std::vector<std::string> vocabulary;
  std::vector<std::vector<int>> train_songs, val_songs;
  nlohmann::json preprocessing = o.preprocessing, validation_rule = o.validation_rule;
  int delimiter_length = o.delimiter_length;
  if (!o.data_dir.empty()) {
    TrainingData d = load_training_data(o.data_dir);
    std::vector<size_t> ti, vi;
    split_validation(d.songs.size(), o.val_every, ti, vi);
    if (vi.empty())
      throw file_error(o.data_dir, 0, "holds " + std::to_string(d.songs.size()) + " songs; validation needs at least --val-every " +
                                          std::to_string(o.val_every) + " of them");
    for (size_t i : ti) train_songs.push_back(d.songs[i]);
    for (size_t i : vi) val_songs.push_back(d.songs[i]);
    vocabulary = d.vocabulary;
    preprocessing = d.preprocessing;
    delimiter_length = d.delimiter_length;
    validation_rule = {{"every", o.val_every}, {"delimiter_length", delimiter_length}};
  } else {
    vocabulary = o.vocabulary;
    train_songs = o.train_songs;
    val_songs = o.validation_songs;
    if (validation_rule.is_null()) validation_rule = {{"songs", "explicit"}, {"delimiter_length", delimiter_length}};
    if (val_songs.empty()) throw Error("no validation songs");
    if (train_songs.empty()) throw Error("no training songs");
  }
  // The symbols of a model and a dataset made on other step grids mean other lengths ("_" = one step).
  if (init.model && o.verbose) {
    const nlohmann::json& mp = init.model->metadata.is_object() && init.model->metadata.contains("preprocessing")
                                   ? init.model->metadata["preprocessing"] : nlohmann::json();
    if (mp.is_object() && preprocessing.is_object() && mp.contains("step") && preprocessing.contains("step") &&
        mp["step"] != preprocessing["step"])
      std::fprintf(stderr, "warning: the --init model %s was trained on steps of %s quarter, this dataset has steps of %s: the same "
                   "symbols stand for other lengths (preprocess both with the same --step)\n",
                   o.init_model_dir.c_str(), mp["step"].dump().c_str(), preprocessing["step"].dump().c_str());
  }
  // A model (or the checkpoint of a run started from one) with more symbols than the dataset: the run
  // trains over the model's vocabulary, the songs' ids remapped into it.
  {
    const std::vector<std::string>* model_vocabulary =
        init.model ? &init.model->vocabulary : !init.checkpoint_vocabulary.empty() ? &init.checkpoint_vocabulary : nullptr;
    const std::string where = init.model ? o.init_model_dir : (fs::path(o.out_dir) / kCheckpointFileName).string();
    if (model_vocabulary) {
      std::vector<std::string> used = training_vocabulary(*model_vocabulary, vocabulary, where);
      if (used != vocabulary) {
        train_songs = remap_songs(train_songs, vocabulary, used, where);
        val_songs = remap_songs(val_songs, vocabulary, used, where);
        if (o.verbose)
          std::fprintf(stderr, "the model's vocabulary (%zu symbols) holds the dataset's %zu and more: training over the model's\n",
                       used.size(), vocabulary.size());
        vocabulary = std::move(used);
      }
    }
  }
  int delimiter = -1;
  for (size_t i = 0; i < vocabulary.size(); ++i)
    if (vocabulary[i] == kDelimiterSymbol) delimiter = static_cast<int>(i);
  if (delimiter < 0) throw Error("the vocabulary has no \"/\" delimiter symbol");
  const int V = static_cast<int>(vocabulary.size());
  for (const auto* set : {&train_songs, &val_songs})
    for (const auto& s : *set)
      for (int id : s)
        if (id < 0 || id >= V) throw Error("a song holds symbol id " + std::to_string(id) + ", outside the vocabulary of " + std::to_string(V));
  const std::vector<int> stream = training_stream(train_songs, delimiter, delimiter_length);
  // --augment-transpose: each epoch's training songs (and, for the stream modes, its stream) are shifted
  // copies; lengths do not change, so the plans below are the same as without.
  std::optional<TransposeAugmenter> augmenter;
  if (o.augment_transpose > 0) {
    augmenter = make_transpose_augmenter(vocabulary, train_songs, o.augment_transpose);
    if (o.verbose) {
      size_t offsets = 0;
      for (const auto& a : augmenter->allowed) offsets += a.size();
      std::fprintf(stderr, "transposing each training song every epoch by up to %d semitones (%.1f offsets per song on average)\n",
                   o.augment_transpose, static_cast<double>(offsets) / static_cast<double>(train_songs.size()));
    }
  }
  const int T = o.seq_len, B = o.batch;
  const bool song_windows = o.objective == Objective::all && o.windows == WindowMode::songs;
  const bool stateful = o.objective == Objective::all && o.windows == WindowMode::stateful;
  const auto make_plan = [&](int epoch) {
    return song_windows ? plan_song_epoch(train_songs, T, B, o.seed, epoch)
                        : plan_epoch(static_cast<int64_t>(stream.size()), T, B, o.objective, o.windows, o.seed, epoch);
  };
  // Throws when the joined training songs hold less than one window (a --seq-len that makes no sense).
  plan_epoch(static_cast<int64_t>(stream.size()), T, B, o.objective, WindowMode::shuffled, o.seed, 0);
  make_plan(0);

  check_out_dir(o.out_dir, o.resume, fine_tune_in_place);
  if (!o.out_dir.empty()) check_folder_writable(o.out_dir);  // fail now, not after the first epoch

  // ---- model, optimizer, state ----
  ModelConfig config;
  config.vocab_size = V;
  config.hidden_size = o.hidden;
  config.num_layers = o.layers;
  config.dropout = o.dropout;
  config.recurrent_activation = init.activation;
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, B);
  check_training_memory({config, T, B, threads, o.ema > 0});  // before the first large allocation
  Model model = make_model(config, vocabulary, o.seed);
  if (init.model) {
    // Fresh --init run: the init model's weights in the dataset's symbol order; Adam moments stay zero.
    model.params = reorder_vocabulary(*init.model, vocabulary, o.init_model_dir).params;
    if (o.verbose)
      std::fprintf(stderr, "starting from %s (%s): %d layer(s) of %d units, %s recurrent activation, %d symbols\n",
                   o.init_model_dir.c_str(), init.info["source"].get<std::string>().c_str(), o.layers, o.hidden,
                   to_string(init.activation).c_str(), V);
  }
  const size_t P = model.params.size();
  std::vector<float> adam_m(P, 0.0f), adam_v(P, 0.0f);
  std::vector<float> ema_params;  // (P) --ema: the moving average of the weights
  if (o.ema > 0) ema_params = model.params;
  int start_epoch = 0;
  int64_t start_step_in_epoch = 0, global_step = 0;
  double best_val = INFINITY;
  int best_epoch = 0, bad_epochs = 0;
  double carried_loss_sum = 0;
  int64_t carried_loss_count = 0;
  std::vector<EpochMetrics> history;
  std::vector<float> resumed_state;  // (L, 2, B, H) from a mid-epoch checkpoint
  Model best_model = model;
  const std::string checkpoint_path = o.out_dir.empty() ? "" : (fs::path(o.out_dir) / kCheckpointFileName).string();
  if (o.resume) {
    if (checkpoint_path.empty()) throw Error("--resume needs --out");
    Checkpoint c = load_checkpoint(checkpoint_path);
    if (c.options != fixed_options(o, init.info))
      throw file_error(checkpoint_path, 0, "was written with other options (" + c.options.dump() +
                                               "); resume with the same hyperparameters");
    if (c.vocabulary != vocabulary) throw file_error(checkpoint_path, 0, "was trained on another vocabulary than this dataset's");
    model.params = c.params;
    adam_m = c.adam_m;
    adam_v = c.adam_v;
    if (o.ema > 0) {
      if (c.ema.size() != P) throw file_error(checkpoint_path, 0, "holds no moving average of the weights (--ema)");
      ema_params = c.ema;
    }
    resumed_state = c.carried;
    try {
      const auto& s = c.state;
      start_epoch = s.at("epoch");
      start_step_in_epoch = s.at("step_in_epoch");
      global_step = s.at("global_step");
      best_val = s.at("best_val_loss").is_null() ? INFINITY : s.at("best_val_loss").get<double>();
      best_epoch = s.at("best_epoch");
      bad_epochs = s.at("bad_epochs");
      carried_loss_sum = s.at("train_loss_sum");
      carried_loss_count = s.at("train_loss_count");
      for (const auto& m : s.at("history")) history.push_back(metrics_from_json(m));
    } catch (const nlohmann::json::exception& e) {
      throw file_error(checkpoint_path, 0, std::string("malformed checkpoint state: ") + e.what());
    }
    const std::string best_path = (fs::path(o.out_dir) / kModelFileName).string();
    best_model = fs::exists(best_path) ? load_model(best_path) : model;
  }

  model.metadata = {{"source", "melodist train"},
                    {"melodist_version", MELODIST_VERSION},
                    {"training", {{"hidden", o.hidden}, {"layers", o.layers}, {"dropout", o.dropout}, {"weight_drop", o.weight_drop}, {"seq_len", T},
                                  {"batch", B}, {"lr", o.lr}, {"lr_schedule", o.lr_schedule}, {"clip", o.clip}, {"ema", o.ema}, {"epochs", o.epochs},
                                  {"time_limit", o.time_limit}, {"patience", o.patience}, {"seed", o.seed},
                                  {"objective", to_string(o.objective)}, {"windows", to_string(o.windows)},
                                  {"augment_transpose", o.augment_transpose},
                                  {"optimizer", {{"name", "adam"}, {"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-7}}},
                                  {"train_songs", train_songs.size()}, {"train_symbols", stream.size()}}},
                    {"validation", validation_rule},
                    {"preprocessing", preprocessing},
                    {"command", o.command_line}};
  if (!init.info.is_null()) model.metadata["init"] = init.info;
  for (const auto& [key, value] : o.about) model.metadata["about"][key] = value;

  // ---- engine: the batch split over worker threads, BLAS single-threaded inside each ----
  set_blas_threads(1);
  std::vector<Worker> workers(threads);
  for (int k = 0; k < threads; ++k) {
    workers[k].row_begin = static_cast<int>(static_cast<int64_t>(B) * k / threads);
    workers[k].row_end = static_cast<int>(static_cast<int64_t>(B) * (k + 1) / threads);
    workers[k].net = nn::make_network(config, T, workers[k].row_end - workers[k].row_begin);
    workers[k].net.weight_drop = o.weight_drop;
    workers[k].grads.assign(P, 0.0f);
    workers[k].starts.assign(B, 0);
  }
  // Rows of worker k when a batch has all B rows (stateful and songs batches always do).
  const auto full_rows = [&](int k, int& begin, int& end) {
    begin = static_cast<int>(static_cast<int64_t>(B) * k / threads);
    end = static_cast<int>(static_cast<int64_t>(B) * (k + 1) / threads);
  };
  const size_t H = static_cast<size_t>(o.hidden);
  // The carried state of every layer and row, (L, 2, B, H): h then c; saved with a mid-epoch checkpoint.
  const auto gather_state = [&] {
    std::vector<float> carried(static_cast<size_t>(o.layers) * 2 * B * H);
    for (int k = 0; k < threads; ++k) {
      int b0, b1;
      full_rows(k, b0, b1);
      for (int l = 0; l < o.layers; ++l) {
        const auto& lb = workers[k].net.layers[l];
        std::copy(lb.h0.begin(), lb.h0.begin() + (b1 - b0) * H, carried.begin() + ((2 * l) * B + b0) * H);
        std::copy(lb.c0.begin(), lb.c0.begin() + (b1 - b0) * H, carried.begin() + ((2 * l + 1) * B + b0) * H);
      }
    }
    return carried;
  };
  const auto scatter_state = [&](const std::vector<float>& carried) {
    for (int k = 0; k < threads; ++k) {
      int b0, b1;
      full_rows(k, b0, b1);
      for (int l = 0; l < o.layers; ++l) {
        auto& lb = workers[k].net.layers[l];
        std::copy(carried.begin() + ((2 * l) * B + b0) * H, carried.begin() + ((2 * l) * B + b1) * H, lb.h0.begin());
        std::copy(carried.begin() + ((2 * l + 1) * B + b0) * H, carried.begin() + ((2 * l + 1) * B + b1) * H, lb.c0.begin());
      }
    }
  };
  // windows songs: the start state, after delimiter_length - 1 "/" from a zero state (the last "/"
  // is the first input of every sample); the same for every song, computed once per batch, 1 row.
  const int prefix_steps = delimiter_length - 1;
  nn::Network prefix_net;
  std::vector<float> start_h(static_cast<size_t>(o.layers) * H), start_c(static_cast<size_t>(o.layers) * H);  // (L, H)
  if (song_windows && prefix_steps > 0) {
    prefix_net = nn::make_network(config, prefix_steps, 1);
    std::fill(prefix_net.tokens.begin(), prefix_net.tokens.end(), delimiter);
  }
  const auto compute_start_state = [&] {
    if (prefix_steps <= 0) return;  // zero state
    nn::network_forward(prefix_net, model.params.data(), 1, false, 0, 0);
    for (int l = 0; l < o.layers; ++l) {
      const auto& lb = prefix_net.layers[l];
      std::copy(lb.h.begin() + (prefix_steps - 1) * H, lb.h.begin() + prefix_steps * H, start_h.begin() + l * H);
      std::copy(lb.c.begin() + (prefix_steps - 1) * H, lb.c.begin() + prefix_steps * H, start_c.begin() + l * H);
    }
  };
  AdamConfig adam;
  adam.lr = o.lr;

  TrainResult result;
  std::string stop_reason = "epochs";
  const auto validate = [&](EpochMetrics& m) {
    auto scores = score_songs(model, val_songs, true, false, delimiter_length, threads);
    double nats = 0;
    int64_t steps = 0, correct = 0;
    for (const auto& s : scores) {
      nats += s.total_nats();
      steps += static_cast<int64_t>(s.steps());
      for (size_t i = 0; i < s.steps(); ++i) correct += s.argmax[i] == s.targets[i];
    }
    m.val_loss = nats / static_cast<double>(steps);
    m.val_accuracy = static_cast<double>(correct) / static_cast<double>(steps);
  };
  const auto save_checkpoint_now = [&](int epoch, int64_t step_in_epoch, double loss_sum, int64_t loss_count) {
    if (checkpoint_path.empty()) return;
    Checkpoint c;
    if (step_in_epoch > 0 && (stateful || song_windows)) c.carried = gather_state();
    c.config = config;
    c.vocabulary = vocabulary;
    c.params = model.params;
    c.adam_m = adam_m;
    c.adam_v = adam_v;
    c.ema = ema_params;
    c.options = fixed_options(o, init.info);
    nlohmann::json hist = nlohmann::json::array();
    for (const auto& m : history) hist.push_back(to_json(m));
    c.state = {{"epoch", epoch},
               {"step_in_epoch", step_in_epoch},
               {"global_step", global_step},
               {"rng", {{"seed", o.seed}, {"generator", "mt19937_64(mix_seed(seed, epoch)) shuffles, splitmix64 dropout masks"}}},
               {"best_val_loss", std::isfinite(best_val) ? nlohmann::json(best_val) : nlohmann::json(nullptr)},
               {"best_epoch", best_epoch},
               {"bad_epochs", bad_epochs},
               {"train_loss_sum", loss_sum},
               {"train_loss_count", loss_count},
               {"history", hist}};
    save_checkpoint(c, checkpoint_path);
  };

  bool stop = false;
  for (int epoch = start_epoch; epoch < o.epochs && !stop; ++epoch) {
    const EpochPlan plan = make_plan(epoch);
    std::vector<std::vector<int>> augmented_songs;
    std::vector<int> augmented_stream;
    if (augmenter) {
      augmented_songs = augment_epoch(*augmenter, train_songs, o.seed, epoch);
      if (!song_windows) augmented_stream = training_stream(augmented_songs, delimiter, delimiter_length);
    }
    const auto& epoch_songs = augmenter ? augmented_songs : train_songs;          // the songs this epoch trains on
    const auto& epoch_stream = augmenter && !song_windows ? augmented_stream : stream;
    const int64_t first_step = epoch == start_epoch ? start_step_in_epoch : 0;
    double loss_sum = epoch == start_epoch ? carried_loss_sum : 0;
    int64_t loss_count = epoch == start_epoch ? carried_loss_count : 0;
    for (auto& w : workers) nn::reset_state(w.net);
    if ((stateful || song_windows) && first_step > 0) {
      if (resumed_state.size() == static_cast<size_t>(o.layers) * 2 * B * H) scatter_state(resumed_state);
      else if (o.verbose)
        std::fprintf(stderr, "note: the checkpoint holds no carried state; this epoch's rows continue from a zero state\n");
    }
    const auto epoch_start = Clock::now();
    int64_t epoch_tokens = 0;
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                      static_cast<double>((plan.steps - first_step)) * T * B, "tokens", 30.0);
    int64_t step_in_epoch = first_step;
    bool partial = false;
    for (; step_in_epoch < plan.steps; ++step_in_epoch) {
      const int rows = batch_rows(plan, B, step_in_epoch, o.windows);
      // Split rows over workers in proportion; every worker needs at least one row.
      int active = std::min(threads, rows);
      int64_t scored_total = 0;
      for (int k = 0; k < active; ++k) {
        Worker& w = workers[k];
        w.row_begin = static_cast<int>(static_cast<int64_t>(rows) * k / active);
        w.row_end = static_cast<int>(static_cast<int64_t>(rows) * (k + 1) / active);
        const int r = w.row_end - w.row_begin;
        if (song_windows)
          fill_song_batch(epoch_songs, plan, T, B, step_in_epoch, delimiter, w.row_begin, w.row_end, w.net.tokens.data(),
                          w.net.targets.data(), w.starts.data());
        else
          fill_batch(epoch_stream, plan, T, B, step_in_epoch, o.objective, o.windows, w.row_begin, w.row_end, w.net.tokens.data(),
                     w.net.targets.data());
        for (int i = 0; i < T * r; ++i) scored_total += w.net.targets[i] >= 0;
      }
      if (song_windows) {
        // Rows that begin a song (or idle) start from the start state; the others keep the carried one.
        compute_start_state();
        for (int k = 0; k < active; ++k) {
          Worker& w = workers[k];
          for (int r = 0; r < w.row_end - w.row_begin; ++r) {
            if (!w.starts[r]) continue;
            for (int l = 0; l < o.layers; ++l) {
              std::copy(start_h.begin() + l * H, start_h.begin() + (l + 1) * H, w.net.layers[l].h0.begin() + r * H);
              std::copy(start_c.begin() + l * H, start_c.begin() + (l + 1) * H, w.net.layers[l].c0.begin() + r * H);
            }
          }
        }
      }
      const uint64_t mask_seed = mix_seed(o.seed, 0xd50u + static_cast<uint64_t>(global_step));
      const float scale = 1.0f / static_cast<float>(std::max<int64_t>(1, scored_total));
      auto work = [&](int k) {
        Worker& w = workers[k];
        const int r = w.row_end - w.row_begin;
        std::fill(w.grads.begin(), w.grads.end(), 0.0f);
        w.stats = nn::network_forward(w.net, model.params.data(), r, true, mask_seed, w.row_begin);
        nn::network_backward(w.net, model.params.data(), r, scale, w.grads.data());
        if (stateful || song_windows) nn::carry_state(w.net, r);
      };
      {
        std::vector<std::thread> pool;
        for (int k = 1; k < active; ++k) pool.emplace_back(work, k);
        work(0);
        for (auto& t : pool) t.join();
      }
      float* grads = workers[0].grads.data();
      double nats = workers[0].stats.nats;
      for (int k = 1; k < active; ++k) {
        const float* g = workers[k].grads.data();
        for (size_t i = 0; i < P; ++i) grads[i] += g[i];
        nats += workers[k].stats.nats;
      }
      const double norm = global_norm(grads, P);
      if (!std::isfinite(nats) || !std::isfinite(norm)) {
        throw Error("training diverged: non-finite " + std::string(std::isfinite(nats) ? "gradient" : "loss") + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(step_in_epoch + 1) + " (global step " +
                    std::to_string(global_step + 1) + "); " +
                    (checkpoint_path.empty() ? std::string("nothing was saved")
                                             : "the last good checkpoint " + checkpoint_path + " and best model are kept") +
                    " (try a lower --lr or --clip)");
      }
      clip_by_global_norm(grads, P, o.clip, norm);
      ++global_step;
      if (o.lr_schedule == "cosine") {
        const double progress = schedule_progress(epoch, step_in_epoch + 1, plan.steps, o.epochs);
        adam.lr = static_cast<float>(o.lr * cosine_lr_factor(progress));
      }
      adam_update(model.params.data(), grads, adam_m.data(), adam_v.data(), P, adam, global_step);
      if (o.ema > 0) {
        const float d = std::min(o.ema, static_cast<float>(1 + global_step) / static_cast<float>(10 + global_step));
        const float* w = model.params.data();
        float* a = ema_params.data();
        for (size_t i = 0; i < P; ++i) a[i] = d * a[i] + (1.0f - d) * w[i];
      }
      loss_sum += nats;
      loss_count += scored_total;
      epoch_tokens += static_cast<int64_t>(rows) * T;
      if (o.verbose) {
        char extra[64];
        std::snprintf(extra, sizeof extra, "train loss %.4f", loss_sum / std::max<int64_t>(1, loss_count));
        progress.update(static_cast<double>(epoch_tokens), extra);
      }
      if (o.time_limit > 0 && elapsed() >= o.time_limit) {
        stop = true;
        stop_reason = "time limit";
        partial = step_in_epoch + 1 < plan.steps;
        ++step_in_epoch;
        break;
      }
    }
    const double epoch_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    if (o.verbose) progress.finish(static_cast<double>(epoch_tokens));

    EpochMetrics m;
    m.epoch = epoch + 1;
    m.step = global_step;
    m.partial = partial;
    m.train_loss = loss_sum / std::max<int64_t>(1, loss_count);
    m.tokens_per_second = epoch_seconds > 0 ? epoch_tokens / epoch_seconds : 0;
    if (o.ema > 0) std::swap(model.params, ema_params);  // validate and keep the averaged weights
    validate(m);
    m.elapsed = elapsed();
    history.push_back(m);
    if (o.on_epoch) o.on_epoch(m);  // the library API's progress callback
    const bool better = m.val_loss < best_val;
    if (better) {
      best_val = m.val_loss;
      best_epoch = m.epoch;
      bad_epochs = 0;
      best_model = model;
      best_model.metadata["metrics"] = {{"epoch", m.epoch}, {"step", m.step}, {"train_loss", m.train_loss},
                                        {"val_loss", m.val_loss}, {"val_accuracy", m.val_accuracy},
                                        {"val_perplexity", std::exp(m.val_loss)}, {"elapsed_seconds", m.elapsed},
                                        {"unit", "nats per step"}};
      if (!o.out_dir.empty()) save_model(best_model, o.out_dir);
    } else if (!partial) {
      ++bad_epochs;
    }
    if (o.ema > 0) std::swap(model.params, ema_params);  // back to the raw weights that training continues
    if (!o.out_dir.empty()) {
      write_file_atomically((fs::path(o.out_dir) / kMetricsFileName).string(), metrics_csv(history));
      if (partial) save_checkpoint_now(epoch, step_in_epoch, loss_sum, loss_count);
      else save_checkpoint_now(epoch + 1, 0, 0, 0);
    }
    if (o.verbose) {
      double left = 0;
      const double per_epoch = m.elapsed / std::max(1, epoch + 1 - start_epoch);
      left = per_epoch * (o.epochs - epoch - 1);
      if (o.time_limit > 0) left = std::min(left, std::max(0.0, o.time_limit - m.elapsed));
      if (stop) left = 0;
      std::fprintf(stderr,
                   "epoch %d/%d%s: train loss %.4f, val loss %.4f nats/step, val accuracy %.1f%%, perplexity %.3f, %s tokens/s, "
                   "%s elapsed, %s left%s\n",
                   m.epoch, o.epochs, partial ? " (partial)" : "", m.train_loss, m.val_loss, 100 * m.val_accuracy,
                   std::exp(m.val_loss), format_count(m.tokens_per_second).c_str(), format_duration(m.elapsed).c_str(),
                   format_duration(left).c_str(), better ? " *best" : "");
    }
    if (!stop && o.patience > 0 && bad_epochs >= o.patience) {
      stop = true;
      stop_reason = "patience";
    }
  }
  result.best_val_loss = best_val;
  result.best_epoch = best_epoch;
  result.epochs_run = history.empty() ? 0 : history.back().epoch;
  result.steps = global_step;
  result.stop_reason = stop_reason;
  result.history = history;
  result.best_model = std::move(best_model);
  return result;
}

}  // namespace melodist
