// Products with a pre-packed right operand (see packed_gemm.h for why this is written by hand).
#include "nn/packed_gemm.h"

#include <algorithm>
#include <cstring>

#include "nn/blas.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace melodist {

#if defined(__AVX512F__)

namespace {

constexpr int kPanel = 32;  // columns per panel: two 16-float registers
constexpr int kRows = 8;    // rows per micro-tile: 8 x 2 accumulators

// C tile (MR rows, the panel's 32 columns; masks m0/m1 cut the last panel to N) = A (MR, K) @ panel.
template <int MR>
inline void micro_kernel(int K, const float* A, int lda, const float* panel /*(K,32)*/, bool accumulate, float* C,
                         int ldc, __mmask16 m0, __mmask16 m1) {
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int k = 0; k < K; ++k) {
    const __m512 b0 = _mm512_loadu_ps(panel + static_cast<size_t>(k) * kPanel);
    const __m512 b1 = _mm512_loadu_ps(panel + static_cast<size_t>(k) * kPanel + 16);
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(A[static_cast<size_t>(i) * lda + k]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    float* ci = C + static_cast<size_t>(i) * ldc;
    if (accumulate) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, ci));
      c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, ci + 16));
    }
    _mm512_mask_storeu_ps(ci, m0, c0[i]);
    _mm512_mask_storeu_ps(ci + 16, m1, c1[i]);
  }
}

__mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u); }

}  // namespace

void pack_matrix(const float* B, int ldb, bool transposed, int K, int N, PackedMatrix& out) {
  out.K = K, out.N = N;
  const int panels = (N + kPanel - 1) / kPanel;
  out.data.resize(static_cast<size_t>(panels) * K * kPanel);
  for (int p = 0; p < panels; ++p) {
    float* dst = out.data.data() + static_cast<size_t>(p) * K * kPanel;  // (K, 32)
    const int n0 = p * kPanel, width = std::min(kPanel, N - n0);
    if (!transposed) {
      for (int k = 0; k < K; ++k) {
        float* row = dst + static_cast<size_t>(k) * kPanel;
        std::memcpy(row, B + static_cast<size_t>(k) * ldb + n0, width * sizeof(float));
        std::fill(row + width, row + kPanel, 0.0f);
      }
    } else {
      if (width < kPanel) std::fill(dst, dst + static_cast<size_t>(K) * kPanel, 0.0f);
      for (int j = 0; j < width; ++j) {  // B^T row n0 + j (K floats) becomes column j of the panel
        const float* src = B + static_cast<size_t>(n0 + j) * ldb;
        for (int k = 0; k < K; ++k) dst[static_cast<size_t>(k) * kPanel + j] = src[k];
      }
    }
  }
}

void gemm_packed(int M, const float* A, int lda, const PackedMatrix& B, bool accumulate, float* C, int ldc) {
  const int K = B.K, N = B.N, panels = (N + kPanel - 1) / kPanel;
  // Panel outer, row tiles inner: a panel (K x 32 floats, 32 KiB for K 256) is read from L2 once and
  // serves every row tile from L1.
  for (int p = 0; p < panels; ++p) {
    const float* panel = B.data.data() + static_cast<size_t>(p) * K * kPanel;
    const int n0 = p * kPanel;
    const __mmask16 m0 = lane_mask(N - n0), m1 = lane_mask(N - n0 - 16);
    float* cp = C + n0;
    int i = 0;
    for (; i + kRows <= M; i += kRows)
      micro_kernel<kRows>(K, A + static_cast<size_t>(i) * lda, lda, panel, accumulate, cp + static_cast<size_t>(i) * ldc, ldc, m0, m1);
    const float* a = A + static_cast<size_t>(i) * lda;
    float* c = cp + static_cast<size_t>(i) * ldc;
    switch (M - i) {
      case 7: micro_kernel<7>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      case 6: micro_kernel<6>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      case 5: micro_kernel<5>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      case 4: micro_kernel<4>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      case 3: micro_kernel<3>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      case 2: micro_kernel<2>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      case 1: micro_kernel<1>(K, a, lda, panel, accumulate, c, ldc, m0, m1); break;
      default: break;
    }
  }
}

#else  // no AVX-512: a row-major copy and the BLAS

void pack_matrix(const float* B, int ldb, bool transposed, int K, int N, PackedMatrix& out) {
  out.K = K, out.N = N;
  out.data.resize(static_cast<size_t>(K) * N);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n)
      out.data[static_cast<size_t>(k) * N + n] = transposed ? B[static_cast<size_t>(n) * ldb + k] : B[static_cast<size_t>(k) * ldb + n];
}

void gemm_packed(int M, const float* A, int lda, const PackedMatrix& B, bool accumulate, float* C, int ldc) {
  if (M <= 0) return;
  gemm(false, false, M, B.N, B.K, 1.0f, A, lda, B.data.data(), B.N, accumulate ? 1.0f : 0.0f, C, ldc);
}

#endif

}  // namespace melodist
