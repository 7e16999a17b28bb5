#pragma once
// Small models with every parameter random (test_lstm_step.cpp, test_dynamic_eval.cpp): make_model
// leaves biases at 0/1, so the parameters are redrawn uniformly in [-0.6, 0.6] and every weight matters.
// Vocabulary: id 0 is "/", id i > 0 is the MIDI number 60 + i.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nn/model.h"

namespace melodist_test {

inline std::vector<std::string> vocab_of(int V) {
  std::vector<std::string> v;
  for (int i = 0; i < V; ++i) v.push_back(i == 0 ? "/" : std::to_string(60 + i));
  return v;
}

inline melodist::Model random_model(int V, int H, int L, melodist::RecurrentActivation act, uint64_t seed) {
  melodist::ModelConfig c;
  c.vocab_size = V;
  c.hidden_size = H;
  c.num_layers = L;
  c.recurrent_activation = act;
  melodist::Model m = melodist::make_model(c, vocab_of(V), seed);
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::uniform_real_distribution<float> u(-0.6f, 0.6f);
  for (float& p : m.params) p = u(rng);
  return m;
}

}  // namespace melodist_test
