// Generation (see generator.h): start symbols + primer through model_step once (batch 1), then the
// batched beam search (plain sampling is beam 1 x branch 1) from that state.
#include "generate/generator.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "formats/key_symbol.h"
#include "formats/meter_symbol.h"
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

std::vector<std::string> primer_from_song_file(const EncodeOptions& encoding, const std::string& path, bool whole_song) {
  EncodeOptions options = encoding;
  if (!whole_song) options.countdown_bars = 0, options.final_mark = false, options.countdown_key = false;  // a primer is a song's beginning: its end is not near
  SongReadOptions read;
  read.step = options.step;
  Melody melody = read_song_file(path, read);
  EncodedSong song = encode_melody(melody, options);
  if (!song.accepted) throw file_error(path, 0, "cannot be used as a primer: " + song.reason);
  return song.symbols;
}

namespace {

std::string symbol_list(const Model& model, bool (*keep)(const std::string&)) {
  std::string out;
  for (const auto& v : model.vocabulary)
    if (keep(v)) out += (out.empty() ? "" : " ") + v;
  return out;
}
bool is_key_symbol(const std::string& s) { return parse_key_symbol(s).has_value(); }
bool is_meter_symbol(const std::string& s) { return parse_meter_symbol(s).has_value(); }

std::string meter_text(const TimeSignature& m) { return std::to_string(m.numerator) + "/" + std::to_string(m.denominator); }

// The primer with the controls' key and meter symbols at its head ("K:.. M:.. rest"), checked against
// the primer's own. `model_key` is the key symbol in the model's pitches. The primer's key symbol is
// in the model's pitches too (a primer file is encoded as training did).
std::vector<std::string> controlled_primer(const std::vector<std::string>& primer, const GenerateControls& c,
                                           const std::string& model_key, bool model_has_keys) {
  size_t head = 0;
  std::optional<std::string> key, meter;
  for (; head < primer.size(); ++head) {
    if (is_key_symbol(primer[head]) && !key) key = primer[head];
    else if (is_meter_symbol(primer[head]) && !meter) meter = primer[head];
    else break;
  }
  if (c.key && key && *key != model_key)
    throw Error("the primer's key " + *key + " contradicts --key " + key_symbol(c.key->tonic_pitch_class, c.key->minor).substr(2));
  if (c.meter && meter && meter_symbol(*parse_meter_symbol(*meter)) != meter_symbol(*c.meter))
    throw Error("the primer's meter " + *meter + " contradicts --meter " + meter_text(*c.meter));
  if (c.key && !model_key.empty()) key = model_key;
  // --meter without a key before it: the model learned "K:.. M:..", so it samples its key first and the
  // meter is forced after it (ConstraintOptions::meter_id), unless the primer starts the melody already.
  const bool defer_meter = c.meter && !key && model_has_keys && head == primer.size();
  if (c.meter && !defer_meter) meter = meter_symbol(*c.meter);
  std::vector<std::string> out;
  if (key) out.push_back(*key);
  if (meter) out.push_back(*meter);
  out.insert(out.end(), primer.begin() + static_cast<std::ptrdiff_t>(head), primer.end());
  return out;
}

// The one policy for --key (the CLI, the library's GenerationOptions and the server all come here): the
// key symbol to prime the model with, in the model's pitches, and the semitones from there to the asked
// key. A model trained on songs moved to C major / A minor (--transpose reference) composes there and its
// output is moved to the asked key; one without key symbols is then not primed (the symbol is empty: it
// composes in C major or A minor, and the move gives the asked key's signature). A model of written
// pitches without key symbols cannot be asked for a key.
std::pair<std::string, int> model_key_symbol(const Model& model, const EncodeOptions& encoding, const Key& key) {
  const std::string asked = key_symbol(key.tonic_pitch_class, key.minor);
  const std::string known = symbol_list(model, is_key_symbol);
  const bool moved = encoding.transpose == TransposeMode::reference;
  if (known.empty() && !moved)
    throw Error("--key " + asked.substr(2) + ": the model has no key symbols; train one on data made with `melodist preprocess --key-symbol`");
  int shift = 0;
  Key in_model = key;
  if (moved) {
    in_model.tonic_pitch_class = key.minor ? 9 : 0;
    shift = ((key.tonic_pitch_class - in_model.tonic_pitch_class) % 12 + 12) % 12;
    if (shift > 5) shift -= 12;
  }
  if (known.empty()) return {"", shift};
  const std::string symbol = key_symbol(in_model.tonic_pitch_class, in_model.minor);
  if (model.symbol_id(symbol) < 0) throw Error("--key " + asked.substr(2) + ": the model has never seen " + symbol + " (it knows " + known + ")");
  return {symbol, shift};
}

void check_meter(const Model& model, const TimeSignature& meter) {
  const std::string known = symbol_list(model, is_meter_symbol);
  if (known.empty())
    throw Error("--meter " + meter_text(meter) + ": the model has no meter symbols; train one on data made with `melodist preprocess --meter-symbol`");
  if (model.symbol_id(meter_symbol(meter)) < 0)
    throw Error("--meter " + meter_text(meter) + ": the model has never seen this meter (it knows " + known + ")");
}

// Pitches moved by `shift` semitones, key symbols with them.
void transpose_symbols(std::vector<std::string>& symbols, int shift) {
  if (shift == 0) return;
  for (std::string& s : symbols) {
    if (const auto key = parse_key_symbol(s)) {
      s = key_symbol(key->tonic_pitch_class + shift, key->minor);
    } else if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() <= 3) {
      const int p = std::stoi(s) + shift;
      if (p < 0 || p > 127) throw Error("--key: moving the melody by " + std::to_string(shift) + " semitones leaves MIDI's range 0..127");
      s = std::to_string(p);
    }
  }
}

// The time in steps of the primer's first "|" after its first note or rest (triplet windows counted as
// their steps), -1 when it has none or it falls between the steps.
int64_t first_barline_steps(const std::vector<std::string>& primer, Rational step) {
  for (const Rational& t : decode_symbols(primer, step).barlines)
    if (Rational(0) < t) {
      const Rational steps = t / step;
      return steps.den == 1 ? steps.num : -1;
    }
  return -1;
}

// The constraint options of the controls; every check of GenerateControls against the model. A primer
// with a barline inside its first bar gives the pickup.
ConstraintOptions constraint_options(const Model& model, Rational step, const GenerateControls& c, const std::vector<std::string>& primer,
                                     int max_steps) {
  ConstraintOptions o;
  o.step = step;
  o.bars = c.bars;
  o.end_on = c.end_on;
  o.fallback_meter = c.fallback_meter;
  if (c.bars < 0) throw Error("--bars must be 1 or more");
  if (c.pickup < Rational(0)) throw Error("--pickup must not be negative");
  std::optional<TimeSignature> meter;
  for (const auto& s : primer)
    if (!meter) meter = parse_meter_symbol(s);
  if (c.meter && !meter) o.meter_id = model.symbol_id(meter_symbol(*c.meter));  // deferred: after the sampled key
  if (!meter) meter = c.meter;
  // --bars with the meter left to the model: only meters whose bars fit the --steps budget (about
  // max_steps / bars steps a bar, less the header and the bar lines).
  if (c.bars > 0 && !meter) o.max_bar_steps = std::max<int64_t>(1, (int64_t{max_steps} - 2 - c.bars) / c.bars);
  if (!meter && symbol_list(model, is_meter_symbol).empty()) meter = c.fallback_meter;
  const std::string pickup_text = (c.pickup / Rational(4)).to_string();
  if (c.pickup > Rational(0)) {
    if (c.bars == 0) throw Error("--pickup needs --bars");
    if (!meter) throw Error("--pickup needs the meter: give --meter");
    if (c.pickup >= bar_length(*meter)) throw Error("--pickup " + pickup_text + " is not shorter than a bar of " + meter_text(*meter));
    const Rational steps = c.pickup / o.step;
    if (steps.den != 1) throw Error("--pickup " + pickup_text + " is not a whole number of steps of " + o.step.to_string() + " quarter");
    o.pickup_steps = steps.num;
  }
  if (c.bars > 0 && meter) {
    const int64_t first = first_barline_steps(primer, o.step), bar = bar_steps_of(*meter, o.step);
    if (first > 0 && first < bar) {
      if (c.pickup > Rational(0) && first != o.pickup_steps)
        throw Error("the primer's pickup of " + std::to_string(first) + " steps contradicts --pickup " + pickup_text);
      o.pickup_steps = first;
    }
  }
  return o;
}

// Output n of N from its K candidates (drawn as outputs n*K .. n*K + K - 1): one drawn with probability
// proportional to exp(log_weight), by a generator of its own (stream 2^63 + n), so it does not depend on N.
std::vector<BeamResult> choose_candidates(std::vector<BeamResult> drawn, int K, uint64_t seed) {
  if (K == 1) return drawn;
  std::vector<BeamResult> out;
  for (size_t n = 0; n * K < drawn.size(); ++n) {
    const auto first = drawn.begin() + static_cast<std::ptrdiff_t>(n * K);
    double top = first->log_weight;
    for (int k = 1; k < K; ++k) top = std::max(top, first[k].log_weight);
    std::vector<double> w(static_cast<size_t>(K));  // (K) weights relative to the largest
    double total = 0.0;
    for (int k = 0; k < K; ++k) total += w[static_cast<size_t>(k)] = std::exp(first[k].log_weight - top);
    Rng rng(seed, (uint64_t{1} << 63) + n);
    double u = rng.uniform() * total;
    int pick = K - 1;
    for (int k = 0; k < K; ++k)
      if ((u -= w[static_cast<size_t>(k)]) < 0.0) { pick = k; break; }
    out.push_back(std::move(first[pick]));
  }
  return out;
}

}  // namespace

std::vector<GeneratedMelody> generate_melodies(const Model& model, const GenerateOptions& options_in) {
  GenerateOptions options = options_in;
  check_generate_encoding(options.encoding);
  validate_sampler_options(options.beam.sampler);
  if (options.delimiter_length < 1) throw Error("the start-symbol count must be at least 1");
  if (options.candidates < 0 || options.candidates > kMaxCandidates)
    throw Error("--candidates must be between 1 and " + std::to_string(kMaxCandidates) + " (0: " +
                std::to_string(kDefaultBarsCandidates) + " with --bars, else 1)");
  const int K = options.candidates > 0 ? options.candidates : options.controls.bars > 0 ? kDefaultBarsCandidates : 1;
  if (int64_t{options.num_outputs} * K > 1000000)
    throw Error("--num-outputs " + std::to_string(options.num_outputs) + " x " + std::to_string(K) +
                " candidates is more than 1,000,000 melodies");
  const GenerateControls& controls = options.controls;
  int shift = 0;
  std::string model_key;
  if (controls.key) std::tie(model_key, shift) = model_key_symbol(model, options.encoding, *controls.key);
  if (controls.meter) check_meter(model, *controls.meter);
  bool has_keys = false;
  for (const auto& v : model.vocabulary) has_keys |= is_key_symbol(v);
  options.primer = controlled_primer(options.primer, controls, model_key, has_keys);
  const std::vector<int> primer = primer_ids(model, options.primer);
  const int delimiter = model.symbol_id(kDelimiterSymbol);
  if (delimiter < 0) throw Error("the model's vocabulary has no \"/\" delimiter symbol");
  ConstraintOptions constraint = constraint_options(model, options.encoding.step, controls, options.primer, options.beam.max_steps);
  constraint.restate_key = options.encoding.countdown_key;
  const Constraints constraints(model, constraint);
  if (options.beam.cadence_temperature >= 0.0 && controls.bars == 0 && !constraints.has_countdown())
    throw Error("--cadence-temperature needs --bars or a model with countdown barlines (train one on data made with "
                "`melodist preprocess --countdown-bars 4`)");
  const ConstraintState primed = constraints.after(primer);
  if (controls.bars > 0) {
    const int64_t needed = constraints.needed_steps(primed);
    if (const int64_t end = constraints.end_time(primed); end >= 0 && primed.time > end)
      throw Error("the primer is longer than --bars " + std::to_string(controls.bars));
    if (needed > options.beam.max_steps)
      throw Error("--bars " + std::to_string(controls.bars) + " needs up to " + std::to_string(needed) + " steps, more than --steps " +
                  std::to_string(options.beam.max_steps) + "; raise --steps");
  }
  if (controls.end_on != EndOn::any && primed.started && primed.key_tonic < 0)
    throw Error("--end-on needs the key: the primer starts without a key symbol; give --key");
  if (primed.key_tonic >= 0 && !constraints.can_end(primed))
    throw Error(std::string("--end-on ") + (controls.end_on == EndOn::tonic ? "tonic" : "triad") + ": the model knows no note to end " +
                key_symbol(primed.key_tonic, primed.key_minor) + " on");

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
  beam.sampler.hold_symbol = model.symbol_id(kHoldSymbol);  // --rhythm-temperature's "_"
  beam.constraints = &constraints;
  beam.constraint_start = primed;
  const std::vector<BeamResult> results =
      choose_candidates(beam_search(model, start, logits, options.num_outputs * K, beam), K, beam.seed);
  std::vector<GeneratedMelody> out;
  for (const BeamResult& r : results) {
    GeneratedMelody g;
    g.symbols = options.primer;
    for (int id : r.symbols) g.symbols.push_back(model.vocabulary[id]);
    transpose_symbols(g.symbols, shift);
    g.transposition = shift;
    g.key = controls.key;
    g.constrained = !constraints.inert();
    g.generated_steps = r.symbols.size();
    g.ended = r.ended;
    g.log_likelihood = r.log_likelihood;
    g.log_weight = r.log_weight;
    for (const auto& s : g.symbols)
      if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) ++g.notes;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace melodist
