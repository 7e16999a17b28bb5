#pragma once
// A model folder on disk (nn/model.h is the model in memory): model.safetensors (the weights in the
// nn/model.h layout, with the configuration, vocabulary and metadata in its header) and mapping.json
// (symbol -> id, formats/mapping_json.h); and where the bundled models are found.
#include <string>

#include "nn/model.h"

namespace melodist {

// A model directory holds model.safetensors (weights + metadata) and mapping.json (symbol -> id).
inline constexpr const char* kModelFileName = "model.safetensors";
inline constexpr const char* kModelFormat = "melodist-model";
inline constexpr int kModelFormatVersion = 1;

// Writes DIR/model.safetensors and DIR/mapping.json atomically (creates DIR if missing).
void save_model(const Model& model, const std::string& dir);
// Reads DIR (or a .safetensors file path). Throws melodist::Error naming the file on a missing file,
// a file that is not a melodist model, a format version mismatch, a checksum mismatch (truncated or
// corrupted data), or tensors whose shapes disagree with the stored configuration.
Model load_model(const std::string& dir_or_file);

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
