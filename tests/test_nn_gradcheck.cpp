// Finite-difference gradient check of the training engine in double precision (melodist::nn64, the same
// layer templates as training instantiated for double): EVERY parameter of a 2-layer model, dropout off,
// from a non-zero initial state, with an unscored position; then the same with a fixed dropout mask.
// Central differences with step 1e-6; analytic and numeric gradients must agree to 1e-6 relative
// (max-norm over all parameters) - a wrong sign or a missing term anywhere gives errors near 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "nn/engine.h"
#include "nn/model.h"

namespace {

using melodist::nn64::Network;

struct CheckCase {
  melodist::ModelConfig config;
  int T = 4, B = 3;
  std::vector<double> params;
  Network net;
};

// range: parameters and initial state uniform in (-range, range).
CheckCase make_setup(double dropout_for_mask, melodist::RecurrentActivation activation = melodist::RecurrentActivation::sigmoid,
                     double range = 0.6, uint64_t seed = 42) {
  CheckCase s;
  s.config.vocab_size = 5;
  s.config.hidden_size = 4;
  s.config.num_layers = 2;
  s.config.dropout = 0;
  s.config.recurrent_activation = activation;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-range, range);
  s.params.resize(melodist::parameter_count(s.config));
  for (double& p : s.params) p = u(rng);
  s.net = melodist::nn64::make_network(s.config, s.T, s.B);
  std::uniform_int_distribution<int> sym(0, s.config.vocab_size - 1);
  for (int& t : s.net.tokens) t = sym(rng);
  for (int& t : s.net.targets) t = sym(rng);
  s.net.targets[5] = -1;  // one unscored position
  for (auto& lb : s.net.layers) {
    for (double& x : lb.h0) x = u(rng);
    for (double& x : lb.c0) x = u(rng);
    for (double& x : lb.mask) x = dropout_for_mask > 0 ? (u(rng) > 0 ? 1.0 / (1.0 - dropout_for_mask) : 0.0) : 1.0;
  }
  s.net.fixed_mask = true;
  return s;
}

// The mean weighted loss, sum of target_weights[n] x -ln p(target n) over scored n / scored (the weights are
// 1 but in TwoLayersWeightedTargets), from the probabilities the forward leaves.
double loss_at(CheckCase& s) {
  auto st = melodist::nn64::network_forward(s.net, s.params.data(), s.B, true, 0, 0);
  const int V = s.config.vocab_size;
  double loss = 0;
  for (size_t n = 0; n < s.net.targets.size(); ++n)
    if (s.net.targets[n] >= 0) loss -= s.net.target_weights[n] * std::log(s.net.probs[n * V + s.net.targets[n]]);
  return loss / st.scored;
}

void check(CheckCase& s, const char* label) {
  const size_t P = s.params.size();
  std::vector<double> grads(P, 0.0);
  auto st = melodist::nn64::network_forward(s.net, s.params.data(), s.B, true, 0, 0);
  melodist::nn64::network_backward(s.net, s.params.data(), s.B, 1.0 / st.scored, grads.data());
  const double h = 1e-6;
  double worst = 0, scale = 0;
  size_t at = 0;
  std::vector<double> numeric(P);
  for (size_t i = 0; i < P; ++i) {
    const double saved = s.params[i];
    s.params[i] = saved + h;
    const double up = loss_at(s);
    s.params[i] = saved - h;
    const double down = loss_at(s);
    s.params[i] = saved;
    numeric[i] = (up - down) / (2 * h);
    scale = std::max(scale, std::fabs(numeric[i]));
    const double d = std::fabs(numeric[i] - grads[i]);
    if (d > worst) worst = d, at = i;
  }
  // Per tensor, so a failure names the tensor.
  for (const auto& t : melodist::parameter_layout(s.config)) {
    double tw = 0, nonzero = 0;
    for (size_t i = t.offset; i < t.offset + t.size(); ++i) {
      tw = std::max(tw, std::fabs(numeric[i] - grads[i]));
      nonzero += std::fabs(grads[i]);
    }
    std::printf("  %-12s %4zu params  worst |analytic - numeric| %.3e\n", t.name.c_str(), t.size(), tw);
    EXPECT_LE(tw / scale, 1e-6) << label << ": " << t.name;
    EXPECT_GT(nonzero, 0.0) << label << ": " << t.name << " received no gradient at all";
  }
  std::printf("%s: %zu parameters, worst |diff| %.3e at %zu (analytic %.10g, numeric %.10g), relative %.3e\n", label, P,
              worst, at, grads[at], numeric[at], worst / scale);
  EXPECT_LE(worst / scale, 1e-6);
}

TEST(NnGradcheck, TwoLayersNoDropoutEveryParameter) {
  CheckCase s = make_setup(0.0);
  check(s, "2 layers, dropout off");
}

TEST(NnGradcheck, TwoLayersFixedDropoutMask) {
  CheckCase s = make_setup(0.3);
  check(s, "2 layers, fixed dropout mask");
}

// Per-target loss weights (train --closing-weight): the gradient is that of the weighted mean loss.
TEST(NnGradcheck, TwoLayersWeightedTargets) {
  CheckCase s = make_setup(0.3);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.25, 4);
  for (double& w : s.net.target_weights) w = u(rng);
  check(s, "2 layers, fixed dropout mask, weighted targets");
}

// Weight drop: each layer's w_h multiplied by a fixed {0, 1/(1-p)} mask; the gradient must reach the raw
// w_h through the mask (entries whose mask is 0 get exactly 0, the others the scaled gradient).
TEST(NnGradcheck, TwoLayersFixedWeightDropMask) {
  CheckCase s = make_setup(0.3);
  s.net.weight_drop = 0.4;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  int dropped = 0;
  for (double& m : s.net.w_h_mask) {
    m = u(rng) < 0.4 ? 0.0 : 1.0 / 0.6;
    dropped += m == 0;
  }
  ASSERT_GT(dropped, 0);
  check(s, "2 layers, fixed dropout and weight-drop masks");
  // The dropped entries of w_h receive no gradient, and the loss differs from the undropped network.
  std::vector<double> grads(s.params.size(), 0.0);
  auto st = melodist::nn64::network_forward(s.net, s.params.data(), s.B, true, 0, 0);
  melodist::nn64::network_backward(s.net, s.params.data(), s.B, 1.0 / st.scored, grads.data());
  const size_t HG = 4 * 4 * 4;
  const auto g = melodist::parameter_views(s.config, grads.data());
  for (int l = 0; l < 2; ++l)
    for (size_t i = 0; i < HG; ++i) {
      if (s.net.w_h_mask[l * HG + i] == 0) {
        EXPECT_EQ(g.lstm[l].w_h[i], 0.0);
      }
    }
  s.net.weight_drop = 0;
  EXPECT_GT(std::fabs(loss_at(s) - st.nats / st.scored), 1e-6);
}

// The Keras import path: hard_sigmoid gates, clip(0.2 x + 0.5, 0, 1), whose derivative is 0.2 inside
// (-2.5, 2.5) and 0 where the gate saturates. The weights are drawn wide enough that both happen, so
// both branches of the backward are checked; a gate within 1e-3 of a kink (where the central
// difference would straddle it and measure neither slope) would make the check meaningless, so the
// setup asserts there is none.
TEST(NnGradcheck, TwoLayersHardSigmoidEveryParameter) {
  CheckCase s = make_setup(0.0, melodist::RecurrentActivation::hard_sigmoid, 1.5);
  ASSERT_TRUE(s.net.hard_sigmoid);
  melodist::nn64::network_forward(s.net, s.params.data(), s.B, true, 0, 0);
  const int H = s.config.hidden_size;
  int saturated = 0, inside = 0;
  for (const auto& lb : s.net.layers)
    for (size_t n = 0; n < lb.gates.size(); ++n) {
      if (static_cast<int>(n % (4 * H)) / H == 2) continue;  // g is tanh
      const double y = lb.gates[n];  // the activated gate
      if (y == 0.0 || y == 1.0) {
        ++saturated;
      } else {
        ASSERT_GT(std::min(y, 1.0 - y), 0.2 * 1e-3) << "a gate pre-activation lies within 1e-3 of a kink: pick another seed";
        ++inside;
      }
    }
  std::printf("hard_sigmoid gates: %d saturated, %d inside (0, 1)\n", saturated, inside);
  ASSERT_GT(saturated, 10);
  ASSERT_GT(inside, 10);
  check(s, "2 layers, hard_sigmoid, dropout off");
}

}  // namespace
