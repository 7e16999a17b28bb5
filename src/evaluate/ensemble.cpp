// Uniform mixtures of models' predictive distributions (see ensemble.h).
#include "evaluate/ensemble.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace melodist {

SongScore mix_song_scores(const std::vector<SongScore>& members, int V) {
  if (members.empty()) throw Error("ensemble: no member");
  const size_t S = members[0].steps();
  for (const auto& m : members)
    if (m.targets != members[0].targets || m.probabilities.size() != S * static_cast<size_t>(V))
      throw Error("ensemble: the members' scores disagree on the steps or lack the distributions");
  if (members.size() == 1) return members[0];
  SongScore out;
  out.targets = members[0].targets;
  out.probabilities.resize(S * static_cast<size_t>(V));
  std::vector<double> p(V);  // (V) the mixture at one step
  const double w = 1.0 / static_cast<double>(members.size());
  for (size_t s = 0; s < S; ++s) {
    std::fill(p.begin(), p.end(), 0.0);
    for (const auto& m : members)
      for (int v = 0; v < V; ++v) p[v] += w * m.probabilities[s * V + v];
    for (int v = 0; v < V; ++v) out.probabilities[s * V + v] = static_cast<float>(p[v]);
    out.nats.push_back(-std::log(p[out.targets[s]]));
    out.argmax.push_back(static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin()));
  }
  return out;
}

void check_ensemble(const std::vector<Model>& members, const std::vector<std::string>& paths) {
  for (size_t k = 1; k < members.size(); ++k)
    if (members[k].vocabulary != members[0].vocabulary)
      throw Error(paths[k] + ": its vocabulary differs from " + paths[0] + "'s; an ensemble's members must share one");
}

std::vector<SongScore> score_songs_ensemble(const std::vector<const Model*>& members,
                                            const std::vector<std::vector<int>>& songs, int delimiter_length,
                                            const DynamicEvalOptions* dynamic, int threads) {
  if (members.empty()) throw Error("ensemble: no member");
  std::vector<std::vector<SongScore>> per_member;  // (members, songs)
  for (const Model* m : members)
    per_member.push_back(dynamic != nullptr && dynamic->lr > 0
                             ? score_songs_dynamic(*m, songs, true, true, delimiter_length, *dynamic, threads)
                             : score_songs(*m, songs, true, true, delimiter_length, threads));
  std::vector<SongScore> out;
  out.reserve(songs.size());
  const int V = members[0]->config.vocab_size;
  for (size_t i = 0; i < songs.size(); ++i) {
    std::vector<SongScore> scores;
    for (auto& member : per_member) scores.push_back(std::move(member[i]));
    out.push_back(mix_song_scores(scores, V));
  }
  return out;
}

}  // namespace melodist
