// The one definition of a melody's log-likelihood (see song_score.h).
//
// Input sequence: "/" x D, s_1 .. s_n. The distribution after the D-th "/" predicts s_1, the one after
// s_k predicts s_{k+1}, and (score_end) the one after s_n predicts the closing "/". So S = n (+1) scored
// steps. The state after the D start symbols is the same for every song: score_songs computes it once
// and copies it into every row (bit-identical to running it per song, since rows never interact).
#include "nn/song_score.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>

#include "nn/lstm_step.h"
#include "nn/softmax.h"
#include "util/error.h"

namespace melodist {

double SongScore::total_nats() const {
  double t = 0.0;
  for (double n : nats) t += n;
  return t;
}

namespace {

struct Prefix {
  int delimiter = -1;
  StepState state;             // (L, 1, H) state after the D start symbols; its packed weights serve every group
  std::vector<float> logits;   // (V) distribution over the first symbol of a song
};

Prefix run_prefix(const Model& model, int delimiter_length) {
  Prefix p;
  p.delimiter = model.symbol_id(kDelimiterSymbol);
  if (p.delimiter < 0) throw Error("the model's vocabulary has no \"/\" delimiter symbol");
  if (delimiter_length < 1) throw Error("the start-symbol count must be at least 1");
  StepState s = make_step_state(model, 1);
  p.logits.resize(model.config.vocab_size);
  for (int t = 0; t < delimiter_length; ++t) model_step(model, &p.delimiter, s, p.logits.data());
  p.state = std::move(s);
  return p;
}

// Adds one scored step: logits (V) of the distribution, target id.
void score_step(const float* logits, int V, int target, bool keep, SongScore& out) {
  // log-softmax in double (nn/softmax.h): nats = logsumexp(logits) - logits[target]
  const nn::LogSumExp r = nn::log_sum_exp(logits, V);
  const double lse = r.value();
  out.targets.push_back(target);
  out.nats.push_back(lse - static_cast<double>(logits[target]));
  out.argmax.push_back(r.argmax);
  if (keep) {
    const size_t at = out.probabilities.size();
    out.probabilities.resize(at + V);
    nn::probabilities_from_lse(logits, V, lse, out.probabilities.data() + at);
  }
}

void check_ids(const Model& model, const std::vector<int>& ids) {
  for (int id : ids)
    if (id < 0 || id >= model.config.vocab_size)
      throw Error("symbol id " + std::to_string(id) + " is outside the model's vocabulary of " + std::to_string(model.config.vocab_size));
}

// Scores songs[order[0..n)] as one batch starting from the shared prefix state.
void score_group(const Model& model, const Prefix& prefix, const std::vector<std::vector<int>>& songs, const int* order, int n,
                 bool score_end, bool keep, bool parallel_groups, std::vector<SongScore>& results) {
  const int V = model.config.vocab_size, H = model.config.hidden_size, L = model.config.num_layers;
  StepState s = make_step_state(prefix.state, n);  // shares the prefix's packed weights: no re-packing per group
  if (parallel_groups) s.max_threads = 1;          // the groups already keep the cores busy
  for (int l = 0; l < L; ++l)
    for (int b = 0; b < n; ++b) {
      std::copy_n(prefix.state.h.begin() + static_cast<size_t>(l) * H, H, s.h.begin() + (static_cast<size_t>(l) * n + b) * H);
      std::copy_n(prefix.state.c.begin() + static_cast<size_t>(l) * H, H, s.c.begin() + (static_cast<size_t>(l) * n + b) * H);
    }
  size_t longest = 0;
  for (int b = 0; b < n; ++b) longest = std::max(longest, songs[order[b]].size());
  std::vector<int> tokens(n, prefix.delimiter);  // (B)
  std::vector<float> logits(static_cast<size_t>(n) * V);  // (B, V)
  for (int b = 0; b < n; ++b) std::copy(prefix.logits.begin(), prefix.logits.end(), logits.begin() + static_cast<size_t>(b) * V);
  // Step t: logits predict symbol t of each song (t == size: the closing "/").
  for (size_t t = 0;; ++t) {
    bool any_left = false;
    for (int b = 0; b < n; ++b) {
      const std::vector<int>& song = songs[order[b]];
      SongScore& r = results[order[b]];
      if (t < song.size()) {
        score_step(logits.data() + static_cast<size_t>(b) * V, V, song[t], keep, r);
        tokens[b] = song[t];
        if (t + 1 < song.size() || score_end) any_left = true;
      } else {
        if (t == song.size() && score_end) score_step(logits.data() + static_cast<size_t>(b) * V, V, prefix.delimiter, keep, r);
        tokens[b] = prefix.delimiter;  // padding: finished rows keep stepping, their outputs are ignored
      }
    }
    if (!any_left || t >= longest) break;
    model_step(model, tokens.data(), s, logits.data());
  }
}

}  // namespace

SongScore score_song(const Model& model, const std::vector<int>& song_ids, bool score_end, bool keep_probabilities,
                     int delimiter_length) {
  return score_songs(model, {song_ids}, score_end, keep_probabilities, delimiter_length, 1).front();
}

std::vector<SongScore> score_songs(const Model& model, const std::vector<std::vector<int>>& songs, bool score_end,
                                   bool keep_probabilities, int delimiter_length, int threads) {
  for (const auto& s : songs) check_ids(model, s);
  std::vector<SongScore> results(songs.size());
  if (songs.empty()) return results;
  const Prefix prefix = run_prefix(model, delimiter_length);
  // Songs of similar length share a batch (less padding); groups of up to 32 rows.
  std::vector<int> order(songs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return songs[a].size() < songs[b].size(); });
  constexpr int kGroup = 32;
  const int groups = static_cast<int>((order.size() + kGroup - 1) / kGroup);
  auto run = [&](int first_group, int step) {
    for (int g = first_group; g < groups; g += step) {
      const int begin = g * kGroup;
      const int n = std::min<int>(kGroup, static_cast<int>(order.size()) - begin);
      score_group(model, prefix, songs, order.data() + begin, n, score_end, keep_probabilities, threads > 1, results);
    }
  };
  threads = std::max(1, std::min(threads, groups));
  if (threads == 1) {
    run(0, 1);
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        try {
          run(t, threads);
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    for (auto& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  return results;
}

std::vector<int> melody_ids(const Model& model, const std::vector<std::string>& symbols, const std::string& source) {
  std::vector<int> ids;
  ids.reserve(symbols.size());
  for (const std::string& s : symbols) {
    const int id = model.symbol_id(s);
    if (id < 0) {
      std::string vocab;
      for (const auto& v : model.vocabulary) vocab += (vocab.empty() ? "" : " ") + v;
      const std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
      throw Error(source + ": symbol \"" + shown + "\" is not in the model's vocabulary: " + vocab);
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace melodist
