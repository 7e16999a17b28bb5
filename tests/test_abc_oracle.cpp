// Oracle: abc2midi (Debian's abcmidi) converts every tune of the Nottingham Music Database
// (../shared/data/nottingham/abc, 1,034 tunes) to MIDI; melodist's ABC reading of each tune must give the
// same notes as melodist reading abc2midi's MIDI: same pitches, onsets and lengths on a 1/12-quarter grid
// (fine enough for triplets of eighths and sixteenths), ties joined, rests left out, onsets counted from
// the first note (the MIDI reader drops silence before it).
//
// abc2midi runs with -NGUI (no accompaniment from chord symbols, which melodist skips) and -NGRA (grace
// notes ignored: abc2midi otherwise takes their time from the next note; melodist gives them no time).
//
// Tunes that differ are listed in tests/fixtures/abc/abc2midi_differences.tsv with the reason (abc2midi
// swings hornpipes and plays ~ as an ornament figure; some are not yet explained). The test prints that
// list and fails on any tune that differs and is not listed, or that is listed and now agrees.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "formats/abc_reader.h"
#include "formats/midi_reader.h"

namespace fs = std::filesystem;
using namespace melodist;

namespace {

const std::string kNottingham = std::string(MELODIST_SHARED_DIR) + "/data/nottingham/abc";
constexpr int kGrid = 12;  // steps per quarter

struct Note {
  int64_t onset, end;
  int pitch;
  bool operator==(const Note& o) const { return onset == o.onset && end == o.end && pitch == o.pitch; }
};

int64_t to_grid(Rational t) { return std::llround(t.to_double() * kGrid); }

// Notes of a melody: ties joined, rests dropped, onsets from the first note.
std::vector<Note> notes_of(const Melody& m) {
  std::vector<Note> out;
  Rational t(0);
  bool joining = false;
  for (const auto& e : m.events) {
    Rational end = t + e.duration;
    if (e.pitch != kRest) {
      if (joining && !out.empty() && out.back().pitch == e.pitch) out.back().end = to_grid(end);
      else out.push_back({to_grid(t), to_grid(end), e.pitch});
    }
    joining = e.tied_to_next && e.pitch != kRest;
    t = end;
  }
  if (!out.empty()) {
    int64_t first = out.front().onset;
    for (auto& n : out) n.onset -= first, n.end -= first;
  }
  return out;
}

std::string describe_difference(const std::vector<Note>& a, const std::vector<Note>& m) {
  size_t i = 0;
  while (i < a.size() && i < m.size() && a[i] == m[i]) ++i;
  auto show = [](const std::vector<Note>& v, size_t i) {
    if (i >= v.size()) return std::string("(none)");
    return std::to_string(v[i].pitch) + "@" + std::to_string(v[i].onset) + "-" + std::to_string(v[i].end);
  };
  return "note " + std::to_string(i + 1) + ": abc " + show(a, i) + ", midi " + show(m, i) + " (" +
         std::to_string(a.size()) + " vs " + std::to_string(m.size()) + " notes, in 1/12 quarters)";
}

// "file.abc#X" -> why abc2midi's MIDI differs (tests/fixtures/abc/abc2midi_differences.tsv).
std::map<std::string, std::string> known_differences() {
  std::map<std::string, std::string> out;
  std::ifstream in(std::string(MELODIST_FIXTURES_DIR) + "/abc/abc2midi_differences.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    out[line.substr(0, tab)] = tab == std::string::npos ? "" : line.substr(tab + 1);
  }
  return out;
}

}  // namespace

TEST(AbcOracle, EveryNottinghamTuneMatchesAbc2midi) {
  if (!fs::exists(kNottingham)) GTEST_SKIP() << "shared data not found: " << kNottingham;
  if (std::system("abc2midi -ver > /dev/null 2>&1") != 0) GTEST_SKIP() << "abc2midi (Debian abcmidi) is not installed";
  const fs::path work = fs::temp_directory_path() / ("melodist-abc-oracle-" + std::to_string(::getpid()));
  fs::create_directories(work);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kNottingham))
    if (e.path().extension() == ".abc") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  const auto kKnownDifferences = known_differences();
  int tunes = 0, same = 0;
  std::vector<std::string> unexpected, known;
  for (const auto& file : files) {
    const std::string stem = file.stem().string();
    // abc2midi writes <stem><X>.mid for every tune beside its input: give it a copy in the work folder.
    fs::copy_file(file, work / file.filename(), fs::copy_options::overwrite_existing);
    const std::string command = "cd '" + work.string() + "' && abc2midi '" + file.filename().string() + "' -NGUI -NGRA -silent > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const AbcBook book = read_abc_book(file.string());
    for (const auto& tune : book.tunes) {
      ++tunes;
      const std::string name = stem + ".abc#" + std::to_string(tune.number);
      std::string difference;
      try {
        Melody abc = parse_abc_tune(tune, {}, file.string());
        Melody midi = read_midi_file((work / (stem + std::to_string(tune.number) + ".mid")).string(), {-1, -1, Rational(1, kGrid)});
        auto a = notes_of(abc), m = notes_of(midi);
        if (a != m) difference = describe_difference(a, m);
      } catch (const std::exception& e) {
        difference = std::string("error: ") + e.what();
      }
      if (difference.empty()) {
        ++same;
        EXPECT_EQ(kKnownDifferences.count(name), 0u) << name << " is listed as differing but now agrees";
      } else if (auto it = kKnownDifferences.find(name); it != kKnownDifferences.end()) {
        known.push_back(name + ": " + difference + " -- " + it->second);
      } else {
        unexpected.push_back(name + ": " + difference);
      }
    }
  }
  fs::remove_all(work);
  std::string report;
  for (const auto& s : unexpected) report += "  " + s + "\n";
  std::string known_report;
  for (const auto& s : known) known_report += "  " + s + "\n";
  std::printf("abc2midi oracle: %d of %d tunes give the same notes; %zu known differences:\n%s", same, tunes,
              known.size(), known_report.c_str());
  EXPECT_EQ(tunes, 1034);
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " tune(s) differ from abc2midi:\n" << report;
}

// The hand-written fixtures (tests/fixtures/abc) through abc2midi too: the same notes. Left out:
// chords_decorations.abc (abc2midi plays ~ as an ornament figure and shortens staccato notes) and the
// fixtures that are not one playable tune (bad_tunes.abc; voices.abc: abc2midi plays both voices at once).
TEST(AbcOracle, FixturesMatchAbc2midi) {
  if (std::system("abc2midi -ver > /dev/null 2>&1") != 0) GTEST_SKIP() << "abc2midi (Debian abcmidi) is not installed";
  const fs::path work = fs::temp_directory_path() / ("melodist-abc-fixtures-" + std::to_string(::getpid()));
  fs::create_directories(work);
  const std::string dir = std::string(MELODIST_FIXTURES_DIR) + "/abc";
  int checked = 0;
  for (const char* name : {"octaves_lengths", "accidentals", "broken_rhythm", "tuplets", "ties_rests", "fields", "repeats", "parts",
                           "modes_meters"}) {
    const fs::path file = fs::path(dir) / (std::string(name) + ".abc");
    fs::copy_file(file, work / file.filename(), fs::copy_options::overwrite_existing);
    const std::string command = "cd '" + work.string() + "' && abc2midi '" + file.filename().string() + "' -NGUI -NGRA -silent > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    for (const auto& tune : read_abc_book(file.string()).tunes) {
      Melody abc = parse_abc_tune(tune, {}, file.string());
      Melody midi = read_midi_file((work / (std::string(name) + std::to_string(tune.number) + ".mid")).string(), {-1, -1, Rational(1, kGrid)});
      auto a = notes_of(abc), m = notes_of(midi);
      EXPECT_TRUE(a == m) << name << " X:" << tune.number << ": " << describe_difference(a, m);
      ++checked;
    }
  }
  fs::remove_all(work);
  EXPECT_EQ(checked, 14);
}
