#include "evaluate/melody_stats.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "music/key_estimate.h"

namespace melodist {

const std::array<double, kNoteLengthClasses>& note_length_classes() {
  static const std::array<double, kNoteLengthClasses> classes = {
      4.0, 2.0, 1.0, 0.5, 0.25, 3.0, 1.5, 0.75, 0.375, 4.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0};
  return classes;
}

const std::array<const char*, kNoteLengthClasses>& note_length_class_names() {
  static const std::array<const char*, kNoteLengthClasses> names = {"4",   "2",   "1",   "1/2", "1/4", "3",
                                                                    "3/2", "3/4", "3/8", "4/3", "2/3", "1/3"};
  return names;
}

namespace {

struct Note {
  int pitch;
  double onset;   // quarters from the start
  double length;  // quarters
};

// Notes with ties merged and zero-length events skipped; rests only advance time.
std::vector<Note> notes_of(const Melody& melody) {
  std::vector<Note> notes;
  double time = 0.0;
  bool continue_tie = false;
  for (const auto& event : melody.events) {
    const double length = event.duration.to_double();
    if (length <= 0.0) continue;
    if (event.pitch == kRest) {
      continue_tie = false;
    } else if (continue_tie && !notes.empty() && notes.back().pitch == event.pitch) {
      notes.back().length += length;
    } else {
      notes.push_back({event.pitch, time, length});
    }
    if (event.pitch != kRest) continue_tie = event.tied_to_next;
    time += length;
  }
  return notes;
}

// The events that start at or after half the melody's length (a tie into them is cut there).
Melody second_half(const Melody& melody) {
  const Rational total = melody_length(melody);
  Rational time(0);
  Melody half;
  for (const auto& e : melody.events) {
    if (time + time >= total) half.events.push_back(e);
    time += e.duration;
  }
  return half;
}

int length_class(double length) {
  const auto& classes = note_length_classes();
  int best = 0;
  for (int k = 1; k < kNoteLengthClasses; ++k)
    if (std::abs(classes[k] - length) < std::abs(classes[best] - length)) best = k;
  return best;
}

int pitch_class(int pitch) { return ((pitch % 12) + 12) % 12; }

MeanStd mean_std(const std::vector<MelodyStats>& melodies, double (*get)(const MelodyStats&)) {
  MeanStd r;
  if (melodies.empty()) return r;
  double sum = 0.0;
  for (const auto& m : melodies) sum += get(m);
  r.mean = sum / static_cast<double>(melodies.size());
  double sq = 0.0;
  for (const auto& m : melodies) sq += (get(m) - r.mean) * (get(m) - r.mean);
  r.std = std::sqrt(sq / static_cast<double>(melodies.size()));
  return r;
}

template <size_t N>
nlohmann::json normalised(const std::array<double, N>& counts) {
  double total = 0.0;
  for (double c : counts) total += c;
  nlohmann::json j = nlohmann::json::array();
  for (double c : counts) j.push_back(total > 0 ? c / total : 0.0);
  return j;
}

template <size_t N>
nlohmann::json matrix(const std::array<double, N>& values, int n) {
  nlohmann::json rows = nlohmann::json::array();
  for (int r = 0; r < n; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < n; ++c) row.push_back(values[r * n + c]);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

MelodyStats melody_stats(const Melody& melody, const std::string& name) {
  MelodyStats s;
  s.name = name;
  const std::vector<Note> notes = notes_of(melody);
  s.note_count = static_cast<int>(notes.size());
  s.key = melody.key ? *melody.key : estimate_key(melody);
  if (notes.empty()) return s;
  std::set<int> pitches;
  int low = notes[0].pitch, high = notes[0].pitch;
  static const int major[] = {0, 2, 4, 5, 7, 9, 11};
  static const int minor[] = {0, 2, 3, 5, 7, 8, 10, 11};
  bool in_scale[12] = {};
  if (s.key.minor)
    for (int d : minor) in_scale[(s.key.tonic_pitch_class + d) % 12] = true;
  else
    for (int d : major) in_scale[(s.key.tonic_pitch_class + d) % 12] = true;
  int in_scale_count = 0;
  double interval_sum = 0.0, ioi_sum = 0.0;
  for (size_t k = 0; k < notes.size(); ++k) {
    const Note& n = notes[k];
    pitches.insert(n.pitch);
    low = std::min(low, n.pitch);
    high = std::max(high, n.pitch);
    const int pc = pitch_class(n.pitch);
    const int lc = length_class(n.length);
    s.pitch_class_histogram[pc] += 1;
    s.note_length_histogram[lc] += 1;
    in_scale_count += in_scale[pc];
    if (k + 1 < notes.size()) {
      const Note& next = notes[k + 1];
      s.pitch_class_transitions[pc * 12 + pitch_class(next.pitch)] += 1;
      s.note_length_transitions[lc * kNoteLengthClasses + length_class(next.length)] += 1;
      interval_sum += std::abs(next.pitch - n.pitch);
      ioi_sum += next.onset - n.onset;
    }
  }
  s.pitch_count = static_cast<int>(pitches.size());
  s.pitch_range = high - low;
  if (notes.size() >= 2) {
    s.mean_abs_interval = interval_sum / static_cast<double>(notes.size() - 1);
    s.mean_ioi = ioi_sum / static_cast<double>(notes.size() - 1);
  }
  s.in_scale_rate = static_cast<double>(in_scale_count) / static_cast<double>(notes.size());
  s.ends_on_tonic = pitch_class(notes.back().pitch) == s.key.tonic_pitch_class ? 1.0 : 0.0;
  s.second_half_in_key = estimate_key(second_half(melody)).tonic_pitch_class == s.key.tonic_pitch_class ? 1.0 : 0.0;
  return s;
}

SetStats set_stats(const std::vector<MelodyStats>& melodies) {
  SetStats s;
  s.melodies = melodies.size();
  s.note_count = mean_std(melodies, [](const MelodyStats& m) { return double(m.note_count); });
  s.pitch_count = mean_std(melodies, [](const MelodyStats& m) { return double(m.pitch_count); });
  s.pitch_range = mean_std(melodies, [](const MelodyStats& m) { return double(m.pitch_range); });
  s.mean_abs_interval = mean_std(melodies, [](const MelodyStats& m) { return m.mean_abs_interval; });
  s.mean_ioi = mean_std(melodies, [](const MelodyStats& m) { return m.mean_ioi; });
  s.in_scale_rate = mean_std(melodies, [](const MelodyStats& m) { return m.in_scale_rate; });
  s.ends_on_tonic = mean_std(melodies, [](const MelodyStats& m) { return m.ends_on_tonic; });
  s.second_half_in_key = mean_std(melodies, [](const MelodyStats& m) { return m.second_half_in_key; });
  for (const auto& m : melodies) {
    for (size_t i = 0; i < 12; ++i) s.pitch_class_histogram[i] += m.pitch_class_histogram[i];
    for (size_t i = 0; i < 144; ++i) s.pitch_class_transitions[i] += m.pitch_class_transitions[i];
    for (size_t i = 0; i < s.note_length_histogram.size(); ++i) s.note_length_histogram[i] += m.note_length_histogram[i];
    for (size_t i = 0; i < s.note_length_transitions.size(); ++i)
      s.note_length_transitions[i] += m.note_length_transitions[i];
  }
  return s;
}

nlohmann::json to_json(const MelodyStats& s) {
  return {{"name", s.name},
          {"note_count", s.note_count},
          {"pitch_count", s.pitch_count},
          {"pitch_range", s.pitch_range},
          {"mean_abs_interval", s.mean_abs_interval},
          {"mean_ioi", s.mean_ioi},
          {"in_scale_rate", s.in_scale_rate},
          {"ends_on_tonic", s.ends_on_tonic},
          {"second_half_in_key", s.second_half_in_key},
          {"key", s.key.name()},
          {"pitch_class_histogram", s.pitch_class_histogram},
          {"pitch_class_transitions", matrix(s.pitch_class_transitions, 12)},
          {"note_length_classes", note_length_class_names()},
          {"note_length_histogram", s.note_length_histogram},
          {"note_length_transitions", matrix(s.note_length_transitions, kNoteLengthClasses)}};
}

nlohmann::json to_json(const SetStats& s) {
  auto ms = [](const MeanStd& v) { return nlohmann::json{{"mean", v.mean}, {"std", v.std}}; };
  return {{"melodies", s.melodies},
          {"note_count", ms(s.note_count)},
          {"pitch_count", ms(s.pitch_count)},
          {"pitch_range", ms(s.pitch_range)},
          {"mean_abs_interval", ms(s.mean_abs_interval)},
          {"mean_ioi", ms(s.mean_ioi)},
          {"in_scale_rate", ms(s.in_scale_rate)},
          {"ends_on_tonic", ms(s.ends_on_tonic)},
          {"second_half_in_key", ms(s.second_half_in_key)},
          {"pitch_class_histogram", normalised(s.pitch_class_histogram)},
          {"pitch_class_transitions", matrix(s.pitch_class_transitions, 12)},
          {"note_length_classes", note_length_class_names()},
          {"note_length_histogram", normalised(s.note_length_histogram)},
          {"note_length_transitions", matrix(s.note_length_transitions, kNoteLengthClasses)}};
}

}  // namespace melodist
