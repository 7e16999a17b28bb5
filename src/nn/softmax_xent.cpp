// Softmax cross-entropy of the training engine, forward and backward (shapes: nn/engine.h). The
// softmax here is the engine's own: in the training precision with exp_fast (nn/lstm_cell.h), fused
// with the loss; the double-precision softmax and log-sum-exp of scoring and sampling are nn/softmax.h.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "nn/engine.h"
#include "nn/lstm_cell.h"
#include "nn/softmax.h"

namespace melodist::nn {

template <class Real>
double softmax_xent_forward(Real* logits, const int* targets, int N, int V, long* scored, long* correct) {
  double nats = 0;
  for (int n = 0; n < N; ++n) {
    Real* row = logits + static_cast<size_t>(n) * V;  // (V)
    const RowMax<Real> top = row_max(row, V);
    const Real max = top.value;
    Real sum = 0;
    for (int v = 0; v < V; ++v) sum += (row[v] = exp_fast(row[v] - max));
    const Real inv = Real(1) / sum;
    const int target = targets[n];
    if (target >= 0) {
      // -ln p = ln(sum) - (logit - max), computed before normalising (exact for tiny p).
      nats += std::log(static_cast<double>(sum)) - std::log(static_cast<double>(row[target]));
      ++*scored;
      if (top.index == target) ++*correct;
    }
    for (int v = 0; v < V; ++v) row[v] *= inv;
  }
  return nats;
}

template <class Real>
void softmax_xent_backward(const Real* probs, const int* targets, const same_t<Real>* weights, int N, int V, same_t<Real> scale,
                           same_t<Real>* dlogits) {
  for (int n = 0; n < N; ++n) {
    const Real* p = probs + static_cast<size_t>(n) * V;
    Real* d = dlogits + static_cast<size_t>(n) * V;
    const int target = targets[n];
    if (target < 0) {
      std::fill(d, d + V, Real(0));
      continue;
    }
    const Real s = scale * weights[n];
    for (int v = 0; v < V; ++v) d[v] = s * p[v];
    d[target] -= s;
  }
}

#define MELODIST_INSTANTIATE(Real)                                                           \
  template double softmax_xent_forward<Real>(Real*, const int*, int, int, long*, long*);     \
  template void softmax_xent_backward<Real>(const Real*, const int*, const Real*, int, int, Real, Real*);
MELODIST_INSTANTIATE(float)
MELODIST_INSTANTIATE(double)
#undef MELODIST_INSTANTIATE

}  // namespace melodist::nn
