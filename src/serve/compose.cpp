#include "serve/compose.h"

#include <cctype>
#include <algorithm>
#include <filesystem>
#include <regex>

#include "api/impl.h"
#include "formats/key_symbol.h"
#include "formats/meter_symbol.h"
#include "formats/model_file.h"
#include "formats/song_writer.h"
#include "formats/text_encoding.h"
#include "nn/model.h"
#include "util/error.h"

namespace melodist::serve {

using nlohmann::json;

namespace {

// "data/essen/deutschl/erk" -> "deutschl/erk": the corpus as its last two folders.
std::string corpus_name(const json& preprocessing) {
  std::string out;
  if (!preprocessing.is_object() || !preprocessing.contains("inputs") || !preprocessing["inputs"].is_array()) return "unknown";
  for (const json& input : preprocessing["inputs"]) {
    if (!input.is_string()) continue;
    const std::filesystem::path p = std::filesystem::path(input.get<std::string>()).lexically_normal();
    const std::string tail = p.parent_path().filename().string() + "/" + p.filename().string();
    out += (out.empty() ? "" : ", ") + tail;
  }
  return out.empty() ? "unknown" : out;
}

json model_summary(const std::string& name, const ModelFile& file, const api::Model& model) {
  const api::ModelInfo info = model.info();
  const json& meta = file.metadata;  // training metadata (corpus, figures): not in the public API
  json s = {{"name", name}, {"vocabulary", info.vocabulary_size}, {"hidden", info.hidden_size}, {"layers", info.layers},
            {"step", info.step}, {"corpus", corpus_name(meta.value("preprocessing", json::object()))}};
  const json metrics = meta.value("metrics", json::object());
  for (const char* k : {"epoch", "val_loss", "val_accuracy", "val_perplexity"})
    if (metrics.contains(k)) s[k] = metrics[k];
  // `train --about corpus=... --about licence=...`: the model's own words win over the input folders.
  const json about = meta.value("about", json::object());
  if (about.is_object() && !about.empty()) {
    s["about"] = about;
    if (about.contains("corpus") && about["corpus"].is_string()) s["corpus"] = about["corpus"];
  }
  const json training = meta.value("training", json::object());
  if (training.contains("train_songs")) s["train_songs"] = training["train_songs"];
  s["has_barlines"] = std::find(info.vocabulary.begin(), info.vocabulary.end(), kBarSymbol) != info.vocabulary.end();
  return s;
}

[[noreturn]] void bad(const std::string& field, const std::string& message) { throw ApiError(400, field, field + ": " + message); }

int int_field(const json& body, const char* field, int def, int lo, int hi) {
  if (!body.contains(field)) return def;
  const json& v = body[field];
  if (!v.is_number_integer()) bad(field, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  const int64_t x = v.get<int64_t>();
  const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(hi) && (lo <= 0 || v.get<uint64_t>() >= uint64_t(lo))
                                              : x >= lo && x <= hi;
  if (!in_range)
    bad(field, "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(x);
}

double number_field(const json& body, const char* field, double def, double lo, double hi, bool lo_open) {
  if (!body.contains(field)) return def;
  const json& v = body[field];
  const std::string range = std::string(lo_open ? "(" : "[") + std::to_string(lo).substr(0, 3) + ", " + std::to_string(hi).substr(0, 3) + "]";
  if (!v.is_number()) bad(field, "must be a number in " + range);
  const double x = v.get<double>();
  if (!(lo_open ? x > lo : x >= lo) || !(x <= hi)) bad(field, "must be in " + range);
  return x;
}

std::string string_field(const json& body, const char* field, size_t max_length) {
  if (!body.contains(field)) return {};
  if (!body[field].is_string()) bad(field, "must be a string");
  std::string s = body[field].get<std::string>();
  if (s.size() > max_length) bad(field, "is longer than " + std::to_string(max_length) + " characters");
  return s;
}

const ServedModel& choose_model(const json& body, const std::vector<ServedModel>& models) {
  if (!body.contains("model")) return models.front();
  const std::string name = string_field(body, "model", 200);
  // A model is chosen by its served name only: nothing a client sends is ever opened as a path.
  if (name.find_first_of("/\\") != std::string::npos || name == "." || name == ".." || name.find('\0') != std::string::npos)
    bad("model", "a model is chosen by its served name, not a path");
  std::string served;
  for (const ServedModel& m : models) {
    if (m.name == name) return m;
    served += (served.empty() ? "" : ", ") + m.name;
  }
  bad("model", "\"" + name + "\" is not served here (served: " + served + ")");
}

api::Meter parse_meter(const std::string& text) {
  int n = 0, d = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &n, &slash, &d, &extra) != 3 || slash != '/' || n < 1 || n > 16 ||
      (d != 1 && d != 2 && d != 4 && d != 8 && d != 16))
    bad("meter", "\"" + text.substr(0, 20) + "\" is not N/D with N 1..16 and D 1, 2, 4, 8 or 16 (e.g. \"6/8\")");
  return {n, d};
}

// The library's messages start with the option they blame ("bars ...", "--end-on ...", "--top-p ...").
std::string field_of_library_error(const std::string& message) {
  std::string head = message.substr(message.rfind("--", 0) == 0 ? 2 : 0);
  head = head.substr(0, head.find_first_of(" :\""));
  std::replace(head.begin(), head.end(), '-', '_');
  for (const char* f : {"key", "meter", "bars", "pickup", "end_on", "temperature", "cadence_temperature", "cadence_bars", "rhythm_temperature", "top_p", "primer", "steps"})
    if (head == f) return f;
  return "";
}

}  // namespace

std::vector<ServedModel> load_served_models(const std::vector<std::string>& dirs) {
  std::vector<ServedModel> out;
  for (const std::string& dir : dirs) {
    std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    const std::string name = p.filename().string();
    for (const ServedModel& m : out)
      if (m.name == name) throw Error("--model " + dir + ": a model named \"" + name + "\" is already served; rename one folder");
    api::Model model = api::Model::load(dir);
    const ModelFile file = load_model_file(dir);
    json summary = model_summary(name, file, model);
    out.push_back({name, std::move(model), model_encode_options(file), std::move(summary)});
  }
  return out;
}

ComposeRequest parse_compose(const json& body, const std::vector<ServedModel>& models) {
  if (!body.is_object()) throw ApiError(400, "", "the request body must be a JSON object");
  static const std::vector<std::string> kFields = {"model", "key", "meter", "bars", "pickup", "end_on", "steps", "temperature",
                                                   "cadence_temperature", "cadence_bars", "rhythm_temperature", "top_p", "seed", "primer",
                                                   "variations", "candidates"};
  for (const auto& [k, v] : body.items())
    if (std::find(kFields.begin(), kFields.end(), k) == kFields.end()) {
      std::string list;  // the fields in this order, one list for the check and the message
      for (const std::string& f : kFields) list += (list.empty() ? "" : ", ") + f;
      bad(k.substr(0, 40), "is not a compose field (" + list + ")");
    }
  ComposeRequest r;
  r.model = &choose_model(body, models);
  r.key = string_field(body, "key", 20);
  if (!r.key.empty() && !parse_key_name(r.key)) bad("key", "\"" + r.key + "\" is not a key such as \"D major\", \"e minor\" or \"Bb major\"");
  if (body.contains("meter")) r.meter = parse_meter(string_field(body, "meter", 20));
  r.bars = int_field(body, "bars", r.bars, 0, kMaxBars);
  r.pickup = string_field(body, "pickup", 10);
  static const std::regex kFraction(R"(\d{1,3}(/\d{1,3})?|\d{0,3}\.\d{1,6})");
  if (!r.pickup.empty() && !std::regex_match(r.pickup, kFraction)) bad("pickup", "must be a fraction of a whole note such as \"1/8\" or \"0.25\"");
  if (!r.pickup.empty() && r.bars == 0) bad("pickup", "needs bars");
  r.end_on = string_field(body, "end_on", 10);
  if (!r.end_on.empty() && r.end_on != "tonic" && r.end_on != "triad") bad("end_on", "must be \"tonic\" or \"triad\"");
  // Exactly `bars` bars need room: without an explicit `steps`, the bound is then the most allowed.
  r.steps = int_field(body, "steps", r.bars > 0 ? kMaxSteps : r.steps, 1, kMaxSteps);
  r.temperature = number_field(body, "temperature", r.temperature, 0, kMaxTemperature, false);
  r.cadence_temperature = number_field(body, "cadence_temperature", r.cadence_temperature, 0, kMaxTemperature, false);
  r.cadence_bars = int_field(body, "cadence_bars", r.cadence_bars, 1, kMaxBars);
  r.rhythm_temperature = number_field(body, "rhythm_temperature", r.rhythm_temperature, 0, kMaxTemperature, false);
  r.top_p = number_field(body, "top_p", r.top_p, 0, 1, true);
  r.variations = int_field(body, "variations", r.variations, 1, kMaxVariations);
  r.candidates = int_field(body, "candidates", r.candidates, 1, kMaxCandidates);
  if (body.contains("seed")) {
    const json& s = body["seed"];
    if (!s.is_number_integer() || (s.is_number_integer() && !s.is_number_unsigned() && s.get<int64_t>() < 0))
      bad("seed", "must be a whole number from 0 to 18446744073709551615");
    r.seed = s.get<uint64_t>();
  }
  const std::string primer = string_field(body, "primer", 8 * kMaxPrimerSymbols);
  r.primer = split_symbols(primer);
  if (r.primer.size() > size_t(kMaxPrimerSymbols)) bad("primer", "has more than " + std::to_string(kMaxPrimerSymbols) + " symbols");
  const std::vector<std::string> vocabulary = r.model->model.info().vocabulary;
  for (const std::string& s : r.primer)
    if (s == kDelimiterSymbol || std::find(vocabulary.begin(), vocabulary.end(), s) == vocabulary.end())
      bad("primer", "symbol \"" + s.substr(0, 20) + "\" is not in model " + r.model->name + "'s vocabulary");
  return r;
}

// The request as composed; cadence_temperature and rhythm_temperature only when given (every echoed field is one
// parse_compose accepts).
json request_json(const ComposeRequest& r) {
  json j = {{"model", r.model->name}, {"key", r.key}, {"meter", std::to_string(r.meter.numerator) + "/" + std::to_string(r.meter.denominator)},
          {"bars", r.bars}, {"pickup", r.pickup}, {"end_on", r.end_on}, {"steps", r.steps}, {"temperature", r.temperature},
          {"cadence_bars", r.cadence_bars}, {"top_p", r.top_p}, {"seed", r.seed},
          {"primer", join_symbols(r.primer)}, {"variations", r.variations}, {"candidates", r.candidates}, {"step", r.model->model.info().step}};
  if (r.cadence_temperature >= 0) j["cadence_temperature"] = r.cadence_temperature;
  if (r.rhythm_temperature >= 0) j["rhythm_temperature"] = r.rhythm_temperature;
  return j;
}

api::GenerationOptions generation_options(const ComposeRequest& r) {
  api::GenerationOptions o;
  o.count = r.variations;
  o.candidates = r.candidates;
  o.max_steps = r.steps;
  o.temperature = r.temperature;
  o.cadence_temperature = r.cadence_temperature;
  o.cadence_bars = r.cadence_bars;
  o.rhythm_temperature = r.rhythm_temperature;
  o.top_p = r.top_p;
  o.seed = r.seed;
  o.primer = r.primer;
  // The library's controls (constrained decoding, src/generate/constraints.h; the library decides what a
  // model can honour). The page's meter primes a model that has meter symbols; for one without, it is
  // the written meter and the bar length of `bars`. What a model cannot honour (a meter its meter symbols
  // never saw, a key for a model of written pitches without key symbols, end_on without key symbols) is
  // the library's Error, which compose() turns into a 400 naming the field.
  o.key = r.key;
  const api::ModelInfo info = r.model->model.info();
  const bool meter_symbols =
      std::any_of(info.vocabulary.begin(), info.vocabulary.end(), [](const std::string& v) { return parse_meter_symbol(v).has_value(); });
  (meter_symbols ? o.meter : o.time_signature) = r.meter;
  o.bars = r.bars;
  o.pickup = r.pickup;
  o.end_on = r.end_on;
  return o;
}

std::vector<api::Melody> compose(const ComposeRequest& r) {
  try {
    return r.model->model.generate(generation_options(r));
  } catch (const Error& e) {
    throw ApiError(400, field_of_library_error(e.what()), e.what());
  }
}

namespace {

struct StoredRequest {
  api::Meter meter{4, 4};
  std::optional<Key> key;
  double step = 0.25;
};

StoredRequest stored_request(const TuneRecord& t) {
  StoredRequest s;
  const json p = json::parse(t.params, nullptr, false);
  if (p.is_discarded() || !p.is_object()) return s;
  if (p.contains("meter") && p["meter"].is_string()) {
    try { s.meter = parse_meter(p["meter"].get<std::string>()); } catch (const ApiError&) {}
  }
  if (p.contains("key") && p["key"].is_string()) s.key = parse_key_name(p["key"].get<std::string>());
  if (p.contains("step") && p["step"].is_number()) s.step = p["step"].get<double>();
  return s;
}

api::Melody stored_melody(const TuneRecord& t, double step) { return api::Melody::from_symbols(split_symbols(t.symbols), step); }

}  // namespace

std::vector<std::string> download_formats() { return {"mid", "abc", "musicxml", "krn", "wav", "txt"}; }

Download render_tune(const TuneRecord& t, const std::string& format, double bpm, const std::vector<ServedModel>&) {
  static const std::vector<std::pair<std::string, std::string>> kMime = {
      {"mid", "audio/midi"}, {"abc", "text/vnd.abc; charset=utf-8"}, {"musicxml", "application/vnd.recordare.musicxml+xml"},
      {"krn", "text/x-kern; charset=utf-8"}, {"wav", "audio/wav"}, {"txt", "text/plain; charset=utf-8"}};
  std::string mime;
  for (const auto& [f, m] : kMime)
    if (f == format) mime = m;
  if (mime.empty()) throw ApiError(400, "format", "format: \"" + format.substr(0, 20) + "\" is not one of mid, abc, musicxml, krn, wav, txt");
  if (!(bpm > 0 && bpm <= 400)) throw ApiError(400, "bpm", "bpm: must be in (0, 400]");
  const StoredRequest s = stored_request(t);
  const api::Melody melody = stored_melody(t, s.step);
  Download d{{}, mime, "melodist-" + std::to_string(t.id) + "." + format};
  if (format == "txt") {
    d.bytes = t.symbols + "\n";
    return d;
  }
  Melody events = melody.impl().events;
  events.time_signature = TimeSignature{s.meter.numerator, s.meter.denominator};
  SongWriteOptions options;
  options.notation.bpm = bpm;
  options.notation.key = s.key;
  options.title = t.model + " #" + std::to_string(t.id);
  try {
    d.bytes = song_bytes("tune." + format, events, options);
  } catch (const Error& e) {
    throw ApiError(500, "", std::string("writing ") + format + ": " + e.what());
  }
  return d;
}

json tune_json(const TuneRecord& t, const std::vector<ServedModel>& models) {
  const StoredRequest s = stored_request(t);
  const api::Melody melody = stored_melody(t, s.step);
  json notes = json::array();
  for (const api::Note& n : melody.notes()) notes.push_back({n.pitch, n.onset, n.duration});
  json request = json::parse(t.params, nullptr, false);
  if (request.is_discarded()) request = json::object();
  return {{"id", t.id},
          {"created", t.created},
          {"model", t.model},
          {"request", request},
          {"variation", t.variation},
          {"symbols", t.symbols},
          {"log_likelihood", t.log_likelihood},
          {"starred", t.starred},
          {"length_quarters", melody.length()},
          {"notes", notes},
          {"abc", render_tune(t, "abc", 120, models).bytes},
          {"permalink", "/tune/" + std::to_string(t.id)}};
}

}  // namespace melodist::serve
