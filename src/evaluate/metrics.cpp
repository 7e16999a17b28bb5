#include "evaluate/metrics.h"

#include <cmath>
#include <limits>

#include "formats/text_encoding.h"
#include "util/error.h"

namespace melodist {

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
double ratio(double a, size_t b) { return b == 0 ? kNan : a / static_cast<double>(b); }
}  // namespace

SymbolKind symbol_kind(const std::string& symbol) {
  if (symbol == kHoldSymbol) return SymbolKind::hold;
  if (symbol == kRestSymbol) return SymbolKind::rest;
  if (symbol == kDelimiterSymbol) return SymbolKind::end;
  if (symbol.empty() || symbol.size() > 3) return SymbolKind::other;
  int value = 0;
  for (char c : symbol) {
    if (c < '0' || c > '9') return SymbolKind::other;
    value = value * 10 + (c - '0');
  }
  return value <= 127 ? SymbolKind::note : SymbolKind::other;
}

void add_song(MetricSums& sums, const Model& model, const SongScore& score) {
  const int V = static_cast<int>(model.vocabulary.size());
  const size_t S = score.steps();
  if (score.probabilities.size() != S * static_cast<size_t>(V))
    throw Error("evaluate: song scores need the full distributions (keep_probabilities)");
  std::vector<SymbolKind> kinds(V);
  for (int v = 0; v < V; ++v) kinds[v] = symbol_kind(model.vocabulary[v]);
  double song_nats = 0.0, song_pitch_bits = 0.0;
  size_t song_notes = 0;
  for (size_t s = 0; s < S; ++s) {
    const int target = score.targets[s];
    const bool correct = score.argmax[s] == target;
    song_nats += score.nats[s];
    sums.steps += 1;
    sums.correct += correct;
    const SymbolKind kind = kinds[target];
    if (kind == SymbolKind::note || kind == SymbolKind::rest) {
      sums.onset_steps += 1;
      sums.onset_correct += correct;
    } else if (kind == SymbolKind::hold) {
      sums.hold_steps += 1;
      sums.hold_correct += correct;
    }
    if (kind == SymbolKind::note) {
      const float* p = score.probabilities.data() + s * V;  // (V)
      double pitch_mass = 0.0;
      for (int v = 0; v < V; ++v)
        if (kinds[v] == SymbolKind::note) pitch_mass += p[v];
      // p(target) from the same row, so that p_target <= pitch_mass holds exactly.
      const double p_target = p[target];
      song_pitch_bits += -std::log2(p_target / pitch_mass);
      song_notes += 1;
    }
  }
  sums.songs += 1;
  sums.nats += song_nats;
  sums.notes += song_notes;
  sums.pitch_bits += song_pitch_bits;
  if (song_notes > 0) {
    sums.songs_with_notes += 1;
    sums.song_bits_per_note += song_nats / std::log(2.0) / static_cast<double>(song_notes);
    sums.song_pitch_bits += song_pitch_bits / static_cast<double>(song_notes);
  }
}

EvaluationMetrics finish_metrics(const MetricSums& sums) {
  EvaluationMetrics m;
  m.loss_nats_per_step = ratio(sums.nats, sums.steps);
  m.accuracy = ratio(static_cast<double>(sums.correct), sums.steps);
  m.perplexity = std::exp(m.loss_nats_per_step);
  m.onset_accuracy = ratio(static_cast<double>(sums.onset_correct), sums.onset_steps);
  m.hold_accuracy = ratio(static_cast<double>(sums.hold_correct), sums.hold_steps);
  m.bits_per_note = ratio(sums.nats / std::log(2.0), sums.notes);
  m.pitch_bits_per_note = ratio(sums.pitch_bits, sums.notes);
  m.bits_per_note_song_mean = ratio(sums.song_bits_per_note, sums.songs_with_notes);
  m.pitch_bits_per_note_song_mean = ratio(sums.song_pitch_bits, sums.songs_with_notes);
  m.songs = sums.songs;
  m.steps = sums.steps;
  m.notes = sums.notes;
  m.onset_steps = sums.onset_steps;
  m.hold_steps = sums.hold_steps;
  return m;
}

EvaluationMetrics evaluate_songs(const Model& model, const std::vector<std::vector<int>>& songs, int threads,
                                 const DynamicEvalOptions* dynamic) {
  return evaluate_songs(std::vector<const Model*>{&model}, songs, threads, dynamic);
}

EvaluationMetrics evaluate_songs(const std::vector<const Model*>& members, const std::vector<std::vector<int>>& songs,
                                 int threads, const DynamicEvalOptions* dynamic) {
  MetricSums sums;
  // Score in chunks so the (S, V) distributions of a large set are never all held at once.
  const size_t chunk = 256;
  for (size_t begin = 0; begin < songs.size(); begin += chunk) {
    const size_t end = std::min(songs.size(), begin + chunk);
    std::vector<std::vector<int>> part(songs.begin() + begin, songs.begin() + end);
    for (const auto& score : score_songs_ensemble(members, part, kDefaultDelimiterLength, dynamic, threads))
      add_song(sums, *members.at(0), score);
  }
  return finish_metrics(sums);
}

std::vector<std::string> metric_names() {
  return {"loss_nats_per_step", "accuracy",    "perplexity", "onset_accuracy",
          "hold_accuracy",      "bits_per_note", "pitch_bits_per_note", "bits_per_note_song_mean",
          "pitch_bits_per_note_song_mean", "songs", "steps", "notes", "onset_steps", "hold_steps"};
}

double metric_value(const EvaluationMetrics& m, const std::string& name) {
  if (name == "loss_nats_per_step") return m.loss_nats_per_step;
  if (name == "accuracy") return m.accuracy;
  if (name == "perplexity") return m.perplexity;
  if (name == "onset_accuracy") return m.onset_accuracy;
  if (name == "hold_accuracy") return m.hold_accuracy;
  if (name == "bits_per_note") return m.bits_per_note;
  if (name == "pitch_bits_per_note") return m.pitch_bits_per_note;
  if (name == "bits_per_note_song_mean") return m.bits_per_note_song_mean;
  if (name == "pitch_bits_per_note_song_mean") return m.pitch_bits_per_note_song_mean;
  if (name == "songs") return static_cast<double>(m.songs);
  if (name == "steps") return static_cast<double>(m.steps);
  if (name == "notes") return static_cast<double>(m.notes);
  if (name == "onset_steps") return static_cast<double>(m.onset_steps);
  if (name == "hold_steps") return static_cast<double>(m.hold_steps);
  throw Error("unknown metric \"" + name + "\"");
}

nlohmann::json to_json(const EvaluationMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& name : metric_names()) {
    const double value = metric_value(m, name);
    if (name == "songs" || name == "steps" || name == "notes" || name == "onset_steps" || name == "hold_steps")
      j[name] = static_cast<size_t>(value);
    else if (std::isfinite(value))
      j[name] = value;
    else
      j[name] = nullptr;
  }
  return j;
}

}  // namespace melodist
