// score_song / score_songs: the one definition of validation loss, checked on a hand-built model.
//
// The hand-built model is a bigram table P (prev symbol -> next symbol) written as an LSTM with
// hard_sigmoid gates, whose values are exact: H = V units, unit k remembers "the last input was k".
//   bias: a_i = -5, a_f = -5, a_g = 0, a_o = +5      -> i = 0, f = 0, o = 1 (hard_sigmoid saturates)
//   w_x row k: a_i[k] += 10, a_g[k] += 20            -> for input k: i[k] = 1, g[k] = tanh(20) = 1
//   so c = one-hot(k), h = tanh(1) * one-hot(k); w_h = 0.
//   w_y[k, v] = ln P[k][v] / tanh(1), b_y = 0          -> softmax(logits) = P[k] (rows of P sum to 1)
// Hence -ln p(song) = -sum ln P[prev][next] over the scored transitions, computed here by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "nn/song_score.h"
#include "nn/model.h"
#include "util/error.h"

using namespace melodist;

namespace {

// Vocabulary ids: 0 "/", 1 "60", 2 "62", 3 "_".
const double P[4][4] = {
    {0.10, 0.60, 0.20, 0.10},  // after "/"
    {0.05, 0.15, 0.30, 0.50},  // after "60"
    {0.40, 0.25, 0.05, 0.30},  // after "62"
    {0.20, 0.30, 0.30, 0.20},  // after "_"
};

Model bigram_model() {
  ModelConfig c;
  c.vocab_size = 4;
  c.hidden_size = 4;
  c.num_layers = 1;
  c.recurrent_activation = RecurrentActivation::hard_sigmoid;
  Model m = make_model(c, {"/", "60", "62", "_"}, 1);
  std::fill(m.params.begin(), m.params.end(), 0.0f);
  ParameterViews p = parameter_views(c, m.params.data());
  const int H = 4;
  for (int j = 0; j < H; ++j) {
    p.lstm[0].b[j] = -5.0f;          // i
    p.lstm[0].b[H + j] = -5.0f;      // f
    p.lstm[0].b[3 * H + j] = 5.0f;   // o
  }
  for (int k = 0; k < 4; ++k) {
    p.lstm[0].w_x[k * 4 * H + k] = 10.0f;          // i[k]
    p.lstm[0].w_x[k * 4 * H + 2 * H + k] = 20.0f;  // g[k]
  }
  for (int k = 0; k < 4; ++k)
    for (int v = 0; v < 4; ++v) p.w_y[k * 4 + v] = static_cast<float>(std::log(P[k][v]) / std::tanh(1.0));
  return m;
}

}  // namespace

TEST(SongScore, HandComputedBigramWithEnd) {
  Model m = bigram_model();
  // song "60 _ 62" + closing "/": transitions / -> 60, 60 -> _, _ -> 62, 62 -> /
  SongScore s = score_song(m, {1, 3, 2}, /*score_end=*/true, /*keep_probabilities=*/true);
  const double want[] = {-std::log(0.60), -std::log(0.50), -std::log(0.30), -std::log(0.40)};
  ASSERT_EQ(s.steps(), 4u);
  EXPECT_EQ(s.targets, (std::vector<int>{1, 3, 2, 0}));
  for (int t = 0; t < 4; ++t) EXPECT_NEAR(s.nats[t], want[t], 1e-5) << "step " << t;
  EXPECT_NEAR(s.total_nats(), want[0] + want[1] + want[2] + want[3], 2e-5);
  // argmax: after "/" -> 60, after 60 -> _, after _ -> 60 (first of the tie 0.30/0.30), after 62 -> /
  EXPECT_EQ(s.argmax[0], 1);
  EXPECT_EQ(s.argmax[1], 3);
  EXPECT_EQ(s.argmax[3], 0);
  ASSERT_EQ(s.probabilities.size(), 16u);
  for (int v = 0; v < 4; ++v) EXPECT_NEAR(s.probabilities[2 * 4 + v], P[3][v], 1e-5);  // step 2 follows "_"
}

TEST(SongScore, WithoutEndAndEmptySong) {
  Model m = bigram_model();
  SongScore s = score_song(m, {1, 3, 2}, /*score_end=*/false);
  ASSERT_EQ(s.steps(), 3u);
  EXPECT_NEAR(s.total_nats(), -std::log(0.60) - std::log(0.50) - std::log(0.30), 2e-5);
  SongScore empty_end = score_song(m, {}, true);
  ASSERT_EQ(empty_end.steps(), 1u);  // only the "/" after the start symbols
  EXPECT_NEAR(empty_end.nats[0], -std::log(0.10), 1e-5);
  EXPECT_EQ(score_song(m, {}, false).steps(), 0u);
}

TEST(SongScore, BatchedEqualsOneByOne) {
  // A random 2-layer model (history matters) and songs of many lengths: score_songs with threads must
  // give exactly what score_song gives for each song.
  ModelConfig c;
  c.vocab_size = 6;
  c.hidden_size = 9;
  c.num_layers = 2;
  Model m = make_model(c, {"/", "r", "_", "60", "62", "64"}, 3);
  std::mt19937 rng(4);
  std::vector<std::vector<int>> songs;
  for (int n = 0; n < 70; ++n) {
    std::vector<int> song(rng() % 30);
    for (int& x : song) x = 1 + static_cast<int>(rng() % 5);
    songs.push_back(song);
  }
  std::vector<SongScore> batched = score_songs(m, songs, true, false, 64, 2);
  ASSERT_EQ(batched.size(), songs.size());
  for (size_t i = 0; i < songs.size(); ++i) {
    SongScore one = score_song(m, songs[i], true);
    ASSERT_EQ(one.nats, batched[i].nats) << "song " << i;
    ASSERT_EQ(one.targets, batched[i].targets);
    ASSERT_EQ(one.argmax, batched[i].argmax);
  }
}

TEST(SongScore, StartSymbolsMatter) {
  // With a model that has memory the number of start symbols changes the score; 64 is the default.
  ModelConfig c;
  c.vocab_size = 4;
  c.hidden_size = 8;
  Model m = make_model(c, {"/", "60", "62", "_"}, 8);
  EXPECT_NE(score_song(m, {1, 2}, true, false, 1).total_nats(), score_song(m, {1, 2}, true).total_nats());
  EXPECT_EQ(score_song(m, {1, 2}, true, false, 64).total_nats(), score_song(m, {1, 2}, true).total_nats());
}

TEST(SongScore, Errors) {
  Model m = bigram_model();
  EXPECT_THROW(score_song(m, {1, 9}, true), Error);
  ModelConfig c;
  c.vocab_size = 2;
  c.hidden_size = 2;
  Model no_delim = make_model(c, {"60", "_"}, 1);
  EXPECT_THROW(score_song(no_delim, {0, 1}, true), Error);
}
