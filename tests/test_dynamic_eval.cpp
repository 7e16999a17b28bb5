// Dynamic evaluation (evaluate/dynamic_eval.h) against independent oracles:
//  1. PyTorch: tests/fixtures/dynamic_eval/*.json, dumped by tools/dump_dynamic_eval_fixture.py, which
//     implements the definition with torch autograd and SGD in double precision (segment mode with decay
//     and 2 iterations; prefix mode, 2 layers, 3 iterations). Tolerance: 2e-5 absolute on every
//     probability of every scored step (melodist runs float32; H <= 8, about 20 steps, 5-10 updates).
//  2. lr = 0 must give the static scores of score_song (generate/song_score.h, a different engine:
//     model_step), within float rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "evaluate/dynamic_eval.h"
#include "nn/song_score.h"
#include "nn/model.h"
#include "util/error.h"
#include "random_model.h"

using namespace melodist;

namespace {

using melodist_test::vocab_of;

Model random_model(int V, int H, int L, uint64_t seed) {
  return melodist_test::random_model(V, H, L, RecurrentActivation::sigmoid, seed);
}

std::vector<int> random_song(int V, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(1, V - 1);
  std::vector<int> s(n);
  for (int& x : s) x = id(rng);
  return s;
}

TEST(DynamicEval, MatchesPyTorchFixtures) {
  int checked = 0;
  for (const char* name : {"segment_1layer.json", "prefix_2layer.json"}) {
    const std::string path = std::string(MELODIST_FIXTURES_DIR) + "/dynamic_eval/" + name;
    std::ifstream in(path);
    ASSERT_TRUE(in) << "missing fixture " << path << " (run tools/dump_dynamic_eval_fixture.py)";
    const nlohmann::json j = nlohmann::json::parse(in);
    ModelConfig c;
    c.vocab_size = j["vocab_size"];
    c.hidden_size = j["hidden_size"];
    c.num_layers = j["num_layers"];
    Model m = make_model(c, vocab_of(c.vocab_size), 1);
    for (const auto& t : parameter_layout(c)) {
      const std::vector<float> data = j["params"][t.name].get<std::vector<float>>();
      ASSERT_EQ(data.size(), t.size()) << t.name;
      std::copy(data.begin(), data.end(), m.params.begin() + t.offset);
    }
    DynamicEvalOptions o;
    o.lr = j["options"]["lr"];
    o.segment = j["options"]["segment"];
    o.decay = j["options"]["decay"];
    o.iterations = j["options"]["iterations"];
    o.whole_prefix = j["options"]["whole_prefix"];
    const std::vector<int> song = j["song"].get<std::vector<int>>();
    const SongScore s = score_song_dynamic(m, song, /*score_end=*/true, /*keep=*/true, j["delimiter_length"], o);
    const auto& want = j["probabilities"];
    ASSERT_EQ(s.steps(), want.size()) << name;
    ASSERT_EQ(s.steps(), song.size() + 1);
    const int V = c.vocab_size;
    double worst = 0.0, worst_static = 0.0;
    const SongScore fixed = score_song(m, song, true, true, j["delimiter_length"]);
    for (size_t t = 0; t < s.steps(); ++t)
      for (int v = 0; v < V; ++v) {
        const double w = want[t][v].get<double>();
        worst = std::max(worst, std::abs(s.probabilities[t * V + v] - w));
        worst_static = std::max(worst_static, std::abs(fixed.probabilities[t * V + v] - w));
      }
    std::printf("PyTorch fixture %s: worst |p diff| %.3g over %zu steps (static scores differ by up to %.3g)\n", name,
                worst, s.steps(), worst_static);
    EXPECT_LT(worst, 2e-5) << name;
    EXPECT_GT(worst_static, 1e-3) << name << ": the fixture must exercise the updates";
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(DynamicEval, ZeroLearningRateGivesTheStaticScores) {
  const Model m = random_model(7, 12, 2, 5);
  const std::vector<int> song = random_song(7, 40, 6);
  const SongScore fixed = score_song(m, song, true, true, 5);
  for (bool prefix : {false, true})
    for (int segment : {1, 7, 1000}) {
      DynamicEvalOptions o;
      o.segment = segment;
      o.whole_prefix = prefix;
      const SongScore s = score_song_dynamic(m, song, true, true, 5, o);
      ASSERT_EQ(s.steps(), fixed.steps());
      double worst = 0.0;
      for (size_t t = 0; t < s.steps(); ++t) {
        EXPECT_EQ(s.targets[t], fixed.targets[t]);
        worst = std::max(worst, std::abs(s.nats[t] - fixed.nats[t]));
      }
      EXPECT_LT(worst, 1e-5) << "segment " << segment << " prefix " << prefix;
    }
}

TEST(DynamicEval, LearnsAPhraseTheSongRepeats) {
  const Model m = random_model(7, 16, 1, 8);
  const std::vector<int> phrase = random_song(7, 12, 9);
  std::vector<int> song;
  for (int r = 0; r < 5; ++r) song.insert(song.end(), phrase.begin(), phrase.end());
  DynamicEvalOptions o;
  o.lr = 1.0;
  o.segment = 12;
  o.iterations = 3;
  const SongScore fixed = score_song(m, song, false, false, 4);
  const SongScore dynamic = score_song_dynamic(m, song, false, false, 4, o);
  double fixed_last = 0.0, dynamic_last = 0.0, dynamic_first = 0.0, fixed_first = 0.0;
  // The first segment (4 start symbols + 8 song steps) predicts song symbols 1..9 before any update.
  for (size_t t = 0; t < 9; ++t) fixed_first += fixed.nats[t], dynamic_first += dynamic.nats[t];
  for (size_t t = 48; t < 60; ++t) fixed_last += fixed.nats[t], dynamic_last += dynamic.nats[t];
  std::printf("last repetition: %.3f nats static, %.3f dynamic\n", fixed_last, dynamic_last);
  EXPECT_NEAR(dynamic_first, fixed_first, 1e-4);  // nothing learnt before the first update
  EXPECT_LT(dynamic_last, 0.75 * fixed_last);  // 25.6 -> 15.8 nats when written
}

TEST(DynamicEval, ThreadsDoNotChangeTheResult) {
  const Model m = random_model(6, 10, 1, 11);
  std::vector<std::vector<int>> songs;
  for (unsigned i = 0; i < 5; ++i) songs.push_back(random_song(6, 10 + 3 * static_cast<int>(i), 20 + i));
  DynamicEvalOptions o;
  o.lr = 0.3;
  o.segment = 5;
  const auto one = score_songs_dynamic(m, songs, true, true, 3, o, 1);
  const auto two = score_songs_dynamic(m, songs, true, true, 3, o, 2);
  ASSERT_EQ(one.size(), songs.size());
  for (size_t i = 0; i < songs.size(); ++i) {
    EXPECT_EQ(one[i].targets, two[i].targets);
    EXPECT_EQ(one[i].nats, two[i].nats);
    EXPECT_EQ(one[i].argmax, two[i].argmax);
    EXPECT_EQ(one[i].probabilities, two[i].probabilities);
    // ... and each equals scoring the song alone.
    const SongScore alone = score_song_dynamic(m, songs[i], true, true, 3, o);
    EXPECT_EQ(one[i].nats, alone.nats);
  }
}

TEST(DynamicEval, RejectsBadOptions) {
  const Model m = random_model(5, 4, 1, 2);
  auto expect_error = [&](DynamicEvalOptions o, const char* text) {
    try {
      score_song_dynamic(m, {1, 2}, true, false, 2, o);
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  DynamicEvalOptions o;
  o.lr = -0.1;
  expect_error(o, "learning rate");
  o = {};
  o.segment = 0;
  expect_error(o, "segment");
  o = {};
  o.decay = 1.5;
  expect_error(o, "decay");
  o = {};
  o.iterations = 0;
  expect_error(o, "iterations");
  o = {};
  try {
    score_song_dynamic(m, {1, 9}, true, false, 2, o);
    ADD_FAILURE() << "no error for an id outside the vocabulary";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the model's vocabulary"), std::string::npos) << e.what();
  }
}

}  // namespace
