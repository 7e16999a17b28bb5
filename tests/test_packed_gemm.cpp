// The packed product (nn/packed_gemm.cpp) against oracles written here:
//   * the portable product (cblas_sgemm on the row-major matrix, what a build without AVX-512 computes)
//     and a double-precision loop: within a few float epsilons of the sum of |terms|, in every build;
//   * AVX-512 only: the contract that generation's bitwise batch independence rests on (nn/packed_gemm.h):
//     each element of C summed from zero in k order with fused multiply-adds, then C's old value added
//     last. Written here as a scalar std::fma loop, it must agree to the BIT, for every row count 1..17
//     (full 8-row tiles and every remainder kernel), panel widths that cut a register (N mod 32 = 1, 15,
//     16, 17, 31) and the transposed packing. Skipped with a message where the build or the CPU has no
//     AVX-512.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "nn/blas.h"
#include "nn/packed_gemm.h"

namespace {

using melodist::PackedMatrix;

struct Case {
  int M, K, N;
  bool transposed;  // B stored as B^T (N, K)
  bool accumulate;
};

// The shapes: every remainder kernel (M 1..7, 9..15, 17), the 8-row tile, awkward N, K from 1 to 256.
std::vector<Case> cases() {
  std::vector<Case> out;
  const int Ns[] = {1, 15, 16, 17, 31, 32, 33, 64, 97};
  const int Ks[] = {1, 3, 64};
  for (int M = 1; M <= 17; ++M)
    for (int N : Ns)
      for (int K : Ks) out.push_back({M, K, N, (M + N) % 2 == 0, (M + K) % 2 == 1});
  out.push_back({64, 256, 1024, false, true});  // the training step's shape (B 64, H 256)
  out.push_back({8, 1024, 256, true, false});   // the backward's w_h^T
  return out;
}

// Operands with row strides wider than the matrices (lda = K + 3, ldb = width + 5, ldc = N + 2), so a
// kernel that reads or writes past a row shows.
struct Operands {
  int lda, ldb, ldc;
  std::vector<float> A, B, C;  // A (M, lda), B stored (K or N, ldb), C (M, ldc)
};

Operands make_operands(const Case& c, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Operands o;
  o.lda = c.K + 3;
  o.ldb = (c.transposed ? c.K : c.N) + 5;
  o.ldc = c.N + 2;
  o.A.resize(static_cast<size_t>(c.M) * o.lda);
  o.B.resize(static_cast<size_t>(c.transposed ? c.N : c.K) * o.ldb);
  o.C.resize(static_cast<size_t>(c.M) * o.ldc);
  for (float& x : o.A) x = u(rng);
  for (float& x : o.B) x = u(rng);
  for (float& x : o.C) x = u(rng);
  return o;
}

float b_at(const Case& c, const Operands& o, int k, int j) {
  return c.transposed ? o.B[static_cast<size_t>(j) * o.ldb + k] : o.B[static_cast<size_t>(k) * o.ldb + j];
}

std::vector<float> packed_product(const Case& c, const Operands& o) {
  PackedMatrix packed;
  melodist::pack_matrix(o.B.data(), o.ldb, c.transposed, c.K, c.N, packed);
  std::vector<float> C = o.C;
  melodist::gemm_packed(c.M, o.A.data(), o.lda, packed, c.accumulate, C.data(), o.ldc);
  return C;
}

TEST(PackedGemm, AgreesWithThePortableProductAndWithDouble) {
  std::mt19937 rng(11);
  int compared = 0;
  for (const Case& c : cases()) {
    const Operands o = make_operands(c, rng);
    const std::vector<float> got = packed_product(c, o);
    std::vector<float> portable = o.C;  // cblas_sgemm on the stored B, as the build without AVX-512 does
    melodist::gemm(false, c.transposed, c.M, c.N, c.K, 1.0f, o.A.data(), o.lda, o.B.data(), o.ldb, c.accumulate ? 1.0f : 0.0f,
                   portable.data(), o.ldc);
    for (int i = 0; i < c.M; ++i) {
      for (int j = 0; j < o.ldc; ++j) {
        const size_t at = static_cast<size_t>(i) * o.ldc + j;
        if (j >= c.N) {  // the padding between rows is not touched
          ASSERT_EQ(got[at], o.C[at]) << "M " << c.M << " K " << c.K << " N " << c.N << ": wrote past the row at column " << j;
          continue;
        }
        double exact = c.accumulate ? o.C[at] : 0.0, magnitude = std::fabs(exact);
        for (int k = 0; k < c.K; ++k) {
          const double term = static_cast<double>(o.A[static_cast<size_t>(i) * o.lda + k]) * b_at(c, o, k, j);
          exact += term;
          magnitude += std::fabs(term);
        }
        const double tolerance = 4.0 * (c.K + 1) * 1.19e-7 * magnitude + 1e-30;
        ASSERT_NEAR(got[at], exact, tolerance) << "M " << c.M << " K " << c.K << " N " << c.N << " at (" << i << ", " << j << ")";
        ASSERT_NEAR(got[at], portable[at], 2 * tolerance) << "M " << c.M << " K " << c.K << " N " << c.N << " at (" << i << ", " << j << ")";
        ++compared;
      }
    }
  }
  std::printf("%d elements within tolerance of cblas_sgemm and of the double product\n", compared);
}

TEST(PackedGemm, Avx512SumsEachElementInKOrderFromZeroThenAddsC) {
#if !defined(__AVX512F__)
  GTEST_SKIP() << "this build has no AVX-512 (gemm_packed is cblas_sgemm on a row-major copy here): the AVX-512 kernel is "
                  "not compiled, nothing to check bit for bit";
#else
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(12);
  int compared = 0;
  for (const Case& c : cases()) {
    const Operands o = make_operands(c, rng);
    const std::vector<float> got = packed_product(c, o);
    for (int i = 0; i < c.M; ++i)
      for (int j = 0; j < c.N; ++j) {
        float acc = 0.0f;
        for (int k = 0; k < c.K; ++k) acc = std::fma(o.A[static_cast<size_t>(i) * o.lda + k], b_at(c, o, k, j), acc);
        const size_t at = static_cast<size_t>(i) * o.ldc + j;
        const float want = c.accumulate ? acc + o.C[at] : acc;
        ASSERT_EQ(got[at], want) << "M " << c.M << " K " << c.K << " N " << c.N << (c.transposed ? " transposed" : "")
                                 << (c.accumulate ? " accumulate" : "") << " at (" << i << ", " << j << ")";
        ++compared;
      }
  }
  std::printf("%d elements bitwise equal to the k-order fma loop\n", compared);
#endif
}

}  // namespace
