#pragma once
// Dynamic evaluation (Krause et al. 2018, "Dynamic Evaluation of Neural Sequence Models"): while a
// song is scored, the model keeps learning from the part of the song it has already predicted, and
// forgets it again at the end of the song. It is the network's counterpart of IDyOM's short-term
// model (Pearce 2005), which is trained on the current melody as it is predicted and discarded after
// it; every prediction is still made BEFORE its own symbol is seen, so the figures stay honest
// predictions of held-out songs.
//
// The scored stream is the one of song_score.h: "/" x D, s_1 .. s_n (+ the closing "/" when
// score_end). It is cut into segments of `segment` input steps (the last may be shorter). For each
// segment, in order:
//   1. run the network over the segment from the carried state with the current weights theta
//      (dropout off) and score the positions whose target is a song symbol or the closing "/";
//   2. if the segment scored anything: theta <- theta - lr * grad, grad the gradient of the MEAN
//      -ln p over the segment's scored positions w.r.t. theta, back-propagated through the segment
//      only (the carried state is a constant), then theta <- theta + decay * (theta_0 - theta);
//   3. carry the state (computed with the weights before the update) into the next segment.
// theta starts as the model's weights theta_0 for every song. lr = 0 gives exactly the static scores
// (up to float rounding: the segment engine and model_step sum in different orders).
// Shape legend: S scored steps of a song, V vocabulary, T = segment.
#include <vector>

#include "nn/song_score.h"
#include "nn/model.h"

namespace melodist {

struct DynamicEvalOptions {
  double lr = 0.0;    // SGD step per segment (0: static scoring through the same engine)
  int segment = 12;   // input steps per update (12 = one quarter note at a 1/12 grid; 4 at 1/16)
  double decay = 0.0; // pull towards the trained weights after each update (Krause's lambda), in [0, 1]
  int iterations = 1; // SGD steps per update (each on the same steps, after a fresh forward pass)
  bool whole_prefix = false;  // update on the whole song so far, not only the last segment (see above)
};

// Throws melodist::Error on options out of range (lr < 0 or not finite, segment < 1, decay outside
// [0, 1]), on ids outside the vocabulary, or on a model without "/".
void check_dynamic_options(const DynamicEvalOptions& options);

// Scores one song as above. Same result layout as score_song (keep_probabilities: (S, V) rows).
SongScore score_song_dynamic(const Model& model, const std::vector<int>& song_ids, bool score_end,
                             bool keep_probabilities, int delimiter_length, const DynamicEvalOptions& options);

// Every song, each from the trained weights; `threads` share the songs. The result does not depend
// on `threads`.
std::vector<SongScore> score_songs_dynamic(const Model& model, const std::vector<std::vector<int>>& songs,
                                           bool score_end, bool keep_probabilities, int delimiter_length,
                                           const DynamicEvalOptions& options, int threads = 1);

}  // namespace melodist
