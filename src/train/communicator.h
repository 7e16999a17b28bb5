#pragma once
// The seam between one training process and the others of a data-parallel run (train/worker_pool.h).
// A run of R ranks, each with t worker threads, has R x t workers; worker w = rank x t + k takes rows
// [B w / W, B (w + 1) / W) of every batch (W = R x t, the same split one process with W threads uses).
// Every step each rank sums its workers' gradients, the ranks sum theirs (sum_gradients), and every rank
// applies the same clip and Adam step, so the weights stay identical on every rank without being sent.
//
// The single-process communicator (make_local_communicator) is the identity; cluster/mpi_communicator.h
// implements this over MPI for `mpirun -np R melodist train`.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace melodist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // rank 0's bytes, on every rank.
  virtual void broadcast(std::string& bytes) = 0;
  // The sum over ranks of an exact integer, on every rank.
  virtual int64_t sum(int64_t value) = 0;
  // grads (n) and nats: this rank's sums in, the sum over every rank out, on every rank. The ordered
  // reduction adds the ranks' parts in rank order ((g0 + g1) + g2 ...), the order one process adds its
  // workers' gradients in, so R ranks of one thread give the bits of one process of R threads.
  virtual void sum_gradients(float* grads, size_t n, double& nats) = 0;
  // Rank 0 receives every rank's `mine`, in rank order; the others receive an empty list.
  virtual std::vector<std::vector<float>> gather(const std::vector<float>& mine) = 0;
  // Bytes of gradient this rank has sent plus received in sum_gradients so far, and the seconds it spent
  // there (waiting included): the communication figures of bench/mpi.sh and docs/scaling.md.
  virtual int64_t gradient_bytes() const = 0;
  virtual double gradient_seconds() const = 0;
  virtual std::string describe() const = 0;  // "1 process", "4 MPI ranks (ordered reduction)"
};

// One process: rank 0 of 1.
std::unique_ptr<Communicator> make_local_communicator();

}  // namespace melodist
