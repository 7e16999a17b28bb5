#pragma once
// melodist::api::Model: a trained melodist network (a model folder: model.safetensors + mapping.json)
// that composes and scores melodies.
//
//     auto model = melodist::api::Model::bundled();          // or Model::load("path/to/model")
//     melodist::api::GenerationOptions o;  o.key = "D major";  o.bars = 4;  o.seed = 7;
//     auto melodies = model.generate(o);                      // o.count melodies
//     melodies[0].write("tune.mid");
//
// A Model is immutable after loading; generate() and score() may run on several threads at once.
// Same options and seed -> the same melodies, byte for byte, as `melodist generate`.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "melodist/export.h"
#include "melodist/melody.h"

namespace melodist::api {

struct GenerationOptions {
  int count = 1;                    // melodies, composed as one batch (1..100000)
  int max_steps = 500;              // symbols to add at most (0..1,000,000)
  double temperature = 1.0;         // probabilities ^ (1/T), renormalised; 0 = greedy
  int top_k = 0;                    // sample among the K likeliest symbols; 0 = off
  double top_p = 1.0;               // nucleus sampling, (0, 1]
  // The cadence, as `generate --cadence-temperature --cadence-bars`: the melody's last cadence_bars bars
  // drawn at cadence_temperature (negative: temperature); needs a model with countdown barlines, or bars.
  double cadence_temperature = -1;
  int cadence_bars = 3;
  // The rhythm, as `generate --rhythm-temperature`: each step's choice between holding the note and
  // something new at this temperature (1: the model's own rhythm; temperature then tempers only what
  // comes); negative: temperature for both.
  double rhythm_temperature = -1;
  int beam_size = 1;                // 1 = plain sampling
  int branch_factor = 1;            // continuations per beam and step
  uint64_t seed = 1;
  std::vector<std::string> primer;  // the start, as symbols (no "/"); empty = start a song
  std::string primer_file;          // or the start from a song file, encoded as training did
  // Musical controls (empty / 0 = off), as `melodist generate --key --meter --bars --pickup --end-on`.
  // The library decides what a model can honour, the same way for `generate`, this API and the server:
  // key ("D", "Em", "Bb", "D major", "e minor", kern "f#"): a model with key symbols is primed with it (a
  // model trained with --transpose reference in C / Am, its output then transposed); a model of songs
  // moved to C / Am without key symbols composes there and its result is transposed to the key's
  // signature, the nearer octave, the mode being the model's choice; a model of written pitches without
  // key symbols refuses it (Error: train one with `preprocess --key-symbol`).
  // meter: primes a model with meter symbols (one that has never seen it refuses); a model without meter
  // symbols refuses it (Error) and takes its written meter and bar length from time_signature instead.
  // time_signature: the written meter and the bar length of `bars` for a model without meter symbols
  // (as --time-signature); unset: meter, else 4/4.
  // bars: exactly that many whole bars after the pickup (constrained decoding; the log-likelihood is
  // then under the constrained distribution). pickup: "1/8" (of a whole note) before bar 1, with bars.
  // end_on: "tonic" or "triad": the last note is the key's tonic, or in its tonic triad (key symbols).
  std::string key;
  int bars = 0;
  std::optional<Meter> meter;
  std::optional<Meter> time_signature;
  std::string pickup;
  std::string end_on;
  // candidates: melodies drawn per output, one kept by importance resampling (`generate --candidates`);
  // 0: 16 with bars, else 1.
  int candidates = 0;
};

struct Score {
  std::vector<std::string> symbols;  // (S) the scored symbols (the melody's, then "/" when scored)
  std::vector<double> nats;          // (S) -ln p(symbol | everything before), natural log
  double total_nats = 0;
  double nats_per_step = 0;          // total / S: the validation loss
};

struct ModelInfo {
  int vocabulary_size = 0, hidden_size = 0, layers = 0;
  std::vector<std::string> vocabulary;  // id -> symbol
  double step = 0.25;                   // quarter notes per symbol
};

class MELODIST_API Model {
 public:
  // Throws melodist::Error naming the file for a missing, truncated or foreign model.
  static Model load(const std::string& dir_or_file);
  // A bundled model by name (default essen-german): searched in MELODIST_MODEL (the default's folder),
  // each folder of MELODIST_MODEL_PATH (':'-separated folders holding model folders), then
  // PREFIX/share/melodist/models next to the installed library or binary. The error lists every place
  // searched.
  static Model bundled(const std::string& name = "essen-german");
  static std::string bundled_path(const std::string& name = "essen-german");  // where bundled() loads from (throws like it)

  Model(const Model&);
  Model& operator=(const Model&);
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // Throws melodist::Error with the CLI's message for an option out of range, an unknown primer
  // symbol or an unknown key.
  std::vector<Melody> generate(const GenerationOptions& options = {}) const;
  // The log-likelihood of a melody, exactly as `melodist score --json` (and validation): from 64 "/"
  // start symbols; score_end adds the end of the song ("/"). A melody read from a file is encoded as
  // training did (its symbols() are not used). Throws for a symbol outside the vocabulary.
  Score score(const Melody& melody, bool score_end = true) const;
  ModelInfo info() const;

  struct Impl;
 private:
  explicit Model(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace melodist::api
