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
  if (!(o.rhythm_temperature < 0.0) && !std::isfinite(o.rhythm_temperature))  // NaN or +inf; negative: off
    throw Error("--rhythm-temperature must be finite; negative: --temperature for the rhythm too");
}

namespace {

// softmax(logits / T) (V), T = 0: one-hot argmax. Symbol `skip` (or none, -1) is left out: 0, and the rest
// sums to 1; when only it has any mass, probs is all zero. (Masked symbols, constraints.h, may take the
// argmax here; the beam search restricts the draw to the allowed ones afterwards.)
void tempered_softmax(const float* logits, int V, double temperature, int skip, double* probs) {
  if (temperature == 0.0) {
    std::fill(probs, probs + V, 0.0);
    int best = -1;
    for (int j = 0; j < V; ++j)
      if (j != skip && (best < 0 || logits[j] > logits[best])) best = j;
    if (best >= 0) probs[best] = 1.0;
    return;
  }
  nn::softmax(logits, V, 1.0 / temperature, probs);  // p^(1/T) / sum, computed stably
  if (skip < 0) return;
  const double rest = 1.0 - probs[skip];
  probs[skip] = 0.0;
  for (int j = 0; j < V; ++j) probs[j] = rest > 0.0 ? probs[j] / rest : 0.0;
}

}  // namespace

void tempered_distribution(const float* logits, int V, const SamplerOptions& o, double* probs) {
  const int hold = o.hold_symbol;
  if (o.rhythm_temperature < 0.0 || hold < 0 || hold >= V) {
    tempered_softmax(logits, V, o.temperature, -1, probs);
    return;
  }
  nn::softmax(logits, V, 1.0, probs);
  const double h = probs[hold];  // the untempered network's probability of holding
  double held = h;
  if (o.rhythm_temperature == 0.0) held = h > 0.5 ? 1.0 : (h < 0.5 ? 0.0 : 0.5);
  else if (h > 0.0 && h < 1.0) {
    const double a = std::log(h) / o.rhythm_temperature, b = std::log1p(-h) / o.rhythm_temperature;
    held = 1.0 / (1.0 + std::exp(b - a));  // h^(1/R) / (h^(1/R) + (1-h)^(1/R))
  }
  tempered_softmax(logits, V, o.temperature, hold, probs);
  double rest = 0.0;
  for (int j = 0; j < V; ++j) rest += probs[j];
  if (rest == 0.0) held = 1.0;  // nothing but "_" is possible
  for (int j = 0; j < V; ++j) probs[j] *= 1.0 - held;
  probs[hold] = held;
}

void sampling_distribution(const float* logits, int V, const SamplerOptions& o, double* probs) {
  tempered_distribution(logits, V, o, probs);
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
