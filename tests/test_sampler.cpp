// Sampler and beam search: the tempered distribution (reference formula), chi-square of 100,000 draws,
// top-k / top-p never emit a filtered symbol, greedy == beam size 1, log-likelihood bookkeeping.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "generate/beam_search.h"
#include "generate/generator.h"
#include "generate/sampler.h"
#include "nn/song_score.h"
#include "nn/lstm_step.h"
#include "util/error.h"

using namespace melodist;

namespace {

// The reference's formula, literally (generating melodies with RNN-LSTM, _sample_with_temperature):
//   predictions = log(probabilities) / temperature; probabilities = exp(predictions) / sum(exp(predictions))
std::vector<double> reference_tempered(const std::vector<float>& logits, double temperature) {
  double z = 0.0;
  for (float l : logits) z += std::exp(static_cast<double>(l));
  std::vector<double> p;
  double s = 0.0;
  for (float l : logits) {
    const double q = std::exp(std::log(std::exp(static_cast<double>(l)) / z) / temperature);
    p.push_back(q);
    s += q;
  }
  for (double& q : p) q /= s;
  return p;
}

// Pearson chi-square of `draws` samples against p. Returns the statistic; df = (#p > 0) - 1.
double chi_square(const std::vector<double>& p, const std::vector<long>& counts, long draws) {
  double x2 = 0.0;
  for (size_t j = 0; j < p.size(); ++j) {
    if (p[j] == 0.0) continue;
    const double e = p[j] * static_cast<double>(draws);
    x2 += (counts[j] - e) * (counts[j] - e) / e;
  }
  return x2;
}

Model small_model(uint64_t seed, int H = 24) {
  ModelConfig c;
  c.vocab_size = 8;
  c.hidden_size = H;
  c.num_layers = 1;
  Model m = make_model(c, {"/", "_", "r", "60", "62", "64", "65", "67"}, seed);
  return m;
}

}  // namespace

TEST(Rng, SplitMix64PublishedVector) {
  // splitmix64 from state 0 (Vigna's reference implementation): the first three outputs.
  Rng r(0);
  r.state = 0;
  EXPECT_EQ(r.next_u64(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(r.next_u64(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(r.next_u64(), 0x06C45D188009454Full);
  Rng a(42, 0), b(42, 1), c(42, 0);
  EXPECT_NE(a.next_u64(), b.next_u64());
  EXPECT_EQ(Rng(42, 0).next_u64(), c.next_u64());
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Sampler, TemperedDistributionMatchesReferenceFormula) {
  const std::vector<float> logits = {0.3f, -1.2f, 2.0f, 0.0f, 1.1f, -0.4f};
  for (double t : {0.25, 0.8, 1.0, 1.7}) {
    std::vector<double> want = reference_tempered(logits, t), got(6);
    SamplerOptions o;
    o.temperature = t;
    sampling_distribution(logits.data(), 6, o, got.data());
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(got[j], want[j], 1e-12) << "T " << t << " symbol " << j;
  }
  SamplerOptions greedy;
  greedy.temperature = 0.0;
  std::vector<double> g(6);
  sampling_distribution(logits.data(), 6, greedy, g.data());
  EXPECT_EQ(g, (std::vector<double>{0, 0, 1, 0, 0, 0}));
}

TEST(Sampler, ChiSquareOf100000DrawsAtFixedSeed) {
  // df = 5; the 0.1% critical value of chi-square(5) is 20.515. A wrong temperature (e.g. T applied as
  // p^T) or a biased draw gives statistics in the thousands at this sample size.
  const std::vector<float> logits = {0.3f, -1.2f, 2.0f, 0.0f, 1.1f, -0.4f};
  for (double t : {0.8, 1.0, 1.5}) {
    const std::vector<double> want = reference_tempered(logits, t);
    SamplerOptions o;
    o.temperature = t;
    std::vector<double> probs(6);
    sampling_distribution(logits.data(), 6, o, probs.data());
    Rng rng(2024);
    const long n = 100000;
    std::vector<long> counts(6, 0);
    for (long i = 0; i < n; ++i) ++counts[draw(probs.data(), 6, rng)];
    const double x2 = chi_square(want, counts, n);
    std::printf("T %.2f: chi-square %.2f (df 5, 0.1%% critical 20.515)\n", t, x2);
    EXPECT_LT(x2, 20.515) << "T " << t;
    // The test can fail: the same draws against the untempered distribution (when T != 1) are far off.
    if (t != 1.0) {
      EXPECT_GT(chi_square(reference_tempered(logits, 1.0), counts, n), 100.0);
    }
  }
}

TEST(Sampler, TopKNeverEmitsFilteredSymbol) {
  const std::vector<float> logits = {0.1f, 0.9f, -0.3f, 0.8f, 0.5f, 0.85f, -2.0f, 0.0f, 0.2f, 0.7f};
  SamplerOptions o;
  o.top_k = 3;
  o.temperature = 2.0;  // flat: filtered symbols would be drawn often if the filter leaked
  std::vector<double> probs(10);
  sampling_distribution(logits.data(), 10, o, probs.data());
  const std::set<int> allowed = {1, 5, 3};  // the three largest logits 0.9, 0.85, 0.8
  double mass = 0.0;
  for (int j = 0; j < 10; ++j) {
    if (!allowed.count(j)) {
      EXPECT_EQ(probs[j], 0.0) << j;
    }
    mass += probs[j];
  }
  EXPECT_NEAR(mass, 1.0, 1e-12);
  Rng rng(7);
  std::vector<long> counts(10, 0);
  for (int i = 0; i < 100000; ++i) {
    const int s = draw(probs.data(), 10, rng);
    ASSERT_TRUE(allowed.count(s)) << "drew filtered symbol " << s;
    ++counts[s];
  }
  // Within the kept set the proportions are the tempered ones, renormalised.
  std::vector<double> t = reference_tempered(logits, 2.0), want(10, 0.0);
  const double z = t[1] + t[5] + t[3];
  for (int j : allowed) want[j] = t[j] / z;
  EXPECT_LT(chi_square(want, counts, 100000), 13.816);  // df 2, 0.1%
}

TEST(Sampler, TopPKeepsTheNucleus) {
  // Probabilities 0.4, 0.3, 0.2, 0.1 (logits = their logs): p 0.45 keeps {0, 1}; 0.75 keeps {0, 1, 2};
  // 0.3 keeps {0}; 1.0 keeps all.
  const std::vector<float> logits = {std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
  struct Case {
    double p;
    std::set<int> kept;
  };
  for (const Case& c : {Case{0.45, {0, 1}}, Case{0.75, {0, 1, 2}}, Case{0.3, {0}}, Case{1.0, {0, 1, 2, 3}}}) {
    SamplerOptions o;
    o.top_p = c.p;
    std::vector<double> probs(4);
    sampling_distribution(logits.data(), 4, o, probs.data());
    for (int j = 0; j < 4; ++j) EXPECT_EQ(probs[j] > 0.0, c.kept.count(j) > 0) << "p " << c.p << " symbol " << j;
    Rng rng(11);
    for (int i = 0; i < 20000; ++i) ASSERT_TRUE(c.kept.count(draw(probs.data(), 4, rng))) << "p " << c.p;
  }
  // top-k and top-p together: k 3 first, then the nucleus of the renormalised three (0.4/0.9 = 0.444..).
  SamplerOptions both;
  both.top_k = 3;
  both.top_p = 0.5;
  std::vector<double> probs(4);
  sampling_distribution(logits.data(), 4, both, probs.data());
  EXPECT_GT(probs[0], 0.0);
  EXPECT_GT(probs[1], 0.0);
  EXPECT_EQ(probs[2], 0.0);
  EXPECT_EQ(probs[3], 0.0);
}

TEST(Sampler, InvalidOptions) {
  SamplerOptions o;
  o.temperature = -0.1;
  EXPECT_THROW(validate_sampler_options(o), Error);
  o = {};
  o.top_p = 0.0;
  EXPECT_THROW(validate_sampler_options(o), Error);
  o.top_p = 1.01;
  EXPECT_THROW(validate_sampler_options(o), Error);
  o = {};
  o.top_k = -1;
  EXPECT_THROW(validate_sampler_options(o), Error);
  o = {};
  o.temperature = std::nan("");
  EXPECT_THROW(validate_sampler_options(o), Error);
}

// --rhythm-temperature: "_" keeps the untempered network's probability at R = 1, its two-way choice is
// tempered at R otherwise; the other symbols share the rest in the ratios of the reference formula at T.
TEST(Sampler, TheRhythmHasItsOwnTemperature) {
  const std::vector<float> logits = {0.3f, 2.2f, -0.7f, 1.1f, 0.4f};  // symbol 1 is "_"
  const std::vector<double> untempered = reference_tempered(logits, 1.0);
  const double h = untempered[1];
  for (double R : {1.0, 0.5, 2.0}) {
    for (double T : {0.4, 1.0, 1.7}) {
      SamplerOptions o;
      o.temperature = T;
      o.rhythm_temperature = R;
      o.hold_symbol = 1;
      std::vector<double> got(5);
      sampling_distribution(logits.data(), 5, o, got.data());
      const double held = std::pow(h, 1 / R) / (std::pow(h, 1 / R) + std::pow(1 - h, 1 / R));
      EXPECT_NEAR(got[1], held, 1e-12) << R << " " << T;
      std::vector<float> others = {logits[0], logits[2], logits[3], logits[4]};
      const std::vector<double> rest = reference_tempered(others, T);
      const int ids[4] = {0, 2, 3, 4};
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(got[ids[k]], (1 - held) * rest[k], 1e-12) << R << " " << T << " " << k;
    }
  }
  // R = 0: hold exactly when the network holds more likely than not (here: h = 0.6 > 1/2).
  SamplerOptions o;
  o.rhythm_temperature = 0.0;
  o.hold_symbol = 1;
  std::vector<double> got(5);
  sampling_distribution(logits.data(), 5, o, got.data());
  EXPECT_GT(h, 0.5);
  EXPECT_EQ(got[1], 1.0);
  // Negative, or no "_" in the vocabulary: the plain tempered distribution.
  for (int hold : {1, -1}) {
    SamplerOptions off;
    off.temperature = 0.6;
    off.rhythm_temperature = hold < 0 ? 1.0 : -1.0;
    off.hold_symbol = hold;
    sampling_distribution(logits.data(), 5, off, got.data());
    const std::vector<double> want = reference_tempered(logits, 0.6);
    for (int j = 0; j < 5; ++j) EXPECT_NEAR(got[j], want[j], 1e-12) << hold << " " << j;
  }
  SamplerOptions bad;
  bad.rhythm_temperature = std::nan("");
  EXPECT_THROW(validate_sampler_options(bad), Error);
  bad.rhythm_temperature = INFINITY;
  EXPECT_THROW(validate_sampler_options(bad), Error);
}

TEST(BeamSearch, GreedyEqualsBeamSizeOne) {
  // Greedy decoding written out here with model_step + argmax, against beam search with beam size 1
  // (branch factors 1 and 3) at temperature 0.
  Model m = small_model(3);
  const int V = 8, delim = 0, steps = 60;
  StepState s = make_step_state(m, 1);
  std::vector<float> logits(V);
  for (int t = 0; t < 64; ++t) model_step(m, &delim, s, logits.data());
  const StepState start = s;
  const std::vector<float> start_logits = logits;
  std::vector<int> greedy;
  bool ended = false;
  for (int t = 0; t < steps; ++t) {
    const int best = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (best == delim) {
      ended = true;
      break;
    }
    greedy.push_back(best);
    model_step(m, &best, s, logits.data());
  }
  ASSERT_GE(greedy.size(), 5u) << "pick a model seed whose greedy melody is not trivially short";
  for (int f : {1, 3}) {
    BeamOptions o;
    o.beam_size = 1;
    o.branch_factor = f;
    o.max_steps = steps;
    o.sampler.temperature = 0.0;
    std::vector<BeamResult> r = beam_search(m, start, start_logits, 2, o);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].symbols, greedy) << "branch factor " << f;
    EXPECT_EQ(r[0].ended, ended);
    EXPECT_EQ(r[1].symbols, greedy);
  }
}

TEST(BeamSearch, LogLikelihoodIsTheScoreOfTheMelody) {
  // The log-likelihood reported for a generated melody equals -score_song of the same symbols
  // (closing "/" scored when the model ended it), for plain sampling and for a wide beam.
  Model m = small_model(5, 16);
  for (auto [b, f] : {std::pair{1, 1}, std::pair{4, 3}}) {
    GenerateOptions o;
    o.beam.beam_size = b;
    o.beam.branch_factor = f;
    o.beam.max_steps = 40;
    o.beam.seed = 99;
    o.num_outputs = 6;
    o.beam.sampler.temperature = 1.3;
    std::vector<GeneratedMelody> out = generate_melodies(m, o);
    ASSERT_EQ(out.size(), 6u);
    for (const GeneratedMelody& g : out) {
      std::vector<int> ids;
      for (const auto& sym : g.symbols) ids.push_back(m.symbol_id(sym));
      SongScore s = score_song(m, ids, g.ended);
      EXPECT_NEAR(g.log_likelihood, -s.total_nats(), 1e-9);
      EXPECT_TRUE(g.ended || g.generated_steps == 40u);
    }
  }
}

TEST(BeamSearch, WiderBeamFindsAtLeastAsLikelyMelodiesOnAverage) {
  Model m = small_model(6, 16);
  auto mean_ll = [&](int b, int f) {
    GenerateOptions o;
    o.beam.beam_size = b;
    o.beam.branch_factor = f;
    o.beam.max_steps = 30;
    o.num_outputs = 20;
    o.beam.seed = 5;
    double s = 0.0;
    for (const auto& g : generate_melodies(m, o)) s += g.log_likelihood / double(g.generated_steps + (g.ended ? 1 : 0) + 1e-9);
    return s / 20.0;
  };
  EXPECT_GT(mean_ll(8, 4), mean_ll(1, 1));
}

TEST(Generator, SeededAndIndependentOfBatchSize) {
  Model m = small_model(7);
  GenerateOptions o;
  o.primer = {"60", "_", "62"};
  o.beam.max_steps = 50;
  o.beam.seed = 1234;
  o.num_outputs = 5;
  std::vector<GeneratedMelody> a = generate_melodies(m, o), b = generate_melodies(m, o);
  o.num_outputs = 1;
  std::vector<GeneratedMelody> one = generate_melodies(m, o);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].symbols, b[i].symbols);
  EXPECT_EQ(one[0].symbols, a[0].symbols);  // output 1 does not depend on how many run beside it
  EXPECT_NE(a[0].symbols, a[1].symbols);
  EXPECT_EQ(std::vector<std::string>(a[0].symbols.begin(), a[0].symbols.begin() + 3), o.primer);
  o.beam.seed = 1235;
  EXPECT_NE(generate_melodies(m, o)[0].symbols, one[0].symbols);
}

TEST(Generator, PrimerErrors) {
  Model m = small_model(1);
  EXPECT_THROW(primer_ids(m, {"60", "61"}), Error);
  try {
    primer_ids(m, {"60", "x"});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/ _ r 60 62 64 65 67"), std::string::npos) << e.what();
  }
  EXPECT_THROW(primer_ids(m, {"60", "/", "62"}), Error);
  EXPECT_THROW(primer_ids(m, std::vector<std::string>(kMaxPrimerSymbols + 1, "_")), Error);
  EXPECT_NO_THROW(primer_ids(m, std::vector<std::string>(kMaxPrimerSymbols, "_")));
}

TEST(Generator, WithoutPrimerTheFirstSymbolStartsAMelody) {
  // A model that almost always says "/" (bias +20 on its logit): without a primer the first symbol is
  // drawn without "/" and "_", then the model ends the song at once.
  Model m = small_model(9);
  ParameterViews p = parameter_views(m.config, m.params.data());
  p.b_y[0] = 20.0f;
  for (double t : {0.0, 0.8, 1.0}) {
    GenerateOptions o;
    o.beam.max_steps = 10;
    o.beam.sampler.temperature = t;
    o.num_outputs = 50;
    for (const GeneratedMelody& g : generate_melodies(m, o)) {
      ASSERT_EQ(g.symbols.size(), 1u);
      EXPECT_NE(g.symbols[0], "/");
      EXPECT_NE(g.symbols[0], "_");
      EXPECT_TRUE(g.ended);
    }
  }
  // With a primer nothing is excluded: the model ends the song right after it.
  GenerateOptions o;
  o.primer = {"60", "_"};
  std::vector<GeneratedMelody> g = generate_melodies(m, o);
  EXPECT_EQ(g[0].generated_steps, 0u);
  EXPECT_TRUE(g[0].ended);
}
