#pragma once
// C (M, N) = [C +] A (M, K) @ B (K, N), with B packed ONCE into column panels and then used for many
// products: the recurrent weight w_h in each of the T steps of lstm_forward (B = w_h, (H, 4H)) and of
// lstm_backward (B = w_h^T, (4H, H)), and in every generation step.
//
// Why by hand and not BLAS: sgemm packs both operands on every call. In training the same 1 MiB w_h
// is multiplied 128 times per batch (64 steps forward, 64 backward) by only 32-64 rows, and OpenBLAS's
// re-packing of it took 17% of a training step's cycles (perf, bench_train 1 worker); the CBLAS
// interface has no way to keep a packed operand between calls (MKL's cblas_sgemm_pack does, but MKL is
// not in Debian main; OpenBLAS and BLIS do not expose one). The kernel below is the textbook register-
// blocked micro-kernel (Goto/BLIS): an 8-row x 32-column tile of C in 16 AVX-512 registers, one
// broadcast of A and two panel loads per k. Without AVX-512 the "packed" matrix is a plain copy and the
// product goes to cblas_sgemm, so every build computes the same thing.
//
// With AVX-512, each element is summed in k order from zero and C is added last (accumulate), whatever
// M is and whichever row tile the row falls in: a row's result does not depend on the other rows. The
// BLAS fallback does not promise that, so generation (nn/lstm_step.cpp), which needs output i of a batch
// to be bitwise output i generated alone, has its own row-by-row loop for builds without AVX-512.
#include <vector>

namespace melodist {

struct PackedMatrix {
  int K = 0, N = 0;          // the logical B is (K, N)
  std::vector<float> data;   // AVX-512: (ceil(N/32), K, 32) panels, zero padded; otherwise (K, N) row-major
};

// B stored row-major as (K, N) with row stride ldb, or, when `transposed`, stored as (N, K) (B^T) with
// row stride ldb. Reuses out's storage.
void pack_matrix(const float* B, int ldb, bool transposed, int K, int N, PackedMatrix& out);

// C (M, N) (row stride ldc) = A (M, K) (row stride lda) @ B, plus C's old value when `accumulate`.
void gemm_packed(int M, const float* A, int lda, const PackedMatrix& B, bool accumulate, float* C, int ldc);

}  // namespace melodist
