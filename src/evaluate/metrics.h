#pragma once
// Held-out figures of a model over a set of songs (`melodist evaluate`, `melodist crossval`).
//
// Every song is scored by score_songs (generate/song_score.h), THE definition of validation loss: run
// from a fresh state after the 64 "/" start symbols; the song's symbols and the first "/" after it
// (the end step) are the scored steps. Shape legend: S scored steps of a song, V vocabulary.
//
// Which steps count, per figure (n = note onset: a MIDI-number symbol; r = rest onset "r";
// h = hold "_"; e = the end "/"; o = any other symbol: the optional key symbol "K:G" and barline "|"
// of `preprocess --key-symbol --barlines`, which are scored like every step but are neither onsets nor
// holds):
//   loss_nats_per_step   mean of -ln p(target) over n, r, h, o AND e steps of every song (pooled)
//                        -- identical to training's validation loss.
//   accuracy             argmax == target over the same steps (n, r, h, o, e).
//   perplexity           exp(loss_nats_per_step).
//   onset_accuracy       argmax == target over steps whose target is n or r (Magenta's "event
//                        accuracy"); the end step e is NOT an onset and is left out.
//   hold_accuracy        argmax == target over steps whose target is h (Magenta's "no-event
//                        accuracy"); e is left out.
//   bits_per_note        sum over songs of the total -log2 p of ALL scored steps (n, r, h, o, e: the
//                        whole code length of the song, its end included) divided by the sum of the
//                        songs' note counts (n steps; rests are not notes). Pooled over the set.
//   pitch_bits_per_note  at each n step only: -log2( p(pitch) / sum of p over the pitch symbols ),
//                        i.e. the probability of the right pitch renormalised among the MIDI-number
//                        symbols of the vocabulary ("chromatic pitch given the onset", as IDyOM
//                        reports it); mean over all notes of the set (pooled, the IDyOM convention of
//                        averaging over events). The per-song mean of per-song means is reported too
//                        (pitch_bits_per_note_song_mean), as is bits_per_note_song_mean.
//   songs, steps, notes  number of songs, scored steps (n+r+h+o+e), note onsets (n).
// A figure whose denominator is zero (e.g. no hold steps) is NaN, written as null in JSON.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluate/dynamic_eval.h"
#include "evaluate/ensemble.h"
#include "nn/song_score.h"
#include "nn/model.h"

namespace melodist {

// The class of each vocabulary symbol, for the figures above.
enum class SymbolKind { note, rest, hold, end, other };
SymbolKind symbol_kind(const std::string& symbol);  // "60" note, "r" rest, "_" hold, "/" end

// Running sums; add one scored song at a time, then finish().
struct MetricSums {
  size_t songs = 0;
  size_t steps = 0, correct = 0;
  size_t onset_steps = 0, onset_correct = 0;
  size_t hold_steps = 0, hold_correct = 0;
  size_t notes = 0;
  double nats = 0.0;              // sum of -ln p over all scored steps
  double pitch_bits = 0.0;        // sum over notes of -log2 p(pitch | pitch symbols)
  double song_bits_per_note = 0.0;   // sum over songs with >= 1 note of (song bits / song notes)
  double song_pitch_bits = 0.0;      // sum over songs with >= 1 note of (song pitch bits / song notes)
  size_t songs_with_notes = 0;
};

struct EvaluationMetrics {
  double loss_nats_per_step = 0.0;
  double accuracy = 0.0;
  double perplexity = 0.0;
  double onset_accuracy = 0.0;
  double hold_accuracy = 0.0;
  double bits_per_note = 0.0;
  double pitch_bits_per_note = 0.0;
  double bits_per_note_song_mean = 0.0;
  double pitch_bits_per_note_song_mean = 0.0;
  size_t songs = 0, steps = 0, notes = 0, onset_steps = 0, hold_steps = 0;
};

// Adds one song. `score` must come from score_song(s) with keep_probabilities = true (pitch bits need
// the full distribution); throws melodist::Error otherwise.
void add_song(MetricSums& sums, const Model& model, const SongScore& score);
EvaluationMetrics finish_metrics(const MetricSums& sums);

// Scores `songs` (ids of model.vocabulary, no "/") with the end step and returns the figures. With
// dynamic (not null, lr > 0) the songs are scored by dynamic evaluation (evaluate/dynamic_eval.h).
EvaluationMetrics evaluate_songs(const Model& model, const std::vector<std::vector<int>>& songs, int threads = 1,
                                 const DynamicEvalOptions* dynamic = nullptr);
// The same for an ensemble (evaluate/ensemble.h: the mean of the members' distributions); the members
// share one vocabulary. One member gives evaluate_songs.
EvaluationMetrics evaluate_songs(const std::vector<const Model*>& members, const std::vector<std::vector<int>>& songs,
                                 int threads = 1, const DynamicEvalOptions* dynamic = nullptr);

// {"loss_nats_per_step":..., "accuracy":..., ..., "songs":..., "steps":..., "notes":...}; NaN -> null.
nlohmann::json to_json(const EvaluationMetrics& metrics);
// The names of the figures in to_json order (doubles first), for tables and crossval summaries.
std::vector<std::string> metric_names();
// Reads a figure by name from metrics (doubles and counts), throws melodist::Error on an unknown name.
double metric_value(const EvaluationMetrics& metrics, const std::string& name);

}  // namespace melodist
