#pragma once
// How training turns songs into batches (T steps x B rows, time-major like the engine's buffers).
//
// The training stream: the training songs in order, each followed by `delimiter_length` "/" (the
// reference's file_dataset without the validation songs). Position p of a window feeds stream[p] and
// predicts stream[p + 1].
//   objective all, windows songs (default): training mirrors validation (generate/song_score.h). Each
//     song is one sample: from the state after delimiter_length - 1 "/" run from a zero state, it feeds
//     "/" + song and predicts song + "/" (exactly the positions validation scores), in T-step windows
//     whose state is carried from one batch to the next within the song; the last window of a song is
//     padded (target -1, not scored). Each epoch shuffles the songs; B rows take the next song of the
//     shuffled order as soon as their current one ends. The start state is the same for every song, so
//     the trainer computes it once per batch (1 row, no gradient: truncated there like any window).
//   objective all, windows shuffled: each epoch cuts the stream into T-step windows from a random
//     offset in [0, T), shuffles them and batches B at a time; every window starts from a zero state and
//     every position is scored (teacher forcing), so an epoch trains on each symbol once. Never sees a
//     position more than T steps after a zero state, nor the state validation starts songs from.
//   objective all, windows stateful: the stream is split into B lanes read in order, T steps per
//     batch, the state carried from one batch to the next (truncated BPTT). Songs start from whatever
//     state the previous song and its "/" run left, not the state validation starts them from.
//   objective last (the reference, many-to-one): every window of T symbols at stride 1, shuffled,
//     scored only at its last position.
// Shuffles use a fixed generator (mt19937_64, own Fisher-Yates) seeded from (seed, epoch): the same
// seed gives the same batches on every machine, and a resumed run the same ones.
#include <cstdint>
#include <string>
#include <vector>

namespace melodist {

enum class Objective { all, last };
enum class WindowMode { shuffled, stateful, songs };
Objective parse_objective(const std::string& text);    // "all" / "last", throws melodist::Error
WindowMode parse_window_mode(const std::string& text);  // "songs" / "shuffled" / "stateful"
std::string to_string(Objective objective);
std::string to_string(WindowMode mode);

std::vector<int> training_stream(const std::vector<std::vector<int>>& songs, int delimiter_id, int delimiter_length);

struct EpochPlan {
  std::vector<int64_t> starts;  // window start positions, in batch order (stateful: the B lane starts)
  int64_t steps = 0;            // batches in the epoch
  int64_t lane_length = 0;      // stateful only
  // songs only, (steps, B) each: the song (index into the training songs) row b works on at a step, or -1
  // when the row idles (end of the epoch), and which T-step window of that song's "/" + song it is.
  std::vector<int> row_song, row_window;
};

// Throws melodist::Error when the stream is too short for one window of T + 1 symbols.
EpochPlan plan_epoch(int64_t stream_size, int T, int B, Objective objective, WindowMode mode, uint64_t seed, int epoch);

// windows songs: the epoch's schedule of the training songs (throws when there are none).
EpochPlan plan_song_epoch(const std::vector<std::vector<int>>& songs, int T, int B, uint64_t seed, int epoch);

// windows songs: rows [row_begin, row_end) of batch `step` into tokens / targets (T, rows); starts[r]
// is set to 1 where row row_begin + r begins a song (or idles) and so starts from the start state,
// 0 where it continues the song of the previous batch from the carried state.
void fill_song_batch(const std::vector<std::vector<int>>& songs, const EpochPlan& plan, int T, int B, int64_t step,
                     int delimiter_id, int row_begin, int row_end, int* tokens /*(T,rows)*/, int* targets /*(T,rows)*/,
                     unsigned char* starts /*(rows)*/);

// The closing bar of each song (train --closing-weight): the position of its last barline symbol (an id in
// `barlines`; one past the end "/" when it has none); position p's target (song + "/")[p] is in the
// closing bar when p >= that, the barline itself and the end "/" included.
std::vector<int64_t> closing_bar_starts(const std::vector<std::vector<int>>& songs, const std::vector<bool>& barlines /*(V)*/);
// windows songs: the loss weights (T, rows) of the targets fill_song_batch writes for the same rows:
// `weight` in each song's closing bar, 1 elsewhere.
void fill_closing_weights(const std::vector<int64_t>& closing_from, const EpochPlan& plan, int T, int B, int64_t step,
                          int row_begin, int row_end, float weight, float* weights /*(T,rows)*/);

// Rows of batch `step` (at most B; the last shuffled batch may be short).
int batch_rows(const EpochPlan& plan, int B, int64_t step, WindowMode mode);

// Fills rows [row_begin, row_end) of batch `step` into tokens / targets (T, row_end - row_begin).
void fill_batch(const std::vector<int>& stream, const EpochPlan& plan, int T, int B, int64_t step, Objective objective,
                WindowMode mode, int row_begin, int row_end, int* tokens /*(T,rows)*/, int* targets /*(T,rows)*/);

uint64_t mix_seed(uint64_t a, uint64_t b);  // splitmix64 of a combined with b

}  // namespace melodist
