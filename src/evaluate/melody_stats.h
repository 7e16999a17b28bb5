#pragma once
// Musical statistics of melodies and of sets of melodies (`melodist stats`), the features of Yang &
// Lerch's MGEval ("On the evaluation of generative models in music", 2018) for monophonic lines.
//
// How a melody is read: tied notes of the same pitch are merged into one note; notes and rests of
// length 0 (grace notes) are skipped; rests are not notes (they only lengthen inter-onset intervals).
// Lengths are in quarter notes.
//   note_count          number of notes (MGEval "total_used_note").
//   pitch_count         number of distinct MIDI pitches used ("total_used_pitch").
//   pitch_range         highest minus lowest pitch in semitones (0 with < 1 note).
//   mean_abs_interval   mean |p[k+1] - p[k]| over consecutive notes, rests skipped ("avg_pitch_shift");
//                       0 with < 2 notes.
//   mean_ioi            mean time from one note's onset to the next note's onset ("avg_IOI"); 0 with
//                       < 2 notes.
//   pitch_class_histogram       (12) note counts per pitch class, C = 0.
//   pitch_class_transitions     (12, 12) counts of [pc of note k][pc of note k+1].
//   note_length_histogram       (12) note counts per MGEval length class, each note put in the class
//                               nearest in absolute difference (ties: the earlier class):
//                               4, 2, 1, 1/2, 1/4, 3, 3/2, 3/4, 3/8, 4/3, 2/3, 1/3 quarters
//                               (whole, half, quarter, 8th, 16th, dotted half/quarter/8th/16th,
//                               half/quarter/8th triplet).
//   note_length_transitions     (12, 12) counts of [class of note k][class of note k+1].
//   in_scale_rate       fraction of notes whose pitch class lies in the scale of the melody's key: the
//                       first key designation when the melody has one, else estimate_key (see
//                       music/key_estimate.h). Major: 0 2 4 5 7 9 11 above the tonic; minor: natural
//                       minor plus the raised 7th (0 2 3 5 7 8 10 11). 0 with no notes.
//   ends_on_tonic       1 when the last note's pitch class is the tonic of that key, else 0 (over a set:
//                       the fraction of melodies that end on their tonic).
//   second_half_in_key  1 when estimate_key of the melody's second half (the events that start at or
//                       after half its length) has that key's tonic, else 0: whether the melody is in its
//                       key again (or still) when it closes, or has settled on another centre (drift).
#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "music/melody.h"

namespace melodist {

inline constexpr int kNoteLengthClasses = 12;
// The MGEval length classes in quarter notes, in the order above.
const std::array<double, kNoteLengthClasses>& note_length_classes();
const std::array<const char*, kNoteLengthClasses>& note_length_class_names();  // "4", "2", ..., "1/3"

struct MelodyStats {
  std::string name;
  int note_count = 0;
  int pitch_count = 0;
  int pitch_range = 0;
  double mean_abs_interval = 0.0;
  double mean_ioi = 0.0;
  double in_scale_rate = 0.0;
  double ends_on_tonic = 0.0;
  double second_half_in_key = 0.0;
  Key key;
  std::array<double, 12> pitch_class_histogram{};                                   // (12) counts
  std::array<double, 144> pitch_class_transitions{};                                // (12, 12) counts
  std::array<double, kNoteLengthClasses> note_length_histogram{};                   // (12) counts
  std::array<double, kNoteLengthClasses * kNoteLengthClasses> note_length_transitions{};  // (12, 12)
};

MelodyStats melody_stats(const Melody& melody, const std::string& name = "");

// A set: mean and standard deviation (population) of every scalar feature over the melodies, and the
// pooled histograms and transition matrices (sums of counts; normalised copies in JSON).
struct MeanStd {
  double mean = 0.0, std = 0.0;
};
struct SetStats {
  size_t melodies = 0;
  MeanStd note_count, pitch_count, pitch_range, mean_abs_interval, mean_ioi, in_scale_rate, ends_on_tonic, second_half_in_key;
  std::array<double, 12> pitch_class_histogram{};
  std::array<double, 144> pitch_class_transitions{};
  std::array<double, kNoteLengthClasses> note_length_histogram{};
  std::array<double, kNoteLengthClasses * kNoteLengthClasses> note_length_transitions{};
};
SetStats set_stats(const std::vector<MelodyStats>& melodies);

nlohmann::json to_json(const MelodyStats& stats);
nlohmann::json to_json(const SetStats& stats);

}  // namespace melodist
