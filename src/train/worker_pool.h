#pragma once
// The workers of a training run: the batch's rows split over worker threads in this process and, through
// the Communicator (train/communicator.h), over the ranks of an MPI run. Worker w of W = ranks x threads
// owns rows [rows w / A, rows (w + 1) / A) of a batch of `rows` rows (A = min(W, rows) active workers),
// its own engine buffers and gradient buffer; BLAS runs single-threaded inside each.
//
// One step: fill (each worker its rows) -> run (forward, backward, carry the state) -> reduce (the sum of
// every worker's gradient and nats, in worker order, on every rank).
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/engine.h"
#include "train/communicator.h"

namespace melodist {

class WorkerPool {
 public:
  // threads: this rank's workers. B: rows of a full batch, T: steps.
  WorkerPool(const ModelConfig& config, int T, int B, int threads, float weight_drop, Communicator& comm);

  // Writes rows [row_begin, row_end) of the batch: tokens, targets, the targets' loss weights (T, rows; all
  // 1 when left) and starts (rows: 1 where a row starts from the start state, songs windows only).
  using FillRows = std::function<void(int row_begin, int row_end, int* tokens, int* targets, float* weights, unsigned char* starts)>;
  // Fills this rank's rows of a batch of `rows` rows; returns the scored positions of the whole batch
  // (every rank's), the denominator of the mean loss.
  int64_t fill(int rows, const FillRows& fill_rows);
  // songs windows: rows whose `starts` flag is set begin from (h, c) (L, H) instead of the carried state.
  void apply_start_state(const std::vector<float>& start_h, const std::vector<float>& start_c);
  // Forward and backward of every active worker at once (one thread each); `carry` keeps each row's
  // final state for the next batch (stateful and songs windows).
  void run(const float* params, float scale, uint64_t mask_seed, bool carry);
  // The gradient (P) summed over every worker of every rank, in worker order, and its nats.
  float* reduce(double& nats);

  void reset_state();
  // The carried state of every row of a full batch, (L, 2, B, H): h then c. Collective: every rank calls
  // it; rank 0 receives the whole, the others an empty vector.
  std::vector<float> gather_state();
  // Each rank takes its rows of a whole (L, 2, B, H) state.
  void scatter_state(const std::vector<float>& carried);

  int workers() const { return threads_ * comm_.size(); }

 private:
  struct Worker {
    nn::Network net;
    std::vector<float> grads;           // (P)
    std::vector<unsigned char> starts;  // (rows)
    int row_begin = 0, row_end = 0;     // this batch's rows
    int full_begin = 0, full_end = 0;   // rows of a full batch (B rows)
    bool active = false;
    nn::ForwardStats stats;
  };
  int global_index(int k) const { return comm_.rank() * threads_ + k; }

  Communicator& comm_;
  int T_, B_, threads_, layers_;
  size_t H_, P_;
  std::vector<Worker> workers_;
};

}  // namespace melodist
