#pragma once
// melodist: learns melodies from folk-song corpora with an LSTM network and composes new ones.
// This umbrella header is the whole public C++ API (namespace melodist::api, errors melodist::Error):
//
//   melodist/version.h    MELODIST_VERSION, MELODIST_API_VERSION
//   melodist/error.h      melodist::Error: every failure, one line, the CLI's message
//   melodist/melody.h     Melody (symbols, notes), Note, Meter, WriteOptions
//   melodist/model.h      Model (load, bundled, generate, score), GenerationOptions, Score
//   melodist/song_file.h  read_song / write_song by extension
//   melodist/pipeline.h   preprocess and train (with a per-epoch progress callback)
//
// Build against it with find_package(melodist) -> target melodist::melodist (shared) or
// melodist::melodist_static, or `pkg-config --cflags --libs melodist`. The headers include only the
// C++ standard library.
//
// Example (examples/compose.cpp):
//     #include <melodist/melodist.h>
//     auto model = melodist::api::Model::bundled();
//     melodist::api::GenerationOptions options;
//     options.key = "D major"; options.bars = 4; options.seed = 7;
//     model.generate(options).front().write("tune.mid");
#include <string>

#include "melodist/error.h"
#include "melodist/export.h"
#include "melodist/melody.h"
#include "melodist/model.h"
#include "melodist/pipeline.h"
#include "melodist/song_file.h"
#include "melodist/version.h"

namespace melodist::api {

MELODIST_API std::string version();       // MELODIST_VERSION of the library actually loaded
MELODIST_API int api_version();           // its MELODIST_API_VERSION (compare with the header's)
MELODIST_API std::string git_revision();  // the checkout it was built from ("unknown" outside git)
MELODIST_API std::string blas_info();     // the BLAS in use, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."

}  // namespace melodist::api
