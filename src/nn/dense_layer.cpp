// Dense (fully connected) layer of the training engine, forward and backward (shapes: nn/engine.h).
#include <algorithm>
#include <cstddef>

#include "nn/blas.h"
#include "nn/engine.h"

namespace melodist::nn {

template <class Real>
void dense_forward(const Real* w, const same_t<Real>* bias, int H, int V, int N, const same_t<Real>* x, same_t<Real>* y) {
  for (int n = 0; n < N; ++n) std::copy(bias, bias + V, y + static_cast<size_t>(n) * V);
  gemm(false, false, N, V, H, Real(1), x, H, w, V, Real(1), y, V);
}

template <class Real>
void dense_backward(const Real* w, int H, int V, int N, const same_t<Real>* x, const same_t<Real>* dy, same_t<Real>* dw,
                    same_t<Real>* dbias, same_t<Real>* dx) {
  gemm(true, false, H, V, N, Real(1), x, H, dy, V, Real(1), dw, V);     // dw (H, V) += x^T @ dy
  for (int n = 0; n < N; ++n)
    for (int v = 0; v < V; ++v) dbias[v] += dy[static_cast<size_t>(n) * V + v];
  gemm(false, true, N, H, V, Real(1), dy, V, w, V, Real(0), dx, H);     // dx (N, H) = dy @ w^T
}

#define MELODIST_INSTANTIATE(Real)                                                                            \
  template void dense_forward<Real>(const Real*, const Real*, int, int, int, const Real*, Real*);            \
  template void dense_backward<Real>(const Real*, int, int, int, const Real*, const Real*, Real*, Real*, Real*);
MELODIST_INSTANTIATE(float)
MELODIST_INSTANTIATE(double)
#undef MELODIST_INSTANTIATE

}  // namespace melodist::nn
