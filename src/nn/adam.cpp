#include "nn/adam.h"

#include <cmath>

namespace melodist {

void adam_update(float* params, const float* grads, float* m, float* v, size_t n, const AdamConfig& c, long step) {
  const double t = static_cast<double>(step);
  const float lr_t = static_cast<float>(c.lr * std::sqrt(1.0 - std::pow(c.beta2, t)) / (1.0 - std::pow(c.beta1, t)));
  const float b1 = c.beta1, b2 = c.beta2, eps = c.epsilon;
  for (size_t i = 0; i < n; ++i) {
    const float g = grads[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    params[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace melodist
