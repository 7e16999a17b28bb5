// The training engine compiled in double precision (real = double), for the finite-difference
// gradient check (tests/test_nn_gradcheck.cpp). Same source as engine_f32.cpp.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "nn/blas.h"
#include "nn/engine.h"

namespace melodist::nn64 {
#include "nn/math.inc"
#include "nn/lstm.inc"
#include "nn/dense.inc"
#include "nn/softmax_xent.inc"
#include "nn/dropout.inc"
#include "nn/network.inc"
}  // namespace melodist::nn64
