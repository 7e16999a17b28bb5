#include "nn/grad_clip.h"

#include <cmath>

namespace melodist {

double global_norm(const float* grads, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(grads[i]) * grads[i];
  return std::sqrt(sum);
}

float clip_by_global_norm(float* grads, size_t n, float max_norm, double norm) {
  if (max_norm <= 0 || !(norm > max_norm)) return 1.0f;
  const float scale = static_cast<float>(max_norm / norm);
  for (size_t i = 0; i < n; ++i) grads[i] *= scale;
  return scale;
}

}  // namespace melodist
