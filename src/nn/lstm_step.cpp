// Stateful inference: one LSTM step for B sequences (shape legend in nn/model.h).
//
// Per layer l and sequence b:
//   a (4H) = b_l + x @ w_x + h_prev @ w_h         (layer 0: x is one-hot, so x @ w_x is row `token` of w_x)
//   i, f, o = act(a_i, a_f, a_o), g = tanh(a_g);  c' = f*c + i*g;  h' = o*tanh(c')
// then logits (V) = h_top @ w_y + b_y.
//
// Products: gemm_packed (nn/packed_gemm) with w_h, the upper layers' w_x and w_y packed ONCE per state
// (make_step_state), not per step. The packed kernel sums every element from zero in k order and adds
// the accumulator last, whatever the number of rows and whichever row tile a row falls in; so row b of
// a batch is bitwise what batch 1 gives, and splitting the rows between threads changes nothing.
//   batch 1: (1,H)x(H,4H), bound by reading w_h (1 MiB at H 256) from L2/L3 each step (a 1-row kernel
//   running four panels at once to break the FMA chains was measured only 7% faster: not kept);
//   batch B: (B,H)x(H,4H), the packed 8-row micro-kernel, compute bound; from kStepParallelRows rows
//   the rows are shared, in 8-row chunks, between the calling thread and one persistent helper thread
//   (StepHelper below: creating a thread per step costs ~100 us, a step at batch 64 ~190 us).
#include "nn/lstm_step.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#if defined(__x86_64__)
#include <immintrin.h>  // _mm_pause
#endif

#include "nn/packed_gemm.h"
#include "util/error.h"

// GCC does not vectorise the gate loop (exp with floor and an int conversion) under ISO C++'s default
// -ftrapping-math; FP exceptions are never inspected here, so turn the assumption off for this file.
// The cell and its activations (nn/lstm_cell.h) are included after the pragma so that they are compiled
// with it: GCC does not inline a function with other FP options into the loop that calls it.
#ifdef MELODIST_NN_LSTM_CELL_H
#error "nn/lstm_cell.h must be included after the pragma below (see the comment above it)"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "nn/lstm_cell.h"
#include "nn/softmax.h"

namespace melodist {

namespace {

// Rows processed together by one thread: their accumulators (kRowBlock x 4H floats = 256 KiB at H 256)
// stay in L2.
constexpr int kRowBlock = 64;

// C (M, N) += A (M, K) @ B, with each row's result independent of M. With AVX-512 that is gemm_packed
// (its contract). Without, gemm_packed falls back to cblas_sgemm, whose kernels for edge tiles and
// small M may order a row's sums differently, so here each row is its own loop in k order over the
// row-major (K, N) copy that packed_gemm keeps in that build (see packed_gemm.h): four k per pass,
// acc[j] = (((acc[j] + x0 w0j) + x1 w1j) + x2 w2j) + x3 w3j, the same chain for every row.
void product(int M, const float* A, int lda, const PackedMatrix& B, float* C, int ldc) {
#if defined(__AVX512F__)
  gemm_packed(M, A, lda, B, true, C, ldc);
#else
  const int K = B.K, N = B.N;
  for (int i = 0; i < M; ++i) {
    float* __restrict acc = C + static_cast<size_t>(i) * ldc;
    const float* x = A + static_cast<size_t>(i) * lda;
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      const float* w0 = B.data.data() + static_cast<size_t>(k) * N;
      const float* w1 = w0 + N;
      const float* w2 = w1 + N;
      const float* w3 = w2 + N;
      const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
#pragma GCC ivdep
      for (int j = 0; j < N; ++j) acc[j] = acc[j] + x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
    }
    for (; k < K; ++k) {
      const float* w0 = B.data.data() + static_cast<size_t>(k) * N;
      const float x0 = x[k];
#pragma GCC ivdep
      for (int j = 0; j < N; ++j) acc[j] = acc[j] + x0 * w0[j];
    }
  }
#endif
}

}  // namespace

// What a state multiplies with: a snapshot of the model's weights taken by make_step_state.
struct StepWeights {
  const float* source = nullptr;  // model.params.data() when packed: identifies the model
  size_t source_size = 0;
  ModelConfig config;
  std::vector<float> w_x0;              // (V, 4H) layer 0: the input is one-hot, x @ w_x is row `token`
  std::vector<std::vector<float>> b;    // (L) x (4H)
  std::vector<PackedMatrix> w_x;        // (L) layer l > 0: (H, 4H); [0] unused
  std::vector<PackedMatrix> w_h;        // (L) (H, 4H)
  PackedMatrix w_y;                     // (H, V)
  std::vector<float> b_y;               // (V)
};

namespace {

// Rows [r0, r1) of a step, all layers and the logits. Rows never interact, so any split of the rows
// (blocks, threads) gives the same bits.
void step_rows(const StepWeights& w, const int* tokens, StepState& state, float* logits, int r0, int r1) {
  const ModelConfig& cfg = w.config;
  const int B = state.batch, H = cfg.hidden_size, V = cfg.vocab_size, L = cfg.num_layers;
  const size_t G = 4 * static_cast<size_t>(H);
  thread_local std::vector<float> acc_buf;  // (kRowBlock, 4H) pre-activations of a block of rows
  acc_buf.resize(kRowBlock * G);
  float* acc = acc_buf.data();
  for (int b0 = r0; b0 < r1; b0 += kRowBlock) {
    const int R = std::min(kRowBlock, r1 - b0);
    for (int l = 0; l < L; ++l) {
      float* h = state.h.data() + (static_cast<size_t>(l) * B + b0) * H;  // (R, H) this layer's state
      float* c = state.c.data() + (static_cast<size_t>(l) * B + b0) * H;  // (R, H)
      const float* bias = w.b[l].data();
      for (int r = 0; r < R; ++r) {
        float* a = acc + r * G;
        if (l == 0) {
          const float* row = w.w_x0.data() + static_cast<size_t>(tokens[b0 + r]) * G;
          for (size_t j = 0; j < G; ++j) a[j] = bias[j] + row[j];
        } else {
          std::memcpy(a, bias, G * sizeof(float));
        }
      }
      if (l > 0) {
        // x = new h of layer l-1 for these rows, (R, H)
        const float* below = state.h.data() + (static_cast<size_t>(l - 1) * B + b0) * H;
        product(R, below, H, w.w_x[l], acc, static_cast<int>(G));
      }
      product(R, h, H, w.w_h[l], acc, static_cast<int>(G));
      const bool hard = cfg.recurrent_activation == RecurrentActivation::hard_sigmoid;
      for (int r = 0; r < R; ++r) nn::lstm_cell_step(acc + r * G, c + static_cast<size_t>(r) * H, h + static_cast<size_t>(r) * H, H, hard);
    }
    // logits (R, V) = h_top (R, H) @ w_y (H, V) + b_y
    const float* top = state.h.data() + (static_cast<size_t>(L - 1) * B + b0) * H;
    float* out = logits + static_cast<size_t>(b0) * V;
    for (int r = 0; r < R; ++r) std::memcpy(out + static_cast<size_t>(r) * V, w.b_y.data(), V * sizeof(float));
    product(R, top, H, w.w_y, out, V);
  }
}

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// One persistent helper thread for model_step. try_run(fn, ctx, chunks) runs fn(ctx, i) for every
// chunk i in [0, chunks), the calling thread and the helper each claiming the next unclaimed chunk,
// and returns when all are done; false (nothing run) if another thread is using the helper. Claiming
// rather than a fixed half each: on a busy machine the helper may not get a core for milliseconds, and
// then the caller simply does (nearly) all chunks itself instead of waiting for the helper's half.
// The claim word packs (ticket, chunks, next chunk), so a helper that wakes up late for an old job
// finds it finished and touches nothing of it. Waits spin ~50 us (the next step of a generation loop
// comes within microseconds; a futex wake-up costs several), then sleep in the kernel.
class StepHelper {
 public:
  using Fn = void (*)(void*, int);
  static constexpr int kMaxChunks = 0xFFFF;
  ~StepHelper() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    work_.store((ticket_ + 1) << 32, std::memory_order_release);
    work_.notify_one();
    thread_.join();
  }
  bool try_run(Fn fn, void* ctx, int chunks) {
    if (chunks < 2 || chunks > kMaxChunks) return false;
    std::unique_lock<std::mutex> lock(use_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    fn_ = fn, ctx_ = ctx;
    done_.store(0, std::memory_order_relaxed);
    ++ticket_;
    work_.store(ticket_ << 32 | static_cast<uint64_t>(chunks) << 16, std::memory_order_release);
    work_.notify_one();
    const int mine = run_chunks(ticket_);
    if (mine < chunks) {  // the rest is the helper's, finishing
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 1;; ++i) {
        if (done_.load(std::memory_order_acquire) == chunks - mine) return true;
        cpu_relax();
        if (i % 256 == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(50)) break;
      }
      for (int d; (d = done_.load(std::memory_order_acquire)) != chunks - mine;) done_.wait(d, std::memory_order_acquire);
    }
    return true;
  }

 private:
  // Claims and runs chunks of job `ticket` until none is left; returns how many it ran.
  int run_chunks(uint64_t ticket) {
    int ran = 0;
    uint64_t w = work_.load(std::memory_order_acquire);
    for (;;) {
      const int chunks = static_cast<int>(w >> 16 & 0xFFFF), next = static_cast<int>(w & 0xFFFF);
      if (w >> 32 != ticket || next >= chunks) return ran;
      if (!work_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      fn_(ctx_, next);  // job `ticket` cannot finish before this chunk: fn_, ctx_ are its own
      ++ran;
    }
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      uint64_t w;
      for (int i = 1; (w = work_.load(std::memory_order_acquire)) >> 32 == seen; ++i) {
        cpu_relax();
        if (i % 256 == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(50)) {
          while ((w = work_.load(std::memory_order_acquire)) >> 32 == seen) work_.wait(w, std::memory_order_acquire);
          break;
        }
      }
      seen = w >> 32;
      if (stop_.load()) return;
      if (const int ran = run_chunks(seen); ran > 0) {
        done_.fetch_add(ran, std::memory_order_release);
        done_.notify_one();
      }
    }
  }
  std::mutex use_;  // held by the model_step call using the helper
  std::thread thread_;
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  uint64_t ticket_ = 0;                // last job posted (written under use_)
  std::atomic<uint64_t> work_{0};      // ticket << 32 | chunks << 16 | next unclaimed chunk
  std::atomic<int> done_{0};           // chunks the helper finished for the current job
  std::atomic<bool> stop_{false};
};

StepHelper& step_helper() {
  static StepHelper helper;
  return helper;
}

// Rows per claimable chunk: one 8-row micro-tile of gemm_packed. Measured: 8 rows per pass over w_h
// give the same steps/s per core as 64 (the weights come from L2/L3 fast enough for 8 rows of FMAs).
constexpr int kChunkRows = 8;

struct StepJob {
  const StepWeights* w;
  const int* tokens;
  StepState* state;
  float* logits;
};

void run_step_chunk(void* ctx, int chunk) {
  const StepJob& j = *static_cast<const StepJob*>(ctx);
  const int r0 = chunk * kChunkRows;
  step_rows(*j.w, j.tokens, *j.state, j.logits, r0, std::min(j.state->batch, r0 + kChunkRows));
}

}  // namespace

StepState make_step_state(const Model& model, int batch) {
  const ModelConfig& cfg = model.config;
  const int H = cfg.hidden_size, V = cfg.vocab_size, L = cfg.num_layers;
  const size_t G = 4 * static_cast<size_t>(H);
  if (model.params.size() != parameter_count(cfg)) throw Error("the model's parameter buffer does not match its configuration");
  auto w = std::make_shared<StepWeights>();
  w->source = model.params.data();
  w->source_size = model.params.size();
  w->config = cfg;
  const ParameterViewsOf<const float> p = parameter_views(cfg, model.params.data());
  w->w_x0.assign(p.lstm[0].w_x, p.lstm[0].w_x + static_cast<size_t>(V) * G);
  w->b.resize(L);
  w->w_x.resize(L);
  w->w_h.resize(L);
  for (int l = 0; l < L; ++l) {
    const LstmLayerViewOf<const float>& lw = p.lstm[l];
    w->b[l].assign(lw.b, lw.b + G);
    if (l > 0) pack_matrix(lw.w_x, static_cast<int>(G), false, H, static_cast<int>(G), w->w_x[l]);
    pack_matrix(lw.w_h, static_cast<int>(G), false, H, static_cast<int>(G), w->w_h[l]);
  }
  pack_matrix(p.w_y, V, false, H, V, w->w_y);
  w->b_y.assign(p.b_y, p.b_y + V);
  StepState s;
  s.weights = std::move(w);
  return make_step_state(s, batch);
}

StepState make_step_state(const StepState& like, int batch) {
  if (batch <= 0) throw Error("batch size must be positive");
  if (!like.weights) throw Error("inference state has no weights (make the first one with make_step_state(model, batch))");
  const ModelConfig& cfg = like.weights->config;
  StepState s;
  s.batch = batch;
  s.weights = like.weights;
  s.max_threads = like.max_threads;
  const size_t n = static_cast<size_t>(cfg.num_layers) * batch * cfg.hidden_size;
  s.h.assign(n, 0.0f);
  s.c.assign(n, 0.0f);
  return s;
}

void model_step(const Model& model, const int* tokens, StepState& state, float* logits) {
  const StepWeights* w = state.weights.get();
  if (!w) throw Error("inference state has no weights (make it with make_step_state)");
  const ModelConfig& cfg = model.config;
  if (w->source != model.params.data() || w->source_size != model.params.size() || w->config.hidden_size != cfg.hidden_size ||
      w->config.vocab_size != cfg.vocab_size || w->config.num_layers != cfg.num_layers ||
      w->config.recurrent_activation != cfg.recurrent_activation)
    throw Error("inference state was made from a different model (make it with make_step_state from this model)");
  const int B = state.batch, H = cfg.hidden_size, V = cfg.vocab_size, L = cfg.num_layers;
  if (B <= 0 || state.h.size() != static_cast<size_t>(L) * B * H || state.c.size() != state.h.size())
    throw Error("inference state does not match the model (layers, batch or hidden size)");
  for (int b = 0; b < B; ++b)
    if (tokens[b] < 0 || tokens[b] >= V) throw Error("symbol id " + std::to_string(tokens[b]) + " is outside the vocabulary");
  if (B >= kStepParallelRows && state.max_threads >= 2) {
    StepJob job{w, tokens, &state, logits};
    if (step_helper().try_run(run_step_chunk, &job, (B + kChunkRows - 1) / kChunkRows)) return;
  }
  step_rows(*w, tokens, state, logits, 0, B);
}

void softmax_inplace(float* row, int V) { nn::probabilities_from_lse(row, V, nn::log_sum_exp(row, V).value(), row); }

}  // namespace melodist
