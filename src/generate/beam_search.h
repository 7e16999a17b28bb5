#pragma once
// Beam search in the manner of Magenta's Melody RNN: every beam is extended by `branch_factor`
// SAMPLED continuations (drawn with the sampler's temperature/top-k/top-p), and the `beam_size`
// candidates with the best log-likelihood under the model are kept. Beam size 1 with branch factor 1
// is plain ancestral sampling; with temperature 0 every branch is the argmax, so beam size 1 is greedy
// decoding. N outputs run as one batch of N * beam_size rows through model_step.
//
// A beam that samples "/" is finished: it stops growing and competes with its final log-likelihood
// (so, as with any total-log-likelihood beam, a search prefers melodies that end earlier).
#include <cstdint>
#include <vector>

#include "generate/constraints.h"
#include "generate/sampler.h"
#include "nn/lstm_step.h"
#include "nn/model.h"

namespace melodist {

// The most symbols one generation may add (--steps): a melody of a million 16th notes is about 17
// hours at 60 bpm, far beyond any song; the bound keeps time and memory finite for any model.
inline constexpr int kMaxGenerateSteps = 1000000;

struct BeamOptions {
  int beam_size = 1;      // B >= 1
  int branch_factor = 1;  // F >= 1
  int max_steps = 500;    // generated symbols at most (not counting the closing "/")
  SamplerOptions sampler;
  // The temperature of the cadence, the melody's last `cadence_bars` bars (Constraints::bars_to_end: the
  // countdown's bars, or the last of --bars); negative: sampler.temperature throughout. A cooler cadence
  // ends as songs end more often without forcing a note (README, Endings).
  double cadence_temperature = -1;
  int cadence_bars = 3;
  uint64_t seed = 1;      // output n uses Rng(seed, n): a melody does not depend on how many run beside it
  // Symbols never drawn at the first step (renormalised without them). Without a primer the melody
  // starts right after the start symbols, where "/" (an empty song: after 64 "/" the network's most
  // likely symbol is another "/") and "_" (holding nothing) make no melody.
  std::vector<int> banned_at_start;
  // Constrained decoding (generate/constraints.h): when set and not inert, every step draws from the
  // allowed symbols only, and log-likelihoods are those of the constrained distribution. Not owned.
  const Constraints* constraints = nullptr;
  ConstraintState constraint_start;  // the state after the primer
};

struct BeamResult {
  std::vector<int> symbols;   // generated symbol ids, without the closing "/"
  bool ended = false;         // true when the model chose "/" (the song ended); false: stopped at max_steps
  double log_likelihood = 0;  // nats: sum of ln p(symbol) under the model (under the constrained
                              // distribution when BeamOptions::constraints is active), closing "/" included
  // With active constraints: the sum over steps of ln Z, Z the mass the tempered
  // model (temperature only, the cadence's in its bars; 1 when greedy) puts on the allowed symbols. exp(log_weight) = p(x) / q(x),
  // p the tempered model, q the constrained sampler: the importance weight of the melody as a draw
  // from the model's own distribution over melodies that meet the constraints (forced "/" at the
  // last bar: the model's probability of ending there).
  double log_weight = 0;
};

// start: the state after the start symbols and primer (batch 1); start_logits (V): the distribution it
// gives for the first generated symbol. Returns `num_outputs` results.
std::vector<BeamResult> beam_search(const Model& model, const StepState& start, const std::vector<float>& start_logits,
                                    int num_outputs, const BeamOptions& options);

}  // namespace melodist
