// Issue 21 (6): --steps is bounded and a generation that never ends costs time linear in its length.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "generate/generator.h"
#include "random_model.h"
#include "util/error.h"

namespace {

// A model that (almost) never chooses "/": its output bias for id 0 is -100.
melodist::Model endless_model() {
  melodist::Model m = melodist_test::random_model(5, 8, 1, melodist::RecurrentActivation::sigmoid, 3);
  for (const auto& t : melodist::parameter_layout(m.config))
    if (t.name == "dense.b_y") m.params[t.offset + 0] = -100.0f;
  return m;
}

TEST(GenerateLimits, AMillionStepsOfAModelThatNeverEndsFinish) {
  // With the beam's symbols copied every step this took hours (quadratic); with the back-pointer
  // tree it is a few seconds. The test's own timeout (CTest) is the failure.
  melodist::GenerateOptions o;
  o.beam.max_steps = melodist::kMaxGenerateSteps;
  o.beam.seed = 11;
  const auto out = melodist::generate_melodies(endless_model(), o);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ended);
  EXPECT_EQ(out[0].generated_steps, static_cast<size_t>(melodist::kMaxGenerateSteps));
  EXPECT_EQ(out[0].symbols.size(), static_cast<size_t>(melodist::kMaxGenerateSteps));
}

TEST(GenerateLimits, BeamResultsCarryTheirOwnSymbolsAndLogLikelihood) {
  // The back pointers reconstruct each kept beam: the same options give the same symbols, and each
  // result's log-likelihood is the sum of ln p over its own symbols (scored again from the start),
  // so a wrong back pointer (symbols of another beam) fails.
  melodist::GenerateOptions o;
  o.beam.max_steps = 40;
  o.beam.beam_size = 4;
  o.beam.branch_factor = 3;
  o.num_outputs = 3;
  o.beam.seed = 5;
  const melodist::Model m = endless_model();
  const auto a = melodist::generate_melodies(m, o), b = melodist::generate_melodies(m, o);
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].symbols, b[i].symbols);
    EXPECT_EQ(a[i].symbols.size(), 40u);
    // Re-score: greedy steps through the model with the melody as input.
    melodist::StepState st = melodist::make_step_state(m, 1);
    std::vector<float> logits(m.config.vocab_size);
    const int slash = 0;
    for (int t = 0; t < o.delimiter_length; ++t) melodist::model_step(m, &slash, st, logits.data());
    double ll = 0;
    for (const auto& s : a[i].symbols) {
      const int id = m.symbol_id(s);
      double mx = logits[0], z = 0;
      for (float v : logits) mx = std::max<double>(mx, v);
      for (float v : logits) z += std::exp(v - mx);
      ll += logits[id] - mx - std::log(z);
      melodist::model_step(m, &id, st, logits.data());
    }
    EXPECT_NEAR(ll, a[i].log_likelihood, 1e-3 * std::abs(ll) + 1e-3);
  }
}

TEST(GenerateLimits, StepsAboveTheBoundAreRefused) {
  melodist::GenerateOptions o;
  o.beam.max_steps = melodist::kMaxGenerateSteps + 1;
  try {
    melodist::generate_melodies(endless_model(), o);
    FAIL() << "accepted --steps above the bound";
  } catch (const melodist::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--steps must be from 0 to 1000000"), std::string::npos) << e.what();
  }
  // The CLI says the same before loading anything.
  const std::string cmd = std::string(MELODIST_BINARY) + " generate --steps 100000000 --out /tmp/melodist-never.txt 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << out;
  EXPECT_NE(out.find("--steps must be from 0 to 1000000"), std::string::npos) << out;
}

}  // namespace
