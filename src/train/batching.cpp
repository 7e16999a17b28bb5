#include "train/batching.h"

#include <random>

#include "util/error.h"
#include "util/splitmix64.h"

namespace melodist {

Objective parse_objective(const std::string& text) {
  if (text == "all") return Objective::all;
  if (text == "last") return Objective::last;
  throw Error("unknown objective \"" + text + "\" (use all or last)");
}
WindowMode parse_window_mode(const std::string& text) {
  if (text == "shuffled") return WindowMode::shuffled;
  if (text == "stateful") return WindowMode::stateful;
  if (text == "songs") return WindowMode::songs;
  throw Error("unknown window mode \"" + text + "\" (use songs, shuffled or stateful)");
}
std::string to_string(Objective o) { return o == Objective::all ? "all" : "last"; }
std::string to_string(WindowMode m) {
  return m == WindowMode::shuffled ? "shuffled" : m == WindowMode::stateful ? "stateful" : "songs";
}

uint64_t mix_seed(uint64_t a, uint64_t b) { return splitmix64_mix(a * kSplitmix64Gamma + b + 0x632be59bd9b4e019ULL); }

std::vector<int> training_stream(const std::vector<std::vector<int>>& songs, int delimiter_id, int delimiter_length) {
  std::vector<int> stream;
  for (const auto& song : songs) {
    stream.insert(stream.end(), song.begin(), song.end());
    stream.insert(stream.end(), delimiter_length, delimiter_id);
  }
  return stream;
}

EpochPlan plan_epoch(int64_t S, int T, int B, Objective objective, WindowMode mode, uint64_t seed, int epoch) {
  if (S < T + 1)
    throw Error("the training songs hold " + std::to_string(S) + " symbols (with delimiters), fewer than one window of --seq-len + 1 = " +
                std::to_string(T + 1));
  EpochPlan plan;
  std::mt19937_64 rng(mix_seed(seed, 0x5eed0000ULL + static_cast<uint64_t>(epoch)));
  if (objective == Objective::all && mode == WindowMode::stateful) {
    plan.lane_length = (S - 1) / B;
    plan.steps = plan.lane_length / T;
    if (plan.steps < 1)
      throw Error("the training stream (" + std::to_string(S) + " symbols) is too short for --batch " + std::to_string(B) +
                  " lanes of --seq-len " + std::to_string(T) + " steps");
    for (int b = 0; b < B; ++b) plan.starts.push_back(b * plan.lane_length);
    return plan;
  }
  if (objective == Objective::all) {
    const int64_t offset = static_cast<int64_t>(rng() % static_cast<uint64_t>(T));
    for (int64_t p = offset; p + T + 1 <= S; p += T) plan.starts.push_back(p);
    if (plan.starts.empty()) plan.starts.push_back(0);
  } else {
    for (int64_t p = 0; p + T + 1 <= S; ++p) plan.starts.push_back(p);
  }
  for (size_t i = plan.starts.size(); i > 1; --i) std::swap(plan.starts[i - 1], plan.starts[rng() % i]);
  plan.steps = (static_cast<int64_t>(plan.starts.size()) + B - 1) / B;
  return plan;
}

EpochPlan plan_song_epoch(const std::vector<std::vector<int>>& songs, int T, int B, uint64_t seed, int epoch) {
  if (songs.empty()) throw Error("there are no training songs");
  std::vector<int> order(songs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::mt19937_64 rng(mix_seed(seed, 0x5eed0000ULL + static_cast<uint64_t>(epoch)));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  EpochPlan plan;
  // Row b works on cur_song[b], window cur_window[b] of its windows(song) = ceil((n + 1) / T).
  std::vector<int> cur_song(B, -1), cur_window(B, 0);
  size_t next = 0;
  auto windows = [&](int s) { return static_cast<int>((songs[s].size() + 1 + T - 1) / T); };
  for (;;) {
    bool busy = false;
    for (int b = 0; b < B; ++b) {
      if (cur_song[b] >= 0 && ++cur_window[b] < windows(cur_song[b])) {
        busy = true;
        continue;
      }
      cur_song[b] = next < order.size() ? order[next++] : -1;
      cur_window[b] = 0;
      busy |= cur_song[b] >= 0;
    }
    if (!busy) break;
    plan.row_song.insert(plan.row_song.end(), cur_song.begin(), cur_song.end());
    plan.row_window.insert(plan.row_window.end(), cur_window.begin(), cur_window.end());
    ++plan.steps;
  }
  return plan;
}

namespace {
// windows songs: the sample position in its song of step t of the row at plan index `at` (0 for an idle row):
// input ("/" + song)[p], target (song + "/")[p].
int64_t song_position(const EpochPlan& plan, size_t at, int T, int t) {
  return static_cast<int64_t>(plan.row_song[at] < 0 ? 0 : plan.row_window[at]) * T + t;
}
}  // namespace

void fill_song_batch(const std::vector<std::vector<int>>& songs, const EpochPlan& plan, int T, int B, int64_t step,
                     int delimiter_id, int row_begin, int row_end, int* tokens, int* targets, unsigned char* starts) {
  const int rows = row_end - row_begin;
  for (int r = 0; r < rows; ++r) {
    const size_t at = static_cast<size_t>(step) * B + row_begin + r;
    const int s = plan.row_song[at];
    starts[r] = s < 0 || plan.row_window[at] == 0;
    const int64_t n = s < 0 ? -1 : static_cast<int64_t>(songs[s].size());
    for (int t = 0; t < T; ++t) {
      const int64_t p = song_position(plan, at, T, t);  // 0..n
      const bool in = s >= 0 && p <= n;
      tokens[t * rows + r] = in && p > 0 ? songs[s][p - 1] : delimiter_id;
      targets[t * rows + r] = !in ? -1 : p < n ? songs[s][p] : delimiter_id;
    }
  }
}

std::vector<int64_t> closing_bar_starts(const std::vector<std::vector<int>>& songs, const std::vector<bool>& barlines) {
  std::vector<int64_t> from(songs.size());
  for (size_t s = 0; s < songs.size(); ++s) {
    from[s] = static_cast<int64_t>(songs[s].size()) + 1;
    for (size_t p = songs[s].size(); p-- > 0;)
      if (barlines[songs[s][p]]) {
        from[s] = static_cast<int64_t>(p);
        break;
      }
  }
  return from;
}

void fill_closing_weights(const std::vector<int64_t>& closing_from, const EpochPlan& plan, int T, int B, int64_t step,
                          int row_begin, int row_end, float weight, float* weights) {
  const int rows = row_end - row_begin;
  for (int r = 0; r < rows; ++r) {
    const size_t at = static_cast<size_t>(step) * B + row_begin + r;
    const int s = plan.row_song[at];
    for (int t = 0; t < T; ++t) {
      weights[t * rows + r] = s >= 0 && song_position(plan, at, T, t) >= closing_from[s] ? weight : 1.0f;
    }
  }
}

int batch_rows(const EpochPlan& plan, int B, int64_t step, WindowMode mode) {
  if (mode == WindowMode::songs && !plan.row_song.empty()) return B;
  if (mode == WindowMode::stateful && plan.lane_length > 0) return B;
  const int64_t left = static_cast<int64_t>(plan.starts.size()) - step * B;
  return static_cast<int>(left < B ? left : B);
}

void fill_batch(const std::vector<int>& stream, const EpochPlan& plan, int T, int B, int64_t step, Objective objective,
                WindowMode mode, int row_begin, int row_end, int* tokens, int* targets) {
  const int rows = row_end - row_begin;
  const bool stateful = objective == Objective::all && mode == WindowMode::stateful;
  for (int r = 0; r < rows; ++r) {
    const int64_t start = stateful ? plan.starts[row_begin + r] + step * T : plan.starts[step * B + row_begin + r];
    for (int t = 0; t < T; ++t) {
      tokens[t * rows + r] = stream[start + t];
      targets[t * rows + r] = (objective == Objective::all || t == T - 1) ? stream[start + t + 1] : -1;
    }
  }
}

}  // namespace melodist
