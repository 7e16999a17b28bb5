// Stateful stepping (nn/lstm_step) against two independent oracles:
//  1. a plain double-precision full-sequence LSTM written here from the equations (not from the kernel),
//     re-run over the whole prefix for every position (the reference's method);
//  2. PyTorch: tests/fixtures/lstm_step/*.json, dumped by tools/dump_lstm_step_fixture.py
//     (torch.nn.LSTM for sigmoid; the same cell written with torch ops for Keras's hard_sigmoid).
// Tolerance: 2e-5 absolute on logits (float32 kernel vs float64/float32 oracle, H <= 16, T <= 40).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "nn/lstm_step.h"
#include "nn/model.h"
#include "util/error.h"
#include "random_model.h"

using namespace melodist;

namespace {

using melodist_test::random_model;
using melodist_test::vocab_of;

// Full-sequence forward in double from the equations; returns logits (T, V) for every position.
std::vector<double> reference_forward(const Model& m, const std::vector<int>& tokens) {
  const int V = m.config.vocab_size, H = m.config.hidden_size, L = m.config.num_layers;
  const auto layout = parameter_layout(m.config);
  auto t = [&](const std::string& name) {
    for (const auto& ti : layout)
      if (ti.name == name) return m.params.data() + ti.offset;
    return static_cast<const float*>(nullptr);
  };
  auto act = [&](double x) {
    if (m.config.recurrent_activation == RecurrentActivation::sigmoid) return 1.0 / (1.0 + std::exp(-x));
    return std::min(1.0, std::max(0.0, 0.2 * x + 0.5));
  };
  std::vector<std::vector<double>> h(L, std::vector<double>(H, 0.0)), c(L, std::vector<double>(H, 0.0));
  std::vector<double> out;
  for (int tok : tokens) {
    std::vector<double> x(V, 0.0);
    x[tok] = 1.0;  // one-hot input, as the reference feeds it
    for (int l = 0; l < L; ++l) {
      const int E = l == 0 ? V : H;
      const float* wx = t("lstm." + std::to_string(l) + ".w_x");
      const float* wh = t("lstm." + std::to_string(l) + ".w_h");
      const float* b = t("lstm." + std::to_string(l) + ".b");
      std::vector<double> a(4 * H);
      for (int j = 0; j < 4 * H; ++j) {
        double s = b[j];
        for (int e = 0; e < E; ++e) s += x[e] * wx[e * 4 * H + j];
        for (int k = 0; k < H; ++k) s += h[l][k] * wh[k * 4 * H + j];
        a[j] = s;
      }
      for (int j = 0; j < H; ++j) {
        const double i = act(a[j]), f = act(a[H + j]), g = std::tanh(a[2 * H + j]), o = act(a[3 * H + j]);
        c[l][j] = f * c[l][j] + i * g;
        h[l][j] = o * std::tanh(c[l][j]);
      }
      x = h[l];
    }
    const float* wy = t("dense.w_y");
    const float* by = t("dense.b_y");
    for (int v = 0; v < V; ++v) {
      double s = by[v];
      for (int k = 0; k < H; ++k) s += h[L - 1][k] * wy[k * V + v];
      out.push_back(s);
    }
  }
  return out;
}

void expect_stepping_matches_reference(RecurrentActivation act, int L) {
  const int V = 9, H = 13, T = 40;
  Model m = random_model(V, H, L, act, 7 + L);
  std::mt19937 rng(3);
  std::vector<int> tokens(T);
  for (int& x : tokens) x = static_cast<int>(rng() % V);
  StepState s = make_step_state(m, 1);
  std::vector<float> logits(V);
  double worst = 0.0;
  for (int t = 0; t < T; ++t) {
    model_step(m, &tokens[t], s, logits.data());
    // The reference re-runs the whole prefix 0..t from a zero state for every position.
    std::vector<int> prefix(tokens.begin(), tokens.begin() + t + 1);
    std::vector<double> ref = reference_forward(m, prefix);
    for (int v = 0; v < V; ++v) worst = std::max(worst, std::abs(logits[v] - ref[static_cast<size_t>(t) * V + v]));
  }
  std::printf("stateful vs full-sequence re-run (%s, %d layers): worst |logit diff| %.3g\n", to_string(act).c_str(), L, worst);
  EXPECT_LT(worst, 2e-5);
}

}  // namespace

TEST(LstmStep, StatefulEqualsFullSequenceSigmoid1Layer) { expect_stepping_matches_reference(RecurrentActivation::sigmoid, 1); }
TEST(LstmStep, StatefulEqualsFullSequenceSigmoid2Layers) { expect_stepping_matches_reference(RecurrentActivation::sigmoid, 2); }
TEST(LstmStep, StatefulEqualsFullSequenceHardSigmoid2Layers) { expect_stepping_matches_reference(RecurrentActivation::hard_sigmoid, 2); }

TEST(LstmStep, BatchRowsEqualBatchOne) {
  // Each row of a batch must be exactly (bitwise) what batch 1 gives: generate --num-outputs and
  // score_songs rely on it. Odd sizes cover the kernel's row blocks and remainders.
  const int V = 11, H = 37, B = 19, T = 12;
  Model m = random_model(V, H, 2, RecurrentActivation::sigmoid, 5);
  std::mt19937 rng(9);
  std::vector<int> tokens(static_cast<size_t>(T) * B);
  for (int& x : tokens) x = static_cast<int>(rng() % V);
  StepState batch = make_step_state(m, B);
  std::vector<StepState> singles(B, make_step_state(m, 1));
  std::vector<float> lb(static_cast<size_t>(B) * V), l1(V);
  for (int t = 0; t < T; ++t) {
    model_step(m, tokens.data() + static_cast<size_t>(t) * B, batch, lb.data());
    for (int b = 0; b < B; ++b) {
      model_step(m, &tokens[static_cast<size_t>(t) * B + b], singles[b], l1.data());
      for (int v = 0; v < V; ++v) ASSERT_EQ(l1[v], lb[static_cast<size_t>(b) * V + v]) << "t " << t << " row " << b << " v " << v;
    }
  }
}

TEST(LstmStep, LargeBatchSameOnOneAndTwoThreads) {
  // 70 rows: a 64-row block plus a remainder, split 40/30 between the caller and the helper thread
  // (max_threads 2) or all on the caller (max_threads 1); every row must equal batch 1 bitwise.
  const int V = 11, H = 37, B = 70, T = 4;
  Model m = random_model(V, H, 2, RecurrentActivation::hard_sigmoid, 6);
  std::mt19937 rng(4);
  std::vector<int> tokens(static_cast<size_t>(T) * B);
  for (int& x : tokens) x = static_cast<int>(rng() % V);
  StepState two = make_step_state(m, B);
  StepState one = make_step_state(two, B);  // shares the packed weights
  one.max_threads = 1;
  ASSERT_EQ(one.weights, two.weights);
  StepState single = make_step_state(m, 1);
  std::vector<StepState> singles(B, single);
  std::vector<float> l2(static_cast<size_t>(B) * V), l1(static_cast<size_t>(B) * V), ls(V);
  for (int t = 0; t < T; ++t) {
    model_step(m, tokens.data() + static_cast<size_t>(t) * B, two, l2.data());
    model_step(m, tokens.data() + static_cast<size_t>(t) * B, one, l1.data());
    for (size_t i = 0; i < l1.size(); ++i) ASSERT_EQ(l1[i], l2[i]) << "t " << t << " index " << i;
    for (int b = 0; b < B; ++b) {
      model_step(m, &tokens[static_cast<size_t>(t) * B + b], singles[b], ls.data());
      for (int v = 0; v < V; ++v) ASSERT_EQ(ls[v], l2[static_cast<size_t>(b) * V + v]) << "t " << t << " row " << b;
    }
  }
  EXPECT_EQ(one.h, two.h);
  EXPECT_EQ(one.c, two.c);
}

TEST(LstmStep, StateKeepsTheWeightsItWasMadeWith) {
  // The packed weights are a snapshot: changing model.params afterwards does not reach an existing
  // state (training makes new states after each epoch); a new state sees the change.
  const int V = 7, H = 9;
  Model m = random_model(V, H, 1, RecurrentActivation::sigmoid, 3);
  const Model original = m;
  StepState old_state = make_step_state(m, 1);
  StepState reference = make_step_state(original, 1);
  for (float& p : m.params) p *= 0.5f;
  StepState new_state = make_step_state(m, 1);
  std::vector<float> a(V), b(V), c(V);
  for (int tok : {0, 3, 6, 2}) {
    model_step(m, &tok, old_state, a.data());
    model_step(original, &tok, reference, b.data());
    model_step(m, &tok, new_state, c.data());
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  }
}

TEST(LstmStep, HiddenSizeNotMultipleOfFourAndDefaultSize) {
  // H = 256, V = 38 (the default model) against the reference for a few steps.
  Model m = random_model(38, 256, 1, RecurrentActivation::sigmoid, 11);
  for (float& p : m.params) p *= 0.2f;  // keep pre-activations in a realistic range
  std::vector<int> tokens = {0, 0, 5, 7, 1, 30, 37, 2};
  StepState s = make_step_state(m, 1);
  std::vector<float> logits(38);
  std::vector<double> ref = reference_forward(m, tokens);
  double worst = 0.0;
  for (size_t t = 0; t < tokens.size(); ++t) {
    model_step(m, &tokens[t], s, logits.data());
    for (int v = 0; v < 38; ++v) worst = std::max(worst, std::abs(logits[v] - ref[t * 38 + v]));
  }
  std::printf("H 256 V 38: worst |logit diff| %.3g\n", worst);
  EXPECT_LT(worst, 1e-4);
}

TEST(LstmStep, RejectsOutOfRangeTokenAndWrongState) {
  Model m = random_model(5, 4, 1, RecurrentActivation::sigmoid, 1);
  StepState s = make_step_state(m, 1);
  std::vector<float> logits(5);
  int bad = 5;
  EXPECT_THROW(model_step(m, &bad, s, logits.data()), melodist::Error);
  bad = -1;
  EXPECT_THROW(model_step(m, &bad, s, logits.data()), melodist::Error);
  StepState other = make_step_state(random_model(5, 6, 1, RecurrentActivation::sigmoid, 1), 1);
  int ok = 1;
  EXPECT_THROW(model_step(m, &ok, other, logits.data()), melodist::Error);
  // Same shape, other parameter buffer (a copy of the model): refused, the state holds m's weights.
  const Model copy = m;
  EXPECT_THROW(model_step(copy, &ok, s, logits.data()), melodist::Error);
  StepState empty;  // never made by make_step_state
  EXPECT_THROW(model_step(m, &ok, empty, logits.data()), melodist::Error);
  EXPECT_NO_THROW(model_step(m, &ok, s, logits.data()));
}

TEST(LstmStep, SoftmaxIsStableAndNormalised) {
  std::vector<float> row = {1000.0f, 999.0f, -1000.0f, 998.0f};
  softmax_inplace(row.data(), 4);
  const double z = 1.0 + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_NEAR(row[0], 1.0 / z, 1e-6);
  EXPECT_NEAR(row[1], std::exp(-1.0) / z, 1e-6);
  EXPECT_EQ(row[2], 0.0f);
  EXPECT_NEAR(row[3], std::exp(-2.0) / z, 1e-6);
}

// PyTorch fixtures: {"vocab_size","hidden_size","num_layers","recurrent_activation",
//  "params": {name: flat floats in melodist layout}, "tokens": [...], "logits": [[V] per step]}
TEST(LstmStep, MatchesPyTorchFixtures) {
  int checked = 0;
  for (const char* name : {"sigmoid_2layer.json", "hard_sigmoid_1layer.json"}) {
    const std::string path = std::string(MELODIST_FIXTURES_DIR) + "/lstm_step/" + name;
    std::ifstream in(path);
    ASSERT_TRUE(in) << "missing fixture " << path << " (run tools/dump_lstm_step_fixture.py)";
    nlohmann::json j = nlohmann::json::parse(in);
    ModelConfig c;
    c.vocab_size = j["vocab_size"];
    c.hidden_size = j["hidden_size"];
    c.num_layers = j["num_layers"];
    c.recurrent_activation = parse_recurrent_activation(j["recurrent_activation"]);
    Model m = make_model(c, vocab_of(c.vocab_size), 1);
    for (const auto& t : parameter_layout(c)) {
      std::vector<float> data = j["params"][t.name].get<std::vector<float>>();
      ASSERT_EQ(data.size(), t.size()) << t.name;
      std::copy(data.begin(), data.end(), m.params.begin() + t.offset);
    }
    std::vector<int> tokens = j["tokens"].get<std::vector<int>>();
    StepState s = make_step_state(m, 1);
    std::vector<float> logits(c.vocab_size);
    double worst = 0.0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      model_step(m, &tokens[t], s, logits.data());
      std::vector<float> want = j["logits"][t].get<std::vector<float>>();
      for (int v = 0; v < c.vocab_size; ++v) worst = std::max(worst, static_cast<double>(std::abs(logits[v] - want[v])));
    }
    std::printf("PyTorch fixture %s: worst |logit diff| %.3g over %zu steps\n", name, worst, tokens.size());
    EXPECT_LT(worst, 2e-5) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}
