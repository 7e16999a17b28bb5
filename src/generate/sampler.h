#pragma once
// Sampling the next symbol from the network's logits, with the controls of melody generators:
// temperature (the reference's: probabilities raised to 1/T and renormalised; T = 0 is greedy),
// top-k and nucleus (top-p) filtering. Applied in that order: temperature, then top-k, then top-p.
//
// Randomness comes from Rng, a fixed, portable generator (splitmix64 state, bits -> double by hand),
// so the same seed gives the same symbols with every compiler and standard library
// (std::uniform_real_distribution and friends are implementation-defined and are not used).
#include <cstdint>
#include <vector>

namespace melodist {

// splitmix64 (Steele, Lea, Flood 2014): 64-bit state, passes BigCrush; trivially portable.
struct Rng {
  uint64_t state;
  // stream: independent sequences for the same seed (one per generated melody).
  explicit Rng(uint64_t seed, uint64_t stream = 0);
  uint64_t next_u64();
  double uniform();  // [0, 1) with 53 random bits
};

struct SamplerOptions {
  double temperature = 1.0;  // >= 0; 0 = greedy (argmax)
  int top_k = 0;             // 0 = off; otherwise keep the k most likely symbols
  double top_p = 1.0;        // (0, 1]; keep the smallest set of most likely symbols whose mass reaches p
};

// Throws melodist::Error (one line) for a negative or non-finite temperature, top-k < 0, top-p outside (0, 1].
void validate_sampler_options(const SamplerOptions& options);

// logits (V) -> probs (V): the distribution the sampler draws from (filtered symbols get exactly 0).
// Ties (greedy, top-k cut, top-p cut) go to the lower symbol id.
void sampling_distribution(const float* logits, int V, const SamplerOptions& options, double* probs);

// Draws a symbol id from probs (V, summing to 1) by inversion of one uniform; never returns a symbol
// with probability 0.
int draw(const double* probs, int V, Rng& rng);

// log p(symbol) under the model itself (untempered, unfiltered softmax of logits), in double.
double log_probability(const float* logits, int V, int symbol);

}  // namespace melodist
