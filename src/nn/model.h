#pragma once
// The melodist network: N stacked LSTM layers -> dropout -> dense -> softmax over the vocabulary.
//
// Shape legend (used in every shape comment under src/nn, src/train, src/generate):
//   B batch, T steps, H hidden units, V vocabulary size, L layers,
//   E input width of a layer (V for layer 0, whose input is a symbol id; H for layers above).
//
// Weight layout (written down here, where weights live, as RTNeural does):
//   * Gates are ordered i, f, g, o (input, forget, cell candidate, output) along the 4H axis,
//     the order PyTorch and Keras both use (Keras calls g "c").
//   * w_x is (E, 4H) row-major: row e holds the contribution of input e to all 4H gate
//     pre-activations. For layer 0 the input is one-hot, so x_t @ w_x is row `symbol` of w_x:
//     training and inference gather that row instead of multiplying. This is Keras's `kernel`
//     layout as stored; PyTorch's weight_ih_l{k} is its transpose, (4H, E).
//   * w_h is (H, 4H) row-major: Keras's `recurrent_kernel`; PyTorch's weight_hh_l{k} transposed.
//   * b is (4H): ONE summed bias. PyTorch keeps two (bias_ih + bias_hh); loading from PyTorch sums
//     them, saving for PyTorch puts the sum in bias_ih and zeros in bias_hh. Keras has one bias.
//   * w_y is (H, V) (Keras Dense `kernel`; PyTorch Linear.weight transposed), b_y is (V).
//   * The cell: i = act(a_i), f = act(a_f), g = tanh(a_g), o = act(a_o), c' = f*c + i*g,
//     h' = o*tanh(c'), where act is the recurrent activation: sigmoid (PyTorch, tf.keras >= 2.0
//     defaults) or hard_sigmoid(x) = clip(0.2 x + 0.5, 0, 1) (Keras 2.2.4's default).
//
// All parameters live in ONE contiguous float buffer, in the order
//   lstm.0.w_x, lstm.0.w_h, lstm.0.b, lstm.1.w_x, ..., dense.w_y, dense.b_y
// with named views into it; gradients and Adam moments mirror the same layout.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace melodist {

// The song delimiter every model's vocabulary holds: songs are separated by runs of it, and scoring and
// generation start from the state after a run of it (the text encoding, formats/text_encoding.h, writes it).
inline constexpr const char* kDelimiterSymbol = "/";
inline constexpr int kDefaultDelimiterLength = 64;

enum class RecurrentActivation { sigmoid, hard_sigmoid };
std::string to_string(RecurrentActivation activation);            // "sigmoid" / "hard_sigmoid"
RecurrentActivation parse_recurrent_activation(const std::string& text);  // throws melodist::Error

struct ModelConfig {
  int vocab_size = 0;     // V
  int hidden_size = 256;  // H
  int num_layers = 1;     // L
  float dropout = 0.2f;   // inverted dropout on each LSTM output, training only
  RecurrentActivation recurrent_activation = RecurrentActivation::sigmoid;
};

// Named views of one layer's tensors in a buffer of T (float: parameters, gradients, Adam moments;
// double: the gradient check's engine; const T: read-only views).
template <class T>
struct LstmLayerViewOf {
  T* w_x;  // (E, 4H)
  T* w_h;  // (H, 4H)
  T* b;    // (4H)
  int input_size;  // E
};

// THE parameter views, for every precision (the training engine takes its tensors from these too).
template <class T>
struct ParameterViewsOf {
  std::vector<LstmLayerViewOf<T>> lstm;  // L layers, bottom first
  T* w_y;  // (H, V)
  T* b_y;  // (V)
};

using LstmLayerView = LstmLayerViewOf<float>;
using ParameterViews = ParameterViewsOf<float>;

// Named tensors of the layout above, in buffer order: name, shape, offset (floats).
struct TensorInfo {
  std::string name;           // "lstm.0.w_x", "lstm.0.w_h", "lstm.0.b", ..., "dense.w_y", "dense.b_y"
  std::vector<size_t> shape;
  size_t offset;
  size_t size() const;
};
std::vector<TensorInfo> parameter_layout(const ModelConfig& config);
size_t parameter_count(const ModelConfig& config);
// Views into any buffer of parameter_count elements (parameters, gradients, Adam moments), float or
// double, const or not: parameter_views(config, float*) is a ParameterViews.
template <class T>
ParameterViewsOf<T> parameter_views(const ModelConfig& config, T* base) {
  ParameterViewsOf<T> v;
  const auto layout = parameter_layout(config);
  size_t k = 0;
  for (int l = 0; l < config.num_layers; ++l) {
    LstmLayerViewOf<T> lv;
    lv.w_x = base + layout[k++].offset;
    lv.w_h = base + layout[k++].offset;
    lv.b = base + layout[k++].offset;
    lv.input_size = l == 0 ? config.vocab_size : config.hidden_size;
    v.lstm.push_back(lv);
  }
  v.w_y = base + layout[k++].offset;
  v.b_y = base + layout[k++].offset;
  return v;
}

// The network alone; what a model file carries beside it (its training, preprocessing, origin) is
// formats/model_file.h ModelFile.
struct Model {
  ModelConfig config;
  std::vector<std::string> vocabulary;  // id -> symbol; mapping.json is its inverse
  std::vector<float> params;            // (parameter_count(config)) in the layout above

  int symbol_id(const std::string& symbol) const;  // -1 when not in the vocabulary
};

// Xavier-uniform weights, zero biases except forget-gate bias 1 (the Keras unit_forget_bias default);
// deterministic for a seed.
Model make_model(const ModelConfig& config, std::vector<std::string> vocabulary, uint64_t seed);

}  // namespace melodist
