#include "train/batching.h"

#include <random>

#include "util/error.h"

namespace melodist {

Objective parse_objective(const std::string& text) {
  if (text == "all") return Objective::all;
  if (text == "last") return Objective::last;
  throw Error("unknown objective \"" + text + "\" (use all or last)");
}
WindowMode parse_window_mode(const std::string& text) {
  if (text == "shuffled") return WindowMode::shuffled;
  if (text == "stateful") return WindowMode::stateful;
  throw Error("unknown window mode \"" + text + "\" (use shuffled or stateful)");
}
std::string to_string(Objective o) { return o == Objective::all ? "all" : "last"; }
std::string to_string(WindowMode m) { return m == WindowMode::shuffled ? "shuffled" : "stateful"; }

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

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

int batch_rows(const EpochPlan& plan, int B, int64_t step, WindowMode mode) {
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
