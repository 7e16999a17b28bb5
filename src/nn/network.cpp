// The whole network of the training engine, forward and backward over one batch slice (declarations:
// nn/engine.h). The tensors of a parameter or gradient buffer come from parameter_views (nn/model.h).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "nn/engine.h"
#include "util/splitmix64.h"

namespace melodist::nn {

template <class Real>
BasicNetwork<Real> make_basic_network(const ModelConfig& config, int T, int B) {
  BasicNetwork<Real> net;
  net.config = config;
  net.V = config.vocab_size, net.H = config.hidden_size, net.L = config.num_layers, net.T = T, net.B = B;
  net.hard_sigmoid = config.recurrent_activation == RecurrentActivation::hard_sigmoid;
  net.dropout = static_cast<Real>(config.dropout);
  const size_t TB = static_cast<size_t>(T) * B, H = net.H;
  net.tokens.assign(TB, 0);
  net.targets.assign(TB, -1);
  net.target_weights.assign(TB, Real(1));
  net.layers.resize(net.L);
  for (auto& lb : net.layers) {
    lb.gates.assign(TB * 4 * H, 0);
    lb.c.assign(TB * H, 0);
    lb.tanh_c.assign(TB * H, 0);
    lb.h.assign(TB * H, 0);
    lb.mask.assign(TB * H, 1);
    lb.y.assign(TB * H, 0);
    lb.h0.assign(B * H, 0);
    lb.c0.assign(B * H, 0);
  }
  net.probs.assign(TB * net.V, 0);
  net.dlogits.assign(TB * net.V, 0);
  net.dy.assign(TB * H, 0);
  net.dh.assign(TB * H, 0);
  net.dgates.assign(TB * 4 * H, 0);
  net.dh_next.assign(B * H, 0);
  const size_t HG = H * 4 * H;
  net.w_h_mask.assign(net.L * HG, 1);
  net.w_h_dropped.assign(net.L * HG, 0);
  net.dw_h_scratch.assign(HG, 0);
  net.dc_next.assign(B * H, 0);
  return net;
}

template <class Real>
void reset_state(BasicNetwork<Real>& net) {
  for (auto& lb : net.layers) {
    std::fill(lb.h0.begin(), lb.h0.end(), Real(0));
    std::fill(lb.c0.begin(), lb.c0.end(), Real(0));
  }
}

template <class Real>
void carry_state(BasicNetwork<Real>& net, int rows) {
  const size_t last = static_cast<size_t>(net.T - 1) * rows * net.H, n = static_cast<size_t>(rows) * net.H;
  for (auto& lb : net.layers) {
    std::copy(lb.h.begin() + last, lb.h.begin() + last + n, lb.h0.begin());
    std::copy(lb.c.begin() + last, lb.c.begin() + last + n, lb.c0.begin());
  }
}

template <class Real>
ForwardStats network_forward(BasicNetwork<Real>& net, const same_t<Real>* params, int rows, bool train, uint64_t mask_seed,
                             int row_offset) {
  const int T = net.T, H = net.H, V = net.V;
  const size_t n = static_cast<size_t>(T) * rows * H;
  const ParameterViewsOf<const Real> p = parameter_views(net.config, params);
  const Real* below = nullptr;  // (T, rows, E) input of the current layer; null for layer 0
  const size_t HG = static_cast<size_t>(H) * 4 * H;
  net.weight_dropped = train && net.weight_drop > 0;
  for (int l = 0; l < net.L; ++l) {
    LayerBuffers<Real>& lb = net.layers[l];
    const int E = l == 0 ? V : H;
    const Real* w_h = p.lstm[l].w_h;  // (H, 4H)
    if (net.weight_dropped) {
      Real* mask = net.w_h_mask.data() + l * HG;  // (H, 4H)
      // One draw per step and layer: the seed is the step's (shared by all workers), row offset 0.
      if (!net.fixed_mask)
        dropout_mask(mask, 1, 1, static_cast<int>(HG), net.weight_drop, splitmix64_mix(mask_seed ^ 0x3e16u), l, 0);
      dropout_forward(w_h, mask, HG, net.w_h_dropped.data() + l * HG);
      w_h = net.w_h_dropped.data() + l * HG;
    }
    lstm_forward(p.lstm[l].w_x, w_h, p.lstm[l].b, E, H, T, rows, l == 0 ? net.tokens.data() : nullptr, below, lb.h0.data(),
                 lb.c0.data(), net.hard_sigmoid, lb.gates.data(), lb.c.data(), lb.tanh_c.data(), lb.h.data(), net.w_h_packed);
    if (train && net.fixed_mask) {
      dropout_forward(lb.h.data(), lb.mask.data(), n, lb.y.data());
    } else if (train && net.dropout > 0) {
      dropout_mask(lb.mask.data(), T, rows, H, net.dropout, mask_seed, l, row_offset);
      dropout_forward(lb.h.data(), lb.mask.data(), n, lb.y.data());
    } else {
      std::fill(lb.mask.begin(), lb.mask.begin() + n, Real(1));
      std::copy(lb.h.begin(), lb.h.begin() + n, lb.y.begin());
    }
    below = lb.y.data();
  }
  dense_forward(p.w_y, p.b_y, H, V, T * rows, below, net.probs.data());
  ForwardStats s;
  s.nats = softmax_xent_forward(net.probs.data(), net.targets.data(), T * rows, V, &s.scored, &s.correct);
  return s;
}

template <class Real>
void network_backward(BasicNetwork<Real>& net, const same_t<Real>* params, int rows, same_t<Real> scale, same_t<Real>* grads) {
  const int T = net.T, H = net.H, V = net.V;
  const size_t n = static_cast<size_t>(T) * rows * H;
  const ParameterViewsOf<const Real> p = parameter_views(net.config, params);
  const ParameterViewsOf<Real> g = parameter_views(net.config, grads);
  softmax_xent_backward(net.probs.data(), net.targets.data(), net.target_weights.data(), T * rows, V, scale, net.dlogits.data());
  dense_backward(p.w_y, H, V, T * rows, net.layers[net.L - 1].y.data(), net.dlogits.data(), g.w_y, g.b_y, net.dy.data());
  for (int l = net.L - 1; l >= 0; --l) {
    LayerBuffers<Real>& lb = net.layers[l];
    const int E = l == 0 ? V : H;
    dropout_backward(net.dy.data(), lb.mask.data(), n, net.dh.data());
    const size_t HG = static_cast<size_t>(H) * 4 * H;
    const Real* w_h = net.weight_dropped ? net.w_h_dropped.data() + l * HG : p.lstm[l].w_h;  // (H, 4H)
    Real* dw_h = g.lstm[l].w_h;  // (H, 4H)
    if (net.weight_dropped) {
      std::fill(net.dw_h_scratch.begin(), net.dw_h_scratch.end(), Real(0));
      dw_h = net.dw_h_scratch.data();
    }
    // dx of this layer is the gradient w.r.t. the dropout output of the layer below: written to dy.
    lstm_backward(p.lstm[l].w_x, w_h, E, H, T, rows, l == 0 ? net.tokens.data() : nullptr,
                  l == 0 ? nullptr : net.layers[l - 1].y.data(), lb.h0.data(), lb.c0.data(), net.hard_sigmoid, lb.gates.data(),
                  lb.c.data(), lb.tanh_c.data(), lb.h.data(), net.dh.data(), net.dgates.data(), net.dh_next.data(),
                  net.dc_next.data(), g.lstm[l].w_x, dw_h, g.lstm[l].b, l == 0 ? nullptr : net.dy.data(), net.w_ht_packed);
    if (net.weight_dropped) {  // d loss / d w_h = d loss / d dropped * mask
      const Real* mask = net.w_h_mask.data() + l * HG;
      Real* gw = g.lstm[l].w_h;
      for (size_t i = 0; i < HG; ++i) gw[i] += net.dw_h_scratch[i] * mask[i];
    }
  }
}

#define MELODIST_INSTANTIATE(Real)                                                                           \
  template BasicNetwork<Real> make_basic_network<Real>(const ModelConfig&, int, int);                        \
  template void reset_state<Real>(BasicNetwork<Real>&);                                                      \
  template void carry_state<Real>(BasicNetwork<Real>&, int);                                                 \
  template ForwardStats network_forward<Real>(BasicNetwork<Real>&, const Real*, int, bool, uint64_t, int);   \
  template void network_backward<Real>(BasicNetwork<Real>&, const Real*, int, Real, Real*);
MELODIST_INSTANTIATE(float)
MELODIST_INSTANTIATE(double)
#undef MELODIST_INSTANTIATE

}  // namespace melodist::nn
