#pragma once
// THE splitmix64 (Steele, Lea, Flood 2014; Vigna's reference constants) of the source tree: the
// sampler's generator (generate/sampler), the dropout masks' counter-based hash (nn/dropout.cpp) and
// the training seeds (train/batching mix_seed).
#include <cstdint>

namespace melodist {

inline constexpr uint64_t kSplitmix64Gamma = 0x9E3779B97F4A7C15ull;  // the state increment (2^64 / golden ratio)

// The finaliser: a bijective 64-bit mix (two xor-shift-multiply rounds and a last xor-shift).
inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The generator: advances state by the gamma and returns the mix of the new state.
inline uint64_t splitmix64_next(uint64_t& state) { return splitmix64_mix(state += kSplitmix64Gamma); }

}  // namespace melodist
