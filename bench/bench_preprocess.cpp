// Preprocessing throughput on the whole Essen deutschl collection (5,365 **kern files, 22 MB):
//   BM_PreprocessDeutschl/jobs:N  the whole `melodist preprocess` pipeline (find, read, encode, write the
//                                 four output files) as the CLI runs it; songs/s and bytes/s of input.
//   BM_ParseKernInMemory          the reader alone on texts already in memory, one thread (MB/s).
// Target (issue 2): the whole collection in under 1 s with --jobs 2 on the 2-core machine.
// Peer: music21 (used by the reference) is not installed on this machine; the reference's own
// README states minutes for deutschl. Run: build/bench/bench_preprocess --benchmark_min_time=2s
#include <benchmark/benchmark.h>

#include <filesystem>

#include "formats/kern_reader.h"
#include "preprocess/preprocess.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;

namespace {

const std::string kDeutschl = std::string(MELODIST_SHARED_DIR) + "/data/essen/deutschl";

size_t corpus_bytes() {
  size_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(kDeutschl))
    if (e.path().extension() == ".krn") bytes += e.file_size();
  return bytes;
}

// The whole pipeline as the CLI runs it on CORPUS with --jobs state.range(0); returns the songs read.
size_t preprocess_corpus(benchmark::State& state, const std::string& corpus, const std::string& out_name) {
  melodist::PreprocessOptions options;
  options.encode.durations = melodist::reference_durations();
  options.jobs = static_cast<int>(state.range(0));
  options.progress = false;
  const std::string out = (fs::temp_directory_path() / out_name).string();
  size_t songs = 0;
  for (auto _ : state) {
    melodist::Dataset d = melodist::run_preprocess({corpus}, out, options);
    songs = d.songs;
    benchmark::DoNotOptimize(d.steps);
  }
  fs::remove_all(out);
  state.counters["songs/s"] = benchmark::Counter(static_cast<double>(songs), benchmark::Counter::kIsIterationInvariantRate);
  return songs;
}

void BM_PreprocessDeutschl(benchmark::State& state) {
  if (!fs::exists(kDeutschl)) {
    state.SkipWithError("shared data not found (MELODIST_SHARED_DIR)");
    return;
  }
  const size_t bytes = corpus_bytes();
  const size_t songs = preprocess_corpus(state, kDeutschl, "melodist-bench-preprocess");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(std::to_string(songs) + " files, " + std::to_string(bytes / 1000) + " kB");
}
BENCHMARK(BM_PreprocessDeutschl)->ArgName("jobs")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The Nottingham Music Database in ABC (14 tune books, 1,034 tunes, 0.45 MB): the whole pipeline as the CLI
// runs it, default options (issue 14: under 0.2 s with --jobs 2).
const std::string kNottingham = std::string(MELODIST_SHARED_DIR) + "/data/nottingham/abc";

void BM_PreprocessNottingham(benchmark::State& state) {
  if (!fs::exists(kNottingham)) {
    state.SkipWithError("shared data not found (MELODIST_SHARED_DIR)");
    return;
  }
  state.SetLabel(std::to_string(preprocess_corpus(state, kNottingham, "melodist-bench-preprocess-abc")) + " tunes");
}
BENCHMARK(BM_PreprocessNottingham)->ArgName("jobs")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ParseKernInMemory(benchmark::State& state) {
  if (!fs::exists(kDeutschl)) {
    state.SkipWithError("shared data not found (MELODIST_SHARED_DIR)");
    return;
  }
  std::vector<std::pair<std::string, std::string>> texts;
  size_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(kDeutschl)) {
    if (e.path().extension() != ".krn") continue;
    texts.emplace_back(e.path().string(), melodist::read_file(e.path().string()));
    bytes += texts.back().second.size();
  }
  for (auto _ : state) {
    size_t events = 0;
    for (const auto& [path, text] : texts) events += melodist::parse_kern(text, path).events.size();
    benchmark::DoNotOptimize(events);
  }
  state.counters["songs/s"] = benchmark::Counter(static_cast<double>(texts.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ParseKernInMemory)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
