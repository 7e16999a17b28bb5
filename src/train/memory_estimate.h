#pragma once
// The memory a training run needs, from its shapes alone, so that `train` can refuse a run the machine
// cannot hold before allocating it: "--hidden 8192 --batch 64 ... needs about 25.3 GB; 22.1 GB available".
// The terms mirror what train_model allocates (train.cpp, nn/network.cpp make_basic_network); the test
// tests/test_memory_estimate.cpp checks the estimate against a real run's peak resident size.
#include "nn/model.h"

namespace melodist {

struct TrainingShapes {
  ModelConfig config;  // V, H, L
  int seq_len = 64;    // T
  int batch = 64;      // B (rows, over every worker)
  int threads = 1;     // workers, each with its own network buffers and gradient
  bool ema = true;     // a moving average copy of the parameters
};

// Bytes: the parameters and their copies (Adam moments, average, best model, checkpoint being
// serialised), every worker's gradient, recurrent-weight scratch (weight-drop mask and dropped copy,
// packed w_h and w_h^T), and the (T, B, ...) activation buffers, plus a fixed allowance for the
// program, its libraries and the BLAS's buffers.
double estimate_training_bytes(const TrainingShapes& shapes);

// Throws melodist::Error when the estimate exceeds the memory available to the process
// (util/system_memory.h), naming the options that set the shapes.
void check_training_memory(const TrainingShapes& shapes);

}  // namespace melodist
