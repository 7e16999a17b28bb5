// Dynamic evaluation (see dynamic_eval.h): the training engine (nn/engine.h) run one segment at a time
// at batch 1, with a plain SGD step after each segment.
#include "evaluate/dynamic_eval.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <thread>

#include "formats/text_encoding.h"
#include "nn/engine.h"
#include "util/error.h"

namespace melodist {

void check_dynamic_options(const DynamicEvalOptions& o) {
  if (!(o.lr >= 0.0) || !std::isfinite(o.lr))
    throw Error("dynamic evaluation: the learning rate must be a finite number >= 0 (got " + std::to_string(o.lr) + ")");
  if (o.segment < 1) throw Error("dynamic evaluation: the segment must be at least 1 step (got " + std::to_string(o.segment) + ")");
  if (o.iterations < 1) throw Error("dynamic evaluation: the iterations per update must be at least 1 (got " + std::to_string(o.iterations) + ")");
  if (!(o.decay >= 0.0 && o.decay <= 1.0))
    throw Error("dynamic evaluation: the decay must lie in [0, 1] (got " + std::to_string(o.decay) + ")");
}

SongScore score_song_dynamic(const Model& model, const std::vector<int>& song_ids, bool score_end, bool keep_probabilities,
                             int delimiter_length, const DynamicEvalOptions& o) {
  check_dynamic_options(o);
  const int V = model.config.vocab_size;
  const int delimiter = model.symbol_id(kDelimiterSymbol);
  if (delimiter < 0) throw Error("the model's vocabulary has no \"/\" delimiter symbol");
  if (delimiter_length < 1) throw Error("the start-symbol count must be at least 1");
  for (int id : song_ids)
    if (id < 0 || id >= V)
      throw Error("symbol id " + std::to_string(id) + " is outside the model's vocabulary of " + std::to_string(V));
  // stream (N + 1): "/" x D, s_1 .. s_n (, "/"); input t predicts stream[t + 1].
  std::vector<int> stream(delimiter_length, delimiter);
  stream.insert(stream.end(), song_ids.begin(), song_ids.end());
  if (score_end) stream.push_back(delimiter);
  const int N = static_cast<int>(stream.size()) - 1;  // input steps
  const int first_scored = delimiter_length - 1;      // input position whose target is s_1
  const int T = o.segment;
  std::vector<float> theta = model.params;                 // (P) the adapting weights
  std::vector<float> grad(theta.size(), 0.0f);             // (P)
  const float lr = static_cast<float>(o.lr), decay = static_cast<float>(o.decay);
  SongScore out;
  nn::Network net;
  for (int begin = 0; begin < N; begin += T) {
    const int steps = std::min(T, N - begin);
    // Segment mode runs [begin, begin + steps) from the carried state; prefix mode re-runs the whole
    // stream so far, [0, begin + steps), from the zero state with the current weights.
    const int first = o.whole_prefix ? 0 : begin, length = begin + steps - first;
    if (net.T != length) {
      nn::Network next = nn::make_network(model.config, length, 1);
      if (!o.whole_prefix && begin > 0)
        for (int l = 0; l < net.L; ++l) next.layers[l].h0 = net.layers[l].h0, next.layers[l].c0 = net.layers[l].c0;
      net = std::move(next);
    }
    int scored = 0;  // positions of [first, begin + steps) whose target is a song symbol or the end
    for (int t = 0; t < length; ++t) {
      const int pos = first + t;
      net.tokens[t] = stream[pos];
      net.targets[t] = pos >= first_scored ? stream[pos + 1] : -1;
      scored += pos >= first_scored;
    }
    nn::network_forward(net, theta.data(), 1, /*train=*/false, 0, 0);
    for (int t = begin - first; t < length; ++t) {  // the predictions of this segment's steps
      const int target = net.targets[t];
      if (target < 0) continue;
      const float* p = net.probs.data() + static_cast<size_t>(t) * V;  // (V) probabilities
      out.targets.push_back(target);
      out.nats.push_back(-std::log(static_cast<double>(p[target])));
      out.argmax.push_back(static_cast<int>(std::max_element(p, p + V) - p));
      if (keep_probabilities) out.probabilities.insert(out.probabilities.end(), p, p + V);
    }
    const bool last_segment = begin + steps >= N;
    if (scored > 0 && lr > 0.0f && !last_segment) {
      for (int iteration = 0; iteration < o.iterations; ++iteration) {
        if (iteration > 0) nn::network_forward(net, theta.data(), 1, false, 0, 0);
        std::fill(grad.begin(), grad.end(), 0.0f);
        nn::network_backward(net, theta.data(), 1, 1.0f / static_cast<float>(scored), grad.data());
        for (size_t i = 0; i < theta.size(); ++i) {
          theta[i] -= lr * grad[i];
          if (decay > 0.0f) theta[i] += decay * (model.params[i] - theta[i]);
        }
      }
    }
    if (!o.whole_prefix) nn::carry_state(net, 1);  // the state of the last forward pass
  }
  return out;
}

std::vector<SongScore> score_songs_dynamic(const Model& model, const std::vector<std::vector<int>>& songs, bool score_end,
                                           bool keep_probabilities, int delimiter_length, const DynamicEvalOptions& options,
                                           int threads) {
  check_dynamic_options(options);
  std::vector<SongScore> results(songs.size());
  threads = std::max(1, std::min<int>(threads, static_cast<int>(songs.size())));
  std::vector<std::exception_ptr> errors(threads);
  // Songs are independent (each starts from the trained weights): thread k takes songs k, k+threads, ...
  auto run = [&](int k) {
    try {
      for (size_t i = static_cast<size_t>(k); i < songs.size(); i += static_cast<size_t>(threads))
        results[i] = score_song_dynamic(model, songs[i], score_end, keep_probabilities, delimiter_length, options);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < threads; ++k) pool.emplace_back(run, k);
  run(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

}  // namespace melodist
