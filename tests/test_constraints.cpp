// The constraint rules of generate/constraints.h step by step, on a random network whose vocabulary
// holds every kind of symbol; then generate_melodies with every control on the same network, plain and
// with beam search: whatever the (random) network prefers, the melodies obey.
#include <gtest/gtest.h>

#include <algorithm>

#include "formats/text_encoding.h"
#include "generate/constraints.h"
#include "generate/generator.h"
#include "nn/model.h"

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

}  // namespace
