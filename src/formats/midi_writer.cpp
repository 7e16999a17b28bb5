// Standard MIDI File writer. Layout of what write_midi produces (everything big-endian):
//   MThd len=6 format=1 ntracks=2 division=480
//   MTrk 0 (conductor): tempo FF 51, time signature FF 58, key signature FF 59 (only when the melody knows
//        its key), end of track at the melody's end
//   MTrk 1 (melody): track name FF 03, program change Cn, (a pickup: silence up to its place in the first
//        bar), then per note 9n pitch vel ... 8n pitch 64,
//        a text event "melodist:rest" where a rest follows a rest, end of track at the melody's end (so a
//        trailing rest keeps its length)
// No running status is used: every event carries its status byte, which every reader accepts.
#include "formats/midi_writer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "music/score.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

void put_u16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put_u32(std::string& out, uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v & 0xFFFF);
}
// Variable-length quantity: 7 bits per byte, most significant first, top bit set on all but the last.
void put_vlq(std::string& out, uint32_t v) {
  if (v > 0x0FFFFFFF) throw Error("MIDI delta time " + std::to_string(v) + " ticks is too long for a MIDI file");
  char bytes[4];
  int n = 0;
  bytes[n++] = static_cast<char>(v & 0x7F);
  while ((v >>= 7) != 0) bytes[n++] = static_cast<char>(0x80 | (v & 0x7F));
  while (n > 0) out.push_back(bytes[--n]);
}
void put_meta(std::string& out, uint32_t delta, int type, const std::string& data) {
  put_vlq(out, delta);
  out.push_back(static_cast<char>(0xFF));
  out.push_back(static_cast<char>(type));
  put_vlq(out, static_cast<uint32_t>(data.size()));
  out += data;
}
void put_chunk(std::string& out, const char* type, const std::string& body) {
  out.append(type, 4);
  put_u32(out, static_cast<uint32_t>(body.size()));
  out += body;
}

int64_t ticks_of(Rational quarters, size_t index) {
  Rational t = quarters * Rational(kMidiTicksPerQuarter);
  if (t.den != 1)
    throw Error("event " + std::to_string(index + 1) + " lasts " + quarters.to_string() +
                " quarter notes, which is not a whole number of MIDI ticks (" + std::to_string(kMidiTicksPerQuarter) +
                " per quarter)");
  return t.num;
}

void check_range(const char* what, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw Error(std::string("MIDI ") + what + " " + std::to_string(value) + " is out of range " + std::to_string(lo) +
                ".." + std::to_string(hi));
}

}  // namespace

std::string write_midi(const Melody& melody, const MidiWriteOptions& options) {
  check_range("program", options.program, 0, 127);
  check_range("velocity", options.velocity, 1, 127);
  check_range("channel", options.channel, 0, 15);
  if (!std::isfinite(options.bpm) || options.bpm <= 0) throw Error("tempo must be a positive number of beats per minute");
  const double us_per_quarter = std::round(60'000'000.0 / options.bpm);
  if (us_per_quarter < 1 || us_per_quarter > 0xFFFFFF)
    throw Error("tempo " + std::to_string(options.bpm) + " bpm cannot be written to MIDI (4 to 60,000,000 bpm)");
  TimeSignature ts = options.time_signature;
  if (options.use_melody_time_signature && melody.time_signature) ts = *melody.time_signature;
  int dd = -1;
  for (int p = 0; p <= 8; ++p)
    if (ts.denominator == (1 << p)) dd = p;
  if (ts.numerator < 1 || ts.numerator > 255 || dd < 0)
    throw Error("time signature " + std::to_string(ts.numerator) + "/" + std::to_string(ts.denominator) +
                " cannot be written to MIDI (numerator 1..255, denominator a power of two up to 256)");

  // Melody track body. Tied events of the same pitch are one held note.
  std::string track;
  put_meta(track, 0, 0x03, options.track_name);
  put_vlq(track, 0);
  track.push_back(static_cast<char>(0xC0 | options.channel));
  track.push_back(static_cast<char>(options.program));
  // A melody that starts with a pickup (its first barline before a full bar) begins after a rest that fills
  // the rest of its first bar, so the time signature's barlines fall where the melody's bars do.
  const Rational pickup = pickup_length(melody, ts);
  const Rational bar = Rational(ts.numerator) * Rational(4, ts.denominator);
  int64_t now = pickup > Rational(0) ? ticks_of(bar - pickup, 0) : 0, last_event = 0;
  const char on = static_cast<char>(0x90 | options.channel), off = static_cast<char>(0x80 | options.channel);
  for (size_t i = 0; i < melody.events.size(); ++i) {
    const MelodyEvent& e = melody.events[i];
    if (e.duration < Rational(0)) throw Error("event " + std::to_string(i + 1) + " has a negative length");
    if (e.pitch == kRest) {
      // MIDI silence has no parts; a text event marks where a rest follows a rest, so that melodist reads
      // "r _ r _" back as two rests (every other program ignores it).
      if (i > 0 && melody.events[i - 1].pitch == kRest) {
        put_meta(track, static_cast<uint32_t>(std::min<int64_t>(now - last_event, 0x10000000)), 0x01, kMidiRestMark);
        last_event = now;
      }
      now += ticks_of(e.duration, i);
      continue;
    }
    check_range("pitch", e.pitch, 0, 127);
    int64_t length = ticks_of(e.duration, i);
    size_t j = i;
    while (melody.events[j].tied_to_next && j + 1 < melody.events.size() && melody.events[j + 1].pitch == e.pitch) {
      ++j;
      length += ticks_of(melody.events[j].duration, j);
    }
    if (length == 0)
      throw Error("event " + std::to_string(i + 1) + " is a note without length (a grace note), which MIDI cannot hold");
    put_vlq(track, static_cast<uint32_t>(std::min<int64_t>(now - last_event, 0x10000000)));
    track.push_back(on);
    track.push_back(static_cast<char>(e.pitch));
    track.push_back(static_cast<char>(options.velocity));
    put_vlq(track, static_cast<uint32_t>(std::min<int64_t>(length, 0x10000000)));
    track.push_back(off);
    track.push_back(static_cast<char>(e.pitch));
    track.push_back(static_cast<char>(64));
    now += length;
    last_event = now;
    i = j;
  }
  const int64_t end = now;
  put_meta(track, static_cast<uint32_t>(std::min<int64_t>(end - last_event, 0x10000000)), 0x2F, "");

  // Conductor track.
  std::string conductor;
  const auto us = static_cast<uint32_t>(us_per_quarter);
  put_meta(conductor, 0, 0x51, std::string{static_cast<char>(us >> 16), static_cast<char>((us >> 8) & 0xFF), static_cast<char>(us & 0xFF)});
  // nn dd cc bb: 24 MIDI clocks per metronome click, 8 32nd notes per quarter (the usual values).
  put_meta(conductor, 0, 0x58, std::string{static_cast<char>(ts.numerator), static_cast<char>(dd), 24, 8});
  if (melody.key || melody.key_signature_fifths) {
    int sf = melody.key ? key_signature_fifths(*melody.key) : *melody.key_signature_fifths;
    if (sf < -7 || sf > 7) throw Error("key signature of " + std::to_string(sf) + " fifths cannot be written to MIDI (-7..7)");
    bool minor = melody.key && melody.key->minor;
    put_meta(conductor, 0, 0x59, std::string{static_cast<char>(static_cast<int8_t>(sf)), static_cast<char>(minor ? 1 : 0)});
  }
  put_meta(conductor, static_cast<uint32_t>(std::min<int64_t>(end, 0x10000000)), 0x2F, "");

  std::string out;
  out.append("MThd", 4);
  put_u32(out, 6);
  put_u16(out, 1);  // format 1: simultaneous tracks
  put_u16(out, 2);
  put_u16(out, kMidiTicksPerQuarter);
  put_chunk(out, "MTrk", conductor);
  put_chunk(out, "MTrk", track);
  return out;
}

void write_midi_file(const std::string& path, const Melody& melody, const MidiWriteOptions& options) {
  std::string bytes;
  try {
    bytes = write_midi(melody, options);
  } catch (const Error& e) {
    throw file_error(path, 0, e.what());
  }
  write_file_atomically(path, bytes);
}

}  // namespace melodist
