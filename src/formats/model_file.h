#pragma once
// A model folder on disk: model.safetensors (the weights in the nn/model.h layout, with the configuration,
// vocabulary and metadata in its header) and mapping.json (symbol -> id, formats/mapping_json.h); ModelFile,
// the network of nn/model.h with what its file carries beside it; and where the bundled models are found.
#include <string>

#include <nlohmann/json.hpp>

#include "formats/text_encoding.h"
#include "nn/model.h"

namespace melodist {

// A model directory holds model.safetensors (weights + metadata) and mapping.json (symbol -> id).
inline constexpr const char* kModelFileName = "model.safetensors";
inline constexpr const char* kModelFormat = "melodist-model";
inline constexpr int kModelFormatVersion = 1;

// What a model file holds: the network and everything it carries beside the weights.
struct ModelFile {
  Model model;
  // Training options ("training"), the validation rule ("validation": {"every": 10}, preprocess/dataset.h
  // SplitRule), preprocessing options ("preprocessing", manifest.json's "options"), the command that made
  // it ("command"), metrics ("metrics"), its origin ("source": "melodist train" / "keras import"), the
  // --init model ("init"), facts given with `train --about` ("about").
  nlohmann::json metadata = nlohmann::json::object();
};

// Writes DIR/model.safetensors and DIR/mapping.json atomically (creates DIR if missing).
void save_model(const ModelFile& file, const std::string& dir);
// Reads DIR (or a .safetensors file path). Throws melodist::Error naming the file on a missing file,
// a file that is not a melodist model, a format version mismatch, a checksum mismatch (truncated or
// corrupted data), or tensors whose shapes disagree with the stored configuration.
ModelFile load_model_file(const std::string& dir_or_file);
// The network alone (load_model_file(...).model).
Model load_model(const std::string& dir_or_file);

// The preprocessing options the model was trained with (metadata "preprocessing", as `melodist
// preprocess` writes them in manifest.json "options"); the reference's options when absent. Throws
// melodist::Error when they are malformed.
EncodeOptions model_encode_options(const ModelFile& file);

// The configuration as model and checkpoint files store it:
// {"vocab_size", "hidden_size", "num_layers", "dropout", "recurrent_activation"}.
nlohmann::json model_config_to_json(const ModelConfig& config);
// Throws nlohmann::json::exception on a missing or mistyped field, melodist::Error on an unknown activation.
ModelConfig model_config_from_json(const nlohmann::json& json);

// A bundled model (models/NAME in the source tree, PREFIX/share/melodist/models/NAME installed; the
// default is essen-german, used when --model is not given): for the default, MELODIST_MODEL (the folder
// itself); else the first of MELODIST_MODEL_PATH's folders, the install location relative to the library or
// executable, and (only for code running from the build tree) the source tree that holds a model. Throws
// melodist::Error listing the places searched when none does.
inline constexpr const char* kBundledModelName = "essen-german";
std::string bundled_model_dir(const std::string& name = kBundledModelName);
// What `--model ARG` names: empty: the default bundled model; a bare name that is not an existing path
// (`--model nottingham`): that bundled model; anything else: the model folder or file ARG itself.
std::string resolve_model_dir(const std::string& arg);

}  // namespace melodist
