// Generation speed: one stateful model_step for the default model (H 256, V 38, 1 layer; random
// weights, speed does not depend on them) at batch 1 and batch 64, plus whole generate_melodies runs
// (sampling included). Counters: steps_per_s counts generated symbols (batch x steps) per second;
// us_per_step is per batch step (wall time). Run through bench/generate.sh, which adds the PyTorch peers and the table.
#include <benchmark/benchmark.h>

#include <random>

#include "generate/generator.h"
#include "nn/lstm_step.h"
#include "nn/model.h"

using namespace melodist;

namespace {

Model default_model(int H = 256, int L = 1) {
  ModelConfig c;
  c.vocab_size = 38;
  c.hidden_size = H;
  c.num_layers = L;
  std::vector<std::string> vocab = {"/", "_", "r"};
  for (int p = 0; vocab.size() < 38; ++p) vocab.push_back(std::to_string(45 + p));
  return make_model(c, vocab, 1);
}

void BM_model_step(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0));
  const Model m = default_model();
  StepState s = make_step_state(m, B);
  std::vector<int> tokens(B);
  std::mt19937 rng(1);
  for (int& t : tokens) t = static_cast<int>(rng() % 38);
  std::vector<float> logits(static_cast<size_t>(B) * 38);
  for (auto _ : state) {
    model_step(m, tokens.data(), s, logits.data());
    benchmark::DoNotOptimize(logits.data());
    tokens[0] = (tokens[0] + 1) % 38;
  }
  const double steps = static_cast<double>(state.iterations());
  state.counters["steps_per_s"] = benchmark::Counter(steps * B, benchmark::Counter::kIsRate);
  state.counters["us_per_step"] = benchmark::Counter(steps / 1e6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  // Weights read per batch step: w_h (H,4H) + w_y (H,V) + one row of w_x; flops 2*B*(H*4H + H*V).
  const double H = 256, V = 38;
  state.counters["GFLOP_per_s"] = benchmark::Counter(steps * 2.0 * B * (H * 4 * H + H * V) / 1e9, benchmark::Counter::kIsRate);
  state.counters["weight_GB_per_s"] = benchmark::Counter(steps * 4.0 * (H * 4 * H + H * V + 4 * H) / 1e9, benchmark::Counter::kIsRate);
}
// Wall time: from batch kStepParallelRows model_step also runs on a helper thread, whose CPU time the
// calling thread's CPU clock does not see.
BENCHMARK(BM_model_step)->Arg(1)->Arg(64)->ArgName("batch")->MinTime(1.0)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();

// Runs generate_melodies once per iteration (a new seed each time) and reports generated steps per second.
void time_generation(benchmark::State& state, const Model& m, GenerateOptions o) {
  size_t symbols = 0;
  for (auto _ : state) {
    auto out = generate_melodies(m, o);
    for (const auto& g : out) symbols += g.generated_steps;
    o.beam.seed++;
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(symbols), benchmark::Counter::kIsRate);
}

// The whole command's work: 64 start symbols, then 500 sampled steps (no early stop: --steps caps
// a random model that rarely picks "/"), for 1 and 64 outputs.
void BM_generate_500(benchmark::State& state) {
  const int N = static_cast<int>(state.range(0));
  const Model m = default_model();
  GenerateOptions o;
  o.num_outputs = N;
  o.beam.max_steps = 500;
  o.beam.sampler.temperature = 1.0;
  time_generation(state, m, o);
}
BENCHMARK(BM_generate_500)->Arg(1)->Arg(64)->ArgName("outputs")->Unit(benchmark::kMillisecond)->MinTime(1.0);

// Its peer with every control (generate/constraints.h): the same network size and vocabulary size, with
// the last three pitches replaced by "|", "K:C" and "M:4/4"; --key C --meter 4/4 --bars 29 --end-on-tonic
// (494 of the 500 steps, every output runs to the end). Its time per batch step beside BM_model_step's
// at the same batch is the cost of sampling plus the constraint masks (O(V) per row and step).
void BM_generate_500_controlled(benchmark::State& state) {
  const int N = static_cast<int>(state.range(0));
  Model m = default_model();
  m.vocabulary[35] = "|", m.vocabulary[36] = "K:C", m.vocabulary[37] = "M:4/4";
  GenerateOptions o;
  o.num_outputs = N;
  o.beam.max_steps = 500;
  o.controls.key = Key{0, false, ""};
  o.controls.meter = TimeSignature{4, 4};
  o.controls.bars = 29;
  o.controls.end_on = EndOn::tonic;
  time_generation(state, m, o);
}
BENCHMARK(BM_generate_500_controlled)->Arg(1)->Arg(64)->ArgName("outputs")->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
