// The constraint rules of generate/constraints.h step by step, on a random network whose vocabulary
// holds every kind of symbol; then generate_melodies with every control on the same network, plain and
// with beam search: whatever the (random) network prefers, the melodies obey.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "formats/text_encoding.h"
#include "generate/constraints.h"
#include "generate/generator.h"
#include "nn/model.h"
#include "nn/song_score.h"
#include "util/error.h"

using namespace melodist;

namespace {

const std::vector<std::string> kVocab = {"/", "_", "r", "60", "62", "64", "67", "|", "K:C", "K:G", "M:3/4", "M:2/4"};

Model network(uint64_t seed = 3) {
  ModelConfig c;
  c.vocab_size = static_cast<int>(kVocab.size());
  c.hidden_size = 8;
  c.num_layers = 1;
  return make_model(c, kVocab, seed);
}

int id(const std::string& s) { return static_cast<int>(std::find(kVocab.begin(), kVocab.end(), s) - kVocab.begin()); }

// The allowed symbols after `text`, as text.
std::string allowed_after(const Constraints& c, const std::string& text) {
  std::vector<int> ids;
  for (const auto& s : split_symbols(text)) ids.push_back(id(s));
  std::vector<char> allowed;
  c.allowed(c.after(ids), allowed);
  std::vector<std::string> out;
  for (size_t v = 0; v < allowed.size(); ++v)
    if (allowed[v]) out.push_back(kVocab[v]);
  return join_symbols(out);
}

std::string holds(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += " _";
  return s;
}

TEST(Constraints, HeaderThenBarsThenTheEnd) {
  const Model m = network();
  ConstraintOptions o;
  o.bars = 2;
  const Constraints c(m, o);
  EXPECT_EQ(allowed_after(c, ""), "K:C K:G");
  EXPECT_EQ(allowed_after(c, "K:G"), "M:3/4 M:2/4");
  EXPECT_EQ(allowed_after(c, "K:G M:3/4"), "r 60 62 64 67 |");  // a "|" may say the song starts on a bar
  EXPECT_EQ(allowed_after(c, "K:G M:3/4 |"), "r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:G M:3/4 60"), "_ r 60 62 64 67");  // no "|", no "/" inside the bar
  EXPECT_EQ(allowed_after(c, "K:G M:3/4 60" + holds(11)), "|");      // the bar is full
  EXPECT_EQ(allowed_after(c, "K:G M:3/4 60" + holds(11) + " |"), "_ r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:G M:3/4 60" + holds(11) + " | 62" + holds(11)), "/");  // bar 2 is full: the end
}

TEST(Constraints, PickupAndEndOnTonic) {
  const Model m = network();
  ConstraintOptions o;
  o.bars = 1;
  o.pickup_steps = 2;
  o.end_on = EndOn::tonic;
  const Constraints c(m, o);
  EXPECT_EQ(allowed_after(c, "K:G M:2/4"), "r 60 62 64 67");  // no leading "|" with a pickup
  EXPECT_EQ(allowed_after(c, "K:G M:2/4 60 _"), "|");
  // The last bar: any note while a step remains after it; at the last step the last note must be G.
  EXPECT_EQ(allowed_after(c, "K:G M:2/4 60 _ | 62" + holds(5)), "_ r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:G M:2/4 60 _ | 62" + holds(6)), "67");
  EXPECT_EQ(allowed_after(c, "K:G M:2/4 60 _ | 67" + holds(6)), "_ r 67");
  EXPECT_EQ(allowed_after(c, "K:G M:2/4 60 _ | 67" + holds(5) + " r"), "_ r 67");
  EXPECT_EQ(allowed_after(c, "K:G M:2/4 60 _ | 67" + holds(7)), "/");
}

TEST(Constraints, WholeBarsWithoutBars) {
  const Model m = network();
  const Constraints c(m, ConstraintOptions{});
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _"), "_ r 60 62 64 67 |");  // the pickup is the model's choice
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60" + holds(7)), "/ |");         // a bar without pickup: "|" or the end
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _ | 62"), "_ r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _ | 62" + holds(7)), "/ |");  // one bar after the first "|"
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _ | 62" + holds(7) + " |"), "_ r 60 62 64 67");
  // After a pickup of 3 steps the song may also end where its last bar holds 8 - 3 steps, and only there.
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _ | 62" + holds(7) + " | 64" + holds(3)), "_ r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _ | 62" + holds(7) + " | 64" + holds(4)), "/ _ r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60 _ _ | 62" + holds(7) + " | 64" + holds(5)), "_ r 60 62 64 67");
  // A song that starts on a bar ("|" first, or a whole first bar) has no such short last bar.
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 | 60" + holds(7) + " | 64" + holds(4)), "_ r 60 62 64 67");
  EXPECT_EQ(allowed_after(c, "K:C M:2/4 60" + holds(7) + " | 64" + holds(4)), "_ r 60 62 64 67");
}

// generate_melodies with every control, plain sampling and beam search: the bars, the end and the key.
TEST(Constraints, GeneratedMelodiesObeyWhateverTheNetworkPrefers) {
  const Model m = network(11);
  for (int beam : {1, 3}) {
    GenerateOptions o;
    o.num_outputs = 20;
    o.beam.beam_size = beam;
    o.beam.branch_factor = beam == 1 ? 1 : 2;
    o.beam.seed = 5;
    o.controls.key = Key{7, false, ""};
    o.controls.meter = TimeSignature{3, 4};
    o.controls.bars = 3;
    o.controls.pickup = Rational(1);
    o.controls.end_on = EndOn::tonic;
    for (const GeneratedMelody& g : generate_melodies(m, o)) {
      const std::string text = join_symbols(g.symbols);
      SCOPED_TRACE(text);
      EXPECT_TRUE(g.ended);
      EXPECT_TRUE(g.constrained);
      EXPECT_EQ(text.rfind("K:G M:3/4 ", 0), 0u);
      const Melody back = decode_symbols(g.symbols);
      Rational length(0);
      int last = -1;
      for (const auto& e : back.events) length += e.duration, last = e.pitch >= 0 ? e.pitch : last;
      EXPECT_EQ(length, Rational(1) + Rational(9));
      EXPECT_EQ(back.barlines, (std::vector<Rational>{Rational(1), Rational(4), Rational(7)}));
      EXPECT_EQ(last % 12, 7);  // G (a model without preprocessing metadata is reference-transposed: moved -5 from C)
      EXPECT_EQ(g.transposition, -5);
      EXPECT_LT(g.log_likelihood, 0.0);
    }
  }
}

// The importance weight of every melody is ln p(x) - ln q(x): the model's own log-likelihood of the
// melody and its end (scored independently, by nn/song_score) less the constrained one generation reports.
TEST(Constraints, LogWeightIsTheModelsLogLikelihoodLessTheConstrainedOne) {
  const Model m = network(11);
  GenerateOptions o;
  o.num_outputs = 20;
  o.candidates = 1;
  o.beam.seed = 9;
  o.controls.meter = TimeSignature{3, 4};  // no key: nothing is put in the primer, nothing transposed
  o.controls.bars = 2;
  o.controls.end_on = EndOn::tonic;
  for (const GeneratedMelody& g : generate_melodies(m, o)) {
    SCOPED_TRACE(join_symbols(g.symbols));
    ASSERT_TRUE(g.ended);
    const SongScore s = score_song(m, melody_ids(m, g.symbols, "melody"), true);
    EXPECT_NEAR(g.log_weight, -s.total_nats() - g.log_likelihood, 1e-4);
    EXPECT_LT(g.log_weight, 0.0);  // the masks cut away some mass
  }
}

// With K candidates one is drawn by weight. Candidate k of output n is output n*K + k of a plain run
// (each draws from its own stream), so the kept melody can be found among them: it is always one of its
// K, and it is the heaviest as often as the weights say (sum over outputs of w_max / sum w, within 4
// standard deviations; a uniform choice would pick it N / K times). The same seed gives the same
// melodies, and output n does not depend on how many outputs run beside it.
TEST(Constraints, CandidatesAreResampledByWeight) {
  Model m = network(11);
  for (float& w : m.params) w *= 4;  // sharper distributions: weights that differ between candidates
  const int N = 200, K = 16;
  GenerateOptions o;
  o.beam.seed = 4;
  o.controls.meter = TimeSignature{2, 4};
  o.controls.bars = 2;
  o.num_outputs = N * K;
  o.candidates = 1;
  const std::vector<GeneratedMelody> drawn = generate_melodies(m, o);
  o.num_outputs = N;
  o.candidates = 0;  // the default with --bars: 16
  const std::vector<GeneratedMelody> kept = generate_melodies(m, o);
  ASSERT_EQ(kept.size(), static_cast<size_t>(N));
  double expected = 0, variance = 0;
  int heaviest = 0;
  for (int n = 0; n < N; ++n) {
    int pick = -1, top = 0;
    double total = 0;
    for (int k = 0; k < K; ++k) {
      const GeneratedMelody& c = drawn[static_cast<size_t>(n * K + k)];
      if (c.symbols == kept[static_cast<size_t>(n)].symbols && pick < 0) pick = k;
      if (c.log_weight > drawn[static_cast<size_t>(n * K + top)].log_weight) top = k;
    }
    ASSERT_GE(pick, 0) << "output " << n << " is none of its candidates";
    for (int k = 0; k < K; ++k) total += std::exp(drawn[static_cast<size_t>(n * K + k)].log_weight - drawn[static_cast<size_t>(n * K + top)].log_weight);
    const double p = 1.0 / total;  // the chance of keeping the heaviest
    expected += p, variance += p * (1 - p);
    heaviest += drawn[static_cast<size_t>(n * K + pick)].symbols == drawn[static_cast<size_t>(n * K + top)].symbols;
  }
  std::printf("the heaviest candidate kept %d times of %d (expected %.1f, uniform %.1f)\n", heaviest, N, expected, double(N) / K);
  EXPECT_NEAR(heaviest, expected, 4 * std::sqrt(variance));
  EXPECT_GT(expected - double(N) / K, 4 * std::sqrt(variance));  // the test tells weighting from a uniform choice
  o.num_outputs = 5;
  const std::vector<GeneratedMelody> few = generate_melodies(m, o);
  for (size_t n = 0; n < few.size(); ++n) EXPECT_EQ(few[n].symbols, kept[n].symbols);
  o.candidates = 2000;
  EXPECT_THROW(generate_melodies(m, o), Error);
}

}  // namespace
