#pragma once
// How training turns songs into batches (T steps x B rows, time-major like the engine's buffers).
//
// The training stream: the training songs in order, each followed by `delimiter_length` "/" (the
// reference's file_dataset without the validation songs). Position p of a window feeds stream[p] and
// predicts stream[p + 1].
//   objective all, windows shuffled (default): each epoch cuts the stream into T-step windows from a
//     random offset in [0, T), shuffles them and batches B at a time; every window starts from a zero
//     state and every position is scored (teacher forcing), so an epoch trains on each symbol once.
//   objective all, windows stateful: the stream is split into B lanes read in order, T steps per
//     batch, the state carried from one batch to the next (truncated BPTT).
//   objective last (the reference, many-to-one): every window of T symbols at stride 1, shuffled,
//     scored only at its last position.
// Shuffles use a fixed generator (mt19937_64, own Fisher-Yates) seeded from (seed, epoch): the same
// seed gives the same batches on every machine, and a resumed run the same ones.
#include <cstdint>
#include <string>
#include <vector>

namespace melodist {

enum class Objective { all, last };
enum class WindowMode { shuffled, stateful };
Objective parse_objective(const std::string& text);    // "all" / "last", throws melodist::Error
WindowMode parse_window_mode(const std::string& text);  // "shuffled" / "stateful"
std::string to_string(Objective objective);
std::string to_string(WindowMode mode);

std::vector<int> training_stream(const std::vector<std::vector<int>>& songs, int delimiter_id, int delimiter_length);

struct EpochPlan {
  std::vector<int64_t> starts;  // window start positions, in batch order (stateful: the B lane starts)
  int64_t steps = 0;            // batches in the epoch
  int64_t lane_length = 0;      // stateful only
};

// Throws melodist::Error when the stream is too short for one window of T + 1 symbols.
EpochPlan plan_epoch(int64_t stream_size, int T, int B, Objective objective, WindowMode mode, uint64_t seed, int epoch);

// Rows of batch `step` (at most B; the last shuffled batch may be short).
int batch_rows(const EpochPlan& plan, int B, int64_t step, WindowMode mode);

// Fills rows [row_begin, row_end) of batch `step` into tokens / targets (T, row_end - row_begin).
void fill_batch(const std::vector<int>& stream, const EpochPlan& plan, int T, int B, int64_t step, Objective objective,
                WindowMode mode, int row_begin, int row_end, int* tokens /*(T,rows)*/, int* targets /*(T,rows)*/);

uint64_t mix_seed(uint64_t a, uint64_t b);  // splitmix64 of a combined with b

}  // namespace melodist
