#include "nn/model.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "formats/safetensors.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

std::string to_string(RecurrentActivation activation) {
  return activation == RecurrentActivation::sigmoid ? "sigmoid" : "hard_sigmoid";
}

RecurrentActivation parse_recurrent_activation(const std::string& text) {
  if (text == "sigmoid") return RecurrentActivation::sigmoid;
  if (text == "hard_sigmoid") return RecurrentActivation::hard_sigmoid;
  throw Error("unknown recurrent activation \"" + text + "\" (melodist supports sigmoid and hard_sigmoid)");
}

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

size_t TensorInfo::size() const {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

std::vector<TensorInfo> parameter_layout(const ModelConfig& c) {
  const size_t H = c.hidden_size, V = c.vocab_size;
  std::vector<TensorInfo> out;
  size_t offset = 0;
  auto add = [&](std::string name, std::vector<size_t> shape) {
    TensorInfo t{std::move(name), std::move(shape), offset};
    offset += t.size();
    out.push_back(std::move(t));
  };
  for (int l = 0; l < c.num_layers; ++l) {
    const size_t E = l == 0 ? V : H;
    std::string p = "lstm." + std::to_string(l) + ".";
    add(p + "w_x", {E, 4 * H});
    add(p + "w_h", {H, 4 * H});
    add(p + "b", {4 * H});
  }
  add("dense.w_y", {H, V});
  add("dense.b_y", {V});
  return out;
}

size_t parameter_count(const ModelConfig& c) {
  auto layout = parameter_layout(c);
  return layout.back().offset + layout.back().size();
}

int Model::symbol_id(const std::string& symbol) const {
  for (size_t i = 0; i < vocabulary.size(); ++i)
    if (vocabulary[i] == symbol) return static_cast<int>(i);
  return -1;
}

Model make_model(const ModelConfig& config, std::vector<std::string> vocabulary, uint64_t seed) {
  if (config.vocab_size != static_cast<int>(vocabulary.size())) throw Error("vocabulary size does not match the model configuration");
  if (config.hidden_size <= 0 || config.num_layers <= 0) throw Error("hidden size and layer count must be positive");
  Model m;
  m.config = config;
  m.vocabulary = std::move(vocabulary);
  m.params.assign(parameter_count(config), 0.0f);
  std::mt19937_64 rng(seed);
  for (const auto& t : parameter_layout(config)) {
    float* p = m.params.data() + t.offset;
    if (t.shape.size() == 2) {
      // Xavier (Glorot) uniform over the matrix as Keras initialises `kernel`.
      const double limit = std::sqrt(6.0 / static_cast<double>(t.shape[0] + t.shape[1]));
      std::uniform_real_distribution<double> u(-limit, limit);
      for (size_t i = 0; i < t.size(); ++i) p[i] = static_cast<float>(u(rng));
    } else if (t.name.ends_with(".b")) {
      const size_t H = config.hidden_size;
      for (size_t i = H; i < 2 * H; ++i) p[i] = 1.0f;  // forget gate (i, f, g, o order)
    }
  }
  return m;
}

void save_model(const Model& model, const std::string& dir) {
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
  file.metadata["metadata"] = model.metadata.dump();
  write_file_atomically((fs::path(dir) / kModelFileName).string(), serialize_safetensors(file));
  nlohmann::ordered_json mapping = nlohmann::ordered_json::object();
  for (size_t i = 0; i < model.vocabulary.size(); ++i) mapping[model.vocabulary[i]] = i;
  write_file_atomically((fs::path(dir) / "mapping.json").string(), mapping.dump(4) + "\n");
}

Model load_model(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  std::string path = dir_or_file;
  if (fs::is_directory(path)) path = (fs::path(path) / kModelFileName).string();
  if (!fs::exists(path)) throw file_error(path, 0, "no model here (expected a directory holding " + std::string(kModelFileName) + ")");
  SafeTensorsFile file = parse_safetensors(read_file(path), path);
  auto meta = [&](const std::string& key) -> const std::string& {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw file_error(path, 0, "not a melodist model (metadata has no \"" + key + "\")");
    return it->second;
  };
  if (meta("format") != kModelFormat) throw file_error(path, 0, "not a melodist model (format \"" + meta("format") + "\")");
  if (meta("format_version") != std::to_string(kModelFormatVersion))
    throw file_error(path, 0, "model format version " + meta("format_version") + " is not the version this melodist reads (" +
                                  std::to_string(kModelFormatVersion) + ")");
  Model m;
  try {
    m.config = model_config_from_json(nlohmann::json::parse(meta("config")));
    m.vocabulary = nlohmann::json::parse(meta("vocabulary")).get<std::vector<std::string>>();
    m.metadata = nlohmann::json::parse(meta("metadata"));
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
  return m;
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
