#pragma once
// THE definition of a melody's log-likelihood under a model, used everywhere (training's validation
// loss, `score`, `evaluate`): the song is run from a fresh (zero) state, preceded by the
// `delimiter_length` "/" start symbols that generation also uses; every symbol of the song is scored,
// plus the first "/" after it when `score_end` is true (validation always scores it; `score` does
// when the text ends with "/"). Loss = mean cross-entropy in nats over the scored symbols.
#include <string>
#include <vector>

#include "nn/model.h"

namespace melodist {

struct SongScore {
  std::vector<int> targets;         // (S) scored symbol ids, in order
  std::vector<double> nats;         // (S) -ln p(target)
  std::vector<int> argmax;          // (S) the model's most likely symbol at each scored step
  std::vector<float> probabilities; // (S, V) next-symbol distributions, only when keep_probabilities
  double total_nats() const;
  size_t steps() const { return targets.size(); }
};

// song_ids: the song's symbols (no "/"), as ids of model.vocabulary. Throws melodist::Error when the
// model has no "/" symbol or an id is out of range.
SongScore score_song(const Model& model, const std::vector<int>& song_ids, bool score_end,
                     bool keep_probabilities = false, int delimiter_length = 64);

// The same for many songs at once (batched through model_step; `threads` splits the songs).
// Results are identical to calling score_song on each song.
std::vector<SongScore> score_songs(const Model& model, const std::vector<std::vector<int>>& songs, bool score_end,
                                   bool keep_probabilities = false, int delimiter_length = 64, int threads = 1);

// A melody's symbols as ids of the model's vocabulary, for score_song (`melodist score`, the API's
// Model::score). Throws melodist::Error "SOURCE: symbol "x" is not in the model's vocabulary: ..." for an
// unknown symbol (shown up to 40 characters).
std::vector<int> melody_ids(const Model& model, const std::vector<std::string>& symbols, const std::string& source);

}  // namespace melodist
