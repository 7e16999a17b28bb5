// Writer speed (issue 15 targets): ABC, MusicXML and kern writing of 1,000 melodies each in under 0.5 s;
// audio rendering at least 200x real time on one core.
//   BM_Write{Abc,MusicXml,Kern}/1000  1,000 melodies of 64 events (seeded, the reference's lengths on the
//                                     16th grid, a pickup in every 4th), to bytes in memory
//   BM_RenderAudio                    FluidSynth (TimGM6mb) + peak normalisation of one 32-quarter melody at
//                                     120 bpm; counter realtime = seconds of audio per second of CPU
// Run: build/bench/bench_writers
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "formats/abc_writer.h"
#include "formats/audio_writer.h"
#include "formats/kern_writer.h"
#include "formats/musicxml_writer.h"

namespace {

using melodist::Melody;
using melodist::Rational;

std::vector<Melody> melodies(size_t n) {
  std::mt19937 rng(15);
  const Rational lengths[] = {Rational(1, 4), Rational(1, 2), Rational(1), Rational(1), Rational(3, 2), Rational(2)};
  std::vector<Melody> out(n);
  for (size_t i = 0; i < n; ++i) {
    int pitch = 67;
    for (int k = 0; k < 64; ++k) {
      pitch = std::clamp(pitch + static_cast<int>(rng() % 7) - 3, 55, 84);
      out[i].events.push_back({rng() % 10 == 0 ? melodist::kRest : pitch, lengths[rng() % 6], false, 0});
    }
    if (i % 4 == 0) out[i].barlines = {Rational(1)};
  }
  return out;
}

template <typename Write>
void run_writer(benchmark::State& state, Write write) {
  const std::vector<Melody> ms = melodies(1000);
  size_t bytes = 0;
  for (auto _ : state) {
    for (const Melody& m : ms) {
      std::string s = write(m);
      bytes += s.size();
      benchmark::DoNotOptimize(s.data());
    }
  }
  state.counters["melodies/s"] = benchmark::Counter(double(state.iterations()) * 1000, benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_WriteAbc(benchmark::State& state) {
  run_writer(state, [](const Melody& m) { return melodist::write_abc_tune(m, {}, 1, "bench"); });
}
void BM_WriteMusicXml(benchmark::State& state) {
  run_writer(state, [](const Melody& m) { return melodist::write_musicxml(m, {}, "bench"); });
}
void BM_WriteKern(benchmark::State& state) {
  run_writer(state, [](const Melody& m) { return melodist::write_kern(m, {}, "bench"); });
}

void BM_RenderAudio(benchmark::State& state) {
  if (!std::filesystem::exists(melodist::kDefaultSoundfont)) {
    state.SkipWithError("no soundfont (apt-get install timgm6mb-soundfont)");
    return;
  }
  Melody m = melodies(1)[0];
  m.events.resize(32);
  for (auto& e : m.events) e.duration = Rational(1), e.pitch = e.pitch < 0 ? 67 : e.pitch;
  melodist::AudioOptions options;
  options.program = 73;
  double seconds = 0;
  for (auto _ : state) {
    const std::vector<float> s = melodist::render_audio(m, options);
    seconds += double(s.size() / 2) / melodist::kAudioSampleRate;
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["realtime"] = benchmark::Counter(seconds, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_WriteAbc)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteMusicXml)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteKern)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderAudio)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
