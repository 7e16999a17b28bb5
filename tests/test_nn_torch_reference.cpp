// The training engine against PyTorch (tools/torch_reference_lstm.py -> fixtures/nn/torch_reference.json):
// logits, loss, every parameter gradient, and 10 clipped Keras-Adam steps, for a 2-layer model with a
// fixed dropout mask and a carried initial state, a 1-layer model, and the many-to-one objective.
// Tolerance: relative error <= 1e-4 in float32, measured per tensor as max|ours - torch| / max|torch|.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/adam.h"
#include "nn/engine.h"
#include "nn/grad_clip.h"
#include "nn/model.h"

namespace {

using nlohmann::json;
constexpr double kTolerance = 1e-4;

json load_fixture() {
  std::ifstream in(std::string(MELODIST_FIXTURES_DIR) + "/nn/torch_reference.json");
  if (!in) throw std::runtime_error("missing fixture tests/fixtures/nn/torch_reference.json");
  return json::parse(in);
}

// Max-norm relative error; prints the worst element. Returns the error.
double compare(const std::string& what, const float* ours, const std::vector<double>& ref) {
  double worst = 0, scale = 1e-30;
  size_t at = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    scale = std::max(scale, std::fabs(ref[i]));
    double d = std::fabs(static_cast<double>(ours[i]) - ref[i]);
    if (d > worst) worst = d, at = i;
  }
  const double rel = worst / scale;
  std::printf("  %-44s %6zu values  worst |diff| %.3e at [%zu] (ours %.8g, torch %.8g)  relative %.3e\n", what.c_str(),
              ref.size(), worst, at, ref.empty() ? 0.0 : ours[at], ref.empty() ? 0.0 : ref[at], rel);
  EXPECT_LE(rel, kTolerance) << what << ": relative error " << rel << " at element " << at;
  return rel;
}

struct Case {
  melodist::ModelConfig config;
  int B, T;
  json j;
};

void load_inputs(const Case& c, melodist::nn::Network& net, std::vector<float>& params) {
  const auto& j = c.j;
  for (const auto& t : melodist::parameter_layout(c.config)) {
    auto values = j["params"][t.name].get<std::vector<float>>();
    ASSERT_EQ(values.size(), t.size()) << t.name;
    std::copy(values.begin(), values.end(), params.begin() + t.offset);
  }
  auto tokens = j["tokens"].get<std::vector<int>>();
  auto targets = j["targets"].get<std::vector<int>>();
  std::copy(tokens.begin(), tokens.end(), net.tokens.begin());
  std::copy(targets.begin(), targets.end(), net.targets.begin());
  auto h0 = j["h0"].get<std::vector<float>>(), c0 = j["c0"].get<std::vector<float>>(), mask = j["mask"].get<std::vector<float>>();
  const size_t BH = static_cast<size_t>(c.B) * c.config.hidden_size, TBH = BH * c.T;
  for (int l = 0; l < c.config.num_layers; ++l) {
    std::copy(h0.begin() + l * BH, h0.begin() + (l + 1) * BH, net.layers[l].h0.begin());
    std::copy(c0.begin() + l * BH, c0.begin() + (l + 1) * BH, net.layers[l].c0.begin());
    std::copy(mask.begin() + l * TBH, mask.begin() + (l + 1) * TBH, net.layers[l].mask.begin());
  }
  net.fixed_mask = true;  // the masks above (all ones without dropout)
}

void run_case(const json& j) {
  Case c;
  c.j = j;
  c.config.vocab_size = j["V"];
  c.config.hidden_size = j["H"];
  c.config.num_layers = j["L"];
  c.config.dropout = j["dropout"];
  c.B = j["B"];
  c.T = j["T"];
  std::printf("case %s (V %d, H %d, L %d, B %d, T %d, dropout %.2f, objective %s)\n", j["name"].get<std::string>().c_str(),
              c.config.vocab_size, c.config.hidden_size, c.config.num_layers, c.B, c.T, c.config.dropout,
              j["objective"].get<std::string>().c_str());
  const size_t P = melodist::parameter_count(c.config);
  std::vector<float> params(P), grads(P, 0.0f);
  auto net = melodist::nn::make_network(c.config, c.T, c.B);
  load_inputs(c, net, params);

  auto stats = melodist::nn::network_forward(net, params.data(), c.B, true, 0, 0);
  ASSERT_GT(stats.scored, 0);
  const double loss = stats.nats / stats.scored;
  const double ref_loss = j["loss"];
  std::printf("  loss ours %.8f torch %.8f\n", loss, ref_loss);
  EXPECT_LE(std::fabs(loss - ref_loss) / std::fabs(ref_loss), kTolerance);

  // Logits: the dense layer on the top layer's dropout output (the forward pass keeps probabilities).
  std::vector<float> logits(static_cast<size_t>(c.T) * c.B * c.config.vocab_size);  // (T, B, V)
  auto views = melodist::parameter_views(c.config, params.data());
  melodist::nn::dense_forward(views.w_y, views.b_y, c.config.hidden_size, c.config.vocab_size, c.T * c.B,
                              net.layers.back().y.data(), logits.data());
  compare("logits", logits.data(), j["logits"].get<std::vector<double>>());

  melodist::nn::network_backward(net, params.data(), c.B, 1.0f / stats.scored, grads.data());
  for (const auto& t : melodist::parameter_layout(c.config))
    compare("grad " + t.name, grads.data() + t.offset, j["grads"][t.name].get<std::vector<double>>());

  // 10 Adam steps with clipping by global norm.
  const auto& adam = j["adam"];
  melodist::AdamConfig ac;
  ac.lr = adam["lr"];
  const float clip = adam["clip"];
  std::vector<float> m(P, 0.0f), v(P, 0.0f);
  auto ref_losses = adam["losses"].get<std::vector<double>>();
  std::vector<float> losses;
  for (int step = 1; step <= 10; ++step) {
    std::fill(grads.begin(), grads.end(), 0.0f);
    auto s = melodist::nn::network_forward(net, params.data(), c.B, true, 0, 0);
    losses.push_back(static_cast<float>(s.nats / s.scored));
    melodist::nn::network_backward(net, params.data(), c.B, 1.0f / s.scored, grads.data());
    double norm = melodist::global_norm(grads.data(), P);
    melodist::clip_by_global_norm(grads.data(), P, clip, norm);
    melodist::adam_update(params.data(), grads.data(), m.data(), v.data(), P, ac, step);
  }
  compare("adam: losses of 10 steps", losses.data(), ref_losses);
  EXPECT_LT(ref_losses.back(), ref_losses.front());  // the oracle itself learned something
  for (const auto& t : melodist::parameter_layout(c.config))
    compare("adam: " + t.name + " after 10 steps", params.data() + t.offset,
            adam["params_after"][t.name].get<std::vector<double>>());
}

TEST(NnTorchReference, EveryCaseMatchesPyTorch) {
  json doc = load_fixture();
  ASSERT_GE(doc["cases"].size(), 3u);
  for (const auto& j : doc["cases"]) run_case(j);
}

}  // namespace
