#pragma once
// An ensemble of models (`evaluate --model A --model B ...`, `crossval --ensemble N`): the predictive
// distribution is the MEAN of the members' distributions (a uniform mixture), step by step. Every member
// scores the song on its own (statically, or with dynamic evaluation, each adapting its own weights);
// the mixture is then a proper distribution over the shared vocabulary, and its -ln p(target) is the
// ensemble's code length. IDyOM likewise combines several models' distributions.
// Shape legend: S scored steps of a song, V vocabulary.
#include <string>
#include <vector>

#include "evaluate/dynamic_eval.h"
#include "nn/song_score.h"
#include "nn/model.h"

namespace melodist {

// members[k] = member k's score of ONE song, with probabilities (S, V) and the same targets.
// Throws melodist::Error when the members disagree on the steps or lack the distributions.
SongScore mix_song_scores(const std::vector<SongScore>& members, int V);

// Throws melodist::Error unless every member has the first's vocabulary (names the offending path).
void check_ensemble(const std::vector<Model>& members, const std::vector<std::string>& paths);

// Every song scored by every member (with the end step and the distributions) and mixed; dynamic (not
// null, lr > 0) scores each member by dynamic evaluation.
std::vector<SongScore> score_songs_ensemble(const std::vector<const Model*>& members,
                                            const std::vector<std::vector<int>>& songs, int delimiter_length,
                                            const DynamicEvalOptions* dynamic, int threads);

}  // namespace melodist
