// The public Model (include/melodist/model.h): a thin layer over nn/model.h, generate/generator.h and
// generate/song_score.h with the checks `melodist generate` and `melodist score` make.
#include <cctype>
#include <filesystem>

#include "api/impl.h"
#include "formats/key_symbol.h"
#include "formats/model_file.h"
#include "generate/generator.h"
#include "nn/song_score.h"
#include "melodist/model.h"
#include "util/error.h"

namespace melodist::api {

Model::Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Model::Model(const Model&) = default;
Model& Model::operator=(const Model&) = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::string& dir_or_file) {
  auto impl = std::make_shared<Impl>();
  ModelFile file = load_model_file(dir_or_file);
  impl->encoding = model_encode_options(file);
  impl->model = std::move(file.model);
  impl->path = dir_or_file;
  return Model(std::move(impl));
}

std::string Model::bundled_path(const std::string& name) {
  const std::string dir = bundled_model_dir(name);
  if (!std::filesystem::exists(dir)) throw Error("the bundled model is missing (" + dir + "); give --model MODEL_DIR");
  return dir;
}

Model Model::bundled(const std::string& name) { return load(bundled_path(name)); }

ModelInfo Model::info() const {
  const melodist::Model& m = impl_->model;
  return {m.config.vocab_size, m.config.hidden_size, m.config.num_layers, m.vocabulary, impl_->encoding.step.to_double()};
}

std::vector<Melody> Model::generate(const GenerationOptions& o) const {
  const melodist::Model& model = impl_->model;
  GenerateOptions options;
  options.encoding = impl_->encoding;
  options.beam.sampler.temperature = o.temperature;
  options.beam.sampler.top_k = o.top_k;
  options.beam.sampler.top_p = o.top_p;
  options.beam.sampler.rhythm_temperature = o.rhythm_temperature;
  validate_sampler_options(options.beam.sampler);
  options.beam.cadence_temperature = o.cadence_temperature;
  options.beam.cadence_bars = o.cadence_bars;
  // The same checks and messages as `melodist generate` (apps/cmd_generate.cpp).
  if (o.max_steps < 0 || o.max_steps > kMaxGenerateSteps) throw Error("--steps must be from 0 to " + std::to_string(kMaxGenerateSteps));
  if (o.count < 1 || o.count > 100000) throw Error("--num-outputs must be between 1 and 100000");
  if (o.beam_size < 1 || o.beam_size > 1024) throw Error("--beam-size must be between 1 and 1024");
  if (o.branch_factor < 1 || o.branch_factor > 1024) throw Error("--branch-factor must be between 1 and 1024");
  if (!o.primer.empty() && !o.primer_file.empty()) throw Error("give --primer or --primer-file, not both");
  if (o.bars < 0) throw Error("bars must be 0 (no limit) or more");
  for (const auto& [m, name] : {std::pair{o.meter, "meter"}, std::pair{o.time_signature, "time_signature"}})
    if (m && (m->numerator < 1 || m->numerator > 255 || m->denominator < 1 || m->denominator > 64 || (m->denominator & (m->denominator - 1)) != 0))
      throw Error(std::string(name) + " is not N/D with N 1..255 and D a power of two up to 64");
  // The controls as `melodist generate` maps them; what a model can honour is decided once, in
  // generate_melodies (src/generate/generator.cpp).
  GenerateControls& c = options.controls;
  if (!o.key.empty()) {
    c.key = parse_key_name(o.key);
    if (!c.key) throw Error("key \"" + o.key + "\" is not a key such as \"D major\", \"e minor\" or \"Bb major\"");
  }
  if (o.meter) c.meter = TimeSignature{o.meter->numerator, o.meter->denominator};
  const std::optional<Meter> written = o.time_signature ? o.time_signature : o.meter;
  c.fallback_meter = written ? TimeSignature{written->numerator, written->denominator} : TimeSignature{4, 4};
  c.bars = o.bars;
  if (!o.pickup.empty()) c.pickup = parse_rational(o.pickup) * Rational(4);
  if (o.end_on == "tonic") c.end_on = EndOn::tonic;
  else if (o.end_on == "triad") c.end_on = EndOn::triad;
  else if (!o.end_on.empty()) throw Error("end_on \"" + o.end_on + "\" is not \"tonic\" or \"triad\"");
  const Rational step = impl_->encoding.step;
  options.beam.max_steps = o.max_steps;
  options.beam.beam_size = o.beam_size;
  options.beam.branch_factor = o.branch_factor;
  options.beam.seed = o.seed;
  options.num_outputs = o.count;
  options.candidates = o.candidates;
  options.primer = o.primer_file.empty() ? o.primer : primer_from_song_file(impl_->encoding, o.primer_file);
  primer_ids(model, options.primer);
  decode_symbols(options.primer, step);

  std::vector<Melody> out;
  for (GeneratedMelody& g : generate_melodies(model, options)) {
    Melody m = melody_from_symbols(std::move(g.symbols), step);
    auto impl = std::make_shared<Melody::Impl>(m.impl());
    if (!impl->meter) impl->meter = written.value_or(Meter{4, 4});  // a meter symbol in the melody wins
    if (!impl->events.key && g.key) impl->events.key = g.key;       // a model without key symbols, moved to `key`
    impl->log_likelihood = g.log_likelihood;
    impl->generated_steps = g.generated_steps;
    impl->ended = g.ended;
    out.emplace_back(std::move(impl));
  }
  return out;
}

Score Model::score(const Melody& melody, bool score_end) const {
  const melodist::Model& model = impl_->model;
  const Melody::Impl& m = melody.impl();
  const std::string source = m.source_path.empty() ? std::string("melody") : m.source_path;
  const std::vector<std::string> symbols = m.source_path.empty() ? m.symbols : primer_from_song_file(impl_->encoding, m.source_path, true);
  if (symbols.empty() && !score_end) throw Error(source + ": no symbols to score");
  const std::vector<int> ids = melody_ids(model, symbols, source);
  const SongScore s = score_song(model, ids, score_end);
  Score out;
  for (size_t t = 0; t < s.steps(); ++t) out.symbols.push_back(model.vocabulary[s.targets[t]]);
  out.nats = s.nats;
  out.total_nats = s.total_nats();
  out.nats_per_step = s.steps() ? out.total_nats / static_cast<double>(s.steps()) : 0;
  return out;
}

}  // namespace melodist::api
