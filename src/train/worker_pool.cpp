#include "train/worker_pool.h"

#include <algorithm>
#include <thread>

namespace melodist {

WorkerPool::WorkerPool(const ModelConfig& config, int T, int B, int threads, float weight_drop, Communicator& comm)
    : comm_(comm), T_(T), B_(B), threads_(threads), layers_(config.num_layers), H_(static_cast<size_t>(config.hidden_size)),
      P_(parameter_count(config)), workers_(static_cast<size_t>(threads)) {
  const int64_t W = workers();
  for (int k = 0; k < threads_; ++k) {
    Worker& w = workers_[k];
    const int64_t g = global_index(k);
    w.full_begin = static_cast<int>(B * g / W);
    w.full_end = static_cast<int>(B * (g + 1) / W);
    w.net = nn::make_network(config, T, w.full_end - w.full_begin);
    w.net.weight_drop = weight_drop;
    w.grads.assign(P_, 0.0f);
    w.starts.assign(static_cast<size_t>(B), 0);
  }
}

int64_t WorkerPool::fill(int rows, const FillRows& fill_rows) {
  // Split rows over workers in proportion; every active worker needs at least one row.
  const int64_t active = std::min<int64_t>(workers(), rows);
  int64_t scored = 0;
  for (int k = 0; k < threads_; ++k) {
    Worker& w = workers_[k];
    const int64_t g = global_index(k);
    w.active = g < active;
    if (!w.active) continue;
    w.row_begin = static_cast<int>(rows * g / active);
    w.row_end = static_cast<int>(rows * (g + 1) / active);
    fill_rows(w.row_begin, w.row_end, w.net.tokens.data(), w.net.targets.data(), w.net.target_weights.data(), w.starts.data());
    for (int i = 0; i < T_ * (w.row_end - w.row_begin); ++i) scored += w.net.targets[i] >= 0;
  }
  return comm_.sum(scored);
}

void WorkerPool::apply_start_state(const std::vector<float>& start_h, const std::vector<float>& start_c) {
  for (Worker& w : workers_) {
    if (!w.active) continue;
    for (int r = 0; r < w.row_end - w.row_begin; ++r) {
      if (!w.starts[r]) continue;
      for (int l = 0; l < layers_; ++l) {
        std::copy(start_h.begin() + l * H_, start_h.begin() + (l + 1) * H_, w.net.layers[l].h0.begin() + r * H_);
        std::copy(start_c.begin() + l * H_, start_c.begin() + (l + 1) * H_, w.net.layers[l].c0.begin() + r * H_);
      }
    }
  }
}

void WorkerPool::run(const float* params, float scale, uint64_t mask_seed, bool carry) {
  auto work = [&](Worker& w) {
    const int r = w.row_end - w.row_begin;
    std::fill(w.grads.begin(), w.grads.end(), 0.0f);
    w.stats = nn::network_forward(w.net, params, r, true, mask_seed, w.row_begin);
    nn::network_backward(w.net, params, r, scale, w.grads.data());
    if (carry) nn::carry_state(w.net, r);
  };
  std::vector<std::thread> pool;
  for (size_t k = 1; k < workers_.size(); ++k)
    if (workers_[k].active) pool.emplace_back(work, std::ref(workers_[k]));
  if (workers_[0].active) work(workers_[0]);
  for (auto& t : pool) t.join();
}

float* WorkerPool::reduce(double& nats) {
  float* grads = workers_[0].grads.data();
  if (!workers_[0].active) std::fill(workers_[0].grads.begin(), workers_[0].grads.end(), 0.0f);  // a rank with no rows
  nats = workers_[0].active ? workers_[0].stats.nats : 0.0;
  for (size_t k = 1; k < workers_.size(); ++k) {
    if (!workers_[k].active) continue;
    const float* g = workers_[k].grads.data();
    for (size_t i = 0; i < P_; ++i) grads[i] += g[i];
    nats += workers_[k].stats.nats;
  }
  if (comm_.size() > 1) comm_.sum_gradients(grads, P_, nats);
  return grads;
}

void WorkerPool::reset_state() {
  for (Worker& w : workers_) nn::reset_state(w.net);
}

std::vector<float> WorkerPool::gather_state() {
  // Each rank sends its workers' rows, worker by worker: per layer h (rows, H) then c (rows, H).
  std::vector<float> mine;
  for (const Worker& w : workers_) {
    const size_t n = static_cast<size_t>(w.full_end - w.full_begin) * H_;
    for (int l = 0; l < layers_; ++l) {
      mine.insert(mine.end(), w.net.layers[l].h0.begin(), w.net.layers[l].h0.begin() + n);
      mine.insert(mine.end(), w.net.layers[l].c0.begin(), w.net.layers[l].c0.begin() + n);
    }
  }
  const std::vector<std::vector<float>> parts = comm_.gather(mine);
  if (comm_.rank() != 0) return {};
  std::vector<float> carried(static_cast<size_t>(layers_) * 2 * B_ * H_);  // (L, 2, B, H)
  const int64_t W = workers();
  int64_t g = 0;
  for (const auto& part : parts) {
    const float* at = part.data();
    for (int k = 0; k < threads_; ++k, ++g) {
      const size_t b0 = static_cast<size_t>(B_ * g / W), b1 = static_cast<size_t>(B_ * (g + 1) / W);
      for (int l = 0; l < layers_; ++l) {
        const size_t n = (b1 - b0) * H_;
        std::copy(at, at + n, carried.begin() + ((2 * l) * B_ + b0) * H_);
        std::copy(at + n, at + 2 * n, carried.begin() + ((2 * l + 1) * B_ + b0) * H_);
        at += 2 * n;
      }
    }
  }
  return carried;
}

void WorkerPool::scatter_state(const std::vector<float>& carried) {
  for (Worker& w : workers_) {
    const size_t b0 = static_cast<size_t>(w.full_begin), b1 = static_cast<size_t>(w.full_end);
    for (int l = 0; l < layers_; ++l) {
      auto& lb = w.net.layers[l];
      std::copy(carried.begin() + ((2 * l) * B_ + b0) * H_, carried.begin() + ((2 * l) * B_ + b1) * H_, lb.h0.begin());
      std::copy(carried.begin() + ((2 * l + 1) * B_ + b0) * H_, carried.begin() + ((2 * l + 1) * B_ + b1) * H_, lb.c0.begin());
    }
  }
}

}  // namespace melodist
