#pragma once
// Gradient clipping by global norm (all parameters as one vector), as Keras clipnorm over the whole
// model / torch.nn.utils.clip_grad_norm_.
#include <cstddef>

namespace melodist {

// sqrt(sum g^2), accumulated in double. Not finite when any gradient is NaN or infinite.
double global_norm(const float* grads, size_t n);
// Scales grads by max_norm / norm when norm > max_norm (max_norm <= 0: no clipping). Returns the scale.
float clip_by_global_norm(float* grads, size_t n, float max_norm, double norm);

}  // namespace melodist
