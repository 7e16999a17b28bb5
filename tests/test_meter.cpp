// Meter everywhere (issue 14): every reader keeps the meter and the barlines; `--meter-symbol` puts "M:6/8"
// after the key symbol; decoding a meter symbol sets the written meter; the manifest and mapping list it.
// Fixtures in tests/fixtures/meter/, each beside its encoding (--key-symbol --meter-symbol --barlines
// --transpose none) written by hand. MIDI barlines are checked against mido (tests/tools/midi_bars.py).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "formats/kern_reader.h"
#include "formats/meter_symbol.h"
#include "formats/midi_reader.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "run_binary.h"
#include "util/atomic_file.h"
#include "util/rational.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

const std::string kMeter = MELODIST_FIXTURES_DIR "/meter/";
const std::string kMidi = MELODIST_FIXTURES_DIR "/midi/";

class Meter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("melodist_meter_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  test_support::BinaryRun melodist(const std::vector<std::string>& args) { return test_support::run_melodist(args, dir_.string()); }
  fs::path dir_;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(MeterSymbol, SpellingAndParsing) {
  EXPECT_EQ(meter_symbol(TimeSignature{6, 8}), "M:6/8");
  ASSERT_TRUE(parse_meter_symbol("M:12/8"));
  EXPECT_EQ(parse_meter_symbol("M:12/8")->numerator, 12);
  EXPECT_EQ(parse_meter_symbol("M:12/8")->denominator, 8);
  for (const char* bad : {"M:", "M:6", "M:6/", "M:/8", "M:06/8", "M:0/4", "M:3/0", "M:C", "K:G", "6/8", "M:3/4x"})
    EXPECT_FALSE(parse_meter_symbol(bad)) << bad;
  EXPECT_EQ(bar_length(TimeSignature{6, 8}), Rational(3));
  EXPECT_EQ(bar_length(TimeSignature{2, 2}), Rational(4));
}

// Every format's fixture encodes to the hand-written line: key, meter, then the barlines where the file has them.
TEST_F(Meter, EveryFormatEncodesMeterAndBarlines) {
  for (const char* name : {"pickup.krn", "jig.abc", "two_four.musicxml", "meter_change.mid"}) {
    auto r = melodist({"encode", kMeter + name, "--key-symbol", "--meter-symbol", "--barlines", "--transpose", "none"});
    ASSERT_EQ(r.status, 0) << name << ": " << r.err;
    EXPECT_EQ(trimmed(r.out), trimmed(read_file(kMeter + name + ".expected"))) << name;
  }
}

// Without --meter-symbol there is no "M:" symbol; without --barlines no "|" (the old encoding is unchanged).
TEST_F(Meter, SymbolsOnlyWhenAskedFor) {
  auto r = melodist({"encode", kMeter + "jig.abc", "--key-symbol", "--transpose", "none"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("M:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('|'), std::string::npos) << r.out;
  r = melodist({"encode", kMeter + "jig.abc", "--meter-symbol", "--transpose", "none"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("M:6/8 69 _ 74", 0), 0u) << r.out;  // first, when there is no key symbol
}

// The MIDI reader's barlines against mido's reading of the same files' time signatures.
TEST(MidiBarlines, AgreeWithMido) {
  if (std::system("/usr/bin/python3 -c 'import mido' >/dev/null 2>&1") != 0) GTEST_SKIP() << "/usr/bin/python3 with mido is not installed";
  const std::vector<std::string> files = {kMeter + "meter_change.mid", kMidi + "abc_simple.mid", kMidi + "abc_two_voices.mid",
                                          kMidi + "multitrack.mid", kMidi + "sysex_meta.mid", kMidi + "odd_division.mid",
                                          kMidi + "type0_multichannel.mid"};
  std::string command = "/usr/bin/python3 " MELODIST_SOURCE_DIR "/tests/tools/midi_bars.py";
  for (const auto& f : files) command += " '" + f + "'";
  const std::string out_path = (fs::temp_directory_path() / ("melodist_midi_bars_" + std::to_string(::getpid()))).string();
  ASSERT_EQ(std::system((command + " >'" + out_path + "'").c_str()), 0);
  std::istringstream lines(read_file(out_path));
  fs::remove(out_path);
  std::string line;
  size_t checked = 0, barlines = 0;
  while (std::getline(lines, line)) {
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string file = line.substr(0, tab);
    std::vector<Rational> bars;
    for (const auto& b : split_symbols(line.substr(tab + 1))) bars.push_back(parse_rational(b));
    const MidiFile parsed = parse_midi(read_file(file), file);
    const Melody m = extract_melody(parsed, {}, file);
    ASSERT_FALSE(m.events.empty());
    // The melody's time 0 is its first step: the first event's tick on the 1/4-quarter grid.
    const Rational step(1, 4);
    const Rational first = Rational(m.events[0].tick, parsed.ticks_per_quarter) / step;
    const Rational origin = Rational((first.num * 2 + first.den) / (first.den * 2)) * step;  // round half up
    const Rational length = melody_length(m);
    std::vector<Rational> expected;
    for (const Rational& b : bars)
      if (b > origin && b < origin + length && ((b - origin) / step).den == 1) expected.push_back(b - origin);
    EXPECT_EQ(m.barlines, expected) << file;
    barlines += expected.size();
    ++checked;
  }
  EXPECT_EQ(checked, files.size());
  EXPECT_GE(barlines, 15u);  // 17: the comparison is not empty
}

// A meter symbol in a decoded song sets the written meter, in kern, MusicXML, ABC and MIDI.
TEST_F(Meter, DecodedMeterSymbolSetsTheWrittenMeter) {
  write_file_atomically(path("song.txt"), "K:D M:6/8 69 _ | 74 _ _ _ 78 _ 81 _ _ _ 78 _ | 79 _ _ _ _ _ 76 _ _ _ _ _ | 74 _ _ _ _ _ _ _ _ _ _ _\n");
  for (const char* ext : {"krn", "musicxml", "abc", "mid"}) {
    const std::string out = path(std::string("song.") + ext);
    auto r = melodist({"decode", path("song.txt"), "--out", out});
    ASSERT_EQ(r.status, 0) << r.err;
    const Melody back = read_song_file(out);
    ASSERT_TRUE(back.time_signature) << ext;
    EXPECT_EQ(back.time_signature->numerator, 6) << ext;
    EXPECT_EQ(back.time_signature->denominator, 8) << ext;
    ASSERT_TRUE(back.key) << ext;
    EXPECT_EQ(back.key->tonic_pitch_class, 2) << ext;  // the key symbol too: D major
    EXPECT_FALSE(back.key->minor) << ext;
    // Read back and encoded again, the song is the same line (pickup and bars included) for the notation formats.
    if (std::string(ext) != "mid") {
      r = melodist({"encode", out, "--key-symbol", "--meter-symbol", "--barlines", "--transpose", "none"});
      ASSERT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(trimmed(r.out), trimmed(read_file(path("song.txt")))) << ext;
    }
  }
}

// preprocess --meter-symbol: the mapping lists the meters seen (after the key symbols), the manifest
// records each song's meter and the option (which training copies into the model's metadata).
TEST_F(Meter, PreprocessRecordsMeters) {
  fs::create_directories(path("in"));
  for (const char* name : {"pickup.krn", "jig.abc", "two_four.musicxml", "meter_change.mid"})
    fs::copy_file(kMeter + name, path(std::string("in/") + name));
  auto r = melodist({"preprocess", path("in"), "--out", path("data"), "--key-symbol", "--meter-symbol", "--barlines", "--transpose",
                     "none"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto mapping = nlohmann::ordered_json::parse(read_file(path("data/mapping.json")));
  std::vector<std::string> symbols;
  for (const auto& [symbol, id] : mapping.items()) symbols.push_back(symbol);
  ASSERT_GE(symbols.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(symbols.end() - 3, symbols.end()), (std::vector<std::string>{"M:2/4", "M:3/4", "M:6/8"}));
  EXPECT_EQ(symbols[symbols.size() - 4], "K:Bm");  // the 24 key symbols before them
  const auto manifest = nlohmann::json::parse(read_file(path("data/manifest.json")));
  EXPECT_EQ(manifest["options"]["meter_symbol"], true);
  std::map<std::string, std::string> meters;
  for (const auto& f : manifest["files"]) meters[fs::path(f["path"].get<std::string>()).filename().string()] = f["meter"];
  EXPECT_EQ(meters["pickup.krn"], "3/4");
  EXPECT_EQ(meters["two_four.musicxml"], "2/4");
  EXPECT_EQ(meters["meter_change.mid"], "3/4");  // the first meter; the later ones are in the barlines
  bool jig = false;
  for (const auto& [p, m] : meters) jig |= p.rfind("jig.abc", 0) == 0 && m == "6/8";
  EXPECT_TRUE(jig);
}

}  // namespace
