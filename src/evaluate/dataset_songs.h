#pragma once
// Reading the songs of a dataset directory written by `melodist preprocess` (songs.txt: one song per
// line, symbols separated by spaces; mapping.json; manifest.json with the options used), and the
// validation rule that `melodist train` stores in a model (model.metadata["validation"]["every"] = k:
// the k-th, 2k-th, ... songs of songs.txt, 1-based, are validation songs).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/model.h"
#include "util/rational.h"

namespace melodist {

struct DatasetSongs {
  std::string dir;
  std::vector<std::vector<std::string>> songs;  // songs.txt, in order; empty lines are skipped
  std::vector<int> lines;                       // 1-based line of each song in songs.txt
  Rational step{1, 4};                          // manifest.json options.step when present
  nlohmann::json options;                       // manifest.json "options" (null without a manifest)
  int delimiter_length = 64;                    // manifest.json options.delimiter_length when present
  std::optional<std::string> mapping;           // mapping.json's bytes, read with songs.txt as one set
};

// DIR/mapping.json (symbol -> id, ids 0..V-1 distinct) as id -> symbol. Throws melodist::Error naming
// the file otherwise. (evaluate keeps its own reader: the name melodist::Dataset is taken twice.)
std::vector<std::string> read_dataset_vocabulary(const std::string& dir);
// The same for the mapping.json read with `data`'s songs (use this when both are needed: one set).
std::vector<std::string> dataset_vocabulary(const DatasetSongs& data);

// Throws melodist::Error naming DIR or DIR/songs.txt when missing or holding no song, DIR/mapping.json when
// present but malformed, or the file that does not match manifest.json's content hashes.
DatasetSongs read_dataset_songs(const std::string& dir);

// The validation rule of a model: metadata["validation"]["every"]; 0 when the model has none.
int validation_every(const Model& model);
// 0-based indices of the songs with 1-based index % every == 0.
std::vector<size_t> validation_indices(size_t song_count, int every);

// Symbols -> ids of model.vocabulary; "/" symbols inside a line are refused. Throws melodist::Error
// "DIR/songs.txt:LINE: symbol "x" is not in the model's vocabulary (...)".
std::vector<int> song_ids(const Model& model, const std::vector<std::string>& symbols, const std::string& path,
                          int line);

}  // namespace melodist
