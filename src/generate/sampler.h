#pragma once
// Sampling the next symbol from the network's logits, with the controls of melody generators:
// temperature (the reference's: probabilities raised to 1/T and renormalised; T = 0 is greedy),
// top-k and nucleus (top-p) filtering. Applied in that order: temperature, then top-k, then top-p.
//
// The rhythm's own temperature (`generate --rhythm-temperature R`): at each step the network chooses
// between holding the sounding note ("_") and something new (a note, a rest, a barline, the end). One
// temperature for both cools that choice too, and as "_" is the likeliest symbol of most steps, a cool
// melody holds its notes longer (Nottingham at 0.9: inter-onset +22%, README). With R given, the draw is
// two stages: hold with the probability h of the untempered network tempered as a two-way choice,
// h^(1/R) / (h^(1/R) + (1-h)^(1/R)), else one of the other symbols at T. R = 1 keeps the network's
// rhythm and tempers only what is played.
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
  double rhythm_temperature = -1;  // >= 0: the hold-or-not choice at this temperature (above); negative: off
  int hold_symbol = -1;            // the id of "_" that rhythm_temperature applies to; -1: none
};

// Throws melodist::Error (one line) for a negative or non-finite temperature, top-k < 0, top-p outside
// (0, 1], a non-finite rhythm temperature.
void validate_sampler_options(const SamplerOptions& options);

// logits (V) -> probs (V): the tempered distribution (temperature and rhythm temperature; no filtering).
// Greedy (T = 0) is a one-hot argmax among what the rhythm's choice left (R = 0: hold when h > 1/2).
void tempered_distribution(const float* logits, int V, const SamplerOptions& options, double* probs);

// logits (V) -> probs (V): the distribution the sampler draws from (filtered symbols get exactly 0).
// Ties (greedy, top-k cut, top-p cut) go to the lower symbol id.
void sampling_distribution(const float* logits, int V, const SamplerOptions& options, double* probs);

// Draws a symbol id from probs (V, summing to 1) by inversion of one uniform; never returns a symbol
// with probability 0.
int draw(const double* probs, int V, Rng& rng);

// log p(symbol) under the model itself (untempered, unfiltered softmax of logits), in double.
double log_probability(const float* logits, int V, int symbol);

}  // namespace melodist
