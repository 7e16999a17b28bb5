// Inverted dropout of the training engine (shapes: nn/engine.h). The mask is a pure function of
// (seed, layer, t, global row, unit), so a run is reproducible and independent of the thread split.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "nn/engine.h"
#include "util/splitmix64.h"

namespace melodist::nn {

template <class Real>
void dropout_mask(Real* mask, int T, int B, int H, same_t<Real> p, uint64_t seed, int layer, int row_offset) {
  const size_t n = static_cast<size_t>(T) * B * H;
  if (p <= 0) {
    std::fill(mask, mask + n, Real(1));
    return;
  }
  const Real keep = Real(1) / (Real(1) - p);
  // Keep a unit when its 24-bit uniform draw is >= p.
  const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 16777216.0);
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < B; ++r) {
      const uint64_t base = splitmix64_mix(seed ^ splitmix64_mix((static_cast<uint64_t>(layer) << 48) ^
                                                                 (static_cast<uint64_t>(t) << 32) ^
                                                                 static_cast<uint64_t>(row_offset + r)));
      Real* m = mask + (static_cast<size_t>(t) * B + r) * H;
      for (int j = 0; j < H; ++j) {
        const uint64_t u = splitmix64_mix(base + static_cast<uint64_t>(j)) >> 40;  // 24 bits
        m[j] = u >= threshold ? keep : Real(0);
      }
    }
}

template <class Real>
void dropout_forward(const Real* x, const same_t<Real>* mask, size_t n, same_t<Real>* y) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
}

template <class Real>
void dropout_backward(const Real* dy, const same_t<Real>* mask, size_t n, same_t<Real>* dx) {
  for (size_t i = 0; i < n; ++i) dx[i] = dy[i] * mask[i];
}

#define MELODIST_INSTANTIATE(Real)                                                        \
  template void dropout_mask<Real>(Real*, int, int, int, Real, uint64_t, int, int);      \
  template void dropout_forward<Real>(const Real*, const Real*, size_t, Real*);           \
  template void dropout_backward<Real>(const Real*, const Real*, size_t, Real*);
MELODIST_INSTANTIATE(float)
MELODIST_INSTANTIATE(double)
#undef MELODIST_INSTANTIATE

}  // namespace melodist::nn
