// The LSTM layer of the training engine, forward and backward over T steps (declarations and shapes:
// nn/engine.h; the cell: nn/lstm_cell.h). Instantiated for float (training) and double (gradient check).
#include <algorithm>
#include <cstddef>

#include "nn/blas.h"
#include "nn/engine.h"
#include "nn/lstm_cell.h"

namespace melodist::nn {

namespace {

// The T step products all reuse w_h. In float it is packed once per call and multiplied by the packed
// kernel (nn/packed_gemm.h: BLAS would re-pack it on each of the T calls); the double engine (gradient
// check only) calls the BLAS on the stored matrix. step_product: C (M, N) = [C +] A (M, K) @ op(w), op(w)
// = w (stored (K, N)) or w^T (stored (N, K)), ldw the stored row stride.
inline void pack_step_weight(const float* w, int ldw, bool transposed, int K, int N, PackedMatrix& packed) {
  pack_matrix(w, ldw, transposed, K, N, packed);
}
inline void pack_step_weight(const double*, int, bool, int, int, PackedMatrix&) {}
inline void step_product(int M, int /*N*/, int /*K*/, const float* A, int lda, const float* /*w*/, int /*ldw*/, bool /*transposed*/,
                         const PackedMatrix& packed, bool accumulate, float* C, int ldc) {
  gemm_packed(M, A, lda, packed, accumulate, C, ldc);
}
inline void step_product(int M, int N, int K, const double* A, int lda, const double* w, int ldw, bool transposed,
                         const PackedMatrix& /*packed*/, bool accumulate, double* C, int ldc) {
  gemm(false, transposed, M, N, K, 1.0, A, lda, w, ldw, accumulate ? 1.0 : 0.0, C, ldc);
}

}  // namespace

template <class Real>
void lstm_forward(const Real* w_x, const Real* w_h, const Real* b, int E, int H, int T, int B, const int* tokens, const Real* x,
                  const Real* h0, const Real* c0, bool hard_sigmoid, Real* gates, Real* c, Real* tanh_c, Real* h,
                  PackedMatrix& w_h_packed) {
  const int G = 4 * H;
  pack_step_weight(w_h, G, false, H, G, w_h_packed);
  // Input contribution for all T*B rows at once: gates (T*B, 4H) = x @ w_x + b, or gathered rows.
  if (tokens) {
    for (int n = 0; n < T * B; ++n) {
      const Real* row = w_x + static_cast<size_t>(tokens[n]) * G;  // (4H)
      Real* a = gates + static_cast<size_t>(n) * G;                 // (4H)
      for (int j = 0; j < G; ++j) a[j] = row[j] + b[j];
    }
  } else {
    for (int n = 0; n < T * B; ++n) std::copy(b, b + G, gates + static_cast<size_t>(n) * G);
    gemm(false, false, T * B, G, E, Real(1), x, E, w_x, G, Real(1), gates, G);
  }
  for (int t = 0; t < T; ++t) {
    Real* a = gates + static_cast<size_t>(t) * B * G;                          // (B, 4H)
    const Real* h_prev = t == 0 ? h0 : h + static_cast<size_t>(t - 1) * B * H;  // (B, H)
    const Real* c_prev = t == 0 ? c0 : c + static_cast<size_t>(t - 1) * B * H;  // (B, H)
    step_product(B, G, H, h_prev, H, w_h, G, false, w_h_packed, true, a, G);  // a (B, 4H) += h_prev @ w_h
    // Fused gate nonlinearities and cell update, row by row: the row stays in L1.
    for (int r = 0; r < B; ++r) {
      const size_t o = (static_cast<size_t>(t) * B + r) * H;
      lstm_cell_forward(a + static_cast<size_t>(r) * G, c_prev + static_cast<size_t>(r) * H, c + o, tanh_c + o, h + o, H,
                        hard_sigmoid);
    }
  }
}

template <class Real>
void lstm_backward(const Real* w_x, const Real* w_h, int E, int H, int T, int B, const int* tokens, const Real* x,
                   const Real* h0, const Real* c0, bool hard_sigmoid, const Real* gates, const Real* c, const Real* tanh_c,
                   const Real* h, const Real* dh, Real* dgates, Real* dh_next, Real* dc_next, Real* dw_x, Real* dw_h,
                   Real* db, Real* dx, PackedMatrix& w_ht_packed) {
  const int G = 4 * H;
  pack_step_weight(w_h, G, true, G, H, w_ht_packed);
  std::fill(dh_next, dh_next + static_cast<size_t>(B) * H, Real(0));
  std::fill(dc_next, dc_next + static_cast<size_t>(B) * H, Real(0));
  for (int t = T - 1; t >= 0; --t) {
    const Real* c_prev = t == 0 ? c0 : c + static_cast<size_t>(t - 1) * B * H;  // (B, H)
    for (int r = 0; r < B; ++r) {
      const size_t o = (static_cast<size_t>(t) * B + r) * H;
      const Real* ar = gates + (static_cast<size_t>(t) * B + r) * G;  // (4H) activated i, f, g, o
      Real* dar = dgates + (static_cast<size_t>(t) * B + r) * G;      // (4H)
      lstm_cell_backward(ar, ar + H, ar + 2 * H, ar + 3 * H, c_prev + static_cast<size_t>(r) * H, tanh_c + o, dh + o,
                         dh_next + static_cast<size_t>(r) * H, dar, dar + H, dar + 2 * H, dar + 3 * H,
                         dc_next + static_cast<size_t>(r) * H, H, hard_sigmoid);
    }
    // dh_next (B, H) = dgates[t] (B, 4H) @ w_h^T: the gradient reaching h_{t-1}.
    if (t > 0) step_product(B, H, G, dgates + static_cast<size_t>(t) * B * G, G, w_h, G, true, w_ht_packed, false, dh_next, H);
  }
  // Weight gradients as whole-window products (K = T*B), not T small ones.
  // dw_h (H, 4H) += h0^T @ dgates[0] + h[0..T-2]^T @ dgates[1..T-1]
  gemm(true, false, H, G, B, Real(1), h0, H, dgates, G, Real(1), dw_h, G);
  if (T > 1) gemm(true, false, H, G, (T - 1) * B, Real(1), h, H, dgates + static_cast<size_t>(B) * G, G, Real(1), dw_h, G);
  for (int n = 0; n < T * B; ++n) {
    const Real* da = dgates + static_cast<size_t>(n) * G;
    for (int j = 0; j < G; ++j) db[j] += da[j];
  }
  if (tokens) {
    // Layer 0: the gathered rows receive their gradient back (scatter-add).
    for (int n = 0; n < T * B; ++n) {
      const Real* da = dgates + static_cast<size_t>(n) * G;
      Real* row = dw_x + static_cast<size_t>(tokens[n]) * G;
      for (int j = 0; j < G; ++j) row[j] += da[j];
    }
  } else {
    gemm(true, false, E, G, T * B, Real(1), x, E, dgates, G, Real(1), dw_x, G);  // dw_x (E, 4H) += x^T @ dgates
    if (dx) gemm(false, true, T * B, E, G, Real(1), dgates, G, w_x, G, Real(0), dx, E);  // dx (T*B, E)
  }
}

#define MELODIST_INSTANTIATE(Real)                                                                                          \
  template void lstm_forward<Real>(const Real*, const Real*, const Real*, int, int, int, int, const int*, const Real*,      \
                                   const Real*, const Real*, bool, Real*, Real*, Real*, Real*, PackedMatrix&);              \
  template void lstm_backward<Real>(const Real*, const Real*, int, int, int, int, const int*, const Real*, const Real*,      \
                                    const Real*, bool, const Real*, const Real*, const Real*, const Real*, const Real*,    \
                                    Real*, Real*, Real*, Real*, Real*, Real*, Real*, PackedMatrix&);
MELODIST_INSTANTIATE(float)
MELODIST_INSTANTIATE(double)
#undef MELODIST_INSTANTIATE

}  // namespace melodist::nn
