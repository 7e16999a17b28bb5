// Training throughput of the engine (one full step: forward, backward, gradient sum, clipping, Adam) for
// the default model (B 64, T 64, H 256, V 38, 1 layer, dropout 0.2), beside the FLOP rate of a large
// sgemm with the same BLAS. Run through bench/train.sh, which adds the PyTorch peer and the BLIS run and
// prints the table. Counters:
//   tokens_per_s   B*T per step / wall time
//   gflops         model FLOPs (matrix products only: 24 H^2 + 6 H V per token) per second
//   other_cpu      cores used by OTHER processes during the measurement (/proc/stat minus own CPU time);
//                  above ~0.2 the figure is depressed by load
//   tokens_per_cpu_s, gflops_per_cpu_s: the same per second of this process's own CPU time (user + system).
//                  On the shared 2-core machine the wall-clock rates depend on how much CPU the neighbours
//                  leave us; the CPU-time rates measure the code's efficiency and are stable under load
//                  (they still include cache and memory-bandwidth contention from the neighbours).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cblas.h>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "nn/adam.h"
#include "nn/blas.h"
#include "nn/engine.h"
#include "nn/grad_clip.h"
#include "nn/model.h"
#include "nn/packed_gemm.h"

namespace {

struct CpuMeter {
  double busy0 = 0, own0 = 0;
  static double machine_busy_seconds() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long user, nice, system, idle, iowait, irq, softirq, steal;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return static_cast<double>(user + nice + system + irq + softirq + steal) / 100.0;  // USER_HZ
  }
  static double own_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  void start() { busy0 = machine_busy_seconds(), own0 = own_seconds(); }
  double other_seconds() const { return (machine_busy_seconds() - busy0) - (own_seconds() - own0); }
  double own_seconds_since() const { return own_seconds() - own0; }
};

// One training step split over `workers` threads (BLAS single-threaded inside each), as train_model does.
void BM_train_step(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int blas_threads = static_cast<int>(state.range(1));
  const int B = 64, T = 64, H = 256, V = 38;
  melodist::ModelConfig config;
  config.vocab_size = V;
  config.hidden_size = H;
  config.dropout = 0.2f;
  std::vector<std::string> vocab;
  for (int i = 0; i < V; ++i) vocab.push_back(std::to_string(i));
  melodist::Model model = melodist::make_model(config, vocab, 1);
  const size_t P = model.params.size();
  melodist::set_blas_threads(blas_threads);
  std::vector<melodist::nn::Network> nets;
  std::vector<std::vector<float>> grads(workers, std::vector<float>(P));
  for (int k = 0; k < workers; ++k) {
    const int rows = B * (k + 1) / workers - B * k / workers;
    nets.push_back(melodist::nn::make_network(config, T, rows));
    for (size_t i = 0; i < nets[k].tokens.size(); ++i) {
      nets[k].tokens[i] = static_cast<int>((i * 7 + k) % V);
      nets[k].targets[i] = static_cast<int>((i * 11 + 3) % V);
    }
  }
  std::vector<float> m(P), v(P);
  melodist::AdamConfig adam;
  long step = 0;
  CpuMeter meter;
  meter.start();
  for (auto _ : state) {
    auto work = [&](int k) {
      std::fill(grads[k].begin(), grads[k].end(), 0.0f);
      const int rows = nets[k].B;
      auto s = melodist::nn::network_forward(nets[k], model.params.data(), rows, true, 1234 + step, B * k / workers);
      melodist::nn::network_backward(nets[k], model.params.data(), rows, 1.0f / (B * T), grads[k].data());
      benchmark::DoNotOptimize(s.nats);
    };
    std::vector<std::thread> pool;
    for (int k = 1; k < workers; ++k) pool.emplace_back(work, k);
    work(0);
    for (auto& t : pool) t.join();
    for (int k = 1; k < workers; ++k)
      for (size_t i = 0; i < P; ++i) grads[0][i] += grads[k][i];
    const double norm = melodist::global_norm(grads[0].data(), P);
    melodist::clip_by_global_norm(grads[0].data(), P, 5.0f, norm);
    melodist::adam_update(model.params.data(), grads[0].data(), m.data(), v.data(), P, adam, ++step);
  }
  const double tokens = static_cast<double>(state.iterations()) * B * T;
  const double flops_per_token = 24.0 * H * H + 6.0 * H * V;
  state.counters["tokens_per_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  state.counters["gflops"] = benchmark::Counter(tokens * flops_per_token * 1e-9, benchmark::Counter::kIsRate);
  state.counters["other_cpu"] = benchmark::Counter(meter.other_seconds(), benchmark::Counter::kIsRate);
  const double cpu = meter.own_seconds_since();
  state.counters["tokens_per_cpu_s"] = tokens / cpu;
  state.counters["gflops_per_cpu_s"] = tokens * flops_per_token * 1e-9 / cpu;
  melodist::set_blas_threads(1);
}
// (workers, BLAS threads): own batch split over 1 and 2 cores, and BLAS-internal threading on 2 cores.
BENCHMARK(BM_train_step)->Args({1, 1})->Args({2, 1})->Args({1, 2})->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The machine's reference FLOP rate: a large single-precision product with the same BLAS.
void BM_sgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  melodist::set_blas_threads(threads);
  std::vector<float> a(static_cast<size_t>(n) * n, 0.5f), b(static_cast<size_t>(n) * n, 0.25f), c(static_cast<size_t>(n) * n);
  CpuMeter meter;
  meter.start();
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  const double gflop = static_cast<double>(state.iterations()) * 2.0 * n * n * n * 1e-9;
  state.counters["gflops"] = benchmark::Counter(gflop, benchmark::Counter::kIsRate);
  state.counters["other_cpu"] = benchmark::Counter(meter.other_seconds(), benchmark::Counter::kIsRate);
  state.counters["gflops_per_cpu_s"] = gflop / meter.own_seconds_since();
  melodist::set_blas_threads(1);
}
BENCHMARK(BM_sgemm)->Args({2048, 1})->Args({2048, 2})->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The recurrent step product of one worker, (M, H) @ w_h (H, 4H) and the backward (M, 4H) @ w_h^T,
// through cblas_sgemm (packs w_h on every call) and through nn/packed_gemm.h (packed once, outside the
// loop, as lstm_forward / lstm_backward do once per T steps). Args: (packed?, M, transposed?).
void BM_step_product(benchmark::State& state) {
  const bool packed = state.range(0) != 0, transposed = state.range(2) != 0;
  const int M = static_cast<int>(state.range(1)), H = 256, G = 4 * H;
  const int K = transposed ? G : H, N = transposed ? H : G;
  melodist::set_blas_threads(1);
  std::vector<float> w(static_cast<size_t>(H) * G), a(static_cast<size_t>(M) * K), c(static_cast<size_t>(M) * N);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 37) % 101) * 0.01f - 0.5f;
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 13) % 29) * 0.02f - 0.3f;
  melodist::PackedMatrix p;
  melodist::pack_matrix(w.data(), G, transposed, K, N, p);
  for (auto _ : state) {
    if (packed)
      melodist::gemm_packed(M, a.data(), K, p, true, c.data(), N);
    else
      melodist::gemm(false, transposed, M, N, K, 1.0f, a.data(), K, w.data(), G, 1.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["gflops"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * M * N * K * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_step_product)->ArgsProduct({{0, 1}, {32, 64}, {0, 1}})->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
