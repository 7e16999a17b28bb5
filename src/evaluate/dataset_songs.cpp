#include "evaluate/dataset_songs.h"

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/dataset_folder.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace melodist {

namespace {

// mapping.json's bytes (symbol -> id, ids 0..V-1 distinct) as id -> symbol.
std::vector<std::string> parse_vocabulary(const std::string& bytes, const std::string& path) {
  nlohmann::json mapping;
  try {
    mapping = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, 0, std::string("not valid JSON: ") + e.what());
  }
  if (!mapping.is_object() || mapping.empty()) throw file_error(path, 0, "not an object from symbol to id");
  std::vector<std::string> vocabulary(mapping.size());
  std::vector<bool> seen(mapping.size(), false);
  for (const auto& [symbol, id] : mapping.items()) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= static_cast<long long>(mapping.size()) ||
        seen[id.get<size_t>()])
      throw file_error(path, 0, "ids must be the distinct integers 0.." + std::to_string(mapping.size() - 1) +
                                    " (symbol \"" + symbol + "\")");
    seen[id.get<size_t>()] = true;
    vocabulary[id.get<size_t>()] = symbol;
  }
  return vocabulary;
}

}  // namespace

DatasetSongs read_dataset_songs(const std::string& dir) {
  namespace fs = std::filesystem;
  // One set of files, checked against the manifest's hashes (formats/dataset_folder.h).
  const DatasetFolderSnapshot files = read_dataset_folder(dir);
  if (!files.is_folder) throw file_error(dir, 0, "not a dataset directory (run `melodist preprocess` first)");
  const std::string songs_path = (fs::path(dir) / kSongsFileName).string();
  if (!files.songs) throw file_error(songs_path, 0, "missing (is this a dataset from `melodist preprocess`?)");
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
  if (data.songs.empty()) throw file_error(songs_path, 0, "holds no song");
  const std::string manifest_path = (fs::path(dir) / kManifestFileName).string();
  if (files.manifest) {
    nlohmann::json manifest;
    try {
      manifest = nlohmann::json::parse(*files.manifest);
    } catch (const nlohmann::json::exception& e) {
      throw file_error(manifest_path, 0, std::string("not valid JSON: ") + e.what());
    }
    const nlohmann::json* step = nullptr;
    if (manifest.contains("options") && manifest["options"].is_object() && manifest["options"].contains("step"))
      step = &manifest["options"]["step"];
    else if (manifest.contains("step"))
      step = &manifest["step"];
    if (step && step->is_string()) data.step = parse_rational(step->get<std::string>());
    else if (step && step->is_number()) data.step = parse_rational(step->dump());
    if (manifest.contains("options")) data.options = manifest["options"];
    if (data.options.is_object() && data.options.contains("delimiter_length") &&
        data.options["delimiter_length"].is_number_integer())
      data.delimiter_length = data.options["delimiter_length"].get<int>();
  }
  return data;
}

std::vector<std::string> dataset_vocabulary(const DatasetSongs& data) {
  const std::string path = (std::filesystem::path(data.dir) / kMappingFileName).string();
  if (!data.mapping) throw file_error(path, 0, "missing (is this a dataset from `melodist preprocess`?)");
  return parse_vocabulary(*data.mapping, path);
}

std::vector<std::string> read_dataset_vocabulary(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kMappingFileName).string();
  const DatasetFolderSnapshot files = read_dataset_folder(dir);
  if (!files.mapping) throw file_error(path, 0, "missing (is this a dataset from `melodist preprocess`?)");
  return parse_vocabulary(*files.mapping, path);
}

int validation_every(const Model& model) {
  const auto& m = model.metadata;
  if (m.is_object() && m.contains("validation") && m["validation"].is_object() && m["validation"].contains("every") &&
      m["validation"]["every"].is_number_integer())
    return m["validation"]["every"].get<int>();
  return 0;
}

std::vector<size_t> validation_indices(size_t song_count, int every) {
  std::vector<size_t> indices;
  if (every <= 0) return indices;
  for (size_t i = 1; i <= song_count; ++i)
    if (i % static_cast<size_t>(every) == 0) indices.push_back(i - 1);
  return indices;
}

std::vector<int> song_ids(const Model& model, const std::vector<std::string>& symbols, const std::string& path,
                          int line) {
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

}  // namespace melodist
