#include "train/checkpoint.h"

#include <filesystem>

#include "formats/safetensors.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

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

}  // namespace

Checkpoint make_checkpoint(const TrainState& s, const ModelConfig& config, const std::vector<std::string>& vocabulary,
                           const nlohmann::json& options, uint64_t seed) {
  Checkpoint c;
  c.config = config;
  c.vocabulary = vocabulary;
  c.params = s.params;
  c.adam_m = s.adam_m;
  c.adam_v = s.adam_v;
  c.ema = s.ema;
  c.carried = s.carried;
  c.options = options;
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& m : s.history) hist.push_back(to_json(m));
  c.state = {{"epoch", s.epoch},
             {"step_in_epoch", s.step_in_epoch},
             {"global_step", s.global_step},
             {"rng", {{"seed", seed}, {"generator", "mt19937_64(mix_seed(seed, epoch)) shuffles, splitmix64 dropout masks"}}},
             {"best_val_loss", std::isfinite(s.best_val) ? nlohmann::json(s.best_val) : nlohmann::json(nullptr)},
             {"best_epoch", s.best_epoch},
             {"bad_epochs", s.bad_epochs},
             {"train_loss_sum", s.loss_sum},
             {"train_loss_count", s.loss_count},
             {"history", hist}};
  return c;
}

TrainState train_state(const Checkpoint& c, const std::string& where) {
  TrainState s;
  s.params = c.params;
  s.adam_m = c.adam_m;
  s.adam_v = c.adam_v;
  s.ema = c.ema;
  s.carried = c.carried;
  try {
    const auto& j = c.state;
    s.epoch = j.at("epoch");
    s.step_in_epoch = j.at("step_in_epoch");
    s.global_step = j.at("global_step");
    s.best_val = j.at("best_val_loss").is_null() ? INFINITY : j.at("best_val_loss").get<double>();
    s.best_epoch = j.at("best_epoch");
    s.bad_epochs = j.at("bad_epochs");
    s.loss_sum = j.at("train_loss_sum");
    s.loss_count = j.at("train_loss_count");
    for (const auto& m : j.at("history")) s.history.push_back(metrics_from_json(m));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(where, 0, std::string("malformed checkpoint state: ") + e.what());
  }
  return s;
}

std::string serialize_checkpoint(const Checkpoint& c) {
  SafeTensorsFile file;
  const size_t P = c.params.size();
  file.tensors.push_back({"params", {P}, c.params});
  file.tensors.push_back({"adam.m", {P}, c.adam_m});
  file.tensors.push_back({"adam.v", {P}, c.adam_v});
  if (!c.carried.empty()) file.tensors.push_back({"carried", {c.carried.size()}, c.carried});
  if (!c.ema.empty()) file.tensors.push_back({"ema", {P}, c.ema});
  const nlohmann::json config = model_config_to_json(c.config);
  file.metadata["format"] = kCheckpointFormat;
  file.metadata["format_version"] = std::to_string(kCheckpointFormatVersion);
  file.metadata["config"] = config.dump();
  file.metadata["vocabulary"] = nlohmann::json(c.vocabulary).dump();
  file.metadata["options"] = c.options.dump();
  file.metadata["state"] = c.state.dump();
  return serialize_safetensors(file);
}

void save_checkpoint(const Checkpoint& c, const std::string& path) { write_file_atomically(path, serialize_checkpoint(c)); }

Checkpoint load_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw file_error(path, 0, "no checkpoint to resume from");
  return parse_checkpoint(read_file(path), path);
}

Checkpoint parse_checkpoint(const std::string& bytes, const std::string& path) {
  SafeTensorsFile file;
  try {
    file = parse_safetensors(bytes, path);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (the checkpoint is truncated or corrupted; delete it to start over)");
  }
  auto meta = [&](const std::string& key) -> const std::string& {
    return melodist_metadata(file, path, "training checkpoint", key);
  };
  check_melodist_format(file, path, "training checkpoint", kCheckpointFormat, kCheckpointFormatVersion);
  Checkpoint c;
  try {
    c.config = model_config_from_json(nlohmann::json::parse(meta("config")));
    c.vocabulary = nlohmann::json::parse(meta("vocabulary")).get<std::vector<std::string>>();
    c.options = nlohmann::json::parse(meta("options"));
    c.state = nlohmann::json::parse(meta("state"));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, 0, std::string("malformed checkpoint metadata: ") + e.what());
  }
  if (c.config.vocab_size <= 0 || c.config.hidden_size <= 0 || c.config.num_layers <= 0 ||
      static_cast<int>(c.vocabulary.size()) != c.config.vocab_size)
    throw file_error(path, 0, "checkpoint configuration is inconsistent");
  const size_t P = parameter_count(c.config);
  for (const auto& t : file.tensors) {
    if (t.name == "carried") {
      c.carried = t.data;
      continue;
    }
    if (t.data.size() != P) throw file_error(path, 0, "checkpoint tensor " + t.name + " has the wrong size");
    if (t.name == "params") c.params = t.data;
    else if (t.name == "adam.m") c.adam_m = t.data;
    else if (t.name == "adam.v") c.adam_v = t.data;
    else if (t.name == "ema") c.ema = t.data;
  }
  if (c.params.empty() || c.adam_m.empty() || c.adam_v.empty()) throw file_error(path, 0, "checkpoint lacks params or Adam moments");
  return c;
}

}  // namespace melodist
