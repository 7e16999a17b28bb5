#pragma once
// `melodist preprocess`: song files -> an encoded dataset folder, faithful to the reference recipe.
//   songs.txt      one accepted song per line (symbols separated by one space), sorted by input path
//   mapping.json   symbol -> id (preprocess/vocabulary.h for the order)
//   file_dataset   every accepted song followed by `delimiter_length` "/" symbols, single spaces, no
//                  trailing space (the reference's create_single_file_dataset)
//   manifest.json  one entry per input file (accepted or rejected with the reason), totals, options,
//                  melodist version
// Files are read and encoded on `jobs` threads; the output does not depend on `jobs`.
#include <optional>
#include <string>
#include <vector>

#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "preprocess/vocabulary.h"

namespace melodist {

inline constexpr int kManifestFormatVersion = 1;

struct PreprocessOptions {
  EncodeOptions encode;                          // step, durations, transposition, ties
  SongReadOptions read;                          // passed to read_song_file (MIDI track/channel, grid)
  int delimiter_length = kDefaultDelimiterLength;
  int jobs = 0;                                  // threads; 0 = every hardware thread
  bool strict = false;                           // an unreadable or malformed file is fatal
  bool progress = true;                          // progress line on stderr
};

struct SongOutcome {
  std::string path;
  bool accepted = false;
  bool readable = false;                         // false: the reader failed (malformed file)
  bool malformed = false;                        // read, but the encoder found bad input (EncodedSong::malformed)
  std::string reason;                            // why rejected: the reader's error or the encoder's reason
  std::vector<std::string> warnings;             // what the reader read leniently (Melody::warnings)
  std::optional<Key> key;                        // absent when the file could not be read
  KeySource key_source = KeySource::designation;
  int transposition = 0;
  size_t steps = 0;                              // symbols in the encoding (accepted songs)
  int notes = 0;
  std::string text;                              // the encoding, symbols joined by single spaces
  SymbolSet symbols;
};

struct Dataset {
  std::vector<std::string> inputs;
  std::vector<SongOutcome> files;                // sorted by path
  std::vector<std::string> vocabulary;           // mapping.json order
  size_t accepted = 0, unreadable = 0, steps = 0;
  double seconds = 0;
};

// Reads and encodes every song file under `inputs`; whatever reading or encoding one file throws becomes
// that file's rejection reason. Throws melodist::Error for a missing input, no song file found, or
// (under `strict`) the first unreadable or malformed file in path order. Zero accepted songs is not an
// error here (run_preprocess makes it one).
Dataset build_dataset(const std::vector<std::string>& inputs, const PreprocessOptions& options);

// The output texts (exposed for tests and the benchmark).
std::string songs_text(const Dataset& dataset);
std::string file_dataset_text(const Dataset& dataset, int delimiter_length);
std::string manifest_json(const Dataset& dataset, const PreprocessOptions& options);

// Writes the four files into `out_dir` (created if needed), each atomically.
void write_dataset(const Dataset& dataset, const std::string& out_dir, const PreprocessOptions& options);

// The whole command: build, then write. With no accepted song it writes manifest.json only (so the
// reasons can be read) and throws melodist::Error.
Dataset run_preprocess(const std::vector<std::string>& inputs, const std::string& out_dir, const PreprocessOptions& options);

// "accepted 1683 of 1700 songs, 38 symbols, 254,530 steps"
std::string summary_line(const Dataset& dataset);

// "G major", "Bb major", "F# minor"
std::string key_display_name(const Key& key);

}  // namespace melodist
