#pragma once
// Row-major matrix products for the network code, one overload per precision (float for training,
// double for the gradient check). C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C.
// ta / tb: the stored matrix is transposed (A stored (K, M), B stored (N, K)).
// lda, ldb, ldc: row strides of the stored matrices.
#include <cblas.h>

namespace melodist {

inline void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                 float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
              beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int M, int N, int K, double alpha, const double* A, int lda, const double* B, int ldb,
                 double beta, double* C, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
              beta, C, ldc);
}

// BLAS threads: the engine splits the batch over its own threads and runs BLAS single-threaded
// inside each (measured faster than BLAS-internal threading for these 64x256x1024 products).
void set_blas_threads(int n);  // OpenBLAS threads (nn/blas.cpp)

}  // namespace melodist
