// Ensembles (evaluate/ensemble.h): the mixture of members' distributions against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "evaluate/ensemble.h"
#include "util/error.h"

using namespace melodist;

namespace {

SongScore score_of(std::vector<int> targets, std::vector<float> probabilities) {
  SongScore s;
  s.targets = std::move(targets);
  s.probabilities = std::move(probabilities);
  for (size_t t = 0; t < s.targets.size(); ++t) {
    s.nats.push_back(-std::log(s.probabilities[t * 3 + s.targets[t]]));
    s.argmax.push_back(0);
  }
  return s;
}

TEST(Ensemble, MixtureIsTheMeanOfTheDistributions) {
  // Step 1, target 1: (0.5, 0.25, 0.25) and (0.1, 0.6, 0.3) mix to (0.3, 0.425, 0.275).
  // Step 2, target 2: (0.2, 0.2, 0.6) and (0.6, 0.2, 0.2) mix to (0.4, 0.2, 0.4); argmax: the first 0.4.
  const SongScore a = score_of({1, 2}, {0.5f, 0.25f, 0.25f, 0.2f, 0.2f, 0.6f});
  const SongScore b = score_of({1, 2}, {0.1f, 0.6f, 0.3f, 0.6f, 0.2f, 0.2f});
  const SongScore m = mix_song_scores({a, b}, 3);
  ASSERT_EQ(m.steps(), 2u);
  EXPECT_NEAR(m.nats[0], -std::log(0.425), 1e-6);
  EXPECT_NEAR(m.nats[1], -std::log(0.4), 1e-6);
  EXPECT_EQ(m.argmax[0], 1);
  EXPECT_EQ(m.argmax[1], 0);
  EXPECT_NEAR(m.probabilities[0], 0.3f, 1e-7);
  EXPECT_NEAR(m.probabilities[5], 0.4f, 1e-7);
  // The mixture's code length is at most the mean of the members' (the log is concave).
  EXPECT_LE(m.total_nats(), 0.5 * (a.total_nats() + b.total_nats()));
}

TEST(Ensemble, RefusesMembersThatDisagree) {
  const SongScore a = score_of({1}, {0.5f, 0.25f, 0.25f});
  const SongScore b = score_of({2}, {0.1f, 0.6f, 0.3f});
  EXPECT_THROW(mix_song_scores({a, b}, 3), Error);
  SongScore no_probabilities = a;
  no_probabilities.probabilities.clear();
  EXPECT_THROW(mix_song_scores({a, no_probabilities}, 3), Error);
  Model x, y;
  x.vocabulary = {"/", "60"};
  y.vocabulary = {"/", "62"};
  try {
    check_ensemble({x, y}, {"dir-x", "dir-y"});
    ADD_FAILURE() << "no error for different vocabularies";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dir-y: its vocabulary differs"), std::string::npos) << e.what();
  }
}

}  // namespace
