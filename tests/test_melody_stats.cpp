// Musical statistics of tiny melodies, worked out by hand, and the MGEval set comparison.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "evaluate/melody_sources.h"
#include "evaluate/melody_stats.h"
#include "evaluate/mgeval.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace {

using namespace melodist;

MelodyEvent ev(int pitch, Rational duration, bool tied = false) { return MelodyEvent{pitch, duration, tied, 0}; }

// C major (designated). Events: C4 quarter, E4 eighth, eighth rest, G4 half tied to G4 quarter,
// F#4 triplet eighth, a grace note C5 (length 0, skipped).
// Notes after merging the tie: 60@0 len 1, 64@1 len 1/2, 67@2 len 3, 66@5 len 1/3.
//   note_count 4, pitch_count 4, pitch_range 67 - 60 = 7,
//   mean |interval| (4 + 3 + 1) / 3 = 8/3, mean IOI (1 + 1 + 3) / 3 = 5/3,
//   pitch classes 0 4 7 6, transitions 0->4 4->7 7->6,
//   length classes: 1 -> "1" (index 2), 1/2 -> "1/2" (3), 3 -> "3" (5), 1/3 -> "1/3" (11),
//   in scale (C major: C D E F G A B): C E G yes, F# no -> 3/4.
Melody melody_c_major() {
  Melody m;
  m.key = Key{0, false, ""};
  m.events = {ev(60, 1), ev(64, Rational(1, 2)), ev(kRest, Rational(1, 2)), ev(67, 2, true), ev(67, 1),
              ev(66, Rational(1, 3)), ev(72, 0)};
  return m;
}

// A minor (designated), four quarters A4 G#4 F#4 F4: the raised 7th G# is in the minor scale, F# is not.
//   pitch_range 69 - 65 = 4, mean |interval| (1 + 2 + 1) / 3 = 4/3, IOI 1, in-scale 3/4.
Melody melody_a_minor() {
  Melody m;
  m.key = Key{9, true, ""};
  m.events = {ev(69, 1), ev(68, 1), ev(66, 1), ev(65, 1)};
  return m;
}

// A melody designated C major whose first half is a C major scale and cadence and whose second half
// (from half its length, 8 of 16 quarters) is a G major one, F# and all: the second half's estimated
// tonic is G, so it is not in key; the same second half in C is. The split is by time, not by notes:
// the long first note puts the G half's first note at the middle.
TEST(MelodyStats, SecondHalfInKeyAsksWhereTheMelodyCloses) {
  auto melody = [](const std::vector<int>& second) {
    Melody m;
    m.key = Key{0, false, ""};
    m.events = {ev(60, 4), ev(64, 1), ev(67, 1), ev(72, 1), ev(60, 1)};  // 8 quarters in C
    for (int p : second) m.events.push_back(ev(p, 1));
    return m;
  };
  const Melody drifts = melody({67, 71, 74, 66, 67, 71, 62, 67});   // G B D F# G B D G: 8 quarters in G
  const Melody stays = melody({60, 64, 67, 65, 64, 62, 71, 60});    // C E G F E D B C
  EXPECT_EQ(melody_stats(drifts).second_half_in_key, 0.0);
  EXPECT_EQ(melody_stats(drifts).ends_on_tonic, 0.0);
  EXPECT_EQ(melody_stats(stays).second_half_in_key, 1.0);
  const SetStats set = set_stats({melody_stats(drifts), melody_stats(stays)});
  EXPECT_DOUBLE_EQ(set.second_half_in_key.mean, 0.5);
  EXPECT_EQ(to_json(set)["second_half_in_key"]["mean"], 0.5);
}

TEST(MelodyStats, HandWorkedMajor) {
  const MelodyStats s = melody_stats(melody_c_major(), "m1");
  EXPECT_EQ(s.note_count, 4);
  EXPECT_EQ(s.pitch_count, 4);
  EXPECT_EQ(s.pitch_range, 7);
  EXPECT_NEAR(s.mean_abs_interval, 8.0 / 3.0, 1e-12);
  EXPECT_NEAR(s.mean_ioi, 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(s.in_scale_rate, 0.75, 1e-12);
  std::array<double, 12> pcs{};
  pcs[0] = pcs[4] = pcs[7] = pcs[6] = 1;
  EXPECT_EQ(s.pitch_class_histogram, pcs);
  double transitions = 0;
  for (double t : s.pitch_class_transitions) transitions += t;
  EXPECT_EQ(transitions, 3);
  EXPECT_EQ(s.pitch_class_transitions[0 * 12 + 4], 1);
  EXPECT_EQ(s.pitch_class_transitions[4 * 12 + 7], 1);
  EXPECT_EQ(s.pitch_class_transitions[7 * 12 + 6], 1);
  std::array<double, kNoteLengthClasses> lengths{};
  lengths[2] = lengths[3] = lengths[5] = lengths[11] = 1;
  EXPECT_EQ(s.note_length_histogram, lengths);
  EXPECT_EQ(s.note_length_transitions[2 * 12 + 3], 1);
  EXPECT_EQ(s.note_length_transitions[3 * 12 + 5], 1);
  EXPECT_EQ(s.note_length_transitions[5 * 12 + 11], 1);
}

TEST(MelodyStats, HandWorkedMinorAndSet) {
  const MelodyStats s = melody_stats(melody_a_minor(), "m2");
  EXPECT_EQ(s.pitch_range, 4);
  EXPECT_NEAR(s.mean_abs_interval, 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(s.mean_ioi, 1.0, 1e-12);
  EXPECT_NEAR(s.in_scale_rate, 0.75, 1e-12);
  const SetStats set = set_stats({melody_stats(melody_c_major()), s});
  EXPECT_EQ(set.melodies, 2u);
  EXPECT_NEAR(set.pitch_range.mean, 5.5, 1e-12);
  EXPECT_NEAR(set.pitch_range.std, 1.5, 1e-12);
  EXPECT_NEAR(set.note_count.std, 0.0, 1e-12);
  EXPECT_NEAR(set.mean_abs_interval.mean, 2.0, 1e-12);  // (8/3 + 4/3) / 2
  EXPECT_EQ(set.pitch_class_histogram[9], 1);
  EXPECT_EQ(set.pitch_class_histogram[6], 2);  // F# in both
  // Ends on the tonic: neither does (F#4 after C major's grace note; F4 in A minor); A4 G#4 A4 does.
  EXPECT_EQ(melody_stats(melody_c_major()).ends_on_tonic, 0.0);
  EXPECT_EQ(s.ends_on_tonic, 0.0);
  Melody home = melody_a_minor();
  home.events = {ev(69, 1), ev(68, 1), ev(81, 2)};
  EXPECT_EQ(melody_stats(home).ends_on_tonic, 1.0);
  const SetStats three = set_stats({melody_stats(melody_c_major()), s, melody_stats(home)});
  EXPECT_NEAR(three.ends_on_tonic.mean, 1.0 / 3.0, 1e-12);
}

TEST(MelodyStats, EmptyAndSingleNote) {
  Melody empty;
  const MelodyStats e = melody_stats(empty);
  EXPECT_EQ(e.note_count, 0);
  EXPECT_EQ(e.in_scale_rate, 0.0);
  const MelodyStats one = melody_stats(decode_symbols(split_symbols("r 62 _ _"), Rational(1, 4)));
  EXPECT_EQ(one.note_count, 1);
  EXPECT_EQ(one.mean_ioi, 0.0);
  EXPECT_EQ(one.note_length_histogram[7], 1);  // 3 steps of 1/4 = 3/4 quarter, class "3/4" (index 7)
}

TEST(Mgeval, ScottBandwidthByHand) {
  // {0,1,2,3}: sample std (ddof 1) sqrt(5/3); n^(-1/5) = 4^(-0.2).
  EXPECT_NEAR(scott_bandwidth({0, 1, 2, 3}), std::sqrt(5.0 / 3.0) * std::pow(4.0, -0.2), 1e-12);
  // One Gaussian kernel: density at the centre is 1 / (bw sqrt(2 pi)).
  EXPECT_NEAR(kde_density({2.0}, 0.5, 2.0), 1.0 / (0.5 * std::sqrt(2 * std::numbers::pi)), 1e-12);
}

TEST(Mgeval, DistancesByHand) {
  const std::vector<std::vector<double>> a = {{0, 0}, {3, 4}, {6, 8}};
  EXPECT_EQ(intra_set_distances(a), (std::vector<double>{5, 10, 5}));
  const std::vector<std::vector<double>> b = {{0, 1}};
  EXPECT_EQ(inter_set_distances(a, b, false), (std::vector<double>{1, std::sqrt(9.0 + 9.0), std::sqrt(36.0 + 49.0)}));
  EXPECT_EQ(inter_set_distances(a, a, true), intra_set_distances(a));
}

// The binned grid computation against a direct numerical integration of the two KDEs.
TEST(Mgeval, DensityComparisonAgainstDirectIntegration) {
  const std::vector<double> p = {0.0, 0.3, 1.0, 1.2, 2.5};
  const std::vector<double> q = {0.8, 1.5, 1.9, 2.2, 3.0, 3.1};
  const DensityComparison c = compare_densities(p, q);
  const double bp = scott_bandwidth(p), bq = scott_bandwidth(q);
  const double lo = -10, hi = 14, h = 1e-3;
  double overlap = 0, kl = 0;
  for (double x = lo; x <= hi; x += h) {
    const double dp = kde_density(p, bp, x), dq = kde_density(q, bq, x);
    overlap += std::min(dp, dq) * h;
    if (dp > 1e-300) kl += dp * std::log(dp / std::max(dq, 1e-300)) * h;
  }
  std::printf("overlap %.6f (direct %.6f), KL %.6f (direct %.6f)\n", c.overlap_area, overlap, c.kl_divergence, kl);
  EXPECT_NEAR(c.overlap_area, overlap, 2e-3);
  EXPECT_NEAR(c.kl_divergence, kl, 0.02 * kl);
  EXPECT_GT(c.kl_divergence, 0.05);
  EXPECT_LT(c.overlap_area, 0.9);
}

std::vector<MelodyStats> small_set(int transpose) {
  std::vector<MelodyStats> out;
  const char* songs[] = {"60 _ 62 _ 64 _ _ _ 65 _ 67 _", "67 _ _ _ 65 64 62 _ 60 _ _ _", "60 62 64 65 67 _ r _ 72 _ _ _",
                         "64 _ 64 _ 65 _ 67 _ 67 _ 65 _ 64 _ 62 _", "62 _ _ 60 71 _ 72 _ _ _"};
  for (const char* text : songs) {
    auto symbols = split_symbols(text);
    for (auto& s : symbols)
      if (s != "_" && s != "r") s = std::to_string(std::stoi(s) + transpose);
    out.push_back(melody_stats(decode_symbols(symbols, Rational(1, 4))));
  }
  return out;
}

TEST(Mgeval, SetAgainstItselfIsIdentical) {
  const auto set = small_set(0);
  for (const auto& c : compare_sets(set, set, true)) {
    EXPECT_NEAR(c.a_vs_inter.overlap_area, 1.0, 1e-6) << c.feature;
    EXPECT_NEAR(c.a_vs_inter.kl_divergence, 0.0, 1e-12) << c.feature;
    EXPECT_NEAR(c.b_vs_inter.overlap_area, 1.0, 1e-6) << c.feature;
    EXPECT_NEAR(c.b_vs_inter.kl_divergence, 0.0, 1e-12) << c.feature;
  }
}

TEST(Mgeval, DifferentSetsDiffer) {
  // A tritone higher: pitch classes differ while intervals, lengths and ranges do not.
  const auto a = small_set(0), b = small_set(6);
  const auto comparison = compare_sets(a, b, false);
  bool pitch_class_checked = false;
  for (const auto& c : comparison) {
    if (c.feature == "pitch_class_histogram") {
      pitch_class_checked = true;
      EXPECT_LT(c.a_vs_inter.overlap_area, 0.9);
      EXPECT_GT(c.a_vs_inter.kl_divergence, 0.1);
    }
    if (c.feature == "pitch_range") {
      // identical ranges: intra A = intra B, and inter adds the 0 distances of matching songs.
      EXPECT_NEAR(c.intra_a.mean, c.intra_b.mean, 1e-12);
    }
  }
  EXPECT_TRUE(pitch_class_checked);
  EXPECT_THROW(compare_sets({a[0]}, b, false), Error);
}

// ---- the CLI ----
struct CommandResult {
  int status;
  std::string out;
};
CommandResult run(const std::string& args) {
  const std::string out_path = std::filesystem::temp_directory_path() / ("melodist-test-stats-" + std::to_string(::getpid()) + ".out");
  const int status = std::system((std::string(MELODIST_BINARY) + " " + args + " > " + out_path + " 2>&1").c_str());
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(out_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

TEST(StatsCli, TextFileJsonAndSelfComparison) {
  const auto dir = std::filesystem::temp_directory_path() / ("melodist-test-stats-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string songs = (dir / "songs.txt").string();
  std::ofstream(songs) << "60 _ 62 _ 64 _ _ _\n\n67 _ _ _ 65 64 62 _ 60 _ _ _\n60 62 64 65 67 _ r _ 72 _ _ _\n";
  auto r = run("stats " + songs + " --against " + songs + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["melodies"].size(), 3u);
  EXPECT_EQ(j["melodies"][0]["note_count"], 3);
  EXPECT_EQ(j["melodies"][0]["pitch_range"], 4);
  EXPECT_EQ(j["melodies"][1]["name"], songs + ":3");
  EXPECT_EQ(j["set"]["melodies"], 3);
  for (const auto& feature : mgeval_feature_names()) {
    EXPECT_NEAR(j["mgeval"][feature]["overlap_area"].get<double>(), 1.0, 1e-6) << feature;
    EXPECT_NEAR(j["mgeval"][feature]["kl_divergence"].get<double>(), 0.0, 1e-12) << feature;
  }
  std::ofstream(songs) << "60 _ x\n";
  r = run("stats " + songs);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("songs.txt:1: symbol \"x\""), std::string::npos) << r.out;
  r = run("stats " + (dir / "missing.krn").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("missing.krn"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
