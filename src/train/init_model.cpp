#include "train/init_model.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "formats/model_file.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "util/error.h"

namespace melodist {
namespace {

namespace fs = std::filesystem;

std::string symbol_list(const std::vector<std::string>& symbols) {
  std::string out;
  for (size_t i = 0; i < symbols.size() && i < 20; ++i) out += (i ? " " : "") + ("\"" + symbols[i] + "\"");
  if (symbols.size() > 20) out += " and " + std::to_string(symbols.size() - 20) + " more";
  return out;
}

// reorder_vocabulary with new symbols: every tensor but the vocabulary's comes from `model`; the
// vocabulary's rows and columns from `model` by old_id (-1: a new symbol, from `fresh`).
Model add_vocabulary(const Model& model, const Model& fresh, const std::vector<std::string>& vocabulary,
                     const std::vector<int>& old_id, const std::string& where) {
  const ModelConfig& cfg = model.config;
  ModelConfig want = cfg;
  want.vocab_size = static_cast<int>(vocabulary.size());
  if (fresh.vocabulary != vocabulary || fresh.config.hidden_size != cfg.hidden_size || fresh.config.num_layers != cfg.num_layers ||
      fresh.params.size() != parameter_count(want))
    throw Error("adding symbols: the fresh network is not the model's shape over the new vocabulary");
  if (std::set<std::string>(vocabulary.begin(), vocabulary.end()).size() != vocabulary.size())
    throw Error("the vocabulary holds a symbol twice");
  for (const auto& s : model.vocabulary)
    if (std::find(vocabulary.begin(), vocabulary.end(), s) == vocabulary.end())
      throw file_error(where, 0, "the model's symbol \"" + s + "\" is not in the vocabulary to add symbols to");
  Model out = fresh;
  const size_t V = vocabulary.size(), V0 = model.vocabulary.size(), H = static_cast<size_t>(cfg.hidden_size), G = 4 * H;
  const ParameterViews src = parameter_views(cfg, const_cast<float*>(model.params.data()));
  const ParameterViews dst = parameter_views(out.config, out.params.data());
  std::copy(src.lstm[0].w_h, src.lstm[0].w_h + H * G, dst.lstm[0].w_h);  // (H, 4H)
  std::copy(src.lstm[0].b, src.lstm[0].b + G, dst.lstm[0].b);            // (4H)
  for (size_t l = 1; l < src.lstm.size(); ++l) {                          // upper layers: w_x (H, 4H), w_h, b
    std::copy(src.lstm[l].w_x, src.lstm[l].w_x + H * G, dst.lstm[l].w_x);
    std::copy(src.lstm[l].w_h, src.lstm[l].w_h + H * G, dst.lstm[l].w_h);
    std::copy(src.lstm[l].b, src.lstm[l].b + G, dst.lstm[l].b);
  }
  for (size_t i = 0; i < V; ++i) {
    if (old_id[i] < 0) continue;  // a new symbol keeps its fresh weights
    const size_t o = static_cast<size_t>(old_id[i]);
    std::copy(src.lstm[0].w_x + o * G, src.lstm[0].w_x + (o + 1) * G, dst.lstm[0].w_x + i * G);  // (V, 4H) rows
    for (size_t h = 0; h < H; ++h) dst.w_y[h * V + i] = src.w_y[h * V0 + o];                       // (H, V) columns
    dst.b_y[i] = src.b_y[o];                                                                       // (V)
  }
  return out;
}

}  // namespace

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
    ModelFile file = load_model_file(o.init_model_dir);
    const Model& m = file.model;
    const auto& src = file.metadata.contains("source") ? file.metadata["source"] : nlohmann::json();
    plan.info = {{"path", fs::weakly_canonical(o.init_model_dir).string()}, {"source", src.is_string() ? src : nlohmann::json("unknown")}};
    if (o.add_symbols) plan.info["add_symbols"] = true;
    hidden = m.config.hidden_size;
    layers = m.config.num_layers;
    plan.activation = m.config.recurrent_activation;
    from = "the --init model " + o.init_model_dir;
    plan.model = std::move(file);
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

Model reorder_vocabulary(const Model& model, const std::vector<std::string>& vocabulary, const std::string& where,
                         const Model* fresh) {
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
  if (!missing.empty() && !fresh)
    throw file_error(where, 0, "the model has no symbol " + symbol_list(missing) +
                                   " of the dataset's vocabulary; it cannot be trained on this data (train from scratch instead)");
  if (fresh) return add_vocabulary(model, *fresh, vocabulary, old_id, where);
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
                                             const std::vector<std::string>& dataset_vocabulary, const std::string& where,
                                             bool add_symbols) {
  const std::set<std::string> have(model_vocabulary.begin(), model_vocabulary.end());
  std::vector<std::string> missing;
  for (const auto& s : dataset_vocabulary)
    if (!have.count(s)) missing.push_back(s);
  if (have.size() != model_vocabulary.size()) throw file_error(where, 0, "the model's vocabulary holds a symbol twice");
  if (!missing.empty() && add_symbols) {
    std::vector<std::string> out = model_vocabulary;
    out.insert(out.end(), missing.begin(), missing.end());
    return out;
  }
  if (!missing.empty())
    throw file_error(where, 0, "the model has no symbol " + symbol_list(missing) +
                                   " of the dataset's vocabulary; it cannot be trained on this data (train from scratch, "
                                   "or --add-symbols to give them fresh weights)");
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

}  // namespace melodist
