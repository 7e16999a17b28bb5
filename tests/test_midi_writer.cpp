// melodist's MIDI files read back by independent readers: Debian's python3-mido (/usr/bin/python3) and midicsv.
// Every note (pitch, start tick, length), the header, tempo, time signature, key signature, program and
// track name are compared with what melodist meant to write: the melody's events laid end to end at 480
// ticks per quarter (computed here by plain summation, not by melodist).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "formats/midi_reader.h"
#include "formats/midi_writer.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;

namespace {

struct Note {
  int pitch;
  long start, length;
  bool operator==(const Note& o) const { return std::tie(pitch, start, length) == std::tie(o.pitch, o.start, o.length); }
};
std::ostream& operator<<(std::ostream& os, const Note& n) { return os << n.pitch << "@" << n.start << "+" << n.length; }

// What melodist meant to write: events end to end; tied same-pitch events are one note.
std::vector<Note> intended(const Melody& m, long* total) {
  std::vector<Note> out;
  long t = 0;
  bool joining = false;
  for (const MelodyEvent& e : m.events) {
    const long ticks = long(e.duration.num * 480 / e.duration.den);
    if (e.pitch != kRest) {
      if (joining && out.back().pitch == e.pitch) out.back().length += ticks;
      else out.push_back({e.pitch, t, ticks});
    }
    joining = e.pitch != kRest && e.tied_to_next;
    t += ticks;
  }
  *total = t;
  return out;
}

std::string run(const std::string& command, int* status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
  *status = pclose(p);
  return out;
}

bool have(const std::string& command) {
  int status = 0;
  std::string r = run(command + " >/dev/null 2>&1 && echo yes", &status);
  return r.find("yes") != std::string::npos;
}

const char* kMidoScript = R"PY(
import sys, mido
m = mido.MidiFile(sys.argv[1])
print('header', m.type, m.ticks_per_beat, len(m.tracks))
for i, track in enumerate(m.tracks):
    now = 0
    sounding = {}
    for msg in track:
        now += msg.time
        if msg.type == 'note_on' and msg.velocity > 0:
            sounding[msg.note] = (now, msg.velocity, msg.channel)
        elif msg.type in ('note_off', 'note_on'):
            start, velocity, channel = sounding.pop(msg.note)
            print('note', msg.note, start, now - start, velocity, channel)
        elif msg.type == 'set_tempo':
            print('tempo', msg.tempo)
        elif msg.type == 'time_signature':
            print('time', msg.numerator, msg.denominator)
        elif msg.type == 'key_signature':
            print('key', msg.key)
        elif msg.type == 'program_change':
            print('program', msg.program, msg.channel)
        elif msg.type == 'track_name':
            print('name', msg.name)
        elif msg.type == 'end_of_track':
            print('end_%d' % i, now)
)PY";

struct Readback {
  std::vector<Note> notes;
  std::map<std::string, std::string> facts;  // "header" -> "1 480 2", "tempo" -> "500000", ...
  std::vector<int> velocities, channels;
};

Readback read_with_mido(const std::string& path) {
  const std::string script = path + ".py";
  write_file_atomically(script, kMidoScript);
  int status = 0;
  std::string out = run("/usr/bin/python3 " + script + " " + path + " 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  Readback r;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "note") {
      Note n{};
      int velocity, channel;
      ls >> n.pitch >> n.start >> n.length >> velocity >> channel;
      r.notes.push_back(n);
      r.velocities.push_back(velocity);
      r.channels.push_back(channel);
    } else {
      std::string rest;
      std::getline(ls, rest);
      r.facts[kind] = rest.empty() ? rest : rest.substr(1);
    }
  }
  return r;
}

// midicsv lines: "track, tick, Type, fields...".
Readback read_with_midicsv(const std::string& path) {
  int status = 0;
  std::string out = run("midicsv " + path + " 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  Readback r;
  std::map<int, std::pair<long, int>> sounding;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string field;
    while (std::getline(ls, field, ',')) {
      while (!field.empty() && field.front() == ' ') field.erase(0, 1);
      f.push_back(field);
    }
    if (f.size() < 3) continue;
    const long tick = std::stol(f[1]);
    const std::string& type = f[2];
    if ((type == "Note_on_c" && std::stoi(f[5]) > 0)) {
      sounding[std::stoi(f[4])] = {tick, std::stoi(f[5])};
      r.channels.push_back(std::stoi(f[3]));
    } else if (type == "Note_off_c" || type == "Note_on_c") {
      auto [start, velocity] = sounding.at(std::stoi(f[4]));
      sounding.erase(std::stoi(f[4]));
      r.notes.push_back({std::stoi(f[4]), start, tick - start});
      r.velocities.push_back(velocity);
    } else if (type == "Header") {
      r.facts["header"] = f[3] + " " + f[5] + " " + f[4];
    } else if (type == "Tempo") {
      r.facts["tempo"] = f[3];
    } else if (type == "Time_signature") {
      r.facts["time"] = f[3] + " " + std::to_string(1 << std::stoi(f[4]));
    } else if (type == "Key_signature") {
      r.facts["key"] = f[3] + " " + f[4];
    } else if (type == "Program_c") {
      r.facts["program"] = f[4] + " " + f[3];
    } else if (type == "Title_t") {
      r.facts["name"] = f[3];
    } else if (type == "End_track") {
      r.facts["end_" + std::to_string(std::stoi(f[0]) - 1)] = f[1];
    }
  }
  return r;
}

MelodyEvent ev(int pitch, Rational d, bool tied = false) { return MelodyEvent{pitch, d, tied, 0}; }

class MidiWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("melodist_midi_writer_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

// A melody with leading, inner and trailing rests, triplets, a tie, a long note and the extreme pitches.
Melody test_melody() {
  Melody m;
  m.events = {ev(kRest, Rational(1, 2)), ev(60, Rational(1)),    ev(kRest, Rational(1, 4)), ev(62, Rational(1, 3)),
              ev(64, Rational(1, 3)),    ev(65, Rational(1, 3)), ev(67, Rational(1), true), ev(67, Rational(1, 2)),
              ev(69, Rational(1, 4), true), ev(71, Rational(1, 4)), ev(0, Rational(1, 8)), ev(127, Rational(1, 8)),
              ev(72, Rational(4)),       ev(kRest, Rational(3, 2))};
  return m;
}

}  // namespace

TEST_F(MidiWriter, MidoAndMidicsvReadEveryNoteAsMeant) {
  const bool mido = have("/usr/bin/python3 -c 'import mido'"), midicsv = have("command -v midicsv");
  if (!mido && !midicsv) GTEST_SKIP() << "neither /usr/bin/python3 with mido nor midicsv is installed (apt-get install python3-mido midicsv)";
  Melody m = test_melody();
  Key g_minor;
  g_minor.tonic_pitch_class = 7;
  g_minor.minor = true;
  g_minor.spelling = "g";
  m.key = g_minor;
  m.time_signature = TimeSignature{6, 8};
  MidiWriteOptions options;
  options.bpm = 90;
  options.program = 73;
  options.velocity = 100;
  options.track_name = "flute line";
  const std::string file = path("melody.mid");
  write_midi_file(file, m, options);

  long total = 0;
  const std::vector<Note> want = intended(m, &total);
  ASSERT_EQ(want.size(), 10u);  // 11 note events in the melody, two of them tied into one
  EXPECT_EQ(want[0], (Note{60, 240, 480}));   // hand check of the first note: after a 1/2-quarter rest
  EXPECT_EQ(want[4], (Note{67, 1320, 720}));  // the tie: 1 + 1/2 quarter, from 1/2 + 1 + 1/4 + 3 x 1/3
  EXPECT_EQ(total, 5040);

  for (int reader = 0; reader < 2; ++reader) {
    if (reader == 0 && !mido) {
      std::printf("python3-mido missing: skipping that reader\n");
      continue;
    }
    if (reader == 1 && !midicsv) {
      std::printf("midicsv missing: skipping that reader\n");
      continue;
    }
    SCOPED_TRACE(reader == 0 ? "mido" : "midicsv");
    const Readback r = reader == 0 ? read_with_mido(file) : read_with_midicsv(file);
    ASSERT_EQ(r.notes.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r.notes[i], want[i]) << "note " << i;
    for (int v : r.velocities) EXPECT_EQ(v, 100);
    for (int c : r.channels) EXPECT_EQ(c, 0);
    EXPECT_EQ(r.facts.at("header"), "1 480 2");
    EXPECT_EQ(r.facts.at("tempo"), "666667");  // 60,000,000 / 90 rounded
    EXPECT_EQ(r.facts.at("time"), "6 8");
    EXPECT_EQ(r.facts.at("key"), reader == 0 ? "Gm" : "-2 \"minor\"");
    EXPECT_EQ(r.facts.at("program"), "73 0");
    EXPECT_EQ(r.facts.at("name"), reader == 0 ? "flute line" : "\"flute line\"");
    // Both tracks end where the trailing 3/2-quarter rest ends.
    EXPECT_EQ(r.facts.at("end_0"), "5040");
    EXPECT_EQ(r.facts.at("end_1"), "5040");
  }
}

TEST_F(MidiWriter, DefaultsAndKeySignatureSources) {
  if (!have("/usr/bin/python3 -c 'import mido'")) GTEST_SKIP() << "/usr/bin/python3 with mido is not installed (apt-get install python3-mido)";
  Melody m;
  m.events = {ev(62, Rational(2)), ev(66, Rational(2))};
  // No key: no key signature event; options' time signature 4/4; 120 bpm; program 0; velocity 80.
  write_midi_file(path("a.mid"), m);
  Readback r = read_with_mido(path("a.mid"));
  EXPECT_EQ(r.facts.count("key"), 0u);
  EXPECT_EQ(r.facts.at("tempo"), "500000");
  EXPECT_EQ(r.facts.at("time"), "4 4");
  EXPECT_EQ(r.facts.at("program"), "0 0");
  EXPECT_EQ(r.facts.at("name"), "melodist");
  EXPECT_EQ(r.velocities, (std::vector<int>{80, 80}));
  EXPECT_EQ(r.notes, (std::vector<Note>{{62, 0, 960}, {66, 960, 960}}));
  // kern *k[f#c#] without a designation: 2 sharps, major flag.
  m.key_signature_fifths = 2;
  write_midi_file(path("b.mid"), m);
  EXPECT_EQ(read_with_mido(path("b.mid")).facts.at("key"), "D");
  // A key given by pitch class only (an estimate): F# major is written with 6 sharps, e-flat minor 6 flats.
  m.key_signature_fifths.reset();
  m.key = Key{6, false, ""};
  write_midi_file(path("c.mid"), m);
  EXPECT_EQ(read_with_mido(path("c.mid")).facts.at("key"), "F#");
  m.key = Key{3, true, ""};
  write_midi_file(path("d.mid"), m);
  EXPECT_EQ(read_with_mido(path("d.mid")).facts.at("key"), "Ebm");
  // The spelling wins over the pitch class: C-flat major is 7 flats.
  m.key = Key{11, false, "C-"};
  write_midi_file(path("e.mid"), m);
  EXPECT_EQ(read_with_mido(path("e.mid")).facts.at("key"), "Cb");
  // Channel option.
  MidiWriteOptions options;
  options.channel = 5;
  write_midi_file(path("f.mid"), m, options);
  for (int c : read_with_mido(path("f.mid")).channels) EXPECT_EQ(c, 5);
}

TEST_F(MidiWriter, ExactBytesOfASmallFile) {
  // Hand-assembled: one quarter note C4 then a quarter rest, default options, no key.
  Melody m;
  m.events = {ev(60, Rational(1)), ev(kRest, Rational(1))};
  const std::string want = std::string("MThd\0\0\0\x06\0\x01\0\x02\x01\xE0", 14) +
                           std::string("MTrk\0\0\0\x14", 8) +
                           std::string("\0\xFF\x51\x03\x07\xA1\x20", 7) +           // tempo 500000
                           std::string("\0\xFF\x58\x04\x04\x02\x18\x08", 8) +       // 4/4
                           std::string("\x87\x40\xFF\x2F\x00", 5) +                 // end at 960
                           std::string("MTrk\0\0\0\x1D", 8) +
                           std::string("\0\xFF\x03\x08melodist", 12) +              // track name
                           std::string("\0\xC0\x00", 3) +                           // program 0
                           std::string("\0\x90\x3C\x50", 4) + std::string("\x83\x60\x80\x3C\x40", 5) +
                           std::string("\x83\x60\xFF\x2F\x00", 5);                  // end after the rest
  EXPECT_EQ(write_midi(m), want);
}

TEST_F(MidiWriter, RefusesWhatMidiCannotHold) {
  Melody m;
  m.events = {ev(60, Rational(1, 7))};
  auto message = [&](const Melody& mel, const MidiWriteOptions& o = {}) -> std::string {
    try {
      write_midi_file(path("x.mid"), mel, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string p = path("x.mid");
  EXPECT_EQ(message(m), p + ": event 1 lasts 1/7 quarter notes, which is not a whole number of MIDI ticks (480 per quarter)");
  m.events = {ev(128, Rational(1))};
  EXPECT_EQ(message(m), p + ": MIDI pitch 128 is out of range 0..127");
  m.events = {ev(60, Rational(0)), ev(62, Rational(1))};
  EXPECT_EQ(message(m), p + ": event 1 is a note without length (a grace note), which MIDI cannot hold");
  m.events = {ev(60, Rational(1))};
  m.time_signature = TimeSignature{3, 5};
  EXPECT_EQ(message(m), p + ": time signature 3/5 cannot be written to MIDI (numerator 1..255, denominator a power of two up to 256)");
  m.time_signature.reset();
  MidiWriteOptions o;
  o.program = 128;
  EXPECT_EQ(message(m, o), p + ": MIDI program 128 is out of range 0..127");
  EXPECT_FALSE(std::filesystem::exists(p));  // nothing half-written
  // A missing folder: the atomic writer's one-line error, nothing written.
  const std::string missing = path("no/such/folder/x.mid");
  try {
    write_midi_file(missing, m);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot write: No such file or directory");
  }
}

TEST_F(MidiWriter, RestFollowingARestIsMarkedAndReadBack) {
  // "60 _ r _ r _ _ _ 62 _ r _ r _": MIDI silence alone would read back as one rest of 3/2 quarter.
  Melody m;
  m.events = {ev(60, Rational(1, 2)), ev(kRest, Rational(1, 2)), ev(kRest, Rational(1)), ev(62, Rational(1, 2)),
              ev(kRest, Rational(1, 2)), ev(kRest, Rational(1, 2))};
  const std::string bytes = write_midi(m);
  // The marks: text events (FF 01 0D "melodist:rest") at 1/2 + 1/2 quarter and at the last rest.
  const std::string mark = std::string("\xFF\x01\x0D", 3) + kMidiRestMark;
  ASSERT_EQ(mark.size(), 16u);
  size_t first = bytes.find(mark), second = bytes.find(mark, first + 1);
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(bytes.find(mark, second + 1), std::string::npos);
  // The first mark sits where the second rest starts: 240 ticks (VLQ 81 70) after the note-off at 240.
  EXPECT_EQ(bytes.substr(first - 2, 2), "\x81\x70");
  const Melody back = extract_melody(parse_midi(bytes, "m.mid"), {}, "m.mid");
  ASSERT_EQ(back.events.size(), m.events.size());
  for (size_t i = 0; i < m.events.size(); ++i) {
    EXPECT_EQ(back.events[i].pitch, m.events[i].pitch) << i;
    EXPECT_EQ(back.events[i].duration, m.events[i].duration) << i;
  }
}
