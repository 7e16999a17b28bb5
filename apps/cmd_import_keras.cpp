// melodist import-keras --h5 model.h5 --mapping mapping.json --out MODEL_DIR
// Turns a model saved by the Keras recipe into an ordinary melodist model directory (see
// formats/keras_h5.h for what is accepted and how the weights map).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "command.h"
#include "formats/keras_h5.h"
#include "formats/model_file.h"
#include "nn/model.h"
#include "util/error.h"

namespace {

struct ImportKerasOptions {
  std::string h5;
  std::string mapping;
  std::string out;
  bool force = false;
};

std::string quote_arg(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\"'\\$`") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void run_import_keras(const ImportKerasOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(fs::path(o.out) / melodist::kModelFileName, ec) && !o.force)
    throw melodist::file_error(o.out, 0, "already holds a model (pass --force to overwrite it)");
  if (fs::exists(o.out, ec) && !fs::is_directory(o.out, ec)) throw melodist::file_error(o.out, 0, "exists and is not a directory");
  // A training run's files would no longer match the imported weights (train --resume would pick up
  // the old checkpoint), so never import over them, even with --force.
  for (const char* name : {"checkpoint.safetensors", "metrics.csv"})
    if (fs::exists(fs::path(o.out) / name, ec))
      throw melodist::file_error(o.out, 0, std::string("holds a training run (") + name + "); import into a new folder");

  melodist::KerasImport imported = melodist::import_keras_model(o.h5, o.mapping);
  const melodist::Model& model = imported.file.model;
  imported.file.metadata["command"] = "melodist import-keras --h5 " + quote_arg(o.h5) + " --mapping " + quote_arg(o.mapping) + " --out " + quote_arg(o.out);

  std::printf("%s: Keras %s (%s backend), %zu layers:\n", o.h5.c_str(), imported.keras_version.c_str(), imported.backend.c_str(),
              imported.layers.size());
  for (const auto& layer : imported.layers) {
    std::printf("  %-12s %-10s", layer.name.c_str(), layer.class_name.c_str());
    if (layer.units > 0) std::printf(" %5d units", layer.units);
    else std::printf("           ");
    std::printf("  %s\n", layer.detail.c_str());
  }
  std::string symbols;
  for (size_t i = 0; i < model.vocabulary.size(); ++i) symbols += (i ? " " : "") + model.vocabulary[i];
  std::printf("network: %d LSTM layer%s of %d units, recurrent activation %s, dropout %g, %zu parameters\n", model.config.num_layers,
              model.config.num_layers == 1 ? "" : "s", model.config.hidden_size,
              melodist::to_string(model.config.recurrent_activation).c_str(), model.config.dropout, model.params.size());
  std::printf("vocabulary: %d symbols in the file's own id order: %s\n", model.config.vocab_size, symbols.c_str());

  melodist::save_model(imported.file, o.out);
  std::printf("wrote %s and %s\n", (fs::path(o.out) / melodist::kModelFileName).string().c_str(),
              (fs::path(o.out) / "mapping.json").string().c_str());
}

void setup_import_keras(CLI::App& root) {
  auto options = std::make_shared<ImportKerasOptions>();
  CLI::App* app = root.add_subcommand("import-keras", "Import a model.h5 + mapping.json trained by the Keras recipe as a melodist model");
  app->add_option("--h5", options->h5, "Keras model saved with model.save (HDF5)")->required();
  app->add_option("--mapping", options->mapping, "the recipe's mapping.json (symbol -> id)")->required();
  app->add_option("--out", options->out, "model directory to write (model.safetensors + mapping.json)")->required();
  app->add_flag("--force", options->force, "overwrite a model already in --out");
  app->callback([options] { run_import_keras(*options); });
}

melodist::cli::Command import_keras_command{"import-keras", 110, setup_import_keras};

}  // namespace
