// Oracle: MuseScore 3 reads each committed MuseScore-written file (tests/fixtures/musicxml-musescore, made by
// tools/make_musicxml_oracle_files.sh from Nottingham tunes via abc2midi) and exports
// MIDI; the notes of melodist's melody (part 1, voice 1, ties merged) must equal the notes of MuseScore's
// MIDI track for that part as melodist's MIDI reader reads it (pitch, onset from the first note, length, on
// the 16th grid). Skips with a message when mscore3 is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "formats/midi_reader.h"
#include "formats/musicxml_reader.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

struct Note {
  int pitch;
  Rational onset, length;
  friend bool operator==(const Note&, const Note&) = default;
};

// Sounding notes with tied parts merged, onsets from the first note.
std::vector<Note> notes_of(const Melody& m) {
  std::vector<Note> out;
  Rational t(0);
  bool tied = false;
  for (const MelodyEvent& e : m.events) {
    if (e.pitch != kRest) {
      if (tied && !out.empty() && out.back().pitch == e.pitch) out.back().length += e.duration;
      else out.push_back({e.pitch, t, e.duration});
    }
    tied = e.pitch != kRest && e.tied_to_next;
    t += e.duration;
  }
  if (!out.empty()) {
    Rational first = out.front().onset;
    for (Note& n : out) n.onset = n.onset - first;
  }
  return out;
}

}  // namespace

TEST(MusicXmlMuseScore, MelodyEqualsMuseScoresMidi) {
  if (std::system("command -v mscore3 > /dev/null 2>&1") != 0) GTEST_SKIP() << "mscore3 (Debian musescore3) is not installed";
  const std::string dir = std::string(MELODIST_FIXTURES_DIR) + "/musicxml-musescore";
  const std::string tmp = testing::TempDir() + "/musescore_oracle";
  fs::create_directories(tmp);
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    const std::string mid = tmp + "/" + entry.path().filename().string() + ".mid";
    const std::string command = "QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=" + tmp + " mscore3 -o '" + mid + "' '" + path +
                                "' > '" + tmp + "/log' 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    ASSERT_TRUE(fs::exists(mid)) << "MuseScore wrote no MIDI for " << path;
    // MuseScore's MIDI: track 0 holds tempo and meter, track 1 the first part's first staff.
    std::vector<Note> expected = notes_of(read_midi_file(mid, {1, -1, Rational(1, 4)}));
    std::vector<Note> got = notes_of(read_musicxml_file(path));
    ASSERT_FALSE(expected.empty()) << path;
    EXPECT_EQ(got.size(), expected.size()) << path;
    size_t same = 0;
    while (same < got.size() && same < expected.size() && got[same] == expected[same]) ++same;
    if (same < std::min(got.size(), expected.size()))
      ADD_FAILURE() << path << ": note " << same << " differs: melodist " << got[same].pitch << " at "
                    << got[same].onset.to_string() << " for " << got[same].length.to_string() << ", MuseScore "
                    << expected[same].pitch << " at " << expected[same].onset.to_string() << " for "
                    << expected[same].length.to_string();
    ++compared;
  }
  EXPECT_GE(compared, 7);  // 6 tunes as .mxl, one also as .musicxml
}
