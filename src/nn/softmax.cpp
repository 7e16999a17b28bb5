// The one softmax / log-sum-exp (see nn/softmax.h). The order of operations is part of the outputs
// (scores, sampled melodies): change it and the byte-identity hashes (tools/check_outputs.sh) change.
#include "nn/softmax.h"

#include <cmath>

namespace melodist::nn {

double LogSumExp::value() const { return max + std::log(sum); }

LogSumExp log_sum_exp(const float* logits, int n, const char* allowed) {
  const RowMax<float> top = row_max(logits, n, allowed);
  LogSumExp r;
  r.max = top.value;
  r.argmax = top.index;
  for (int j = 0; j < n; ++j)
    if (!allowed || allowed[j]) r.sum += std::exp(static_cast<double>(logits[j]) - r.max);
  return r;
}

void softmax(const float* logits, int n, double inv_temperature, double* p) {
  const double m = row_max(logits, n).value;
  double sum = 0.0;
  for (int j = 0; j < n; ++j) sum += p[j] = std::exp((static_cast<double>(logits[j]) - m) * inv_temperature);
  for (int j = 0; j < n; ++j) p[j] /= sum;
}

void probabilities_from_lse(const float* logits, int n, double lse, float* p) {
  for (int j = 0; j < n; ++j) p[j] = static_cast<float>(std::exp(static_cast<double>(logits[j]) - lse));
}

}  // namespace melodist::nn
