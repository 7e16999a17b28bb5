// Generation (see generator.h): start symbols + primer through model_step once (batch 1), then the
// batched beam search (plain sampling is beam 1 x branch 1) from that state.
#include "generate/generator.h"

#include <algorithm>

#include "formats/song_file.h"
#include "nn/lstm_step.h"
#include "util/error.h"

namespace melodist {

namespace {

std::string vocabulary_list(const Model& model) {
  std::string s;
  for (const auto& v : model.vocabulary) s += (s.empty() ? "" : " ") + v;
  return s;
}

std::vector<Rational> parse_rational_list(const std::string& text) {
  std::vector<Rational> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(parse_rational(std::string_view(text).substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<int> primer_ids(const Model& model, const std::vector<std::string>& primer) {
  if (primer.size() > kMaxPrimerSymbols)
    throw Error("the primer has " + std::to_string(primer.size()) + " symbols; at most " + std::to_string(kMaxPrimerSymbols) +
                " are accepted");
  std::vector<int> ids;
  for (size_t i = 0; i < primer.size(); ++i) {
    if (primer[i] == kDelimiterSymbol)
      throw Error("the primer holds \"/\" at position " + std::to_string(i + 1) + "; a primer is the start of one melody");
    const int id = model.symbol_id(primer[i]);
    if (id < 0) {
      std::string shown = primer[i].size() > 40 ? primer[i].substr(0, 40) + "..." : primer[i];
      throw Error("primer symbol \"" + shown + "\" at position " + std::to_string(i + 1) +
                  " is not in the model's vocabulary: " + vocabulary_list(model));
    }
    ids.push_back(id);
  }
  return ids;
}

EncodeOptions model_encode_options(const Model& model) {
  EncodeOptions o;
  o.durations = reference_durations();
  auto it = model.metadata.find("preprocessing");
  if (it == model.metadata.end() || !it->is_object()) return o;
  const auto& p = *it;
  try {
    if (p.contains("step")) o.step = parse_rational(p["step"].get<std::string>());
    if (p.contains("durations")) {
      const std::string d = p["durations"].get<std::string>();
      o.durations = d == "any" ? std::vector<Rational>{} : parse_rational_list(d);
    }
    if (p.contains("transpose")) o.transpose = p["transpose"].get<std::string>() == "none" ? TransposeMode::none : TransposeMode::reference;
    if (p.contains("ties")) o.ties = p["ties"].get<std::string>() == "merge" ? TieMode::merge : TieMode::reattack;
    if (p.contains("key_symbol")) o.key_symbol = p["key_symbol"].get<bool>();
    if (p.contains("meter_symbol")) o.meter_symbol = p["meter_symbol"].get<bool>();
    if (p.contains("barlines")) o.barlines = p["barlines"].get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("the model's preprocessing options are malformed: ") + e.what());
  }
  return o;
}

std::vector<std::string> primer_from_song_file(const Model& model, const std::string& path) {
  const EncodeOptions options = model_encode_options(model);
  SongReadOptions read;
  read.step = options.step;
  Melody melody = read_song_file(path, read);
  EncodedSong song = encode_melody(melody, options);
  if (!song.accepted) throw file_error(path, 0, "cannot be used as a primer: " + song.reason);
  return song.symbols;
}

std::vector<GeneratedMelody> generate_melodies(const Model& model, const GenerateOptions& options) {
  validate_sampler_options(options.beam.sampler);
  if (options.delimiter_length < 1) throw Error("the start-symbol count must be at least 1");
  const std::vector<int> primer = primer_ids(model, options.primer);
  const int delimiter = model.symbol_id(kDelimiterSymbol);
  if (delimiter < 0) throw Error("the model's vocabulary has no \"/\" delimiter symbol");

  // (1) start symbols then primer, batch 1: the state every output starts from.
  StepState start = make_step_state(model, 1);
  std::vector<float> logits(model.config.vocab_size);  // (V)
  for (int t = 0; t < options.delimiter_length; ++t) model_step(model, &delimiter, start, logits.data());
  for (int id : primer) model_step(model, &id, start, logits.data());

  // (2) all outputs as one batch. Without a primer the first symbol must start a melody.
  BeamOptions beam = options.beam;
  if (primer.empty()) {
    beam.banned_at_start.push_back(delimiter);
    if (const int hold = model.symbol_id(kHoldSymbol); hold >= 0) beam.banned_at_start.push_back(hold);
  }
  std::vector<BeamResult> results = beam_search(model, start, logits, options.num_outputs, beam);
  std::vector<GeneratedMelody> out;
  for (const BeamResult& r : results) {
    GeneratedMelody g;
    g.symbols = options.primer;
    for (int id : r.symbols) g.symbols.push_back(model.vocabulary[id]);
    g.generated_steps = r.symbols.size();
    g.ended = r.ended;
    g.log_likelihood = r.log_likelihood;
    for (const auto& s : g.symbols)
      if (s != kHoldSymbol && s != kRestSymbol && s != kDelimiterSymbol) ++g.notes;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace melodist
