// libFuzzer target for the Keras HDF5 import (formats/keras_h5.h), both sides of its process boundary:
//   * any bytes      -> written to a per-process file in /tmp and imported by import_keras_model, exactly
//                       as `melodist import-keras` does: the hand-written superblock check in this process,
//                       every libhdf5 call in a forked child, the child's reply validated here;
//   * bytes that start "MKH5" (the child's reply format) -> decode_keras_contents + import_keras_contents
//                       in this process: what a child that read a hostile file could send back.
// Either must give a model or a one-line melodist::Error, never a crash, hang or sanitizer report in this
// process. A crash inside libhdf5 ends only the child and is an Error here (that is the design, issue
// 21); it is not a finding. The child's coverage does not reach libFuzzer (its counters die with it), so
// the HDF5 side is explored by mutation of the seed files rather than by coverage feedback.
//   CXX=clang++ CC=clang cmake -S . -B build-fuzz -G Ninja -DMELODIST_FUZZ=ON -DMELODIST_NATIVE=OFF
//   cmake --build build-fuzz --target fuzz_keras_import
//   mkdir -p /tmp/corpus-keras && cp tests/fixtures/keras/*.h5 tests/fixtures/keras/mutated/*.h5 /tmp/corpus-keras
//   build-fuzz/fuzz/fuzz_keras_import -max_total_time=600 -max_len=65536 -rss_limit_mb=2048 /tmp/corpus-keras
// Seeds for the reply side: MELODIST_FUZZ_KERAS_REPLIES=DIR writes, for each input that a child reads,
// the child's reply as DIR/reply_N.mkh5 (run once with -runs=0 over the .h5 seeds, then fuzz DIR too).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "formats/keras_h5.h"
#include "util/error.h"
#include "util/subprocess.h"

namespace {

// The mapping of the tiny test models (tests/fixtures/keras/tiny_mapping.json): 6 symbols, so an input
// whose model has 6 output units gets through the mapping check to the weight checks.
constexpr std::string_view kMapping = R"({"60": 0, "_": 1, "/": 2, "64": 3, "r": 4, "62": 5})";

struct Paths {
  std::string h5, mapping;
};

const Paths& paths() {
  static const Paths p = [] {
    const std::string stem = "/tmp/melodist-fuzz-keras-" + std::to_string(getpid());
    Paths made{stem + ".h5", stem + "-mapping.json"};
    std::ofstream(made.mapping, std::ios::binary) << kMapping;
    std::atexit([] {
      std::remove(paths().h5.c_str());
      std::remove(paths().mapping.c_str());
    });
    return made;
  }();
  return p;
}

bool one_line(std::string_view s) { return !s.empty() && s.find('\n') == std::string_view::npos; }

// Every message names the model file or the mapping file.
void check_message(std::string_view message, const std::string& h5_name) {
  const bool named = message.substr(0, h5_name.size()) == h5_name || message.substr(0, paths().mapping.size()) == paths().mapping;
  if (!one_line(message) || !named) std::abort();
}

void check_model(const melodist::KerasImport& imported) {
  const melodist::Model& m = imported.file.model;
  if (m.config.vocab_size != static_cast<int>(m.vocabulary.size()) || m.params.empty()) std::abort();
}

// MELODIST_FUZZ_KERAS_REPLIES=DIR: the child's reply for this file, for seeding the reply side.
void write_reply_seed(const std::string& h5_path) {
  static const char* dir = std::getenv("MELODIST_FUZZ_KERAS_REPLIES");
  static int count = 0;
  if (!dir) return;
  const melodist::SubprocessResult r = melodist::run_in_subprocess([&](int fd) {
    std::string reply;
    try {
      reply = melodist::encode_keras_contents(melodist::read_keras_file_contents(h5_path));
    } catch (const melodist::Error& e) {
      reply = melodist::encode_keras_error(e.what());
    }
    melodist::write_all(fd, reply.data(), reply.size());
  });
  if (r.succeeded()) std::ofstream(std::string(dir) + "/reply_" + std::to_string(count++) + ".mkh5", std::ios::binary) << r.output;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Paths& p = paths();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.substr(0, 4) == "MKH5") {
    const std::string name = "fuzz.h5";
    try {
      check_model(melodist::import_keras_contents(melodist::decode_keras_contents(bytes, name), name, p.mapping));
    } catch (const melodist::Error& e) {
      check_message(e.what(), name);
    }
    return 0;
  }
  {
    std::ofstream out(p.h5, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) std::abort();  // /tmp full: not a finding, but nothing below would be meaningful
  }
  try {
    check_model(melodist::import_keras_model(p.h5, p.mapping, std::chrono::milliseconds(20000)));
  } catch (const melodist::Error& e) {
    check_message(e.what(), p.h5);
  }
  write_reply_seed(p.h5);
  return 0;
}
