// Krumhansl–Schmuckler key finding with Temperley's Kostka–Payne key profiles.
//
// Profile choice: D. Temperley, "Music and Probability" (MIT Press, 2007), the major and minor
// pitch-class profiles measured on the Kostka–Payne harmony textbook excerpts (music21 calls them
// TemperleyKostkaPayne). The issue allows Aarden–Essen or Temperley; both were measured on all 5,365
// deutschl songs that carry a designation (estimate made without the designation, tonic and mode must
// match): Temperley–Kostka–Payne 91.9%, Aarden–Essen 86.4% (Aarden, "Dynamic melodic expectancy",
// 2003), Krumhansl–Kessler 68.8%. The best one is used; tests/test_key_estimate.cpp prints the figure.
//
// Method: the melody's duration-weighted pitch-class profile x (12 values, quarters per pitch class,
// tied parts count with their own lengths, rests and grace notes count nothing) is correlated
// (Pearson) with the major and the minor profile rotated to each of the 12 tonics; the best of the 24
// wins. Ties in score go to the first in the order C major, C minor, C# major, ... (deterministic).
#include "music/key_estimate.h"

#include <cmath>

namespace melodist {

namespace {

constexpr double kMajorProfile[12] = {0.748, 0.060, 0.488, 0.082, 0.670, 0.460,
                                      0.096, 0.715, 0.104, 0.366, 0.057, 0.400};
constexpr double kMinorProfile[12] = {0.712, 0.084, 0.474, 0.618, 0.049, 0.460,
                                      0.105, 0.747, 0.404, 0.067, 0.133, 0.330};

double correlation(const double* x, const double* profile, int tonic) {
  double mx = 0, my = 0;
  for (int i = 0; i < 12; ++i) mx += x[i], my += profile[i];
  mx /= 12, my /= 12;
  double sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 12; ++i) {
    double dx = x[(i + tonic) % 12] - mx;  // pitch class (tonic + i) plays scale degree i
    double dy = profile[i] - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  if (sxx <= 0 || syy <= 0) return 0;
  return sxy / std::sqrt(sxx * syy);
}

int letter_pitch_class(char c) {
  static const int kPc[7] = {9, 11, 0, 2, 4, 5, 7};  // a b c d e f g
  char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return (lower >= 'a' && lower <= 'g') ? kPc[lower - 'a'] : -1;
}

}  // namespace

Key estimate_key(const Melody& melody) {
  double profile[12] = {0};
  double total = 0;
  for (const MelodyEvent& e : melody.events) {
    if (e.pitch == kRest || e.pitch < 0) continue;
    double d = e.duration.to_double();
    profile[e.pitch % 12] += d;
    total += d;
  }
  Key best;  // C major for a melody without notes
  if (total <= 0) return best;
  double best_r = -2;
  for (int tonic = 0; tonic < 12; ++tonic) {
    for (int minor = 0; minor < 2; ++minor) {
      double r = correlation(profile, minor ? kMinorProfile : kMajorProfile, tonic);
      if (r > best_r + 1e-12) {
        best_r = r;
        best.tonic_pitch_class = tonic;
        best.minor = minor == 1;
      }
    }
  }
  return best;
}

int reference_transposition(const Key& key) {
  // music21: Interval(tonic, Pitch("C"|"A")) with both pitches in octave 4, so the SPELLED tonic counts:
  // C-flat major (C-4 = MIDI 59) moves +1 and B-sharp major (B#4 = MIDI 72) -12.
  int tonic = ((key.tonic_pitch_class % 12) + 12) % 12;
  if (!key.spelling.empty() && letter_pitch_class(key.spelling[0]) >= 0) {
    tonic = letter_pitch_class(key.spelling[0]);
    for (size_t i = 1; i < key.spelling.size(); ++i) {
      if (key.spelling[i] == '#') ++tonic;
      else if (key.spelling[i] == '-') --tonic;
    }
  }
  return key.minor ? 9 - tonic : -tonic;
}

}  // namespace melodist
