#pragma once
// A training dataset as `melodist preprocess` writes it: songs.txt (one song per line, symbols separated
// by spaces), mapping.json (symbol -> id), manifest.json (options, optional), file_dataset (the songs
// joined by the delimiter; not needed for training, which re-joins the training songs itself).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace melodist {

struct TrainingData {
  std::string dir;
  std::vector<std::string> vocabulary;    // (V) id -> symbol, the inverse of mapping.json
  std::vector<std::vector<int>> songs;    // songs.txt, as ids
  nlohmann::json preprocessing;           // manifest.json "options" (null when there is no manifest)
  int delimiter_length = 64;              // from the manifest when present
};

// Throws melodist::Error naming the file for a missing folder/file, an empty songs.txt, a mapping.json
// that is not an object of distinct ids 0..V-1, a symbol of songs.txt missing from mapping.json (with
// its line), or a mapping without the "/" delimiter.
TrainingData load_training_data(const std::string& dir);

// Validation songs: every `every`-th song (1-based index % every == 0), never trained on.
void split_validation(size_t song_count, int every, std::vector<size_t>& train, std::vector<size_t>& validation);

}  // namespace melodist
