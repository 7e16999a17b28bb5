#include "train/checkpoint.h"

#include <filesystem>

#include "formats/model_file.h"
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

// The state's scalars and history as the metadata "state" records them.
nlohmann::json state_json(const TrainState& s, uint64_t seed) {
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& m : s.history) hist.push_back(to_json(m));
  return {{"epoch", s.epoch},
          {"step_in_epoch", s.step_in_epoch},
          {"global_step", s.global_step},
          {"rng", {{"seed", seed}, {"generator", "mt19937_64(mix_seed(seed, epoch)) shuffles, splitmix64 dropout masks"}}},
          {"best_val_loss", std::isfinite(s.best_val) ? nlohmann::json(s.best_val) : nlohmann::json(nullptr)},
          {"best_epoch", s.best_epoch},
          {"bad_epochs", s.bad_epochs},
          {"train_loss_sum", s.loss_sum},
          {"train_loss_count", s.loss_count},
          {"history", hist}};
}

// Throws nlohmann::json::exception on a missing or mistyped field.
void read_state_json(const nlohmann::json& j, Checkpoint& c) {
  TrainState& s = c.state;
  s.epoch = j.at("epoch");
  s.step_in_epoch = j.at("step_in_epoch");
  s.global_step = j.at("global_step");
  c.seed = j.at("rng").at("seed");
  s.best_val = j.at("best_val_loss").is_null() ? INFINITY : j.at("best_val_loss").get<double>();
  s.best_epoch = j.at("best_epoch");
  s.bad_epochs = j.at("bad_epochs");
  s.loss_sum = j.at("train_loss_sum");
  s.loss_count = j.at("train_loss_count");
  for (const auto& m : j.at("history")) s.history.push_back(metrics_from_json(m));
}

}  // namespace

std::string serialize_checkpoint(const Checkpoint& c) {
  const TrainState& s = c.state;
  SafeTensorsFile file;
  const size_t P = s.params.size();
  file.tensors.push_back({"params", {P}, s.params});
  file.tensors.push_back({"adam.m", {P}, s.adam_m});
  file.tensors.push_back({"adam.v", {P}, s.adam_v});
  if (!s.carried.empty()) file.tensors.push_back({"carried", {s.carried.size()}, s.carried});
  if (!s.ema.empty()) file.tensors.push_back({"ema", {P}, s.ema});
  file.metadata["format"] = kCheckpointFormat;
  file.metadata["format_version"] = std::to_string(kCheckpointFormatVersion);
  file.metadata["config"] = model_config_to_json(c.config).dump();
  file.metadata["vocabulary"] = nlohmann::json(c.vocabulary).dump();
  file.metadata["options"] = c.options.dump();
  file.metadata["state"] = state_json(s, c.seed).dump();
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
    read_state_json(nlohmann::json::parse(meta("state")), c);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, 0, std::string("malformed checkpoint metadata or state: ") + e.what());
  }
  if (c.config.vocab_size <= 0 || c.config.hidden_size <= 0 || c.config.num_layers <= 0 ||
      static_cast<int>(c.vocabulary.size()) != c.config.vocab_size)
    throw file_error(path, 0, "checkpoint configuration is inconsistent");
  const size_t P = parameter_count(c.config);
  TrainState& s = c.state;
  for (auto& t : file.tensors) {
    if (t.name == "carried") {
      s.carried = std::move(t.data);
      continue;
    }
    if (t.data.size() != P) throw file_error(path, 0, "checkpoint tensor " + t.name + " has the wrong size");
    if (t.name == "params") s.params = std::move(t.data);
    else if (t.name == "adam.m") s.adam_m = std::move(t.data);
    else if (t.name == "adam.v") s.adam_v = std::move(t.data);
    else if (t.name == "ema") s.ema = std::move(t.data);
  }
  if (s.params.empty() || s.adam_m.empty() || s.adam_v.empty()) throw file_error(path, 0, "checkpoint lacks params or Adam moments");
  return c;
}

}  // namespace melodist
