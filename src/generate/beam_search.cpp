// Batched beam search (see beam_search.h). Rows of the batch: (N outputs, B beams), output-major.
#include "generate/beam_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>

#include "formats/text_encoding.h"
#include "nn/softmax.h"
#include "util/error.h"
#include "util/progress.h"

namespace melodist {

namespace {

// A beam's symbols are not stored in the beam: every step records, per row, the parent beam and the
// symbol appended (a back-pointer tree, as beam-search decoders do), so a step costs O(rows) whatever
// the length; copying each beam's symbol list every step made a long generation quadratic.
struct Beam {
  double log_likelihood = 0;
  double log_weight = 0;  // BeamResult::log_weight
  bool ended = false;
  ConstraintState constraint;  // where the beam stands in the melody (constrained decoding)
};

// The back-pointer tree: step s, row r = n*B + b.
struct BeamHistory {
  int rows = 0;
  std::vector<int32_t> parent;  // (steps, N*B) beam index b' at step s-1
  std::vector<int32_t> symbol;  // (steps, N*B) symbol appended at step s, -1: none (ended or finished)
  int steps() const { return rows ? static_cast<int>(parent.size() / rows) : 0; }
  // The symbols of beam b of output n after the last recorded step, oldest first.
  std::vector<int> symbols(int n, int b, int B) const {
    std::vector<int> out;
    for (int s = steps() - 1; s >= 0; --s) {
      const size_t at = static_cast<size_t>(s) * rows + static_cast<size_t>(n) * B + b;
      if (symbol[at] >= 0) out.push_back(symbol[at]);
      b = parent[at];
    }
    std::reverse(out.begin(), out.end());
    return out;
  }
};

struct Candidate {
  int parent;      // beam index 0..B-1
  int symbol;      // -1: a finished beam carried over unchanged
  double log_likelihood;
  double log_weight;
};

// Copies row `from` of every layer of src into row `to` of dst (both (L, rows, H)).
void copy_row(const StepState& src, int from, StepState& dst, int to, int L, int H) {
  for (int l = 0; l < L; ++l) {
    const size_t s = (static_cast<size_t>(l) * src.batch + from) * H, d = (static_cast<size_t>(l) * dst.batch + to) * H;
    std::copy_n(src.h.begin() + s, H, dst.h.begin() + d);
    std::copy_n(src.c.begin() + s, H, dst.c.begin() + d);
  }
}

// probs (V) without the `banned` symbols, renormalised; when nothing is left (greedy chose a banned
// symbol, or top-k/top-p kept only banned ones), the allowed symbol with the largest logit.
void exclude(const float* logits, int V, const std::vector<int>& banned, double* probs) {
  for (int s : banned)
    if (s >= 0 && s < V) probs[s] = 0.0;
  double mass = 0.0;
  for (int j = 0; j < V; ++j) mass += probs[j];
  if (mass > 0.0) {
    for (int j = 0; j < V; ++j) probs[j] /= mass;
    return;
  }
  int best = -1;
  for (int j = 0; j < V; ++j)
    if (std::find(banned.begin(), banned.end(), j) == banned.end() && (best < 0 || logits[j] > logits[best])) best = j;
  if (best < 0) throw Error("every symbol is excluded at the first step");
  std::fill(probs, probs + V, 0.0);
  probs[best] = 1.0;
}

// Constrained decoding: logits (V) with the disallowed symbols set far below every allowed one, so
// that temperature, top-k and top-p act among the allowed symbols.
void mask_logits(const float* logits, int V, const std::vector<char>& allowed, std::vector<float>& masked) {
  masked.assign(logits, logits + V);
  for (int j = 0; j < V; ++j)
    if (!allowed[j]) masked[j] = -1e30f;
}

// probs (V) restricted to the allowed symbols, renormalised; when nothing allowed is left (greedy or
// top-k/top-p kept only symbols the sampler's filters dropped), the allowed symbol with the largest logit.
void restrict_to(const float* logits, int V, const std::vector<char>& allowed, double* probs) {
  std::vector<int> banned;
  for (int j = 0; j < V; ++j)
    if (!allowed[j]) banned.push_back(j);
  exclude(logits, V, banned, probs);
}

// ln p(symbol | allowed) under the untempered model: logit - logsumexp over the allowed symbols.
double constrained_log_probability(const float* logits, int V, const std::vector<char>& allowed, int symbol) {
  const nn::LogSumExp r = nn::log_sum_exp(logits, V, allowed.data());
  return static_cast<double>(logits[symbol]) - r.max - std::log(r.sum);
}

// ln Z (BeamResult::log_weight): the mass the tempered model (the sampler's temperatures, 1 for greedy)
// puts on the allowed symbols; p (V) is scratch.
double log_allowed_mass(const float* logits, int V, const std::vector<char>& allowed, const SamplerOptions& sampler, double* p) {
  SamplerOptions tempered = sampler;
  if (tempered.temperature == 0.0) tempered.temperature = 1.0;
  if (tempered.rhythm_temperature == 0.0) tempered.rhythm_temperature = 1.0;
  tempered_distribution(logits, V, tempered, p);
  double mass = 0.0;
  for (int j = 0; j < V; ++j)
    if (allowed[j]) mass += p[j];
  return std::log(mass);
}

}  // namespace

std::vector<BeamResult> beam_search(const Model& model, const StepState& start, const std::vector<float>& start_logits,
                                    int num_outputs, const BeamOptions& o) {
  validate_sampler_options(o.sampler);
  if (!(o.cadence_temperature < 0.0) && !std::isfinite(o.cadence_temperature))  // NaN or +inf; negative: off
    throw Error("--cadence-temperature must be finite; negative: --temperature throughout");
  SamplerOptions cadence_sampler = o.sampler;
  if (o.cadence_temperature >= 0.0) cadence_sampler.temperature = o.cadence_temperature;
  if (o.cadence_bars < 1) throw Error("--cadence-bars must be 1 or more");
  if (o.beam_size < 1) throw Error("--beam-size must be 1 or more");
  if (o.branch_factor < 1) throw Error("--branch-factor must be 1 or more");
  if (num_outputs < 1) throw Error("--num-outputs must be 1 or more");
  if (o.max_steps < 0 || o.max_steps > kMaxGenerateSteps)
    throw Error("--steps must be from 0 to " + std::to_string(kMaxGenerateSteps));
  // The back-pointer tree holds 8 bytes per row and step: bounded before any work.
  const double history_bytes = 8.0 * num_outputs * o.beam_size * static_cast<double>(o.max_steps);
  if (history_bytes > 8e9)
    throw Error("--num-outputs " + std::to_string(num_outputs) + " x --beam-size " + std::to_string(o.beam_size) + " x --steps " +
                std::to_string(o.max_steps) + " needs about " + format_bytes(history_bytes) + " for the melodies; use fewer steps or outputs");
  const int V = model.config.vocab_size, H = model.config.hidden_size, L = model.config.num_layers;
  const int N = num_outputs, B = o.beam_size, F = o.branch_factor, rows = N * B;
  const int delimiter = model.symbol_id(kDelimiterSymbol);
  if (delimiter < 0) throw Error("the model's vocabulary has no \"/\" delimiter symbol");

  StepState state = make_step_state(start, rows);  // (L, N*B, H), sharing start's packed weights
  for (int r = 0; r < rows; ++r) copy_row(start, 0, state, r, L, H);
  StepState next_state = state;
  std::vector<float> logits(static_cast<size_t>(rows) * V);  // (N*B, V)
  for (int r = 0; r < rows; ++r) std::copy(start_logits.begin(), start_logits.end(), logits.begin() + static_cast<size_t>(r) * V);
  const Constraints* constraints = o.constraints && !o.constraints->inert() ? o.constraints : nullptr;
  Beam first_beam;
  first_beam.constraint = o.constraint_start;
  std::vector<std::vector<Beam>> beams(N, std::vector<Beam>(B, first_beam));
  std::vector<char> allowed;
  std::vector<float> masked;
  BeamHistory history;
  history.rows = rows;
  // Long generations (--steps up to kMaxGenerateSteps) show progress once they take over a second.
  std::unique_ptr<Progress> progress;
  const auto started = std::chrono::steady_clock::now();
  std::vector<Rng> rngs;
  for (int n = 0; n < N; ++n) rngs.emplace_back(o.seed, static_cast<uint64_t>(n));
  std::vector<double> probs(V), scratch(V);
  std::vector<int> tokens(rows, delimiter);  // (N*B) inputs of the next model_step

  for (int step = 0; step < o.max_steps; ++step) {
    bool any_growing = false;
    history.parent.resize(history.parent.size() + rows);
    history.symbol.resize(history.symbol.size() + rows);
    int32_t* step_parent = history.parent.data() + static_cast<size_t>(step) * rows;  // (N*B)
    int32_t* step_symbol = history.symbol.data() + static_cast<size_t>(step) * rows;  // (N*B)
    for (int n = 0; n < N; ++n) {
      std::vector<Beam>& bs = beams[n];
      std::vector<Candidate> cands;
      // At the first step all B beams are the same start; expand only beam 0 then, like a fresh search.
      const int live = step == 0 ? 1 : B;
      for (int b = 0; b < live; ++b) {
        if (bs[b].ended) {
          cands.push_back({b, -1, bs[b].log_likelihood, bs[b].log_weight});
          continue;
        }
        const float* row = logits.data() + static_cast<size_t>(n * B + b) * V;
        const float* sampled = row;
        if (constraints) {
          constraints->allowed(bs[b].constraint, allowed);
          mask_logits(row, V, allowed, masked);
          sampled = masked.data();
        }
        const int64_t to_end = constraints && o.cadence_temperature >= 0.0 ? constraints->bars_to_end(bs[b].constraint) : 0;
        const SamplerOptions& sampler = to_end >= 1 && to_end <= o.cadence_bars ? cadence_sampler : o.sampler;
        sampling_distribution(sampled, V, sampler, probs.data());
        if (step == 0 && !o.banned_at_start.empty()) exclude(sampled, V, o.banned_at_start, probs.data());
        if (constraints) restrict_to(sampled, V, allowed, probs.data());
        const double lw = constraints ? log_allowed_mass(row, V, allowed, sampler, scratch.data()) : 0.0;
        for (int f = 0; f < F; ++f) {
          const int s = draw(probs.data(), V, rngs[n]);
          const double lp = constraints ? constrained_log_probability(row, V, allowed, s) : log_probability(row, V, s);
          cands.push_back({b, s, bs[b].log_likelihood + lp, bs[b].log_weight + lw});
        }
      }
      // Keep the B best (ties: earlier candidate); with fewer candidates than B, repeat the best ones.
      std::vector<int> order(cands.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return cands[a].log_likelihood > cands[b].log_likelihood; });
      std::vector<Beam> kept(B);
      for (int b = 0; b < B; ++b) {
        const Candidate& c = cands[order[b % order.size()]];
        Beam nb = bs[c.parent];
        nb.log_likelihood = c.log_likelihood;
        nb.log_weight = c.log_weight;
        step_parent[n * B + b] = c.parent;
        step_symbol[n * B + b] = -1;
        if (c.symbol == delimiter) nb.ended = true;
        else if (c.symbol >= 0) step_symbol[n * B + b] = c.symbol;
        if (constraints && c.symbol >= 0) constraints->advance(nb.constraint, c.symbol);
        copy_row(state, n * B + c.parent, next_state, n * B + b, L, H);
        tokens[n * B + b] = nb.ended ? delimiter : c.symbol;  // finished rows step on "/", ignored after
        if (!nb.ended) any_growing = true;
        kept[b] = std::move(nb);
      }
      bs = std::move(kept);
    }
    std::swap(state, next_state);
    if ((step & 1023) == 1023) {
      if (!progress && std::chrono::steady_clock::now() - started > std::chrono::seconds(1))
        progress = std::make_unique<Progress>("generate", static_cast<double>(o.max_steps), "steps");
      if (progress) progress->update(step + 1.0);
    }
    if (!any_growing || step + 1 == o.max_steps) {
      if (progress) progress->finish(step + 1.0);
      break;
    }
    model_step(model, tokens.data(), state, logits.data());
  }

  std::vector<BeamResult> out(N);
  for (int n = 0; n < N; ++n) {
    int best = 0;
    for (int b = 1; b < B; ++b)
      if (beams[n][b].log_likelihood > beams[n][best].log_likelihood) best = b;
    out[n].symbols = history.symbols(n, best, B);
    out[n].ended = beams[n][best].ended;
    out[n].log_likelihood = beams[n][best].log_likelihood;
    out[n].log_weight = beams[n][best].log_weight;
  }
  return out;
}

}  // namespace melodist
