#pragma once
// Stateful inference: advance the network one step for B independent sequences.
// Used by generate, score, evaluate and the Keras-import checks. See nn/model.h for the layout and
// the shape legend (B batch, H hidden, V vocabulary, L layers).
#include <memory>
#include <vector>

#include "nn/model.h"

namespace melodist {

// The model's weights in the form model_step multiplies with (w_h, the upper layers' w_x and w_y
// packed for nn/packed_gemm; biases and the layer-0 input rows copied). Opaque; see lstm_step.cpp.
struct StepWeights;

struct StepState {
  int batch = 0;
  std::vector<float> h;  // (L, B, H)
  std::vector<float> c;  // (L, B, H)
  // Packed copy of the weights, made once by make_step_state and shared by copies of the state
  // (copying a state copies h and c, not the weights). A state computes with the weights AS THEY WERE
  // WHEN IT WAS MADE: after changing model.params (training), make a new state.
  std::shared_ptr<const StepWeights> weights;
  // Threads model_step may use for this state (1 or 2): at batch >= kStepParallelRows the rows are
  // shared, in 8-row chunks, between the caller and one persistent helper thread. Set 1 where the
  // caller already runs states in parallel. The result is bitwise the same either way.
  int max_threads = 2;
};

// Batch size from which model_step shares the rows between two threads: two 8-row chunks (one 8-row
// chunk costs about as much as 4 rows, so smaller batches gain nothing from a split).
inline constexpr int kStepParallelRows = 16;

// Zero state (the state every song starts from); packs the model's weights (about a copy of
// model.params: ~0.2 ms for the default model), so make one state and copy it rather than one per step.
StepState make_step_state(const Model& model, int batch);

// Zero state of `batch` rows sharing `like`'s packed weights (no packing).
StepState make_step_state(const StepState& like, int batch);

// tokens (B) symbol ids -> logits (B, V); updates state. Honours config.recurrent_activation.
// Dropout is off (inference). Throws melodist::Error if the state was made from another model (a
// different params buffer) or does not match its shape.
// Row b of a batch is bitwise what batch 1 gives for that sequence (generate --num-outputs and
// score_songs rely on it), whatever B and the thread split.
void model_step(const Model& model, const int* tokens, StepState& state, float* logits);

// In-place softmax of one row of V logits (numerically stable; nn/softmax.h: exp(x - log-sum-exp)).
void softmax_inplace(float* row, int V);

}  // namespace melodist
