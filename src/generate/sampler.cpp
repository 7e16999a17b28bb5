// Sampler (see sampler.h). All arithmetic in double so filtering and sampling are reproducible.
#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "nn/softmax.h"
#include "util/error.h"
#include "util/splitmix64.h"

namespace melodist {

Rng::Rng(uint64_t seed, uint64_t stream) : state(seed ^ (kSplitmix64Gamma * (stream + 1))) {
  next_u64();  // decorrelate nearby seeds
}

uint64_t Rng::next_u64() { return splitmix64_next(state); }

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

void validate_sampler_options(const SamplerOptions& o) {
  if (!(o.temperature >= 0.0) || !std::isfinite(o.temperature))
    throw Error("--temperature must be 0 (greedy) or more, got " + std::to_string(o.temperature));
  if (o.top_k < 0) throw Error("--top-k must be 0 (off) or more, got " + std::to_string(o.top_k));
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) throw Error("--top-p must be in (0, 1], got " + std::to_string(o.top_p));
}

void sampling_distribution(const float* logits, int V, const SamplerOptions& o, double* probs) {
  if (o.temperature == 0.0) {
    std::fill(probs, probs + V, 0.0);
    probs[nn::row_max(logits, V).index] = 1.0;
    return;
  }
  // p^(1/T) / sum = softmax(logits / T): the same thing, computed stably.
  nn::softmax(logits, V, 1.0 / o.temperature, probs);
  if ((o.top_k > 0 && o.top_k < V) || o.top_p < 1.0) {
    std::vector<int> order(V);  // most likely first; ties by id
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return probs[a] > probs[b]; });
    int keep = V;
    if (o.top_k > 0) keep = std::min(keep, o.top_k);
    if (o.top_p < 1.0) {
      double kept_mass = 0.0, total = 0.0;
      for (int r = 0; r < keep; ++r) total += probs[order[r]];
      int n = 0;
      while (n < keep) {
        kept_mass += probs[order[n++]];
        if (kept_mass >= o.top_p * total) break;
      }
      keep = n;
    }
    double mass = 0.0;
    for (int r = 0; r < keep; ++r) mass += probs[order[r]];
    for (int r = keep; r < V; ++r) probs[order[r]] = 0.0;
    for (int r = 0; r < keep; ++r) probs[order[r]] /= mass;
  }
}

int draw(const double* probs, int V, Rng& rng) {
  const double u = rng.uniform();
  double cum = 0.0;
  int last = -1;
  for (int j = 0; j < V; ++j) {
    if (probs[j] <= 0.0) continue;
    last = j;
    cum += probs[j];
    if (u < cum) return j;
  }
  return last;  // rounding left u just above the total: the last symbol that can be drawn
}

double log_probability(const float* logits, int V, int symbol) {
  const nn::LogSumExp r = nn::log_sum_exp(logits, V);
  return static_cast<double>(logits[symbol]) - r.max - std::log(r.sum);
}

}  // namespace melodist
