#include "train/dataset.h"

#include <filesystem>
#include <map>

#include "formats/dataset_folder.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace melodist {

TrainingData load_training_data(const std::string& dir) {
  namespace fs = std::filesystem;
  // One set of files, checked against the manifest's hashes (formats/dataset_folder.h).
  const DatasetFolderSnapshot files = read_dataset_folder(dir);
  if (!files.is_folder) throw file_error(dir, 0, "no dataset here (expected a folder written by `melodist preprocess`)");
  TrainingData d;
  d.dir = dir;
  const std::string mapping_path = (fs::path(dir) / kMappingFileName).string();
  const std::string songs_path = (fs::path(dir) / kSongsFileName).string();
  if (!files.mapping) throw file_error(mapping_path, 0, "missing: the dataset has no vocabulary (run `melodist preprocess`)");
  if (!files.songs) throw file_error(songs_path, 0, "missing: the dataset has no songs (run `melodist preprocess`)");

  std::map<std::string, int> mapping;
  try {
    auto j = nlohmann::json::parse(*files.mapping);
    if (!j.is_object() || j.empty()) throw file_error(mapping_path, 0, "expected a non-empty JSON object from symbol to id");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.value().is_number_integer()) throw file_error(mapping_path, 0, "the id of symbol \"" + it.key() + "\" is not an integer");
      // Range-checked as a 64-bit value first: get<int>() would truncate 2^32 to 0.
      const long long id = it.value().is_number_unsigned() && it.value().get<unsigned long long>() > (1ull << 62)
                               ? -1 : it.value().get<long long>();
      if (id < 0 || id >= static_cast<long long>(j.size()))
        throw file_error(mapping_path, 0, "ids must be distinct and run from 0 to " + std::to_string(j.size() - 1) + " (symbol \"" +
                                              it.key() + "\" has " + it.value().dump() + ")");
      mapping[it.key()] = static_cast<int>(id);
    }
  } catch (const nlohmann::json::exception& e) {
    throw file_error(mapping_path, 0, std::string("not valid JSON: ") + e.what());
  }
  d.vocabulary.assign(mapping.size(), "");
  for (const auto& [symbol, id] : mapping) {
    if (id < 0 || id >= static_cast<int>(mapping.size()) || !d.vocabulary[id].empty())
      throw file_error(mapping_path, 0, "ids must be distinct and run from 0 to " + std::to_string(mapping.size() - 1) +
                                            " (symbol \"" + symbol + "\" has " + std::to_string(id) + ")");
    d.vocabulary[id] = symbol;
  }
  if (!mapping.count(kDelimiterSymbol)) throw file_error(mapping_path, 0, "the vocabulary has no \"/\" delimiter symbol");

  const std::string& text = *files.songs;
  size_t line_start = 0;
  int line = 0;
  while (line_start < text.size()) {
    size_t end = text.find('\n', line_start);
    if (end == std::string::npos) end = text.size();
    ++line;
    auto symbols = split_symbols(std::string_view(text).substr(line_start, end - line_start));
    line_start = end + 1;
    if (symbols.empty()) continue;
    std::vector<int> ids;
    ids.reserve(symbols.size());
    for (const auto& s : symbols) {
      auto it = mapping.find(s);
      if (it == mapping.end())
        throw file_error(songs_path, line, "symbol \"" + s + "\" is not in " + mapping_path + " (the mapping does not match the songs)");
      ids.push_back(it->second);
    }
    d.songs.push_back(std::move(ids));
  }
  if (d.songs.empty()) throw file_error(songs_path, 0, "the dataset holds no songs");

  const std::string manifest_path = (fs::path(dir) / kManifestFileName).string();
  if (files.manifest) {
    try {
      auto m = nlohmann::json::parse(*files.manifest);
      if (m.contains("options")) {
        d.preprocessing = m["options"];
        if (d.preprocessing.contains("delimiter_length")) d.delimiter_length = d.preprocessing["delimiter_length"].get<int>();
      }
    } catch (const nlohmann::json::exception& e) {
      throw file_error(manifest_path, 0, std::string("not valid JSON: ") + e.what());
    }
    if (d.delimiter_length < 1 || d.delimiter_length > 100000)
      throw file_error(manifest_path, 0, "delimiter_length " + std::to_string(d.delimiter_length) + " is out of range");
  }
  return d;
}

void split_validation(size_t song_count, int every, std::vector<size_t>& train, std::vector<size_t>& validation) {
  train.clear();
  validation.clear();
  for (size_t i = 0; i < song_count; ++i) ((i + 1) % static_cast<size_t>(every) == 0 ? validation : train).push_back(i);
}

}  // namespace melodist
