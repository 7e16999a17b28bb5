#pragma once
// The training engine: forward and backward of N stacked LSTM layers -> inverted dropout -> dense ->
// softmax cross-entropy, written for this network (no autograd). One free function template per layer
// and direction over the element type Real, instantiated explicitly for
//   float   training, benchmarks, dynamic evaluation    (melodist::nn::Network = BasicNetwork<float>)
//   double  the finite-difference gradient check         (melodist::nn64::Network = BasicNetwork<double>,
//           tests/test_nn_gradcheck.cpp)
// Definitions, one concept per file: nn/lstm_layer.cpp (the LSTM layer; the cell itself is
// nn/lstm_cell.h, shared with the stateful step), nn/dense_layer.cpp, nn/softmax_xent.cpp,
// nn/dropout.cpp, nn/network.cpp (the whole network over one batch slice).
// Weight layout, gate order (i, f, g, o) and shape legend: nn/model.h. Shape legend: B batch, T steps,
// H hidden, V vocabulary, E layer input width, L layers. Every activation buffer is time-major:
// (T, B, ...), row t*B + b.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "nn/model.h"
#include "nn/packed_gemm.h"

namespace melodist::nn {

// Parameters of Real that are not deduced (the network's element type decides; arguments convert).
template <class Real>
using same_t = std::type_identity_t<Real>;

// ---- LSTM layer (nn/lstm_layer.cpp) --------------------------------------------------------------
// Runs T steps for B sequences from the state (h0, c0). Layer 0 passes `tokens` (T, B) symbol ids and
// x = nullptr: its input product is row `token` of w_x, gathered (exactly one-hot @ w_x). Upper layers
// pass x (T, B, E) and tokens = nullptr. Gate pre-activations are computed and activated in one fused
// pass per step; gates keeps the ACTIVATED i, f, g, o for the backward pass.
// w_h_packed / w_ht_packed: scratch for w_h (and w_h^T) packed once per call for the T step products
// (nn/packed_gemm.h; float only, the double engine calls the BLAS).
template <class Real>
void lstm_forward(const Real* w_x /*(E,4H)*/, const Real* w_h /*(H,4H)*/, const Real* b /*(4H)*/, int E, int H, int T, int B,
                  const int* tokens /*(T,B) or null*/, const Real* x /*(T,B,E) or null*/, const Real* h0 /*(B,H)*/,
                  const Real* c0 /*(B,H)*/, bool hard_sigmoid, Real* gates /*(T,B,4H)*/, Real* c /*(T,B,H)*/, Real* tanh_c /*(T,B,H)*/,
                  Real* h /*(T,B,H)*/, PackedMatrix& w_h_packed /*scratch*/);

// Backpropagation through the T steps (truncated at the window start: no gradient flows into h0, c0).
// dh holds dLoss/dh from above; the parameter gradients are ACCUMULATED into dw_x, dw_h, db; dx (when
// not null) receives dLoss/dx (overwritten).
template <class Real>
void lstm_backward(const Real* w_x /*(E,4H)*/, const Real* w_h /*(H,4H)*/, int E, int H, int T, int B,
                   const int* tokens /*(T,B) or null*/, const Real* x /*(T,B,E) or null*/, const Real* h0 /*(B,H)*/,
                   const Real* c0 /*(B,H)*/, bool hard_sigmoid, const Real* gates /*(T,B,4H)*/, const Real* c /*(T,B,H)*/,
                   const Real* tanh_c /*(T,B,H)*/, const Real* h /*(T,B,H)*/, const Real* dh /*(T,B,H)*/, Real* dgates /*(T,B,4H) scratch*/,
                   Real* dh_next /*(B,H) scratch*/, Real* dc_next /*(B,H) scratch*/, Real* dw_x /*(E,4H)*/, Real* dw_h /*(H,4H)*/,
                   Real* db /*(4H)*/, Real* dx /*(T,B,E) or null*/, PackedMatrix& w_ht_packed /*scratch*/);

// ---- dense layer (nn/dense_layer.cpp) ------------------------------------------------------------
// y (N, V) = x (N, H) @ w (H, V) + bias (V); N = T*B rows.
template <class Real>
void dense_forward(const Real* w /*(H,V)*/, const same_t<Real>* bias /*(V)*/, int H, int V, int N, const same_t<Real>* x /*(N,H)*/,
                   same_t<Real>* y /*(N,V)*/);
// Accumulates dw, dbias; overwrites dx.
template <class Real>
void dense_backward(const Real* w /*(H,V)*/, int H, int V, int N, const same_t<Real>* x /*(N,H)*/, const same_t<Real>* dy /*(N,V)*/,
                    same_t<Real>* dw /*(H,V)*/, same_t<Real>* dbias /*(V)*/, same_t<Real>* dx /*(N,H)*/);

// ---- softmax cross-entropy (nn/softmax_xent.cpp) -------------------------------------------------
// In place: logits (N, V) become probabilities. targets (N): a symbol id, or -1 for a position that is
// not scored. Returns the SUM of -ln p(target) over scored rows; adds the number of scored rows and of
// rows whose most likely symbol is the target to *scored, *correct.
template <class Real>
double softmax_xent_forward(Real* logits /*(N,V) in: logits, out: probabilities*/, const int* targets /*(N)*/, int N, int V,
                            long* scored, long* correct);
// dlogits = scale * weight[n] * (p - onehot(target)) on scored rows, 0 on the others (scale = 1 / scored
// rows of the whole batch, so the loss is the mean; weights: the loss weight of each row's target).
template <class Real>
void softmax_xent_backward(const Real* probs /*(N,V)*/, const int* targets /*(N)*/, const same_t<Real>* weights /*(N)*/, int N, int V,
                           same_t<Real> scale, same_t<Real>* dlogits /*(N,V)*/);

// ---- inverted dropout (nn/dropout.cpp) -----------------------------------------------------------
// mask (N, H) in {0, 1/(1-p)}, drawn from a counter-based hash of (seed, layer, t, global row, j) so
// the mask does not depend on how the batch is split over threads. p = 0 gives all ones.
template <class Real>
void dropout_mask(Real* mask /*(T,B,H)*/, int T, int B, int H, same_t<Real> p, uint64_t seed, int layer, int row_offset);
template <class Real>
void dropout_forward(const Real* x /*(n)*/, const same_t<Real>* mask /*(n)*/, size_t n, same_t<Real>* y /*(n)*/);
template <class Real>
void dropout_backward(const Real* dy /*(n)*/, const same_t<Real>* mask /*(n)*/, size_t n, same_t<Real>* dx /*(n)*/);

// ---- the network (nn/network.cpp) ----------------------------------------------------------------
// Buffers for one batch slice, allocated once (capacity T steps x B rows); a step may use fewer rows.
template <class Real>
struct LayerBuffers {
  std::vector<Real> gates;   // (T, B, 4H) activated i, f, g, o
  std::vector<Real> c;       // (T, B, H) cell state after each step
  std::vector<Real> tanh_c;  // (T, B, H)
  std::vector<Real> h;       // (T, B, H) LSTM output
  std::vector<Real> mask;    // (T, B, H) dropout mask
  std::vector<Real> y;       // (T, B, H) dropout output (input of the layer above / the dense layer)
  std::vector<Real> h0, c0;  // (B, H) state at the window start (zero, or carried by stateful training)
};

template <class Real>
struct BasicNetwork {
  using real = Real;
  ModelConfig config;  // the tensors of a parameter buffer: parameter_views(config, params), nn/model.h
  int V = 0, H = 0, L = 0, T = 0, B = 0;  // B: row capacity
  bool hard_sigmoid = false;
  Real dropout = 0;
  bool fixed_mask = false;  // true: training uses the masks already in layers[l].mask (tests feed PyTorch's)
                            // and in w_h_mask
  // Weight drop (DropConnect on each recurrent matrix, as AWD-LSTM): in a training step every w_h is
  // replaced by w_h * mask, mask in {0, 1/(1-p)} drawn from (seed, layer, index) only, so every row and
  // worker of the step sees the same matrix; the gradient reaches w_h through the same mask.
  Real weight_drop = 0;
  bool weight_dropped = false;     // the last network_forward used dropped matrices (backward follows it)
  std::vector<Real> w_h_mask;         // (L, H, 4H)
  std::vector<Real> w_h_dropped;      // (L, H, 4H) w_h * mask
  std::vector<Real> dw_h_scratch;     // (H, 4H) gradient w.r.t. the dropped matrix
  std::vector<int> tokens;   // (T, B) input ids
  std::vector<int> targets;  // (T, B) target ids, -1 = not scored
  std::vector<Real> target_weights;  // (T, B) loss weight of each target in the gradient (1 but for train --closing-weight)
  std::vector<LayerBuffers<Real>> layers;  // (L)
  std::vector<Real> probs;    // (T, B, V) logits, then probabilities
  std::vector<Real> dlogits;  // (T, B, V)
  std::vector<Real> dy;       // (T, B, H) gradient w.r.t. the current layer's dropout output
  std::vector<Real> dh;       // (T, B, H) gradient w.r.t. the current layer's LSTM output
  std::vector<Real> dgates;   // (T, B, 4H)
  std::vector<Real> dh_next, dc_next;  // (B, H)
  PackedMatrix w_h_packed;   // w_h (H, 4H) packed for the forward step products (float engine only)
  PackedMatrix w_ht_packed;  // w_h^T (4H, H) packed for the backward step products (float engine only)
};

// A network of element type Real for `steps` steps and up to `rows` batch rows (nn::make_network and
// nn64::make_network below name the two precisions).
template <class Real>
BasicNetwork<Real> make_basic_network(const ModelConfig& config, int steps, int rows);
template <class Real>
void reset_state(BasicNetwork<Real>& net);            // h0 = c0 = 0
template <class Real>
void carry_state(BasicNetwork<Real>& net, int rows);  // h0, c0 <- the state after the last step

struct ForwardStats {
  double nats = 0;  // sum of -ln p(target) over scored positions
  long scored = 0;
  long correct = 0;
};
// Forward over net.tokens / net.targets (rows: the batch rows used, T steps). `train` turns dropout on
// (masks from mask_seed, row_offset = global index of this slice's first row).
template <class Real>
ForwardStats network_forward(BasicNetwork<Real>& net, const same_t<Real>* params, int rows, bool train, uint64_t mask_seed, int row_offset);
// Backward after network_forward; ACCUMULATES the gradient of (scale * summed nats) into grads
// (parameter_count elements, same layout as params).
template <class Real>
void network_backward(BasicNetwork<Real>& net, const same_t<Real>* params, int rows, same_t<Real> scale, same_t<Real>* grads);

// The training precision.
using real = float;
using Network = BasicNetwork<float>;
inline Network make_network(const ModelConfig& config, int steps, int rows) { return make_basic_network<float>(config, steps, rows); }

}  // namespace melodist::nn

// The gradient check's precision: the same templates in double.
namespace melodist::nn64 {
using real = double;
using Network = nn::BasicNetwork<double>;
using LayerBuffers = nn::LayerBuffers<double>;
using nn::carry_state;
using nn::ForwardStats;
using nn::network_backward;
using nn::network_forward;
using nn::reset_state;
inline Network make_network(const ModelConfig& config, int steps, int rows) { return nn::make_basic_network<double>(config, steps, rows); }
}  // namespace melodist::nn64
