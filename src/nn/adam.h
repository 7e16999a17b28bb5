#pragma once
// Adam with the reference's (Keras) constants and update rule:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);  p -= lr_t m / (sqrt(v) + eps)
// Keras's epsilon is added to sqrt(v) WITHOUT bias correction (PyTorch adds eps to sqrt(v_hat), a
// different value); b1 0.9, b2 0.999, eps 1e-7 as in Keras.
#include <cstddef>

namespace melodist {

struct AdamConfig {
  float lr = 0.001f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
};

// params, grads, m, v: (n) in the nn/model.h layout. step: 1 for the first update.
void adam_update(float* params, const float* grads, float* m, float* v, size_t n, const AdamConfig& config, long step);

}  // namespace melodist
