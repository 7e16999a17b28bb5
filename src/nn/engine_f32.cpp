// The training engine in float32 (see nn/engine.h). The layer code is written once over `real` in
// the .inc files; engine_f64.cpp compiles the same code in double for the gradient check.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "nn/blas.h"
#include "nn/engine.h"

namespace melodist::nn {
#include "nn/math.inc"
#include "nn/lstm.inc"
#include "nn/dense.inc"
#include "nn/softmax_xent.inc"
#include "nn/dropout.inc"
#include "nn/network.inc"
}  // namespace melodist::nn

namespace melodist {
void set_blas_threads(int n) { openblas_set_num_threads(n); }
}  // namespace melodist
