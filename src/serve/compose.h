#pragma once
// The JSON API's music: served models, compose requests (checked field by field), the mapping onto
// melodist::api::GenerationOptions, and the downloads in every format melodist writes.
// No HTTP here (serve/server.cpp); errors are ApiError with the HTTP status and the field they name.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/text_encoding.h"
#include "melodist/model.h"
#include "serve/history.h"

namespace melodist::serve {

// A refused request: {"error": message, "field": field} with this status.
struct ApiError : std::runtime_error {
  ApiError(int status, std::string field, const std::string& message)
      : std::runtime_error(message), status(status), field(std::move(field)) {}
  int status;
  std::string field;  // empty when no single field is at fault
};

struct ServedModel {
  std::string name;        // the folder's name: the only way a client chooses a model
  api::Model model;
  EncodeOptions encoding;  // the model file's (model_encode_options): uploaded songs are encoded with it
  nlohmann::json summary;  // {name, corpus, vocabulary, hidden, layers, step, epochs, val_loss, ...}
};
// Loads each model folder; names must be distinct (throws melodist::Error otherwise).
std::vector<ServedModel> load_served_models(const std::vector<std::string>& dirs);

// Bounds of a compose request (the 400s name the field).
inline constexpr int kMaxBars = 64, kMaxVariations = 8, kMaxSteps = 2048, kMaxPrimerSymbols = 1024, kMaxCandidates = 16;
inline constexpr double kMaxTemperature = 5.0;

struct ComposeRequest {
  const ServedModel* model = nullptr;
  std::string key;          // "" = the model's own key; else "D major", "e minor", "Bb major", "F# minor"
  api::Meter meter{4, 4};
  int bars = 16;            // exactly this many whole bars; 0 = until the model ends the song (at most `steps`)
  std::string pickup;       // "1/8" (of a whole note) before bar 1, with bars
  std::string end_on;       // "", "tonic" or "triad"
  int steps = 512;          // symbols at most (default with bars: kMaxSteps)
  double temperature = 1.0;
  double cadence_temperature = -1;  // < 0: temperature (generate --cadence-temperature)
  int cadence_bars = 3;
  double rhythm_temperature = -1;   // < 0: temperature (generate --rhythm-temperature)
  double top_p = 1.0;
  uint64_t seed = 1;
  std::vector<std::string> primer;
  int variations = 1;
  // Melodies drawn per variation, one kept by importance resampling (`generate --candidates`). 1 by
  // default, unlike the command's 16 with bars: one 16-bar melody stays within the page's 20 ms.
  int candidates = 1;
};

// Throws ApiError(400, field) for a missing, mistyped or out-of-range field, a model not served, or a
// primer symbol outside the model's vocabulary.
ComposeRequest parse_compose(const nlohmann::json& body, const std::vector<ServedModel>& models);
// The request as stored in the history (and given back by /api/tunes/ID): enough to compose it again.
nlohmann::json request_json(const ComposeRequest& r);
// key, meter, bars, pickup and end_on onto the library's options: the one place that decides which musical controls a
// model honours (a control it cannot honour is ApiError(400) naming the field).
api::GenerationOptions generation_options(const ComposeRequest& r);
// Composes the variations (the library's errors become ApiError(400)).
std::vector<api::Melody> compose(const ComposeRequest& r);

// One tune as the API shows it: id, model, request, symbols, notes, ABC, log-likelihood, starred.
nlohmann::json tune_json(const TuneRecord& t, const std::vector<ServedModel>& models);

struct Download {
  std::string bytes, mime, filename;
};
// format: mid, abc, musicxml, krn, wav, txt. bpm: (0, 400]. Throws ApiError(400, "format"/"bpm").
Download render_tune(const TuneRecord& t, const std::string& format, double bpm, const std::vector<ServedModel>& models);
std::vector<std::string> download_formats();

}  // namespace melodist::serve
