// The MIDI reader against files made by other programs (tools/make_midi_fixtures.py: abc2midi, python3-mido,
// raw bytes). Every expected melody below is written out by hand from the notes the script puts in; see
// tests/fixtures/midi/README.md. Notation: "pitch:length" or "r:length", lengths in quarter notes.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "formats/midi_reader.h"
#include "formats/song_file.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;

namespace {

const std::string kDir = std::string(MELODIST_FIXTURES_DIR) + "/midi/";

std::string show(const Melody& m) {
  std::string out;
  for (const MelodyEvent& e : m.events) {
    if (!out.empty()) out += ' ';
    out += (e.pitch == kRest ? std::string("r") : std::to_string(e.pitch)) + ":" + e.duration.to_string();
  }
  return out;
}

Melody read(const std::string& name, int track = -1, int channel = -1, Rational step = Rational(1, 4)) {
  return read_midi_file(kDir + name, MidiExtractOptions{track, channel, step});
}

std::string error_of(const std::string& name, int track = -1, int channel = -1) {
  try {
    read(name, track, channel);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(MidiReader, Abc2midiType0WithKeyTimeSignatureTempo) {
  // G2 AB c2 | d4 z2 | e>d c/B/A/G/ F2 | G6 with L:1/8 in G major, 3/4, 100 bpm; abc2midi starts each note
  // one tick after the previous ends (quantization puts them back on the grid).
  Melody m = read("abc_simple.mid");
  EXPECT_EQ(show(m), "67:1 69:1/2 71:1/2 72:1 74:2 r:1 76:3/4 74:1/4 72:1/4 71:1/4 69:1/4 67:1/4 66:1 67:3");
  ASSERT_TRUE(m.key.has_value());
  EXPECT_EQ(m.key->tonic_pitch_class, 7);
  EXPECT_FALSE(m.key->minor);
  EXPECT_EQ(m.key->spelling, "G");
  ASSERT_TRUE(m.key_signature_fifths.has_value());
  EXPECT_EQ(*m.key_signature_fifths, 1);
  ASSERT_TRUE(m.time_signature.has_value());
  EXPECT_EQ(m.time_signature->numerator, 3);
  EXPECT_EQ(m.time_signature->denominator, 4);
  ASSERT_TRUE(m.tempo_bpm.has_value());
  EXPECT_NEAR(*m.tempo_bpm, 100.0, 1e-9);
}

TEST(MidiReader, Abc2midiTwoVoicesChoosesTheVoiceWithMoreNotes) {
  Melody m = read("abc_two_voices.mid");
  EXPECT_EQ(show(m), "74:1 76:1 77:1 79:1 81:2 69:2 74:4");
  ASSERT_TRUE(m.key.has_value());  // K:Dm -> sf -1, minor -> d minor
  EXPECT_EQ(m.key->tonic_pitch_class, 2);
  EXPECT_TRUE(m.key->minor);
  EXPECT_EQ(m.key->spelling, "d");
  // Voice 2 is track 2, channel 1; the repeated D is two notes.
  EXPECT_EQ(show(read("abc_two_voices.mid", 2)), "50:2 57:2 50:4 50:4");
  EXPECT_EQ(show(read("abc_two_voices.mid", -1, 1)), "50:2 57:2 50:4 50:4");
}

TEST(MidiReader, MultiTrackDefaultSkipsDrumsAndLeadingSilence) {
  Melody m = read("multitrack.mid");
  EXPECT_EQ(show(m), "64:1 66:1/2 68:1/2 69:1 r:1 71:1/4 73:1/4 75:1/2 76:2 71:1");
  ASSERT_TRUE(m.key.has_value());  // E major, sf 4
  EXPECT_EQ(m.key->tonic_pitch_class, 4);
  EXPECT_FALSE(m.key->minor);
  EXPECT_EQ(m.time_signature->numerator, 2);
  EXPECT_EQ(m.time_signature->denominator, 4);
  EXPECT_NEAR(*m.tempo_bpm, 90.0, 1e-3);
  EXPECT_EQ(show(read("multitrack.mid", 1)), "40:2 47:2 40:2 52:2");
  EXPECT_EQ(show(read("multitrack.mid", -1, 9)),
            "36:1/4 r:1/4 42:1/4 r:1/4 36:1/4 r:1/4 42:1/4 r:1/4 36:1/4 r:1/4 42:1/4 r:1/4 "
            "36:1/4 r:1/4 42:1/4 r:1/4 36:1/4 r:1/4 42:1/4 r:1/4 36:1/4 r:1/4 42:1/4");
}

TEST(MidiReader, PartSelectionErrors) {
  const std::string f = kDir + "multitrack.mid";
  EXPECT_EQ(error_of("multitrack.mid", 3), f + ": no notes in track 3 except drums (channel 9); pass --channel 9 to read them");
  EXPECT_EQ(error_of("multitrack.mid", 0), f + ": no notes in track 0");
  EXPECT_EQ(error_of("multitrack.mid", 1, 0), f + ": no notes in track 1 on channel 0");
  EXPECT_EQ(error_of("multitrack.mid", 7), f + ": track 7 does not exist: the file has 4 tracks, numbered from 0");
  EXPECT_EQ(error_of("multitrack.mid", -1, 16), f + ": channel 16 does not exist: channels are numbered 0..15 (9 is drums)");
  EXPECT_EQ(error_of("drums_only.mid"),
            kDir + "drums_only.mid: no notes except drums (channel 9); pass --channel 9 to read them");
  EXPECT_EQ(show(read("drums_only.mid", -1, 9)), "36:1 38:1 36:1 38:1");
}

TEST(MidiReader, Type0MultiChannelQuantizesHumanTiming) {
  // 96 ticks per quarter, onsets up to 5 ticks off the 24-tick grid.
  Melody m = read("type0_multichannel.mid");
  EXPECT_EQ(show(m), "72:1 74:1 76:1/2 77:1/2 79:1 72:2");
  EXPECT_FALSE(m.key.has_value());  // no key signature: the encoder estimates the key
  EXPECT_EQ(show(read("type0_multichannel.mid", 0, 3)), "48:2 55:2 48:2");
}

TEST(MidiReader, RunningStatusAndVelocityZeroNoteOff) {
  EXPECT_EQ(show(read("running_status.mid")), "60:1/2 62:1/2 64:1/2 65:1/2 r:1 67:1 69:1/4 71:1/4 72:3/2");
  // On a 1/2-quarter grid (60 ticks at 120 tpq) the 16ths at 5 and 5 1/4 quarters round (half up) to
  // 10..11 and 11..11: the second vanishes.
  EXPECT_EQ(show(read("running_status.mid", -1, -1, Rational(1, 2))), "60:1/2 62:1/2 64:1/2 65:1/2 r:1 67:1 69:1/2 72:3/2");
}

TEST(MidiReader, SkylineKeepsTheHighestNote) {
  EXPECT_EQ(show(read("polyphonic.mid")), "67:2 72:1 65:1 74:1/2 69:1/2 r:1 71:2");
}

TEST(MidiReader, SysExAndMetaEventsAreSkipped) {
  Melody m = read("sysex_meta.mid");
  EXPECT_EQ(show(m), "62:3/2 65:1/2 69:1 67:1/2 65:1/2 64:1/2 62:3/2");
  ASSERT_TRUE(m.key.has_value());
  EXPECT_EQ(m.key->tonic_pitch_class, 2);
  EXPECT_TRUE(m.key->minor);
  EXPECT_EQ(m.time_signature->numerator, 6);
  EXPECT_EQ(m.time_signature->denominator, 8);
  EXPECT_NEAR(*m.tempo_bpm, 72.0, 1e-3);
}

TEST(MidiReader, OddDivisionGraceNoteAndTrailingSilence) {
  // 90 ticks per quarter: a 16th is 22.5 ticks. The 5-tick grace note rounds to nothing; the End of Track
  // one quarter after the last note keeps a final rest.
  EXPECT_EQ(show(read("odd_division.mid")), "67:1 69:1/2 71:1/2 72:2 r:1");
}

// Type 2 (mido and midicsv read it): every track is its own sequence; the part's meter and key are its
// own track's (tools/make_midi_fixtures.py, type2_sequences.mid), not the first track's.
TEST(MidiReader, Type2SequencesKeepTheirOwnMeterAndKey) {
  EXPECT_EQ(show(read("type2.mid")), "60:1");
  Melody m = read("type2_sequences.mid");
  EXPECT_EQ(show(m), "62:3/2 65:1/2 69:1 62:1");
  ASSERT_TRUE(m.time_signature.has_value() && m.key.has_value());
  EXPECT_EQ(m.time_signature->numerator, 6);
  EXPECT_EQ(m.time_signature->denominator, 8);
  EXPECT_EQ(m.key->tonic_pitch_class, 2);
  EXPECT_TRUE(m.key->minor);
  EXPECT_EQ(m.barlines, std::vector<Rational>{Rational(3)});  // 6/8: a bar is 3 quarters
  Melody first = read("type2_sequences.mid", 0);
  EXPECT_EQ(show(first), "67:1 67:1 67:1");
  ASSERT_TRUE(first.time_signature.has_value() && first.key.has_value());
  EXPECT_EQ(first.time_signature->numerator, 3);
  EXPECT_EQ(first.key->tonic_pitch_class, 7);
  EXPECT_FALSE(first.key->minor);
}

TEST(MidiReader, EscapesAlienChunkAndLongHeader) {
  EXPECT_EQ(show(read("raw_escapes.mid")), "60:1 64:1 67:2");
}

TEST(MidiReader, RefusedFormatsAndMalformedFilesGiveExactErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"smpte.mid",
       "byte 12: SMPTE time division (25 frames per second, 40 ticks per frame) is not supported: it counts seconds, "
       "not beats; melodist needs ticks per quarter note"},
      {"bad_wrong_header_length.mid", "byte 4: MThd header length is 4, must be 6"},
      {"bad_vlq_5_bytes.mid", "byte 22: variable-length number longer than 4 bytes in track 0"},
      {"bad_running_status_without_status.mid",
       "byte 23: running status (data byte 0x3C) with no earlier status byte in track 0"},
      {"bad_truncated_chunk.mid", "byte 33: file ends after 1 of the 2 tracks the header announces (truncated)"},
      {"bad_length_past_eof.mid", "byte 14: chunk \"MTrk\" claims 1000 bytes but only 12 remain (truncated)"},
      {"bad_meta_past_end.mid", "byte 23: meta event 0x03 claims 127 bytes, past the end of track 0"},
      {"bad_zero_tracks.mid", "byte 10: the header announces 0 tracks: there is no music in this file"},
      {"bad_not_midi.mid", "byte 0: not a Standard MIDI File (it does not start with \"MThd\")"},
      {"bad_truncated_header.mid", "byte 4: MThd header length 6 runs past the end of the file (11 bytes)"},
  };
  for (const auto& [name, message] : cases) EXPECT_EQ(error_of(name), kDir + name + ": " + message) << name;
}

TEST(MidiReader, SongFileDispatchesByExtension) {
  EXPECT_TRUE(is_song_file("a/b.MID"));
  EXPECT_TRUE(is_song_file("x.midi"));
  EXPECT_TRUE(is_song_file("x.krn"));
  EXPECT_FALSE(is_song_file("x.mp3"));
  SongReadOptions options;
  options.midi_track = 2;
  EXPECT_EQ(show(read_song_file(kDir + "abc_two_voices.mid", options)), "50:2 57:2 50:4 50:4");
  options = {};
  options.midi_channel = 9;
  options.step = Rational(1, 2);
  EXPECT_EQ(show(read_song_file(kDir + "drums_only.mid", options)), "36:1 38:1 36:1 38:1");
}

TEST(MidiReader, KeyFromSignature) {
  // Hand table: sf -> major / minor tonic (kern spelling).
  struct Case {
    int sf;
    bool minor;
    int pc;
    const char* spelling;
  };
  const Case cases[] = {{0, false, 0, "C"},   {0, true, 9, "a"},   {1, false, 7, "G"},   {-1, true, 2, "d"},
                        {3, true, 6, "f#"},   {-3, false, 3, "E-"}, {-7, false, 11, "C-"}, {7, false, 1, "C#"},
                        {-6, true, 3, "e-"},  {5, false, 11, "B"},  {-2, true, 7, "g"},   {4, true, 1, "c#"}};
  for (const Case& c : cases) {
    Key k = key_from_signature(c.sf, c.minor);
    EXPECT_EQ(k.tonic_pitch_class, c.pc) << c.sf;
    EXPECT_EQ(k.minor, c.minor) << c.sf;
    EXPECT_EQ(k.spelling, c.spelling) << c.sf;
  }
}

// Raw-byte cases that the fixtures do not cover.
namespace {
std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string smf(int format, int ntracks, int division, const std::vector<std::string>& tracks) {
  std::string out = "MThd" + be32(6) + std::string{char(0), char(format), char(ntracks >> 8), char(ntracks & 255),
                                                   char(division >> 8), char(division & 255)};
  for (const auto& t : tracks) out += "MTrk" + be32(uint32_t(t.size())) + t;
  return out;
}
std::string parse_error(const std::string& bytes) {
  try {
    parse_midi(bytes, "mem.mid");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(MidiReader, FourByteVlqIsTheLongestAllowed) {
  // Delta 0x0FFFFFFF (FF FF FF 7F) before a note-on, then a quarter-note note-off.
  std::string track = std::string("\xFF\xFF\xFF\x7F\x90\x3C\x40", 7) + std::string("\x83\x60\x80\x3C\x00", 5) +
                      std::string("\x00\xFF\x2F\x00", 4);
  MidiFile f = parse_midi(smf(0, 1, 480, {track}), "mem.mid");
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_EQ(f.notes[0].start, 0x0FFFFFFF);
  EXPECT_EQ(f.notes[0].end, 0x0FFFFFFF + 480);
  EXPECT_EQ(f.notes[0].pitch, 60);
}

TEST(MidiReader, MoreMalformedInputs) {
  EXPECT_EQ(parse_error(""), "mem.mid: byte 0: not a Standard MIDI File (it does not start with \"MThd\")");
  EXPECT_EQ(parse_error("MThd"), "mem.mid: byte 4: file ends inside the MThd header");
  EXPECT_EQ(parse_error(smf(0, 1, 0, {std::string("\x00\xFF\x2F\x00", 4)})), "mem.mid: byte 12: time division of 0 ticks per quarter note");
  EXPECT_EQ(parse_error(smf(3, 1, 480, {std::string("\x00\xFF\x2F\x00", 4)})), "mem.mid: byte 8: unknown MIDI format 3 (types 0, 1 and 2 exist)");
  EXPECT_EQ(parse_error(smf(0, 1, 480, {std::string("\x00\x90\x3C", 3)})), "mem.mid: byte 23: track 0 ends inside a channel message");
  // Issue 14: mido (clip=True) and midicsv read a data byte with its top bit set; melodist clamps it to 127
  // as mido does, with a warning naming the byte.
  const MidiFile clamped = parse_midi(smf(0, 1, 480, {std::string("\x00\x90\x3C\x80", 4)}), "mem.mid");
  ASSERT_EQ(clamped.warnings.size(), 1u);
  EXPECT_EQ(clamped.warnings[0], "byte 25: data byte 0x80 (status 0x90) has its top bit set, read as 127 as mido does");
  EXPECT_EQ(parse_error(smf(0, 1, 480, {std::string("\x00\xF0\x05\x01", 4)})),
            "mem.mid: byte 23: SysEx event claims 5 bytes, past the end of track 0");
  EXPECT_EQ(parse_error(smf(0, 1, 480, {std::string("\x00\xF8", 2)})), "(no error)");  // a clock byte: mido and midicsv read it
  EXPECT_EQ(parse_error(smf(0, 1, 480, {std::string("\x00\xF4", 2)})),
            "mem.mid: byte 23: undefined status byte 0xF4 (its length is unknown, so the track cannot be read on)");
  EXPECT_EQ(parse_error(smf(0, 1, 480, {std::string("\x00", 1)})), "mem.mid: byte 23: track 0 ends after a delta time, without its event");
  EXPECT_EQ(parse_error(smf(0, 1, 480, {std::string("\x80", 1)})), "mem.mid: byte 22: track 0 ends inside a variable-length number");
  EXPECT_EQ(parse_error(smf(0, 2, 480, {std::string("\x00\xFF\x2F\x00", 4), std::string("\x00\xFF\x2F\x00", 4)})),
            "mem.mid: byte 10: MIDI type 0 must hold exactly 1 track, header says 2");
}

TEST(MidiReader, NoCrashOnTruncationsAndByteFlips) {
  // Every prefix and 2,000 seeded single-byte corruptions of every valid fixture: either a melody or a
  // melodist::Error, nothing else (run under ASan+UBSan in CI).
  const char* files[] = {"abc_simple.mid", "abc_two_voices.mid", "multitrack.mid", "type0_multichannel.mid",
                         "running_status.mid", "polyphonic.mid", "sysex_meta.mid", "odd_division.mid", "raw_escapes.mid"};
  std::mt19937 rng(12345);
  size_t runs = 0, errors = 0;
  auto attempt = [&](const std::string& bytes) {
    ++runs;
    try {
      MidiFile f = parse_midi(bytes, "x.mid");
      extract_melody(f, {}, "x.mid");
    } catch (const Error&) {
      ++errors;
    }
  };
  for (const char* name : files) {
    const std::string bytes = read_file(kDir + name);
    for (size_t n = 0; n < bytes.size(); ++n) attempt(bytes.substr(0, n));
    for (int i = 0; i < 2000; ++i) {
      std::string b = bytes;
      b[rng() % b.size()] = char(rng() & 0xFF);
      attempt(b);
    }
  }
  std::printf("%zu corrupted inputs, %zu refused with a melodist::Error\n", runs, errors);
  EXPECT_GT(errors, 0u);
}

TEST(MidiReader, ReadsWhatMidoAndMidicsvRead) {
  // Issue 14. Made by tools/make_midi_fixtures.py; what mido and midicsv make of each is in its comment there.
  Melody v = read("velocity_top_bit.mid");
  EXPECT_EQ(show(v), "60:1 62:1");
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_EQ(v.warnings[0], "byte 25: data byte 0xCC (status 0x90) has its top bit set, read as 127 as mido does");
  EXPECT_EQ(v.source_format, SourceFormat::midi);
  EXPECT_EQ(show(read("realtime_bytes.mid")), "60:1 64:1");
  EXPECT_EQ(show(read_song_file(kDir + "karaoke.kar")), "67:1 69:1 71:2");
  EXPECT_TRUE(is_song_file("song.KAR"));
  EXPECT_EQ(show(read("long_notes.mid")), "72:5 r:5/4 74:6 76:7");
  EXPECT_EQ(error_of("bad_undefined_status.mid"),
            kDir + "bad_undefined_status.mid: byte 27: undefined status byte 0xF4 (its length is unknown, so the track cannot be read on)");
}
