#pragma once
// What the public handles (include/melodist/) hold: the library's own types, kept out of the headers.
#include <optional>
#include <string>
#include <vector>

#include "melodist/melody.h"
#include "formats/text_encoding.h"
#include "melodist/model.h"
#include "music/melody.h"
#include "nn/model.h"
#include "util/rational.h"

namespace melodist::api {

struct Melody::Impl {
  melodist::Melody events;             // notes and rests with exact lengths
  std::vector<std::string> symbols;    // the text encoding on `step` (empty when it cannot hold the melody)
  Rational step{1, 4};
  std::optional<Meter> meter;
  std::string source_path;             // read from this file (score re-reads it as training encodes songs)
  double log_likelihood = 0;
  size_t generated_steps = 0;
  bool ended = false;
};

struct Model::Impl {
  melodist::Model model;
  EncodeOptions encoding;  // the model file's (formats/model_file.h model_encode_options)
  std::string path;
};

// 0.25 -> 1/4: the nearest fraction with a denominator up to 960 (a MIDI-friendly grid); throws
// melodist::Error naming `what` for a step that is not positive or not such a fraction.
Rational step_from_double(double step, const std::string& what);

// A composed or decoded melody: events decoded from the symbols (an empty song is one rest).
Melody melody_from_symbols(std::vector<std::string> symbols, Rational step);

}  // namespace melodist::api
