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
// swings hornpipes, plays ~ and !trill! as ornament figures, staggers chord notes, and reads repeats after
// an earlier section's endings wrongly: AbcOracle.Abc2midiRepeatReadings shows each on a short tune). The test prints that
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
#include "formats/text_encoding.h"

namespace fs = std::filesystem;
using namespace melodist;

namespace {

const std::string kNottingham = std::string(MELODIST_SHARED_DIR) + "/data/nottingham/abc";
constexpr int kGrid = 12;  // steps per quarter

struct Note {
  int64_t onset, end;
  int pitch;
  int line = 0;  // the ABC source line (0 for MIDI); not compared
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
      else out.push_back({to_grid(t), to_grid(end), e.pitch, e.line});
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
  std::string where = i < a.size() ? " (ABC line " + std::to_string(a[i].line) + ")" : "";
  return "note " + std::to_string(i + 1) + ": abc " + show(a, i) + where + ", midi " + show(m, i) + " (" +
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
  int tunes = 0, same = 0, encoded = 0;
  // The bundled model's encoding (step 1/4, triplet windows, countdown barlines; ties merged so that the
  // decoded notes compare with the joined ones): decoded, it must give abc2midi's notes too.
  EncodeOptions windows;
  windows.step = Rational(1, 4);
  windows.durations.clear();
  windows.transpose = TransposeMode::none;
  windows.ties = TieMode::merge;
  windows.barlines = windows.triplets = true;
  windows.countdown_bars = 4;
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
        if (const EncodedSong song = encode_melody(abc, windows); difference.empty() && song.accepted) {
          ++encoded;
          const auto back = notes_of(decode_symbols(song.symbols, windows.step));
          if (back != m) difference = "decoded from --triplets: " + describe_difference(back, m);
        }
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
  std::printf("%d of them encoded with --triplets at step 1/4, decoded to the same notes\n", encoded);
  EXPECT_EQ(tunes, 1034);
  EXPECT_GE(encoded, 930);  // of the 938 that agree with abc2midi: 936 (the 1/4-grid refuses two)
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

// The repeat readings that abc2midi_differences.tsv gives as reasons, each shown on a short tune
// (tests/fixtures/abc/abc2midi_repeats.abc): abc2midi's notes are the table's first list, melodist's
// the second (the ABC 2.1 reading: each section played twice, endings in turn, from its |: or, with
// none, from the previous double bar). If abc2midi changes its reading, this test says which.
TEST(AbcOracle, Abc2midiRepeatReadings) {
  if (std::system("abc2midi -ver > /dev/null 2>&1") != 0) GTEST_SKIP() << "abc2midi (Debian abcmidi) is not installed";
  const fs::path work = fs::temp_directory_path() / ("melodist-abc-repeats-" + std::to_string(::getpid()));
  fs::create_directories(work);
  const fs::path file = fs::path(MELODIST_FIXTURES_DIR) / "abc" / "abc2midi_repeats.abc";
  fs::copy_file(file, work / file.filename(), fs::copy_options::overwrite_existing);
  const std::string command = "cd '" + work.string() + "' && abc2midi abc2midi_repeats.abc -NGUI -NGRA -silent > /dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::string cdef = "60 62 64 65 ", gabc = "67 69 71 72 ", bagf = "71 69 67 65 ", defg = "74 76 77 79 ",
                    abcd = "81 83 84 86 ", cbag = "84 83 81 79 ";
  const std::string first = cdef + gabc + cdef + bagf;  // |: C D E F |1 G A B c :|2 B A G F ||
  struct Case { int tune; std::string abc2midi, melodist; };
  const std::vector<Case> cases = {
      {1, cdef + gabc + cdef + gabc, cdef + gabc + gabc},
      {2, first + defg + cdef + defg, first + defg + defg},
      {3, first + defg + cbag, first + defg + abcd + defg + cbag},
      {4, first + defg + defg + abcd, first + defg + defg + abcd + abcd},
      {5, first + defg + cdef + defg + abcd, first + defg + defg + abcd + abcd},
  };
  auto pitches = [](const Melody& m) {
    std::string s;
    for (const auto& n : notes_of(m)) s += std::to_string(n.pitch) + " ";
    return s;
  };
  const AbcBook book = read_abc_book(file.string());
  ASSERT_EQ(book.tunes.size(), cases.size());
  for (const auto& c : cases) {
    const auto& tune = book.tunes[c.tune - 1];
    ASSERT_EQ(tune.number, c.tune);
    Melody midi = read_midi_file((work / ("abc2midi_repeats" + std::to_string(c.tune) + ".mid")).string(), {-1, -1, Rational(1, kGrid)});
    EXPECT_EQ(pitches(midi), c.abc2midi) << "abc2midi's reading of X:" << c.tune;
    EXPECT_EQ(pitches(parse_abc_tune(tune, {}, file.string())), c.melodist) << "melodist's reading of X:" << c.tune;
  }
  fs::remove_all(work);
}
