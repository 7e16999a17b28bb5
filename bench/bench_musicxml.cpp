// MusicXML reading speed (issue 14: "a 5 MB MusicXML score parsed in under 100 ms"):
//   BM_ReadMusicXml5MB  parse_musicxml + extract_melody of a 5 MB score held in memory, one thread. The score
//                       is a MuseScore-written Nottingham tune (tests/fixtures/musicxml-musescore) with its
//                       first part's measures repeated until the file is 5 MB (MuseScore's verbose style).
// Run: build/bench/bench_musicxml --benchmark_min_time=2s
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "formats/musicxml_reader.h"

namespace {

std::string five_megabyte_score() {
  const std::string path = std::string(MELODIST_FIXTURES_DIR) + "/musicxml-musescore/nottingham-waltzes-4.musicxml";
  std::ifstream in(path, std::ios::binary);
  std::string xml((std::istreambuf_iterator<char>(in)), {});
  const size_t part = xml.find("<part id=");
  const size_t first = xml.find("<measure", part), end = xml.find("</part>", part);
  if (part == std::string::npos || first == std::string::npos || end == std::string::npos) return "";
  // Later measures repeat the body without its first measure's <attributes> (divisions, key, time).
  const size_t second = xml.find("<measure", xml.find("</measure>", first));
  const std::string body = xml.substr(second, end - second);
  std::string out = xml.substr(0, end);
  while (out.size() < (size_t(5) << 20)) out += body;
  return out + xml.substr(end);
}

void BM_ReadMusicXml5MB(benchmark::State& state) {
  const std::string xml = five_megabyte_score();
  if (xml.empty()) {
    state.SkipWithError("fixture not found");
    return;
  }
  size_t events = 0;
  for (auto _ : state) {
    melodist::Melody m = melodist::extract_melody(melodist::parse_musicxml(xml, "bench.musicxml"), {}, "bench.musicxml");
    events = m.events.size();
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(xml.size()));
  state.counters["MB"] = double(xml.size()) / 1e6;
  state.counters["events"] = double(events);
}
BENCHMARK(BM_ReadMusicXml5MB)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
