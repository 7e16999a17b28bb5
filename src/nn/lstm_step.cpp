// Stateful inference: one LSTM step for B sequences (shape legend in nn/model.h).
//
// Per layer l and sequence b:
//   a (4H) = b_l + x @ w_x + h_prev @ w_h         (layer 0: x is one-hot, so x @ w_x is row `token` of w_x)
//   i, f, o = act(a_i, a_f, a_o), g = tanh(a_g);  c' = f*c + i*g;  h' = o*tanh(c')
// then logits (V) = h_top @ w_y + b_y.
//
// Why a hand-written kernel and not BLAS at batch 1: the step is a (1,H)x(H,4H) vector-matrix product
// bound by reading w_h (H*4H floats = 1 MiB at H 256) from memory/L3; BLAS sgemv adds call and
// dispatch overhead that is a large share of a ~10 us step. w_h is stored row-major (H,4H), so the
// natural loop is "a += h[k] * w_h[k,:]" (an axpy per row): every row is a contiguous 4H stream, and
// the 4H accumulator (4 KiB) stays in L1. We unroll over 4 rows at a time so each accumulator load/store
// is amortised over four FMAs. With -march=native the compiler turns the inner loop into AVX2/AVX-512
// FMAs; the code itself is portable C++ (no intrinsics), so the portable build is the same source.
// For B > 1 the same product becomes (B,H)x(H,4H): the weights are streamed once for all B rows, in
// blocks of up to 8 rows so the accumulators stay in L1 (see step_layer).
#include "nn/lstm_step.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "util/error.h"

// GCC does not vectorise the gate loop (exp with floor and an int conversion) under ISO C++'s default
// -ftrapping-math; FP exceptions are never inspected here, so turn the assumption off for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

namespace melodist {

StepState make_step_state(const Model& model, int batch) {
  if (batch <= 0) throw Error("batch size must be positive");
  StepState s;
  s.batch = batch;
  const size_t n = static_cast<size_t>(model.config.num_layers) * batch * model.config.hidden_size;
  s.h.assign(n, 0.0f);
  s.c.assign(n, 0.0f);
  return s;
}

namespace {

// Rows processed together: their accumulators (kRowBlock x 4H floats = 256 KiB at H 256) stay in L2.
constexpr int kRowBlock = 64;

// Vectorisable exp / sigmoid / tanh (Cephes-style exp, relative error ~1e-7, the training engine's
// polynomial). std::exp and std::tanh are scalar libm calls, 5 per hidden unit: they took half of the
// batch-1 step and most of batch 64. Branch-free so the gate loop vectorises (see the pragma above).
inline float exp_v(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float k = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;  // x - k ln2 in two parts (Cody-Waite)
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;  // 2^k
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
inline float sigmoid(float x) { return 1.0f / (1.0f + exp_v(-x)); }
// tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}); a short series near 0 avoids the cancellation.
inline float tanh_v(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float e = exp_v(-2.0f * ax);
  const float t = (1.0f - e) / (1.0f + e);
  const float x2 = x * x;
  const float small = ax * (1.0f - x2 * (0.333333333f - x2 * 0.133333333f));
  const float m = ax < 0.04f ? small : t;
  return x < 0.0f ? -m : m;
}
inline float hard_sigmoid(float x) {
  const float y = 0.2f * x + 0.5f;
  return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}

// Both kernels below compute, for every element, the same chain in the same order:
//   acc[r][j] = (((acc + x[r][0]*w[0][j]) + x[r][1]*w[1][j]) + ...) + x[r][K-1]*w[K-1][j]
// so a row of a batch is bitwise what batch 1 gives (generate --num-outputs, score_songs rely on it).

// Batch 1: acc (N) += x (K) @ w (K, N). Streams w row by row (contiguous 4H floats, what the hardware
// prefetcher likes best); the 4H accumulator stays in L1; four rows per pass amortise its load/store.
void accumulate_one(float* __restrict acc, const float* __restrict x, int K, int N, const float* __restrict w) {
  int k = 0;
  for (; k + 4 <= K; k += 4) {
    const float* w0 = w + static_cast<size_t>(k) * N;
    const float* w1 = w0 + N;
    const float* w2 = w1 + N;
    const float* w3 = w2 + N;
    const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
#pragma GCC ivdep
    for (int j = 0; j < N; ++j) acc[j] = acc[j] + x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
  }
  for (; k < K; ++k) {
    const float* w0 = w + static_cast<size_t>(k) * N;
    const float x0 = x[k];
#pragma GCC ivdep
    for (int j = 0; j < N; ++j) acc[j] = acc[j] + x0 * w0[j];
  }
}

// Batch B: acc (R, N) += x (R, K) @ w (K, N), register-blocked: a tile of kTileRows rows x kTileCols
// columns of acc lives in vector registers for the whole K loop, so each w element loaded serves
// kTileRows rows (GCC/Clang vector extensions: AVX-512/AVX2 with -march=native, SSE or scalar code
// elsewhere; no intrinsics, so the portable build is the same source).
typedef float v8f __attribute__((vector_size(32)));
constexpr int kTileRows = 4, kTileCols = 32, kVecs = kTileCols / 8;

// acc (TR rows of stride N, columns j0..j0+kTileCols) += x (TR, K) @ strip (K, kTileCols), strip packed
// contiguous (see accumulate_rows).
template <int TR>
void tile(float* acc, const float* x, int K, int N, const float* strip, int j0) {
  v8f a[TR][kVecs];
  for (int r = 0; r < TR; ++r)
    for (int v = 0; v < kVecs; ++v) std::memcpy(&a[r][v], acc + static_cast<size_t>(r) * N + j0 + 8 * v, sizeof(v8f));
  for (int k = 0; k < K; ++k) {
    const float* wk = strip + static_cast<size_t>(k) * kTileCols;
    v8f wv[kVecs];
    for (int v = 0; v < kVecs; ++v) std::memcpy(&wv[v], wk + 8 * v, sizeof(v8f));
    for (int r = 0; r < TR; ++r) {
      const float xr = x[static_cast<size_t>(r) * K + k];
      for (int v = 0; v < kVecs; ++v) a[r][v] = a[r][v] + xr * wv[v];
    }
  }
  for (int r = 0; r < TR; ++r)
    for (int v = 0; v < kVecs; ++v) std::memcpy(acc + static_cast<size_t>(r) * N + j0 + 8 * v, &a[r][v], sizeof(v8f));
}

void accumulate_rows(float* __restrict acc, const float* __restrict x, int R, int K, int N, const float* __restrict w) {
  if (R == 1) return accumulate_one(acc, x, K, N, w);
  const int full = N - N % kTileCols;
  // Column strip outer, row tiles inner: a strip of w (K x kTileCols floats, 32 KiB at H 256) is read
  // from memory once, packed contiguous, and then served from L1/L2 to every row tile. (Unpacked, the
  // strip's rows are 4H floats = 4 KiB apart and all fall into the same L1 sets, so every row tile
  // re-read it from L2: 3x slower at batch 64.)
  thread_local std::vector<float> packed;  // (K, kTileCols)
  packed.resize(static_cast<size_t>(K) * kTileCols);
  for (int j0 = 0; j0 < full; j0 += kTileCols) {
    for (int k = 0; k < K; ++k) std::memcpy(packed.data() + static_cast<size_t>(k) * kTileCols, w + static_cast<size_t>(k) * N + j0, kTileCols * sizeof(float));
    const float* strip = packed.data();
    for (int r0 = 0; r0 < R; r0 += kTileRows) {
      const int tr = std::min(kTileRows, R - r0);
      float* ar = acc + static_cast<size_t>(r0) * N;
      const float* xr = x + static_cast<size_t>(r0) * K;
      switch (tr) {
        case 4: tile<4>(ar, xr, K, N, strip, j0); break;
        case 3: tile<3>(ar, xr, K, N, strip, j0); break;
        case 2: tile<2>(ar, xr, K, N, strip, j0); break;
        default: tile<1>(ar, xr, K, N, strip, j0); break;
      }
    }
  }
  if (full == N) return;
  // Remaining columns (N not a multiple of kTileCols, e.g. the V = 38 logits): the same tiles on a
  // zero-padded strip and a padded copy of the accumulators, copied back.
  const int rest = N - full;
  std::fill(packed.begin(), packed.end(), 0.0f);
  for (int k = 0; k < K; ++k) std::memcpy(packed.data() + static_cast<size_t>(k) * kTileCols, w + static_cast<size_t>(k) * N + full, rest * sizeof(float));
  float pad[kTileRows * kTileCols];  // (kTileRows, kTileCols)
  for (int r0 = 0; r0 < R; r0 += kTileRows) {
    const int tr = std::min(kTileRows, R - r0);
    for (int r = 0; r < tr; ++r) {
      std::fill(pad + r * kTileCols, pad + (r + 1) * kTileCols, 0.0f);
      std::memcpy(pad + r * kTileCols, acc + static_cast<size_t>(r0 + r) * N + full, rest * sizeof(float));
    }
    const float* xr = x + static_cast<size_t>(r0) * K;
    switch (tr) {
      case 4: tile<4>(pad, xr, K, kTileCols, packed.data(), 0); break;
      case 3: tile<3>(pad, xr, K, kTileCols, packed.data(), 0); break;
      case 2: tile<2>(pad, xr, K, kTileCols, packed.data(), 0); break;
      default: tile<1>(pad, xr, K, kTileCols, packed.data(), 0); break;
    }
    for (int r = 0; r < tr; ++r) std::memcpy(acc + static_cast<size_t>(r0 + r) * N + full, pad + r * kTileCols, rest * sizeof(float));
  }
}

// Gates for one sequence: a (4H) pre-activations -> updates c (H), h (H) in place.
void cell_update(const float* __restrict a, float* __restrict c, float* __restrict h, int H, RecurrentActivation act) {
  const float* ai = a;
  const float* af = a + H;
  const float* ag = a + 2 * H;
  const float* ao = a + 3 * H;
  if (act == RecurrentActivation::sigmoid) {
    for (int j = 0; j < H; ++j) {
      const float i = sigmoid(ai[j]), f = sigmoid(af[j]), g = tanh_v(ag[j]), o = sigmoid(ao[j]);
      c[j] = f * c[j] + i * g;
      h[j] = o * tanh_v(c[j]);
    }
  } else {
    for (int j = 0; j < H; ++j) {
      const float i = hard_sigmoid(ai[j]), f = hard_sigmoid(af[j]), g = tanh_v(ag[j]), o = hard_sigmoid(ao[j]);
      c[j] = f * c[j] + i * g;
      h[j] = o * tanh_v(c[j]);
    }
  }
}

}  // namespace

void model_step(const Model& model, const int* tokens, StepState& state, float* logits) {
  const ModelConfig& cfg = model.config;
  const int B = state.batch, H = cfg.hidden_size, V = cfg.vocab_size, L = cfg.num_layers;
  const size_t G = 4 * static_cast<size_t>(H);
  if (state.h.size() != static_cast<size_t>(L) * B * H || state.c.size() != state.h.size())
    throw Error("inference state does not match the model (layers, batch or hidden size)");
  for (int b = 0; b < B; ++b)
    if (tokens[b] < 0 || tokens[b] >= V) throw Error("symbol id " + std::to_string(tokens[b]) + " is outside the vocabulary");
  ParameterViews p = parameter_views(cfg, const_cast<float*>(model.params.data()));

  thread_local std::vector<float> acc_buf;  // (kRowBlock, 4H) pre-activations of a block of rows
  acc_buf.resize(kRowBlock * G);
  float* acc = acc_buf.data();
  for (int b0 = 0; b0 < B; b0 += kRowBlock) {
    const int R = std::min(kRowBlock, B - b0);
    for (int l = 0; l < L; ++l) {
      const LstmLayerView& lw = p.lstm[l];
      float* h = state.h.data() + (static_cast<size_t>(l) * B + b0) * H;  // (R, H) this layer's state
      float* c = state.c.data() + (static_cast<size_t>(l) * B + b0) * H;  // (R, H)
      for (int r = 0; r < R; ++r) {
        float* a = acc + r * G;
        if (l == 0) {
          const float* row = lw.w_x + static_cast<size_t>(tokens[b0 + r]) * G;
          for (size_t j = 0; j < G; ++j) a[j] = lw.b[j] + row[j];
        } else {
          std::memcpy(a, lw.b, G * sizeof(float));
        }
      }
      if (l > 0) {
        // x = new h of layer l-1 for these rows, (R, H)
        const float* below = state.h.data() + (static_cast<size_t>(l - 1) * B + b0) * H;
        accumulate_rows(acc, below, R, H, static_cast<int>(G), lw.w_x);
      }
      accumulate_rows(acc, h, R, H, static_cast<int>(G), lw.w_h);
      for (int r = 0; r < R; ++r) cell_update(acc + r * G, c + static_cast<size_t>(r) * H, h + static_cast<size_t>(r) * H, H, cfg.recurrent_activation);
    }
    // logits (R, V) = h_top (R, H) @ w_y (H, V) + b_y
    const float* top = state.h.data() + (static_cast<size_t>(L - 1) * B + b0) * H;
    float* out = logits + static_cast<size_t>(b0) * V;
    for (int r = 0; r < R; ++r) std::memcpy(out + static_cast<size_t>(r) * V, p.b_y, V * sizeof(float));
    accumulate_rows(out, top, R, H, V, p.w_y);
  }
}

void softmax_inplace(float* row, int V) {
  float m = row[0];
  for (int j = 1; j < V; ++j) m = std::max(m, row[j]);
  double sum = 0.0;
  for (int j = 0; j < V; ++j) {
    row[j] = std::exp(row[j] - m);
    sum += row[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int j = 0; j < V; ++j) row[j] *= inv;
}

}  // namespace melodist
