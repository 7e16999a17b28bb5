#include "formats/model_file.h"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>

#include "formats/mapping_json.h"
#include "formats/safetensors.h"
#include "util/rational.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

nlohmann::json model_config_to_json(const ModelConfig& c) {
  return {{"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"num_layers", c.num_layers},
          {"dropout", c.dropout},
          {"recurrent_activation", to_string(c.recurrent_activation)}};
}

ModelConfig model_config_from_json(const nlohmann::json& json) {
  ModelConfig c;
  c.vocab_size = json.at("vocab_size").get<int>();
  c.hidden_size = json.at("hidden_size").get<int>();
  c.num_layers = json.at("num_layers").get<int>();
  c.dropout = json.at("dropout").get<float>();
  c.recurrent_activation = parse_recurrent_activation(json.at("recurrent_activation").get<std::string>());
  return c;
}

void save_model(const ModelFile& saved, const std::string& dir) {
  const Model& model = saved.model;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw file_error(dir, 0, "cannot create the model directory: " + ec.message());
  SafeTensorsFile file;
  for (const auto& t : parameter_layout(model.config)) {
    file.tensors.push_back({t.name, t.shape, std::vector<float>(model.params.begin() + t.offset,
                                                                model.params.begin() + t.offset + t.size())});
  }
  const nlohmann::json config = model_config_to_json(model.config);
  file.metadata["format"] = kModelFormat;
  file.metadata["format_version"] = std::to_string(kModelFormatVersion);
  file.metadata["config"] = config.dump();
  file.metadata["vocabulary"] = nlohmann::json(model.vocabulary).dump();
  file.metadata["metadata"] = saved.metadata.dump();
  write_file_atomically((fs::path(dir) / kModelFileName).string(), serialize_safetensors(file));
  write_file_atomically((fs::path(dir) / "mapping.json").string(), mapping_json(model.vocabulary));
}

ModelFile load_model_file(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  std::string path = dir_or_file;
  if (fs::is_directory(path)) path = (fs::path(path) / kModelFileName).string();
  if (!fs::exists(path)) throw file_error(path, 0, "no model here (expected a directory holding " + std::string(kModelFileName) + ")");
  SafeTensorsFile file = parse_safetensors(read_file(path), path);
  auto meta = [&](const std::string& key) -> const std::string& { return melodist_metadata(file, path, "model", key); };
  check_melodist_format(file, path, "model", kModelFormat, kModelFormatVersion);
  ModelFile loaded;
  Model& m = loaded.model;
  try {
    m.config = model_config_from_json(nlohmann::json::parse(meta("config")));
    m.vocabulary = nlohmann::json::parse(meta("vocabulary")).get<std::vector<std::string>>();
    loaded.metadata = nlohmann::json::parse(meta("metadata"));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, 0, std::string("malformed model metadata: ") + e.what());
  }
  if (m.config.vocab_size <= 0 || m.config.vocab_size > 100000 || m.config.hidden_size <= 0 || m.config.hidden_size > 65536 ||
      m.config.num_layers <= 0 || m.config.num_layers > 64 || static_cast<int>(m.vocabulary.size()) != m.config.vocab_size)
    throw file_error(path, 0, "model configuration is inconsistent (vocabulary, hidden size or layers)");
  auto layout = parameter_layout(m.config);
  if (layout.size() != file.tensors.size()) throw file_error(path, 0, "model holds " + std::to_string(file.tensors.size()) +
                                                                         " tensors, its configuration needs " + std::to_string(layout.size()));
  m.params.assign(parameter_count(m.config), 0.0f);
  for (const auto& t : layout) {
    const SafeTensor* found = nullptr;
    for (const auto& s : file.tensors)
      if (s.name == t.name) found = &s;
    if (!found) throw file_error(path, 0, "model has no tensor " + t.name);
    if (found->shape != t.shape) throw file_error(path, 0, "tensor " + t.name + " has the wrong shape");
    std::copy(found->data.begin(), found->data.end(), m.params.begin() + t.offset);
  }
  return loaded;
}

Model load_model(const std::string& dir_or_file) { return load_model_file(dir_or_file).model; }

EncodeOptions model_encode_options(const ModelFile& file) {
  EncodeOptions o;
  o.durations = reference_durations();
  auto it = file.metadata.find("preprocessing");
  if (it == file.metadata.end() || !it->is_object()) return o;
  const auto& p = *it;
  try {
    if (p.contains("step")) o.step = parse_rational(p["step"].get<std::string>());
    if (p.contains("durations")) o.durations = parse_durations_option(p["durations"].get<std::string>());
    if (p.contains("transpose")) o.transpose = p["transpose"].get<std::string>() == "none" ? TransposeMode::none : TransposeMode::reference;
    if (p.contains("ties")) o.ties = p["ties"].get<std::string>() == "merge" ? TieMode::merge : TieMode::reattack;
    if (p.contains("key_symbol")) o.key_symbol = p["key_symbol"].get<bool>();
    if (p.contains("meter_symbol")) o.meter_symbol = p["meter_symbol"].get<bool>();
    if (p.contains("barlines")) o.barlines = p["barlines"].get<bool>();
    if (p.contains("countdown_bars")) o.countdown_bars = p["countdown_bars"].get<int>();
    if (p.contains("triplets")) o.triplets = p["triplets"].get<bool>();
    if (p.contains("final_mark")) o.final_mark = p["final_mark"].get<bool>();
    if (p.contains("countdown_key")) o.countdown_key = p["countdown_key"].get<bool>();
    if (p.contains("pitch_only")) o.pitch_only = p["pitch_only"].get<bool>();
    if (p.contains("per_note")) o.per_note = p["per_note"].get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("the model's preprocessing options are malformed: ") + e.what());
  }
  return o;
}

namespace {

// The file this code was loaded from: libmelodist.so when linked shared, else the executable.
std::filesystem::path module_file() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&bundled_model_dir), &info) && info.dli_fname && std::strchr(info.dli_fname, '/'))
    return std::filesystem::weakly_canonical(info.dli_fname);
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec);
}

bool inside(const std::filesystem::path& file, const std::filesystem::path& dir) {
  const std::string f = file.string(), d = dir.string() + "/";
  return f.compare(0, d.size(), d) == 0;
}

}  // namespace

std::string bundled_model_dir(const std::string& name) {
  namespace fs = std::filesystem;
  // MELODIST_MODEL names the default model's folder itself and is used as given (the caller reports a
  // missing one).
  if (const char* env = std::getenv("MELODIST_MODEL"); env && name == kBundledModelName) return env;
  std::vector<fs::path> candidates;
  // MELODIST_MODEL_PATH: ':'-separated folders holding model folders, searched first.
  if (const char* env = std::getenv("MELODIST_MODEL_PATH")) {
    std::string list = env;
    for (size_t begin = 0; begin <= list.size();) {
      size_t end = list.find(':', begin);
      if (end == std::string::npos) end = list.size();
      if (end > begin) candidates.push_back(fs::path(list.substr(begin, end - begin)) / name);
      begin = end + 1;
    }
  }
  // Installed: PREFIX/share/melodist/models, relative to the library (or the executable it is linked into)
  // and to the running executable; the relative paths come from the install layout (GNUInstallDirs).
  const fs::path module = module_file();
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!module.empty()) {
    candidates.push_back(module.parent_path() / MELODIST_MODELS_FROM_LIBDIR / name);
    candidates.push_back(module.parent_path() / MELODIST_MODELS_FROM_BINDIR / name);
  }
  if (!exe.empty() && exe != module) candidates.push_back(exe.parent_path() / MELODIST_MODELS_FROM_BINDIR / name);
  // Uninstalled: the models/ folder of the source tree, only for code running from its build tree.
  if (inside(module, MELODIST_BUILD_DIR) || inside(exe, MELODIST_BUILD_DIR))
    candidates.push_back(fs::path(MELODIST_SOURCE_DIR) / "models" / name);
  std::string searched;
  std::vector<std::string> seen;
  for (const fs::path& c : candidates) {
    const std::string dir = c.lexically_normal().string();
    if (fs::is_regular_file(c / kModelFileName, ec)) return dir;
    if (std::find(seen.begin(), seen.end(), dir) != seen.end()) continue;
    seen.push_back(dir);
    searched += (searched.empty() ? "" : ", ") + dir;
  }
  throw Error("the bundled model " + name + " is not installed (searched " + (searched.empty() ? "nothing" : searched) +
              "); give --model MODEL_DIR or add its parent folder to MELODIST_MODEL_PATH");
}

std::string resolve_model_dir(const std::string& arg) {
  if (arg.empty()) return bundled_model_dir();
  std::error_code ec;
  if (arg.find('/') == std::string::npos && !std::filesystem::exists(arg, ec)) return bundled_model_dir(arg);
  return arg;
}

}  // namespace melodist
