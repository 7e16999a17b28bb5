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

// A model trained with --countdown-bars 2.
const std::vector<std::string> kCountdownVocab = {"/", "_", "r", "60", "62", "64", "67", "|", "|1", "|2", "K:C", "K:G", "M:3/4", "M:2/4"};

// A model trained with --triplets: "(3:1" (a window of 4 steps) and "(3:1/2" (2 steps).
const std::vector<std::string> kTripletVocab = {"/", "_", "r", "60", "62", "64", "67", "|", "(3:1", "(3:1/2", "K:C", "K:G", "M:3/4", "M:2/4"};

// A model trained with --countdown-bars 2 --triplets --final-mark.
const std::vector<std::string> kFinalVocab = {"/", "_", "r", "60", "62", "64", "67", "|", "|1", "|2", "(3:1/2", "$", "K:C", "K:G", "M:2/4"};

Model network(uint64_t seed = 3, const std::vector<std::string>& vocab = kVocab) {
  ModelConfig c;
  c.vocab_size = static_cast<int>(vocab.size());
  c.hidden_size = 8;
  c.num_layers = 1;
  return make_model(c, vocab, seed);
}

int id(const std::string& s, const std::vector<std::string>& vocab = kVocab) {
  return static_cast<int>(std::find(vocab.begin(), vocab.end(), s) - vocab.begin());
}

// The allowed symbols after `text`, as text.
std::string allowed_after(const Constraints& c, const std::string& text, const std::vector<std::string>& vocab = kVocab) {
  std::vector<int> ids;
  for (const auto& s : split_symbols(text)) ids.push_back(id(s, vocab));
  std::vector<char> allowed;
  c.allowed(c.after(ids), allowed);
  std::vector<std::string> out;
  for (size_t v = 0; v < allowed.size(); ++v)
    if (allowed[v]) out.push_back(vocab[v]);
  return join_symbols(out);
}

// What the generation tests ask for: `outputs` melodies in 2/4, `bars` bars (0: as the model ends them).
GenerateOptions two_four(int outputs, uint64_t seed, int max_steps, int bars) {
  GenerateOptions o;
  o.num_outputs = outputs;
  o.beam.seed = seed;
  o.beam.max_steps = max_steps;
  o.controls.meter = TimeSignature{2, 4};
  o.controls.bars = bars;
  return o;
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

// --bars with a countdown model: the lines that open the last two bars are "|2" and "|1".
TEST(Constraints, BarsForceTheCountdown) {
  const Model m = network(3, kCountdownVocab);
  ConstraintOptions o;
  o.bars = 3;
  const Constraints c(m, o);
  auto after = [&](const std::string& text) { return allowed_after(c, text, kCountdownVocab); };
  EXPECT_EQ(after("K:C M:2/4"), "r 60 62 64 67 |");  // a leading line opens bar 1 of 3: plain
  EXPECT_EQ(after("K:C M:2/4 60" + holds(7)), "|2");
  EXPECT_EQ(after("K:C M:2/4 60" + holds(7) + " |2 62" + holds(7)), "|1");
  EXPECT_EQ(after("K:C M:2/4 60" + holds(7) + " |2 62" + holds(7) + " |1 64" + holds(7)), "/");
  o.bars = 2;
  const Constraints two(m, o);
  EXPECT_EQ(allowed_after(two, "K:C M:2/4", kCountdownVocab), "r 60 62 64 67 |2");
  o.pickup_steps = 2;  // the line after the pickup opens bar 1 of 2
  const Constraints pickup(m, o);
  EXPECT_EQ(allowed_after(pickup, "K:C M:2/4 60 _", kCountdownVocab), "|2");
}

// Without --bars the model starts the countdown when it likes ("|2", or a shorter one at the first
// line), then must count down, and may end only when the bar "|1" opened is over.
TEST(Constraints, TheSongEndsOnlyAfterItsCountdown) {
  const Model m = network(3, kCountdownVocab);
  const Constraints c(m, ConstraintOptions{});
  auto after = [&](const std::string& text) { return allowed_after(c, text, kCountdownVocab); };
  EXPECT_EQ(after("K:C M:2/4 60 _ _"), "_ r 60 62 64 67 | |1 |2");  // the first line: a pickup, any count
  EXPECT_EQ(after("K:C M:2/4 60" + holds(7)), "| |1 |2");             // no "/" before the countdown
  const std::string pickup = "K:C M:2/4 60 _ _ | 62" + holds(7);
  EXPECT_EQ(after(pickup), "| |2");
  EXPECT_EQ(after(pickup + " |2 64" + holds(7)), "|1");
  EXPECT_EQ(after(pickup + " |2 64" + holds(7) + " |1 65" + holds(3)), "_ r 60 62 64 67");
  EXPECT_EQ(after(pickup + " |2 64" + holds(7) + " |1 67" + holds(4)), "/ _ r 60 62 64 67");  // completes the pickup
  EXPECT_EQ(after(pickup + " |2 64" + holds(7) + " |1 67" + holds(7)), "/");
  // --end-on tonic: the last step of the last bar follows the rule of the last step, so the end is reached.
  ConstraintOptions tonic;
  tonic.end_on = EndOn::tonic;
  const Constraints t(m, tonic);
  const std::string last = "K:C M:2/4 | 60" + holds(7) + " |1 ";
  EXPECT_EQ(allowed_after(t, last + "62" + holds(5), kCountdownVocab), "_ r 60 62 64 67");
  EXPECT_EQ(allowed_after(t, last + "62" + holds(6), kCountdownVocab), "60");
  EXPECT_EQ(allowed_after(t, last + "60" + holds(6), kCountdownVocab), "_ r 60");
  EXPECT_EQ(allowed_after(t, last + "62" + holds(6) + " 60", kCountdownVocab), "/");
}

// "$" comes in the last bar only, is forced at its last step, is followed by a note (of the set with
// end_on) and then by no note; "/" only after it.
TEST(Constraints, TheFinalMarkClosesTheLastBar) {
  const Model m = network(3, kFinalVocab);
  auto after = [&](const Constraints& c, const std::string& text) { return allowed_after(c, text, kFinalVocab); };
  const Constraints free_mode(m, ConstraintOptions{});
  const std::string song = "K:C M:2/4 | 60" + holds(7) + " |2 62" + holds(7) + " |1 ";
  EXPECT_EQ(after(free_mode, "K:C M:2/4 | 60 _"), "_ r 60 62 64 67 (3:1/2");       // not before the last bar
  EXPECT_EQ(after(free_mode, song + "64"), "_ r 60 62 64 67 $");                    // in it (a window only on its grid)
  EXPECT_EQ(after(free_mode, song + "64 _ $"), "60 62 64 67 (3:1/2");               // a note (or its window) next
  EXPECT_EQ(after(free_mode, song + "64 $ 60"), "_ r");                             // then no note
  EXPECT_EQ(after(free_mode, song + "64" + holds(6)), "$");                         // forced at the last step
  EXPECT_EQ(after(free_mode, song + "64" + holds(6) + " $ 62"), "/");
  EXPECT_EQ(after(free_mode, song + "64" + holds(7)), "");                          // unreachable: "$" was forced
  EXPECT_EQ(after(free_mode, song + "64 _ $ (3:1/2"), "60 62 64 67");               // the window's first unit a note
  EXPECT_EQ(after(free_mode, song + "64 _ $ (3:1/2 60 62"), "_ r 60 62 64 67");     // its others free
  EXPECT_EQ(after(free_mode, song + "64 _ $ (3:1/2 60 62 64"), "r");                // then no note, no hold after it
  ConstraintOptions bars;
  bars.bars = 2;
  bars.end_on = EndOn::tonic;
  const Constraints b(m, bars);
  const std::string two = "K:C M:2/4 | 60" + holds(7) + " |1 ";
  EXPECT_EQ(after(b, "K:C M:2/4 | 60 _"), "_ r 60 62 64 67 (3:1/2");
  EXPECT_EQ(after(b, two + "62 _"), "_ r 60 62 64 67 (3:1/2 $");
  EXPECT_EQ(after(b, two + "62 $"), "60");                                          // end_on restricts the marked note
  EXPECT_EQ(after(b, two + "62" + holds(5)), "_ r 60 62 64 67 $");                  // no window over the last step
  EXPECT_EQ(after(b, two + "62" + holds(6)), "$");
  EXPECT_EQ(after(b, two + "62" + holds(6) + " $ 60"), "/");
  EXPECT_EQ(b.needed_steps(b.after({})), 2 + 2 * 8 + 1 + 1);  // key, meter, two bars, one line, "$"
  // restate_key (`preprocess --countdown-key`): the header's key comes again after the first countdown line.
  ConstraintOptions restate;
  restate.restate_key = true;
  const Constraints r(m, restate);
  EXPECT_EQ(after(r, "K:G M:2/4 | 60" + holds(7) + " |2"), "K:G");
  EXPECT_EQ(after(r, "K:G M:2/4 | 60" + holds(7) + " |2 K:G"), "_ r 60 62 64 67 (3:1/2");
  EXPECT_EQ(after(r, "K:G M:2/4 | 60" + holds(7) + " |2 K:G 62" + holds(7) + " |1"), "_ r 60 62 64 67 (3:1/2 $");  // once
}

// Generated with triplet windows, every melody's bars are whole and the windows decode to thirds.
TEST(Constraints, GeneratedTripletsKeepTheBarsWhole) {
  Model m = network(5, kTripletVocab);
  for (float& w : m.params) w *= 2;
  int windows = 0;
  for (int bars : {0, 3}) {
    const GenerateOptions o = two_four(40, 8, 300, bars);
    for (const GeneratedMelody& g : generate_melodies(m, o)) {
      if (!g.ended) continue;
      SCOPED_TRACE(join_symbols(g.symbols));
      for (const auto& s : g.symbols) windows += triplet_window(s).has_value();
      const Melody back = decode_symbols(g.symbols);
      for (size_t b = 1; b < back.barlines.size(); ++b) EXPECT_EQ(back.barlines[b] - back.barlines[b - 1], Rational(2));
      if (bars > 0) {
        EXPECT_EQ(melody_length(back), Rational(6));
      }
    }
  }
  EXPECT_GT(windows, 20);
}

// Generated with and without --bars, a countdown model's melodies count down to their end: the last
// lines are "|k" .. "|1", the end comes one bar after "|1", and the bars are whole.
TEST(Constraints, GeneratedMelodiesCountDown) {
  Model m = network(7, kCountdownVocab);
  for (int bars : {0, 4}) {
    GenerateOptions o = two_four(30, 2, 400, bars);
    o.controls.end_on = EndOn::tonic;
    int ended = 0;
    for (const GeneratedMelody& g : generate_melodies(m, o)) {
      if (!g.ended) continue;
      ++ended;
      SCOPED_TRACE(join_symbols(g.symbols));
      std::vector<int> counts;  // the countdown of every line
      for (const auto& s : g.symbols)
        if (bar_countdown(s) >= 0) counts.push_back(bar_countdown(s));
      ASSERT_FALSE(counts.empty());
      const size_t start = static_cast<size_t>(std::find_if(counts.begin(), counts.end(), [](int k) { return k > 0; }) - counts.begin());
      ASSERT_LT(start, counts.size());
      for (size_t i = start; i < counts.size(); ++i) EXPECT_EQ(counts[i], static_cast<int>(counts.size() - i));
      if (start > 0) {
        EXPECT_EQ(counts[start], 2);
      }  // after plain lines the countdown starts at its top
      if (bars > 0) {
        EXPECT_EQ(counts.size() - (counts.front() == 0 && g.symbols[2] == "|"), static_cast<size_t>(bars) - 1);
      }
      const Melody back = decode_symbols(g.symbols);
      EXPECT_LE(melody_length(back) - back.barlines.back(), Rational(2));  // the last bar is at most one 2/4 bar
    }
    EXPECT_GT(ended, 0);
  }
}


// Generated with the final mark, with and without --bars and end_on: one "$", in the last bar, no note
// after the one it marks, and (end_on) that note the tonic.
TEST(Constraints, GeneratedMelodiesMarkTheirLastNote) {
  Model m = network(9, kFinalVocab);
  for (float& w : m.params) w *= 2;
  int ended = 0;
  for (int bars : {0, 3})
    for (EndOn end_on : {EndOn::any, EndOn::tonic}) {
      GenerateOptions o = two_four(25, 4, 400, bars);
      o.controls.end_on = end_on;
      for (const GeneratedMelody& g : generate_melodies(m, o)) {
        if (!g.ended) continue;
        ++ended;
        SCOPED_TRACE(join_symbols(g.symbols));
        const auto mark = std::find(g.symbols.begin(), g.symbols.end(), "$");
        ASSERT_NE(mark, g.symbols.end());
        EXPECT_EQ(std::count(g.symbols.begin(), g.symbols.end(), "$"), 1);
        EXPECT_EQ(std::find(g.symbols.begin(), mark, "|1") != mark, true);  // the last bar has begun
        const Melody back = decode_symbols(g.symbols);
        const Melody before = decode_symbols(std::vector<std::string>(g.symbols.begin(), mark));
        int notes_after = 0;  // onsets from the mark on: one, or a window's
        for (size_t e = before.events.size(); e < back.events.size(); ++e) notes_after += back.events[e].pitch != kRest;
        EXPECT_GE(notes_after, 1);
        const bool window = mark + 1 != g.symbols.end() && triplet_window(*(mark + 1)).has_value();
        if (!window) {
          EXPECT_EQ(notes_after, 1);
        }
        int last = -1;
        for (const auto& e : back.events)
          if (e.pitch != kRest) last = e.pitch;
        if (end_on == EndOn::tonic) {
          EXPECT_EQ((last - (g.symbols[0] == "K:G" ? 7 : 0)) % 12, 0);
        }
        if (bars > 0) {
          EXPECT_EQ(melody_length(back), Rational(6));
        }
      }
    }
  EXPECT_GT(ended, 40);
}

// A window is allowed where it ends by the next line (by the last step with end_on); inside it, its three
// units; the time counts its steps at its end.
TEST(Constraints, TripletWindowsFitTheBar) {
  const Model m = network(3, kTripletVocab);
  ConstraintOptions o;
  o.bars = 2;
  o.end_on = EndOn::tonic;
  const Constraints c(m, o);
  auto after = [&](const std::string& text) { return allowed_after(c, text, kTripletVocab); };
  EXPECT_EQ(after("K:C M:2/4"), "r 60 62 64 67 | (3:1 (3:1/2");
  EXPECT_EQ(after("K:C M:2/4 60 _ _ _"), "_ r 60 62 64 67 (3:1 (3:1/2");  // 4 + 4 <= 8
  EXPECT_EQ(after("K:C M:2/4 60 _ _ _ _"), "_ r 60 62 64 67");    // 5: not on a multiple of 2 or 4 steps
  EXPECT_EQ(after("K:C M:2/4 60 _ _ _ _ _"), "_ r 60 62 64 67 (3:1/2");  // 6 + 4 > 8, 6 + 2 fits
  EXPECT_EQ(after("K:C M:2/4 (3:1"), "r 60 62 64 67");                   // the first unit is an onset
  EXPECT_EQ(after("K:C M:2/4 (3:1 60"), "_ r 60 62 64 67");
  EXPECT_EQ(after("K:C M:2/4 60 _ _ _ (3:1 62 64 67"), "|");       // 4 + 4 units' time = 8: the line
  EXPECT_EQ(after("K:C M:2/4 60 _ (3:1/2 62 64 67"), "r 60 62 64 67 (3:1 (3:1/2");  // no hold past a window
  const std::string bar2 = "K:C M:2/4 60" + holds(7) + " | 62 _ _ _ ";
  EXPECT_EQ(after(bar2), "_ r 60 62 64 67 (3:1/2");  // at 12 a window of 2 reaches 14 <= 15; one of 4 would not
  EXPECT_EQ(after(bar2 + "_ _"), "_ r 60 62 64 67");  // at 14 it would cover the last step, 15
  EXPECT_EQ(after(bar2 + "(3:1/2 60 62 64 r"), "60");  // 12 + 2 + 1: the last step, the tonic
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

// bars_to_end: which bar from the end the next symbol falls in, from --bars or from the countdown.
TEST(Constraints, BarsToEndCountsTheLastBars) {
  const Model m = network(3, kCountdownVocab);
  auto to_end = [&](const Constraints& c, const std::string& text) {
    std::vector<int> ids;
    for (const auto& s : split_symbols(text)) ids.push_back(id(s, kCountdownVocab));
    return c.bars_to_end(c.after(ids));
  };
  ConstraintOptions o;
  o.bars = 3;  // 2/4 at step 1/4: bars of 8 steps, the end at 24
  const Constraints bars(m, o);
  EXPECT_EQ(to_end(bars, "K:C M:2/4"), 3);
  EXPECT_EQ(to_end(bars, "K:C M:2/4 60" + holds(6)), 3);
  EXPECT_EQ(to_end(bars, "K:C M:2/4 60" + holds(7)), 2);
  EXPECT_EQ(to_end(bars, "K:C M:2/4 60" + holds(7) + " |2 62" + holds(7) + " |1"), 1);
  EXPECT_EQ(to_end(bars, "K:C M:2/4 60" + holds(7) + " |2 62" + holds(7) + " |1 64" + holds(7)), 0);  // over: "/" is due
  const Constraints free(m, ConstraintOptions{});
  EXPECT_EQ(to_end(free, "K:C M:2/4 60" + holds(7) + " |"), 0);  // before the countdown: unknown
  EXPECT_EQ(to_end(free, "K:C M:2/4 60" + holds(7) + " | 62" + holds(7) + " |2"), 2);
  EXPECT_EQ(to_end(free, "K:C M:2/4 60" + holds(7) + " | 62" + holds(7) + " |2 64" + holds(7) + " |1 67"), 1);
}

// --cadence-temperature: the last --cadence-bars bars are drawn at their own temperature. With the
// temperature of every bar the melodies are those of a plain run; greedy over every bar they are those
// of a greedy run; greedy over the last bar only, what comes before "|1" is the plain run's (the same
// draws), and what follows is the greedy continuation of that prefix (given as a primer: another path).
TEST(Constraints, TheCadenceIsDrawnAtItsOwnTemperature) {
  const Model m = network(7, kCountdownVocab);
  GenerateOptions o = two_four(12, 5, 200, 3);
  o.controls.key = Key{0, false};  // the header is given: before the meter no bar is known, its key is drawn at 1.5
  o.candidates = 1;
  o.beam.sampler.temperature = 1.5;
  const std::vector<GeneratedMelody> plain = generate_melodies(m, o);
  auto symbols_with = [&](double cadence_temperature, int cadence_bars) {
    GenerateOptions c = o;
    c.beam.cadence_temperature = cadence_temperature;
    c.beam.cadence_bars = cadence_bars;
    std::vector<std::string> out;
    for (const GeneratedMelody& g : generate_melodies(m, c)) out.push_back(join_symbols(g.symbols));
    return out;
  };
  std::vector<std::string> plain_text;
  for (const GeneratedMelody& g : plain) plain_text.push_back(join_symbols(g.symbols));
  EXPECT_EQ(symbols_with(1.5, 3), plain_text);
  GenerateOptions greedy = o;
  greedy.beam.sampler.temperature = 0;
  std::vector<std::string> greedy_text;
  for (const GeneratedMelody& g : generate_melodies(m, greedy)) greedy_text.push_back(join_symbols(g.symbols));
  EXPECT_EQ(symbols_with(0, 4), greedy_text);
  const std::vector<std::string> cooled = symbols_with(0, 1);
  int differ = 0;
  for (size_t n = 0; n < plain.size(); ++n) {
    SCOPED_TRACE(cooled[n]);
    const size_t cut = cooled[n].find("|1");
    ASSERT_NE(cut, std::string::npos);
    EXPECT_EQ(cooled[n].substr(0, cut), plain_text[n].substr(0, cut));
    GenerateOptions rest = greedy;
    rest.num_outputs = 1;
    rest.primer = split_symbols(cooled[n].substr(0, cut + 2));
    EXPECT_EQ(join_symbols(generate_melodies(m, rest).front().symbols), cooled[n]);
    differ += cooled[n] != plain_text[n];
  }
  EXPECT_GT(differ, 0);  // the cooled last bar is not what temperature 1.5 drew
  // Without --bars a model without the countdown cannot know its last bars.
  GenerateOptions unknown = two_four(1, 5, 200, 0);
  unknown.beam.cadence_temperature = 0.3;
  EXPECT_THROW(generate_melodies(network(3), unknown), Error);
  unknown.beam.cadence_temperature = std::nan("");
  EXPECT_THROW(generate_melodies(network(3, kCountdownVocab), unknown), Error);
}
