#pragma once
// THE softmax and log-sum-exp of the source tree, over one row of V float logits (the network's
// output). Scoring (generate/song_score), sampling (generate/sampler), constrained beam search
// (generate/beam_search) and the tests' probabilities all come from here, in double with libm's exp:
//   log_sum_exp  max, argmax and Σ exp(x_j - max); ln p(s) = x_s - max - ln Σ  (or x_s - value())
//   softmax      p_j = exp((x_j - max) / temperature) / Σ, in double (what the sampler draws from)
//   probabilities_from_lse  p_j = exp(x_j - lse) as float (the per-step distributions a score keeps)
// The training engine's softmax cross-entropy (nn/softmax_xent.cpp) shares row_max; it sums its
// exponentials in the training precision with the engine's fast exp, so trained models keep their bits.
// `allowed` (V, or null for all): only entries with allowed[j] != 0 take part; at least one must.
namespace melodist::nn {

template <class Real>
struct RowMax {
  Real value;  // the largest entry
  int index;   // its index, the first on ties
};

// The largest of x[0..n) (n >= 1) among the allowed entries.
template <class Real>
inline RowMax<Real> row_max(const Real* x, int n, const char* allowed = nullptr) {
  int index = -1;
  Real value = 0;
  for (int j = 0; j < n; ++j)
    if ((!allowed || allowed[j]) && (index < 0 || x[j] > value)) value = x[j], index = j;
  return {value, index};
}

struct LogSumExp {
  double max = 0;  // the largest allowed logit
  int argmax = 0;  // its index (the first on ties)
  double sum = 0;  // Σ exp(x_j - max) over the allowed entries (>= 1)
  double value() const;  // ln Σ exp(x_j) = max + ln sum
};
LogSumExp log_sum_exp(const float* logits, int n, const char* allowed = nullptr);

// p (n) = softmax(logits * inv_temperature), stable (shifted by the largest logit), in double.
void softmax(const float* logits, int n, double inv_temperature, double* p);

// p (n) = exp(logits - lse) as float, lse = log_sum_exp(logits, n).value(); p may be logits (in place).
void probabilities_from_lse(const float* logits, int n, double lse, float* p);

}  // namespace melodist::nn
