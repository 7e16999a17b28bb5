#include "train/checkpoint.h"

#include <filesystem>

#include "formats/safetensors.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

void save_checkpoint(const Checkpoint& c, const std::string& path) {
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
  write_file_atomically(path, serialize_safetensors(file));
}

Checkpoint load_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw file_error(path, 0, "no checkpoint to resume from");
  SafeTensorsFile file;
  try {
    file = parse_safetensors(read_file(path), path);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (the checkpoint is truncated or corrupted; delete it to start over)");
  }
  auto meta = [&](const std::string& key) -> const std::string& {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw file_error(path, 0, "not a melodist training checkpoint (no \"" + key + "\")");
    return it->second;
  };
  if (meta("format") != kCheckpointFormat) throw file_error(path, 0, "not a melodist training checkpoint (format \"" + meta("format") + "\")");
  if (meta("format_version") != std::to_string(kCheckpointFormatVersion))
    throw file_error(path, 0, "checkpoint format version " + meta("format_version") + " is not the version this melodist reads (" +
                                  std::to_string(kCheckpointFormatVersion) + ")");
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
