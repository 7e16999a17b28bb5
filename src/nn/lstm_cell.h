#pragma once
// THE LSTM cell and its activations, shared by the training engine (nn/lstm_layer.cpp, float and
// double) and the stateful step (nn/lstm_step.cpp, float). Gate order i, f, g, o and the cell
// equations: nn/model.h. H hidden units; a row is one sequence's 4H gates or H cells.
//
// float: a Cephes-style exp (relative error ~1e-7: range reduction x = k ln2 + r in two parts, degree-6
// polynomial for e^r, 2^k from the exponent bits), no tables, no branches. The engine's array
// functions run it 8 lanes at a time with AVX2+FMA intrinsics when the compiler targets them
// (-march=native here) and fall back to the same formula one element at a time otherwise (the
// MELODIST_NATIVE=OFF sanitizer build). The 8-lane exp adds the last two terms of its polynomial as
// p r^2 + (r + 1), the scalar one as (p r^2 + r) + 1: they may differ in the last bit, which is why the
// step (scalar, vectorised by the compiler) and the engine's forward (8-lane) are two functions below,
// each keeping the operation order its outputs were recorded with. (Plain loops over the scalar
// version are not vectorised by GCC 12 under -ftrapping-math: the clamp's float compares block
// if-conversion; nn/lstm_step.cpp turns that assumption off, see its pragma.)
// double (the gradient check's engine): libm.
//
// Include this header AFTER any `#pragma GCC optimize` of the including file: GCC does not inline a
// function compiled with other floating-point options into its caller, so the step's loop would call
// the activations instead of vectorising them. For the same reason the float activations use the
// compiler's builtins (__builtin_floorf, not std::floor: <cmath> is compiled before such a pragma);
// they are the same operations.
#ifndef MELODIST_NN_LSTM_CELL_H
#define MELODIST_NN_LSTM_CELL_H

#include <cmath>
#include <cstdint>

#include "nn/model.h"

#if defined(__AVX2__) && defined(__FMA__)
#define MELODIST_SIMD_AVX2 1
#include <immintrin.h>
#endif

namespace melodist::nn {

// ---- scalar activations, one overload per precision ---------------------------------------------
inline float exp_fast(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
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
  return p * __builtin_bit_cast(float, bits);
}
inline double exp_fast(double x) { return std::exp(x); }

inline float sigmoid_fast(float x) { return 1.0f / (1.0f + exp_fast(-x)); }
inline double sigmoid_fast(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}); a short Taylor series near 0 avoids the
// cancellation in 1 - e^{-2|x|}.
inline float tanh_fast(float x) {
  const float ax = __builtin_fabsf(x);
  const float e = exp_fast(-2.0f * ax);
  const float t = (1.0f - e) / (1.0f + e);
  const float x2 = x * x;
  const float small = x * (1.0f - x2 * (0.333333333f - x2 * 0.133333333f));
  return ax < 0.04f ? small : __builtin_copysignf(t, x);
}
inline double tanh_fast(double x) { return std::tanh(x); }

// Keras 2.2.4's hard_sigmoid: clip(0.2 x + 0.5, 0, 1).
template <class T>
inline T hard_sigmoid(T x) {
  const T y = T(0.2) * x + T(0.5);
  return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
}

// The recurrent activation of the gates i, f, o.
template <class T>
inline T recurrent_activation(T x, bool hard) {
  return hard ? hard_sigmoid(x) : sigmoid_fast(x);
}

#ifdef MELODIST_SIMD_AVX2
// ---- 8-lane versions of exp_fast / sigmoid_fast / tanh_fast (same constants; see the top) ---------
// NaN propagates: max/min return their second operand when either is NaN.
inline __m256 exp_fast8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-87.0f), x));
  const __m256 k = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}
inline __m256 sigmoid_fast8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp_fast8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
inline __m256 tanh_fast8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  const __m256 ax = _mm256_andnot_ps(sign, x);
  const __m256 e = exp_fast8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), ax));
  const __m256 t = _mm256_or_ps(_mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e)), _mm256_and_ps(sign, x));
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 q = _mm256_fnmadd_ps(x2, _mm256_set1_ps(0.133333333f), _mm256_set1_ps(0.333333333f));
  const __m256 small = _mm256_mul_ps(x, _mm256_fnmadd_ps(x2, q, one));
  return _mm256_blendv_ps(t, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.04f), _CMP_LT_OQ));
}
#endif

// ---- array versions: y (n) = f(x (n)); x and y may be the same array (in place), otherwise disjoint --
inline void sigmoid_array(const float* x, float* y, int n) {
  int j = 0;
#ifdef MELODIST_SIMD_AVX2
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, sigmoid_fast8(_mm256_loadu_ps(x + j)));
#endif
  for (; j < n; ++j) y[j] = sigmoid_fast(x[j]);
}
inline void tanh_array(const float* x, float* y, int n) {
  int j = 0;
#ifdef MELODIST_SIMD_AVX2
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, tanh_fast8(_mm256_loadu_ps(x + j)));
#endif
  for (; j < n; ++j) y[j] = tanh_fast(x[j]);
}
inline void sigmoid_array(const double* x, double* y, int n) {
  for (int j = 0; j < n; ++j) y[j] = sigmoid_fast(x[j]);
}
inline void tanh_array(const double* x, double* y, int n) {
  for (int j = 0; j < n; ++j) y[j] = tanh_fast(x[j]);
}

// The recurrent activation (sigmoid, or hard_sigmoid) over an array, in place.
template <class T>
inline void recurrent_act_array(T* x, int n, bool hard) {
  if (hard) {
    for (int j = 0; j < n; ++j) x[j] = hard_sigmoid(x[j]);
  } else {
    sigmoid_array(x, x, n);
  }
}

// ---- the cell, forward ---------------------------------------------------------------------------
// The training engine's row: a (4H) pre-activations i, f, g, o become the ACTIVATED gates (kept for
// the backward pass); from c_prev (H) the new cell c (H), tanh_c (H) = tanh(c) and h (H) = o tanh(c).
// Contiguous passes over the row's 4H gates and H cells (the array activations run 8 lanes at a time).
template <class T>
inline void lstm_cell_forward(T* a, const T* __restrict cp, T* __restrict cr, T* __restrict tr, T* __restrict hr, int H,
                              bool hard) {
  recurrent_act_array(a, 2 * H, hard);  // i, f
  tanh_array(a + 2 * H, a + 2 * H, H);  // g
  recurrent_act_array(a + 3 * H, H, hard);  // o
  const T* __restrict ai = a;  // (H) each, read-only from here on
  const T* __restrict af = a + H;
  const T* __restrict ag = a + 2 * H;
  const T* __restrict ao = a + 3 * H;
  for (int j = 0; j < H; ++j) cr[j] = af[j] * cp[j] + ai[j] * ag[j];
  tanh_array(cr, tr, H);
  for (int j = 0; j < H; ++j) hr[j] = ao[j] * tr[j];
}

// The stateful step's row: a (4H) pre-activations -> c (H), h (H) updated in place; one fused scalar
// loop (the compiler vectorises it where FP traps are assumed off, nn/lstm_step.cpp; libm's exp and
// tanh, 5 calls per unit, took half of a batch-1 step). Same equations as lstm_cell_forward; in float
// the two may differ in the last bit (see the top).
inline void lstm_cell_step(const float* __restrict a, float* __restrict c, float* __restrict h, int H, bool hard) {
  const float* ai = a;
  const float* af = a + H;
  const float* ag = a + 2 * H;
  const float* ao = a + 3 * H;
  if (!hard) {
    for (int j = 0; j < H; ++j) {
      const float i = sigmoid_fast(ai[j]), f = sigmoid_fast(af[j]), g = tanh_fast(ag[j]), o = sigmoid_fast(ao[j]);
      c[j] = f * c[j] + i * g;
      h[j] = o * tanh_fast(c[j]);
    }
  } else {
    for (int j = 0; j < H; ++j) {
      const float i = hard_sigmoid(ai[j]), f = hard_sigmoid(af[j]), g = tanh_fast(ag[j]), o = hard_sigmoid(ao[j]);
      c[j] = f * c[j] + i * g;
      h[j] = o * tanh_fast(c[j]);
    }
  }
}

// ---- the cell, backward (training) ---------------------------------------------------------------
// One row (H units): from dh (from above, dhr, plus from step t+1, dhn) and dc (from t+1, dcn) to the four
// gate pre-activation gradients; dcn becomes dc for step t-1. `hard`: hard_sigmoid gates, whose
// derivative is 0.2 inside (0, 1) and 0 outside; otherwise sigmoid, y (1 - y). Two loops, each a plain
// branch-free loop the compiler vectorises.
template <class T>
inline void lstm_cell_backward(const T* __restrict ai, const T* __restrict af, const T* __restrict ag, const T* __restrict ao,
                               const T* __restrict cp, const T* __restrict tr, const T* __restrict dhr, const T* __restrict dhn,
                               T* __restrict dai, T* __restrict daf, T* __restrict dag, T* __restrict dao, T* __restrict dcn,
                               int H, bool hard) {
  if (!hard) {
    for (int j = 0; j < H; ++j) {
      const T i_ = ai[j], f_ = af[j], g_ = ag[j], o_ = ao[j], tc = tr[j];
      const T dht = dhr[j] + dhn[j];
      const T dc = dcn[j] + dht * o_ * (T(1) - tc * tc);
      dai[j] = dc * g_ * (i_ * (T(1) - i_));
      daf[j] = dc * cp[j] * (f_ * (T(1) - f_));
      dag[j] = dc * i_ * (T(1) - g_ * g_);
      dao[j] = dht * tc * (o_ * (T(1) - o_));
      dcn[j] = dc * f_;
    }
  } else {
    for (int j = 0; j < H; ++j) {
      const T i_ = ai[j], f_ = af[j], g_ = ag[j], o_ = ao[j], tc = tr[j];
      const T dht = dhr[j] + dhn[j];
      const T dc = dcn[j] + dht * o_ * (T(1) - tc * tc);
      const T gi = (i_ > T(0) && i_ < T(1)) ? T(0.2) : T(0);
      const T gf = (f_ > T(0) && f_ < T(1)) ? T(0.2) : T(0);
      const T go = (o_ > T(0) && o_ < T(1)) ? T(0.2) : T(0);
      dai[j] = dc * g_ * gi;
      daf[j] = dc * cp[j] * gf;
      dag[j] = dc * i_ * (T(1) - g_ * g_);
      dao[j] = dht * tc * go;
      dcn[j] = dc * f_;
    }
  }
}

}  // namespace melodist::nn

#endif  // MELODIST_NN_LSTM_CELL_H
