#pragma once
// Starting a run from an existing model (`train --init`, a resumed --init run, fine-tuning an imported
// Keras model in place): which network shape and vocabulary the run takes, and the surgery that moves
// a model's weights into the dataset's symbol order.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/model_file.h"
#include "nn/model.h"

namespace melodist {

struct TrainOptions;

// What --init (or the checkpoint of a resumed run) fixes before the run starts.
struct InitPlan {
  nlohmann::json info;             // {"path", "source"}; null when the run did not start from --init
  std::optional<ModelFile> model;  // the init model, fresh --init runs only
  std::vector<std::string> checkpoint_vocabulary;  // resumed --init runs: the vocabulary the run trains
  RecurrentActivation activation = RecurrentActivation::sigmoid;
};

// Resolves o.hidden / o.layers (0 = "the model's" / "the checkpoint's") and the recurrent activation.
// Fresh --init run: from the init model. Resumed run: from its checkpoint (the init model is not read
// again, it may be gone). Explicit values that contradict an --init model are refused.
InitPlan resolve_init(TrainOptions& o);

// The same network over `vocabulary` (id -> symbol): layer-0 w_x rows (E=V), w_y columns (H, V) and
// b_y entries permuted into the new ids, so it computes the same function on the same symbols.
// Throws melodist::Error naming `where` (the model folder) when the symbol sets differ: symbols the
// model lacks, or symbols the model has but `vocabulary` lacks (the output layer must match it).
// With `fresh` (a network of the same shape over `vocabulary`, e.g. make_model's seeded init): the
// symbols the model lacks are added (`train --add-symbols`), their w_x row, w_y column and b_y entry
// taken from `fresh`; the model's own symbols compute what they did.
Model reorder_vocabulary(const Model& model, const std::vector<std::string>& vocabulary, const std::string& where,
                         const Model* fresh = nullptr);

// The vocabulary a run over `dataset_vocabulary` uses when it starts from a model over `model_vocabulary`:
// the dataset's when both hold the same symbols (any order); the model's when it holds every dataset
// symbol and more. Throws melodist::Error naming `where` (the model folder) and the missing symbols when
// the model lacks a symbol of the dataset, unless `add_symbols`: then the model's, followed by the
// dataset's symbols it lacks (in the dataset's order).
std::vector<std::string> training_vocabulary(const std::vector<std::string>& model_vocabulary,
                                             const std::vector<std::string>& dataset_vocabulary, const std::string& where,
                                             bool add_symbols = false);

// Songs as ids of `from` -> ids of `to` (by symbol). Throws melodist::Error naming `where` when `to`
// lacks a symbol that a song uses.
std::vector<std::vector<int>> remap_songs(const std::vector<std::vector<int>>& songs, const std::vector<std::string>& from,
                                          const std::vector<std::string>& to, const std::string& where);

}  // namespace melodist
