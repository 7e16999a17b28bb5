#include "nn/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "util/error.h"

namespace melodist {

std::string to_string(RecurrentActivation activation) {
  return activation == RecurrentActivation::sigmoid ? "sigmoid" : "hard_sigmoid";
}

RecurrentActivation parse_recurrent_activation(const std::string& text) {
  if (text == "sigmoid") return RecurrentActivation::sigmoid;
  if (text == "hard_sigmoid") return RecurrentActivation::hard_sigmoid;
  throw Error("unknown recurrent activation \"" + text + "\" (melodist supports sigmoid and hard_sigmoid)");
}

size_t TensorInfo::size() const {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

std::vector<TensorInfo> parameter_layout(const ModelConfig& c) {
  const size_t H = c.hidden_size, V = c.vocab_size;
  std::vector<TensorInfo> out;
  size_t offset = 0;
  auto add = [&](std::string name, std::vector<size_t> shape) {
    TensorInfo t{std::move(name), std::move(shape), offset};
    offset += t.size();
    out.push_back(std::move(t));
  };
  for (int l = 0; l < c.num_layers; ++l) {
    const size_t E = l == 0 ? V : H;
    std::string p = "lstm." + std::to_string(l) + ".";
    add(p + "w_x", {E, 4 * H});
    add(p + "w_h", {H, 4 * H});
    add(p + "b", {4 * H});
  }
  add("dense.w_y", {H, V});
  add("dense.b_y", {V});
  return out;
}

size_t parameter_count(const ModelConfig& c) {
  auto layout = parameter_layout(c);
  return layout.back().offset + layout.back().size();
}

int Model::symbol_id(const std::string& symbol) const {
  for (size_t i = 0; i < vocabulary.size(); ++i)
    if (vocabulary[i] == symbol) return static_cast<int>(i);
  return -1;
}

Model make_model(const ModelConfig& config, std::vector<std::string> vocabulary, uint64_t seed) {
  if (config.vocab_size != static_cast<int>(vocabulary.size())) throw Error("vocabulary size does not match the model configuration");
  if (config.hidden_size <= 0 || config.num_layers <= 0) throw Error("hidden size and layer count must be positive");
  Model m;
  m.config = config;
  m.vocabulary = std::move(vocabulary);
  m.params.assign(parameter_count(config), 0.0f);
  std::mt19937_64 rng(seed);
  for (const auto& t : parameter_layout(config)) {
    float* p = m.params.data() + t.offset;
    if (t.shape.size() == 2) {
      // Xavier (Glorot) uniform over the matrix as Keras initialises `kernel`.
      const double limit = std::sqrt(6.0 / static_cast<double>(t.shape[0] + t.shape[1]));
      std::uniform_real_distribution<double> u(-limit, limit);
      for (size_t i = 0; i < t.size(); ++i) p[i] = static_cast<float>(u(rng));
    } else if (t.name.ends_with(".b")) {
      const size_t H = config.hidden_size;
      for (size_t i = H; i < 2 * H; ++i) p[i] = 1.0f;  // forget gate (i, f, g, o order)
    }
  }
  return m;
}

}  // namespace melodist
