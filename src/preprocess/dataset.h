#pragma once
// THE reader of a dataset folder that `melodist preprocess` writes (songs.txt: one song per line, symbols
// separated by spaces; mapping.json; manifest.json with the options; file_dataset, which training does not
// need: it re-joins the training songs itself), and THE split rule that says which of its songs a model
// trained on, validated on, or held out. Training records the rule in the model (metadata "validation");
// evaluate reads it back through SplitRule::of_model.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/model_file.h"
#include "util/rational.h"

namespace melodist {

// A dataset folder, read whole from one set of files (formats/dataset_folder.h: checked against the
// manifest's content hashes), as symbols.
struct DatasetSongs {
  std::string dir;
  std::vector<std::vector<std::string>> songs;  // songs.txt, in order; empty lines are skipped
  std::vector<int> lines;                       // 1-based line of each song in songs.txt
  Rational step{1, 4};                          // manifest.json options.step when present
  nlohmann::json options;                       // manifest.json "options" (null without a manifest)
  int delimiter_length = 64;                    // manifest.json options.delimiter_length when present
  std::optional<std::string> mapping;           // mapping.json's bytes, read with songs.txt as one set
};

// Throws melodist::Error naming DIR or DIR/songs.txt when missing or holding no song, DIR/manifest.json
// when it is not JSON or its delimiter_length is out of range, or the file that does not match the
// manifest's content hashes.
DatasetSongs read_dataset_songs(const std::string& dir);

// The vocabulary (id -> symbol) of the mapping.json read with `data`'s songs (formats/mapping_json.h).
std::vector<std::string> dataset_vocabulary(const DatasetSongs& data);

// The same folder as ids of its own vocabulary: what training reads.
struct TrainingData {
  std::string dir;
  std::vector<std::string> vocabulary;    // (V) id -> symbol, the inverse of mapping.json
  std::vector<std::vector<int>> songs;    // songs.txt, as ids
  nlohmann::json preprocessing;           // manifest.json "options" (null when there is no manifest)
  int delimiter_length = 64;              // from the manifest when present
};
// Throws as read_dataset_songs, and for a missing mapping.json or a symbol of songs.txt that it lacks
// (naming the line).
TrainingData load_training_data(const std::string& dir);

// Symbols -> ids of model.vocabulary; "/" symbols inside a line are refused. Throws melodist::Error
// "DIR/songs.txt:LINE: symbol "x" is not in the model's vocabulary (...)".
std::vector<int> song_ids(const Model& model, const std::vector<std::string>& symbols, const std::string& path, int line);

// Which songs (0-based indices into songs.txt) validate, train, or are held out.
//   every k:        the k-th, 2k-th, ... songs (1-based) validate, the others train (`train --val-every`);
//   crossval fold f of F (`crossval`): songs f-1, f-1+F, ... are held out; of the others, in order,
//                   every inner_every-th validates (the last of them when that picks none);
//   explicit:       the caller gave the songs (the library's in-memory training).
// Recorded in a model as metadata "validation": {"every": k, "delimiter_length": d},
// {"crossval": {"folds": F, "fold": f, "inner_every": e}} or {"songs": "explicit", "delimiter_length": d}.
struct SplitRule {
  int every = 0;                       // > 0: the every-k rule
  int folds = 0, fold = 0;             // > 0: a crossval fold (fold 1-based)
  int inner_every = 0;
  std::vector<size_t> validation(size_t song_count) const;
  std::vector<size_t> held_out(size_t song_count) const;  // crossval only; empty otherwise
  std::vector<size_t> training(size_t song_count) const;  // neither validation nor held out
  // The model's metadata "validation" for this rule (above).
  nlohmann::json record(int delimiter_length) const;
  // The model's record; nullopt when it has none (an imported or in-memory model). Throws melodist::Error
  // naming `where` for a malformed crossval record.
  static std::optional<SplitRule> of_model(const ModelFile& model, const std::string& where);
};

// The rules as free functions (the names the callers and tests use).
void split_validation(size_t song_count, int every, std::vector<size_t>& train, std::vector<size_t>& validation);
std::vector<size_t> validation_indices(size_t song_count, int every);  // every <= 0: none
std::vector<size_t> fold_indices(size_t n, int folds, int fold);
std::vector<size_t> inner_validation_indices(size_t n, int folds, int fold, int inner_every);

}  // namespace melodist
