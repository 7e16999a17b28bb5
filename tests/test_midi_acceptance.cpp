// The MIDI reader accepts what python3-mido (MidiFile(path, clip=True)) and midicsv accept, refuses what
// they refuse, and reads the same notes: every file of tests/fixtures/midi (.mid and .kar) through all
// three (tests/tools/midi_readers.py runs mido and midicsv). Notes are compared as (track, channel, pitch,
// start tick, end tick), paired as a synthesizer sounds them (a repeated note-on ends the sounding note;
// length-0 notes left out). Acceptance is read_song_file's (the file read and a melody taken from it).
//
// Where the three disagree, the table below says what each does and why melodist's choice is the one the
// Standard MIDI File 1.0 specification backs; a disagreement not in the table fails the test, and so does
// a table row that no longer holds.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "formats/midi_reader.h"
#include "formats/song_file.h"
#include "util/error.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace melodist;

namespace {

const std::string kDir = std::string(MELODIST_FIXTURES_DIR) + "/midi";

struct Verdicts {
  bool melodist, mido, midicsv;
  const char* why;
};

// file -> what melodist, mido and midicsv do (true: accepted) and the reason for melodist's choice.
const std::map<std::string, Verdicts> kDeliberate = {
    {"raw_escapes.mid", {true, false, false,
      "an MThd of length 8 and an alien chunk before the MTrk: SMF 1.0 says to honour the header's length "
      "(more parameters may come) and to skip chunks of unknown type; mido and midicsv refuse"}},
    {"bad_vlq_5_bytes.mid", {false, true, true,
      "a 5-byte variable-length quantity: SMF 1.0 allows at most 4 bytes (0FFFFFFF); mido and midicsv read "
      "a delta of 2^28 ticks"}},
    {"bad_zero_tracks.mid", {false, true, true, "an MThd with 0 tracks and no MTrk: no music to read; mido and midicsv read an empty file"}},
    {"bad_length_past_eof.mid", {false, false, true, "a chunk length past the end of the file (truncated): midicsv reads what is there and exits 0"}},
    {"bad_meta_past_end.mid", {false, false, true, "a meta event longer than its track: midicsv reads past the track, exits 0"}},
    {"bad_truncated_chunk.mid", {false, false, true, "the second MTrk is cut short (truncated): midicsv exits 0"}},
    {"bad_truncated_header.mid", {false, false, true, "the MThd is cut short (truncated): midicsv prints a header of zeros and exits 0"}},
    {"bad_running_status_without_status.mid", {false, false, true,
      "data bytes before any status byte: their meaning is unknown (SMF 1.0: running status needs an earlier "
      "status); midicsv prints them as unknown events"}},
    {"bad_undefined_status.mid", {false, false, true,
      "status 0xF4 is undefined, so its length is unknown and the rest of the track cannot be read with "
      "certainty; midicsv guesses a length of 0"}},
    {"smpte.mid", {false, true, true,
      "SMPTE division: ticks count wall-clock time, not beats, so there is no step grid to quantize to"}},
    {"drums_only.mid", {false, true, true,
      "only channel 9 (drums, no pitches): no melody by default; --channel 9 reads it (both tools read "
      "the file, melodist reads it too: only the melody is refused)"}},
};

struct ToolReading {
  bool accepted = false;
  std::string notes_or_reason;
};

// file name -> reader ("mido", "midicsv") -> reading, from one run of tests/tools/midi_readers.py.
std::map<std::string, std::map<std::string, ToolReading>> tool_readings(const std::vector<std::string>& files) {
  const fs::path out = fs::temp_directory_path() / ("melodist-midi-acceptance-" + std::to_string(::getpid()) + ".tsv");
  std::string command = "cd '" + kDir + "' && /usr/bin/python3 '" + std::string(MELODIST_SOURCE_DIR) + "/tests/tools/midi_readers.py'";
  for (const auto& f : files) command += " '" + f + "'";
  command += " > '" + out.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::map<std::string, std::map<std::string, ToolReading>> result;
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, '\t');) f.push_back(cell);
    if (f.size() < 3) continue;
    result[f[0]][f[1]] = {f[2] == "accepted", f.size() > 3 ? f[3] : ""};
  }
  fs::remove(out);
  return result;
}

// melodist's notes in midi_readers.py's form: "track:channel:pitch:start:end", by (start, track, channel, pitch).
std::string melodist_notes(const std::string& path) {
  MidiFile file = parse_midi(read_file(path), path);
  std::vector<MidiNote> notes = file.notes;
  std::sort(notes.begin(), notes.end(), [](const MidiNote& a, const MidiNote& b) {
    return std::tie(a.start, a.track, a.channel, a.pitch) < std::tie(b.start, b.track, b.channel, b.pitch);
  });
  std::string s;
  for (const auto& n : notes)
    s += (s.empty() ? "" : " ") + std::to_string(n.track) + ":" + std::to_string(n.channel) + ":" + std::to_string(n.pitch) + ":" +
         std::to_string(n.start) + ":" + std::to_string(n.end);
  return s;
}

}  // namespace

TEST(MidiAcceptance, SameAsMidoAndMidicsv) {
  if (std::system("/usr/bin/python3 -c 'import mido' > /dev/null 2>&1") != 0) GTEST_SKIP() << "/usr/bin/python3 with mido is not installed";
  if (std::system("midicsv /dev/null > /dev/null 2>&1; command -v midicsv > /dev/null") != 0) GTEST_SKIP() << "midicsv is not installed";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.path().extension() == ".mid" || e.path().extension() == ".kar") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 25u);
  const auto tools = tool_readings(files);
  int agreeing = 0, compared = 0;
  for (const auto& name : files) {
    const std::string path = kDir + "/" + name;
    std::string refusal;
    try {
      read_song_file(path);
    } catch (const Error& e) {
      refusal = e.what();
    }
    const bool melodist = refusal.empty();
    ASSERT_EQ(tools.count(name), 1u) << name;
    const ToolReading& mido = tools.at(name).at("mido");
    const ToolReading& midicsv = tools.at(name).at("midicsv");
    if (auto it = kDeliberate.find(name); it != kDeliberate.end()) {
      const Verdicts& v = it->second;
      EXPECT_EQ(melodist, v.melodist) << name << ": melodist " << (melodist ? "accepts" : "refuses: " + refusal) << "; table: " << v.why;
      EXPECT_EQ(mido.accepted, v.mido) << name << ": mido " << mido.notes_or_reason << "; table: " << v.why;
      EXPECT_EQ(midicsv.accepted, v.midicsv) << name << ": midicsv " << midicsv.notes_or_reason << "; table: " << v.why;
      EXPECT_FALSE(melodist == v.mido && melodist == v.midicsv) << name << " is in the table but all three agree";
    } else {
      EXPECT_EQ(melodist, mido.accepted) << name << ": melodist " << (melodist ? "accepts" : refusal) << ", mido " << mido.notes_or_reason;
      EXPECT_EQ(melodist, midicsv.accepted) << name << ": melodist " << (melodist ? "accepts" : refusal) << ", midicsv " << midicsv.notes_or_reason;
      if (melodist == mido.accepted && melodist == midicsv.accepted) ++agreeing;
    }
    // Where melodist and a tool both read the file (or, for a melody refused, the file parses), the same notes.
    bool parses = true;
    try {
      parse_midi(read_file(path), path);
    } catch (const Error&) {
      parses = false;
    }
    if (!parses) continue;
    const std::string notes = melodist_notes(path);
    for (const ToolReading* t : {&mido, &midicsv}) {
      if (!t->accepted) continue;
      EXPECT_EQ(notes, t->notes_or_reason) << name << ": melodist's notes vs " << (t == &mido ? "mido's" : "midicsv's");
      ++compared;
    }
  }
  std::printf("%zu MIDI fixtures: %d read alike by melodist, mido and midicsv, %zu deliberate differences; %d note lists compared\n",
              files.size(), agreeing, kDeliberate.size(), compared);
  EXPECT_EQ(agreeing + int(kDeliberate.size()), int(files.size()));
}
