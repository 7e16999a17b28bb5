#include "cluster/mpi_communicator.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include "util/error.h"

namespace melodist {
namespace {

using Clock = std::chrono::steady_clock;

void check(int rc, const char* call, int rank) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error("rank " + std::to_string(rank) + ": " + call + " failed: " + std::string(text, static_cast<size_t>(length)));
}

// Ends this process when a collective has been waiting longer than the timeout. The main thread marks
// the start of each collective; the watchdog only reads the clock, so it needs no MPI thread support.
class Watchdog {
 public:
  Watchdog(int rank, double timeout) : rank_(rank), timeout_(timeout) {
    if (timeout_ > 0) thread_ = std::thread([this] { watch(); });
  }
  ~Watchdog() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void enter() { since_.store(Clock::now().time_since_epoch().count()); }
  void leave() { since_.store(0); }

 private:
  void watch() {
    while (!done_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const auto since = since_.load();
      if (since == 0) continue;
      const double waited = std::chrono::duration<double>(Clock::now().time_since_epoch() - Clock::duration(since)).count();
      if (waited > timeout_) {
        std::fprintf(stderr, "melodist: rank %d: no reply from the other ranks for %.0f s (a rank hung or its connection was lost); stopping\n",
                     rank_, waited);
        std::fflush(stderr);
        _exit(3);  // mpirun sees a rank end without MPI_Finalize and stops the others
      }
    }
  }
  int rank_;
  double timeout_;
  std::atomic<bool> done_{false};
  std::atomic<Clock::rep> since_{0};
  std::thread thread_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(Reduction reduction, double timeout) : reduction_(reduction) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) throw Error("MPI could not start");
      owns_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    watchdog_ = std::make_unique<Watchdog>(rank_, timeout);
  }
  ~MpiCommunicator() override {
    watchdog_.reset();
    if (owns_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void broadcast(std::string& bytes) override {
    long long n = static_cast<long long>(bytes.size());
    check(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast", rank_);
    bytes.resize(static_cast<size_t>(n));
    // In pieces of at most 1 GiB: MPI counts are int.
    for (long long at = 0; at < n; at += 1LL << 30) {
      const int piece = static_cast<int>(std::min<long long>(n - at, 1LL << 30));
      check(MPI_Bcast(bytes.data() + at, piece, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast", rank_);
    }
  }

  int64_t sum(int64_t value) override {
    long long in = value, out = 0;
    watchdog_->enter();
    check(MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce", rank_);
    watchdog_->leave();
    return out;
  }

  void sum_gradients(float* grads, size_t n, double& nats) override {
    const int count = static_cast<int>(n);  // P < 2^31 (the model limits keep it far below)
    const auto start = Clock::now();
    watchdog_->enter();
    if (reduction_ == Reduction::native) {
      check(MPI_Allreduce(MPI_IN_PLACE, grads, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce", rank_);
      check(MPI_Allreduce(MPI_IN_PLACE, &nats, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce", rank_);
      bytes_ += static_cast<int64_t>(2 * (size_ - 1) * (n * sizeof(float) + sizeof(double)) / size_);  // a ring's share
    } else {
      if (rank_ == 0) all_.resize(n * static_cast<size_t>(size_));
      std::vector<double> all_nats(rank_ == 0 ? static_cast<size_t>(size_) : 0);
      check(MPI_Gather(grads, count, MPI_FLOAT, rank_ == 0 ? all_.data() : nullptr, count, MPI_FLOAT, 0, MPI_COMM_WORLD),
            "MPI_Gather", rank_);
      check(MPI_Gather(&nats, 1, MPI_DOUBLE, all_nats.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Gather", rank_);
      if (rank_ == 0) {
        for (int r = 1; r < size_; ++r) {  // rank order, as one process adds its workers
          const float* g = all_.data() + n * static_cast<size_t>(r);
          for (size_t i = 0; i < n; ++i) grads[i] += g[i];
          nats += all_nats[static_cast<size_t>(r)];
        }
      }
      check(MPI_Bcast(grads, count, MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Bcast", rank_);
      check(MPI_Bcast(&nats, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast", rank_);
      const int64_t payload = static_cast<int64_t>(n * sizeof(float) + sizeof(double));
      bytes_ += rank_ == 0 ? 2 * (size_ - 1) * payload : 2 * payload;
    }
    watchdog_->leave();
    seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  }

  std::vector<std::vector<float>> gather(const std::vector<float>& mine) override {
    int n = static_cast<int>(mine.size());
    std::vector<int> counts(rank_ == 0 ? size_ : 0), offsets(rank_ == 0 ? size_ : 0);
    check(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather", rank_);
    std::vector<float> all;
    if (rank_ == 0) {
      int total = 0;
      for (int r = 0; r < size_; ++r) offsets[r] = total, total += counts[r];
      all.resize(static_cast<size_t>(total));
    }
    check(MPI_Gatherv(mine.data(), n, MPI_FLOAT, all.data(), counts.data(), offsets.data(), MPI_FLOAT, 0, MPI_COMM_WORLD),
          "MPI_Gatherv", rank_);
    std::vector<std::vector<float>> out;
    for (int r = 0; r < static_cast<int>(counts.size()); ++r)
      out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
    return out;
  }

  int64_t gradient_bytes() const override { return bytes_; }
  double gradient_seconds() const override { return seconds_; }
  std::string describe() const override {
    return std::to_string(size_) + " MPI ranks (" + (reduction_ == Reduction::ordered ? "ordered" : "MPI_Allreduce") + " reduction)";
  }

 private:
  Reduction reduction_;
  bool owns_ = false;
  int rank_ = 0, size_ = 1;
  int64_t bytes_ = 0;
  double seconds_ = 0;
  std::vector<float> all_;  // (R, n) rank 0's gather buffer
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace

Reduction parse_reduction(const std::string& text) {
  if (text == "ordered") return Reduction::ordered;
  if (text == "mpi") return Reduction::native;
  throw Error("unknown --reduction \"" + text + "\" (use ordered or mpi)");
}

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

std::unique_ptr<Communicator> make_mpi_communicator(Reduction reduction, double timeout_seconds) {
  return std::make_unique<MpiCommunicator>(reduction, timeout_seconds);
}

void abort_mpi_job(int code) {
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace melodist
