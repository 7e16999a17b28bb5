#pragma once
// `melodist preprocess`: song files -> an encoded dataset folder, faithful to the reference recipe.
//   songs.txt      one accepted song per line (symbols separated by one space), sorted by input path
//   mapping.json   symbol -> id (preprocess/vocabulary.h for the order)
//   file_dataset   every accepted song followed by `delimiter_length` "/" symbols, single spaces, no
//                  trailing space (the reference's create_single_file_dataset)
//   manifest.json  one entry per song (accepted or rejected with the reason): per file, or per tune of an
//                  ABC file ("tunes.abc#12"; a bad tune is rejected, the file's others still read), totals, options,
//                  melodist version, and "content": the SHA-256 of the other three files
//                  (formats/dataset_folder.h; readers refuse a songs.txt or mapping.json that differs)
// The folder is written whole (formats/dataset_folder.h): built beside the target and swapped in by one
// rename, under a lock on DIR.lock beside it (util/folder_lock.h), so a concurrent reader sees the old set
// or the new one, a second writer stops at once, and a failed run leaves the old dataset as it was.
// Files are read and encoded on `jobs` threads; the output does not depend on `jobs`.
// run_preprocess streams: the threads work at most a few hundred files ahead of the song written next,
// songs.txt, file_dataset and the manifest's entries are written into the temporary folder as the songs
// come, in path order, and only small per-song state is kept (the --exclude/--include names, the counts and
// the symbol set), so memory does not grow with the corpus. build_dataset holds every song (tests, tools).
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
  // Songs left out (`--exclude LIST`: held-out songs and their copies): listed in the manifest as
  // "excluded", never encoded into the dataset. Every listed name must be a song of the inputs.
  std::string exclude_list;                      // the list file ("" none)
  // Only the songs named in this list (`--include LIST`: a held-out set, "FILE.abc#X" for a tune); the
  // others are listed in the manifest as excluded. Every listed name must be a song of the inputs.
  std::string include_list;
};

struct SongOutcome {
  std::string path;                              // the song's name: "path", or "path#X" for a tune of an ABC file
  bool accepted = false;
  bool excluded = false;                         // named in --exclude, or not named in --include (not accepted)
  bool readable = false;                         // false: the reader failed (malformed file)
  bool malformed = false;                        // read, but the encoder found bad input (EncodedSong::malformed)
  std::string reason;                            // why rejected: the reader's error or the encoder's reason
  std::vector<std::string> warnings;             // what the reader read leniently (Melody::warnings)
  std::optional<Key> key;                        // absent when the file could not be read
  std::string key_mode;                          // ABC modes ("dorian"): Melody::key_mode
  std::optional<TimeSignature> meter;            // the song's first meter (Melody::time_signature), absent when none
  KeySource key_source = KeySource::designation;
  int transposition = 0;
  size_t steps = 0;                              // symbols in the encoding (accepted songs)
  int notes = 0;
  std::string text;                              // the encoding, symbols joined by single spaces
  SymbolSet symbols;
};

struct Dataset {
  std::vector<std::string> inputs;
  std::vector<SongOutcome> files;                // sorted by path, the tunes of an ABC file in file order
                                                 // (build_dataset; run_preprocess streams them and keeps none)
  std::vector<std::string> vocabulary;           // mapping.json order
  size_t songs = 0;                              // every song read, accepted or not (the manifest's entries)
  size_t accepted = 0, unreadable = 0, excluded = 0, steps = 0;
  double seconds = 0;
};

// Reads and encodes every song file under `inputs`; whatever reading or encoding one file throws becomes
// that file's rejection reason. Throws melodist::Error for a missing input, no song file found, or
// (under `strict`) the first unreadable or malformed file in path order, or an --exclude or --include name
// that is no song of the inputs (LIST:LINE). Zero accepted songs is not an
// error here (run_preprocess makes it one).
Dataset build_dataset(const std::vector<std::string>& inputs, const PreprocessOptions& options);

// The output texts (exposed for tests and the benchmark).
std::string songs_text(const Dataset& dataset);
std::string file_dataset_text(const Dataset& dataset, int delimiter_length);
std::string manifest_json(const Dataset& dataset, const PreprocessOptions& options);

// Makes the four files the whole content of `out_dir` (created if needed; refused when it holds other
// files), taking its lock for the write.
void write_dataset(const Dataset& dataset, const std::string& out_dir, const PreprocessOptions& options);

// The whole command: lock, then read, encode and write as the songs stream (the bytes are those of
// build_dataset then write_dataset). With no accepted song the old dataset at `out_dir` stays
// as it was: the manifest with every reason goes to OUT.rejected-manifest.json beside it (removed again
// by the next successful run), the first three reasons into the melodist::Error it throws.
Dataset run_preprocess(const std::vector<std::string>& inputs, const std::string& out_dir, const PreprocessOptions& options);

// "accepted 1683 of 1700 songs, 38 symbols, 254,530 steps" ("... songs (170 excluded), ..." with --exclude)
std::string summary_line(const Dataset& dataset);

// "G major", "Bb major", "F# minor"
std::string key_display_name(const Key& key);

}  // namespace melodist
