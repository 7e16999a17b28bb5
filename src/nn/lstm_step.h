#pragma once
// Stateful inference: advance the network one step for B independent sequences.
// Used by generate, score, evaluate and the Keras-import checks. See nn/model.h for the layout and
// the shape legend (B batch, H hidden, V vocabulary, L layers).
#include <vector>

#include "nn/model.h"

namespace melodist {

struct StepState {
  int batch = 0;
  std::vector<float> h;  // (L, B, H)
  std::vector<float> c;  // (L, B, H)
};

// Zero state (the state every song starts from).
StepState make_step_state(const Model& model, int batch);

// tokens (B) symbol ids -> logits (B, V); updates state. Honours config.recurrent_activation.
// Dropout is off (inference).
void model_step(const Model& model, const int* tokens, StepState& state, float* logits);

// In-place softmax of one row of V logits (numerically stable).
void softmax_inplace(float* row, int V);

}  // namespace melodist
