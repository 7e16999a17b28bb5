#include "preprocess/dataset.h"

#include <filesystem>
#include <sstream>
#include <unordered_map>

#include "formats/dataset_folder.h"
#include "formats/mapping_json.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace melodist {

namespace fs = std::filesystem;

namespace {

std::string in_dir(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }

// manifest.json "options" (step, delimiter_length) into `data`.
void read_manifest_options(const std::string& bytes, const std::string& path, DatasetSongs& data) {
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, 0, std::string("not valid JSON: ") + e.what());
  }
  const nlohmann::json* step = nullptr;
  if (manifest.contains("options") && manifest["options"].is_object() && manifest["options"].contains("step"))
    step = &manifest["options"]["step"];
  else if (manifest.contains("step"))
    step = &manifest["step"];
  if (step && step->is_string()) data.step = parse_rational(step->get<std::string>());
  else if (step && step->is_number()) data.step = parse_rational(step->dump());
  if (manifest.contains("options")) data.options = manifest["options"];
  if (data.options.is_object() && data.options.contains("delimiter_length")) {
    const nlohmann::json& d = data.options["delimiter_length"];
    data.delimiter_length = d.is_number_integer() && d.get<long long>() >= 1 && d.get<long long>() <= 100000 ? d.get<int>() : -1;
    if (data.delimiter_length < 0) throw file_error(path, 0, "delimiter_length " + d.dump() + " is out of range (1 to 100000)");
  }
}

}  // namespace

DatasetSongs read_dataset_songs(const std::string& dir) {
  // One set of files, checked against the manifest's hashes (formats/dataset_folder.h).
  const DatasetFolderSnapshot files = read_dataset_folder(dir);
  if (!files.is_folder) throw file_error(dir, 0, "no dataset here (expected a folder written by `melodist preprocess`)");
  const std::string songs_path = in_dir(dir, kSongsFileName);
  if (!files.songs) throw file_error(songs_path, 0, "missing: the dataset has no songs (run `melodist preprocess`)");
  DatasetSongs data;
  data.dir = dir;
  data.mapping = files.mapping;
  std::istringstream in(*files.songs);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    auto symbols = split_symbols(line);
    if (symbols.empty()) continue;
    data.songs.push_back(std::move(symbols));
    data.lines.push_back(line_number);
  }
  if (data.songs.empty()) throw file_error(songs_path, 0, "the dataset holds no songs");
  if (files.manifest) read_manifest_options(*files.manifest, in_dir(dir, kManifestFileName), data);
  return data;
}

std::vector<std::string> dataset_vocabulary(const DatasetSongs& data) {
  const std::string path = in_dir(data.dir, kMappingFileName);
  if (!data.mapping) throw file_error(path, 0, "missing: the dataset has no vocabulary (run `melodist preprocess`)");
  return parse_mapping_json(*data.mapping, path);
}

TrainingData load_training_data(const std::string& dir) {
  const DatasetSongs text = read_dataset_songs(dir);
  TrainingData d;
  d.dir = dir;
  d.vocabulary = dataset_vocabulary(text);
  d.preprocessing = text.options;
  d.delimiter_length = text.delimiter_length;
  std::unordered_map<std::string, int> id;
  for (size_t i = 0; i < d.vocabulary.size(); ++i) id[d.vocabulary[i]] = static_cast<int>(i);
  const std::string songs_path = in_dir(dir, kSongsFileName), mapping_path = in_dir(dir, kMappingFileName);
  for (size_t k = 0; k < text.songs.size(); ++k) {
    std::vector<int> ids;
    ids.reserve(text.songs[k].size());
    for (const auto& s : text.songs[k]) {
      auto it = id.find(s);
      if (it == id.end())
        throw file_error(songs_path, text.lines[k], "symbol \"" + s + "\" is not in " + mapping_path + " (the mapping does not match the songs)");
      ids.push_back(it->second);
    }
    d.songs.push_back(std::move(ids));
  }
  return d;
}

std::vector<int> song_ids(const Model& model, const std::vector<std::string>& symbols, const std::string& path, int line) {
  std::vector<int> ids;
  ids.reserve(symbols.size());
  for (const auto& symbol : symbols) {
    if (symbol == kDelimiterSymbol) throw file_error(path, line, "a song line holds the delimiter \"/\"");
    int id = model.symbol_id(symbol);
    if (id < 0) {
      std::string vocab;
      for (size_t i = 0; i < model.vocabulary.size() && i < 60; ++i) vocab += (i ? " " : "") + model.vocabulary[i];
      throw file_error(path, line, "symbol \"" + symbol + "\" is not in the model's vocabulary (" + vocab + ")");
    }
    ids.push_back(id);
  }
  return ids;
}

std::vector<size_t> SplitRule::held_out(size_t n) const {
  std::vector<size_t> out;
  if (folds <= 0) return out;
  for (size_t i = static_cast<size_t>(fold - 1); i < n; i += static_cast<size_t>(folds)) out.push_back(i);
  return out;
}

std::vector<size_t> SplitRule::validation(size_t n) const {
  std::vector<size_t> out;
  if (folds > 0) {
    size_t remaining = 0, last = n;
    for (size_t i = 0; i < n; ++i) {
      if (i % static_cast<size_t>(folds) == static_cast<size_t>(fold - 1)) continue;  // held out
      ++remaining;
      last = i;
      if (remaining % static_cast<size_t>(inner_every) == 0) out.push_back(i);
    }
    if (out.empty() && last < n) out.push_back(last);
  } else if (every > 0) {
    for (size_t i = 1; i <= n; ++i)
      if (i % static_cast<size_t>(every) == 0) out.push_back(i - 1);
  }
  return out;
}

std::vector<size_t> SplitRule::training(size_t n) const {
  std::vector<char> taken(n, 0);
  for (size_t i : validation(n)) taken[i] = 1;
  for (size_t i : held_out(n)) taken[i] = 1;
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i)
    if (!taken[i]) out.push_back(i);
  return out;
}

nlohmann::json SplitRule::record(int delimiter_length) const {
  if (folds > 0) return {{"crossval", {{"folds", folds}, {"fold", fold}, {"inner_every", inner_every}}}};
  return {{"every", every}, {"delimiter_length", delimiter_length}};
}

std::optional<SplitRule> SplitRule::of_model(const ModelFile& model, const std::string& where) {
  const auto& m = model.metadata;
  if (!(m.is_object() && m.contains("validation") && m["validation"].is_object())) return std::nullopt;
  const auto& v = m["validation"];
  SplitRule r;
  if (v.contains("crossval")) {
    const auto& c = v["crossval"];
    auto field = [&](const char* key) {
      if (!c.is_object() || !c.contains(key) || !c[key].is_number_integer())
        throw Error(where + ": the crossval fold record lacks an integer \"" + key + "\"");
      return c[key].get<int>();
    };
    r.folds = field("folds"), r.fold = field("fold"), r.inner_every = field("inner_every");
    if (r.folds < 2 || r.fold < 1 || r.fold > r.folds || r.inner_every < 2)
      throw Error(where + ": invalid crossval fold " + std::to_string(r.fold) + " of " + std::to_string(r.folds));
    return r;
  }
  if (v.contains("every") && v["every"].is_number_integer() && v["every"].get<long long>() > 0 && v["every"].get<long long>() < (1 << 30)) {
    r.every = v["every"].get<int>();
    return r;
  }
  return std::nullopt;
}

void split_validation(size_t song_count, int every, std::vector<size_t>& train, std::vector<size_t>& validation) {
  const SplitRule rule{every};
  validation = rule.validation(song_count);
  train = rule.training(song_count);
}

std::vector<size_t> validation_indices(size_t song_count, int every) { return SplitRule{every}.validation(song_count); }

std::vector<size_t> fold_indices(size_t n, int folds, int fold) { return SplitRule{0, folds, fold, 1}.held_out(n); }

std::vector<size_t> inner_validation_indices(size_t n, int folds, int fold, int inner_every) {
  return SplitRule{0, folds, fold, inner_every}.validation(n);
}

}  // namespace melodist
