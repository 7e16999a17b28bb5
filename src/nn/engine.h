#pragma once
// The training engine: forward and backward of N stacked LSTM layers -> inverted dropout -> dense ->
// softmax cross-entropy, written for this network (no autograd). One free function per layer and
// direction; declarations in nn/engine_decl.inc, written once over a `real` type:
//   melodist::nn   real = float   (training, benchmarks)
//   melodist::nn64 real = double  (the finite-difference gradient check, tests/test_nn_gradcheck.cpp)
// Weight layout, gate order (i, f, g, o) and shape legend: nn/model.h.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nn/model.h"
#include "nn/packed_gemm.h"

namespace melodist::nn {
using real = float;
#include "nn/engine_decl.inc"
}  // namespace melodist::nn

namespace melodist::nn64 {
using real = double;
#include "nn/engine_decl.inc"
}  // namespace melodist::nn64
