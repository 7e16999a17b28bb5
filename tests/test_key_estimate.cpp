// Key estimation (Temperley–Kostka–Payne profiles) and the reference's transposition rule.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "formats/kern_reader.h"
#include "music/key_estimate.h"
#include "util/error.h"

using namespace melodist;

namespace {

Melody from_pitches(const std::vector<std::pair<int, int>>& notes) {  // (MIDI, eighths)
  Melody m;
  for (auto [p, eighths] : notes) m.events.push_back(MelodyEvent{p, Rational(eighths, 2), false, 0});
  return m;
}

Melody transposed(Melody m, int semitones) {
  for (auto& e : m.events)
    if (e.pitch != kRest) e.pitch += semitones;
  return m;
}

}  // namespace

TEST(KeyEstimate, ReferenceTranspositionTable) {
  // The issue's table: major -> C is -(tonic), minor -> A is 9 - tonic.
  struct Case { int pc; bool minor; int expected; };
  for (Case c : {Case{7, false, -7}, Case{5, false, -5}, Case{11, false, -11}, Case{0, false, 0}, Case{4, true, 5},
                 Case{2, true, 7}, Case{7, true, 2}, Case{11, true, -2}, Case{0, true, 9}, Case{9, true, 0},
                 Case{10, false, -10}, Case{6, true, 3}}) {
    Key k;
    k.tonic_pitch_class = c.pc;
    k.minor = c.minor;
    EXPECT_EQ(reference_transposition(k), c.expected) << k.name();
  }
}

TEST(KeyEstimate, SpelledTonicFollowsMusic21) {
  // music21 transposes from the spelled tonic in octave 4: C-flat 4 is MIDI 59, so C-flat major moves +1.
  Key cb{11, false, "C-"};
  EXPECT_EQ(reference_transposition(cb), 1);
  Key b{11, false, "B"};
  EXPECT_EQ(reference_transposition(b), -11);
  Key bsharp{0, false, "B#"};  // B#4 = MIDI 72
  EXPECT_EQ(reference_transposition(bsharp), -12);
  Key ab_minor{8, true, "a-"};
  EXPECT_EQ(reference_transposition(ab_minor), 1);
  Key gs_minor{8, true, "g#"};
  EXPECT_EQ(reference_transposition(gs_minor), 1);
  Key cb_minor{11, true, "c-"};  // A4 - C-4 = 69 - 59
  EXPECT_EQ(reference_transposition(cb_minor), 10);
}

TEST(KeyEstimate, ObviousMelodiesInEveryKey) {
  // "Alle meine Entchen" (C major): c d e f g g a a a a g ...; and a melody in A minor (harmonic,
  // with G#, tonic and dominant stressed). Each is moved to all 12 tonics.
  Melody major = from_pitches({{60, 2}, {62, 2}, {64, 2}, {65, 2}, {67, 4}, {67, 4}, {69, 2}, {69, 2}, {69, 2}, {69, 2},
                               {67, 8}, {65, 2}, {65, 2}, {65, 2}, {65, 2}, {64, 4}, {64, 4}, {62, 2}, {62, 2},
                               {62, 2}, {62, 2}, {60, 8}});
  Melody minor = from_pitches({{69, 4}, {72, 2}, {71, 2}, {69, 4}, {64, 4}, {65, 2}, {64, 2}, {62, 2}, {64, 2},
                               {68, 4}, {64, 4}, {69, 2}, {71, 2}, {72, 4}, {71, 2}, {68, 2}, {69, 8}});
  for (int t = 0; t < 12; ++t) {
    Key k = estimate_key(transposed(major, t - 6));
    EXPECT_EQ(k.tonic_pitch_class, ((t - 6) % 12 + 12) % 12) << "major moved by " << t - 6;
    EXPECT_FALSE(k.minor) << "major moved by " << t - 6;
    Key m = estimate_key(transposed(minor, t - 6));
    EXPECT_EQ(m.tonic_pitch_class, ((9 + t - 6) % 12 + 12) % 12) << "minor moved by " << t - 6;
    EXPECT_TRUE(m.minor) << "minor moved by " << t - 6;
  }
}

TEST(KeyEstimate, NoNotesIsCMajor) {
  Melody rests = from_pitches({{kRest, 4}});
  Key k = estimate_key(rests);
  EXPECT_EQ(k.tonic_pitch_class, 0);
  EXPECT_FALSE(k.minor);
  EXPECT_EQ(estimate_key(Melody{}).tonic_pitch_class, 0);
}

TEST(KeyEstimate, AgreesWithDeutschlDesignations) {
  std::string root = std::string(MELODIST_SHARED_DIR) + "/data/essen/deutschl";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "shared data not found at " << root << " (set MELODIST_SHARED_DIR)";
  int with_designation = 0, agree = 0, agree_tonic = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".krn") continue;
    Melody m;
    try {
      m = read_kern_file(entry.path().string());
    } catch (const Error&) {
      continue;
    }
    if (!m.key) continue;
    Key written = *m.key;
    m.key.reset();  // the estimate never sees the designation
    Key est = estimate_key(m);
    ++with_designation;
    agree += est.tonic_pitch_class == written.tonic_pitch_class && est.minor == written.minor;
    agree_tonic += est.tonic_pitch_class == written.tonic_pitch_class;
  }
  ASSERT_GT(with_designation, 5000);
  double rate = 100.0 * agree / with_designation;
  std::printf("key estimate (Temperley-Kostka-Payne) agrees with the designation (tonic and mode) on %d of %d deutschl songs: "
              "%.1f%% (tonic alone %.1f%%)\n",
              agree, with_designation, rate, 100.0 * agree_tonic / with_designation);
  EXPECT_GE(rate, 85.0);
}
