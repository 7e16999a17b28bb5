// Standard MIDI File reader. File layout (big-endian):
//   "MThd" u32 length(6) u16 format u16 ntracks u16 division
//   then chunks "XXXX" u32 length body; "MTrk" bodies are events: VLQ delta, then
//     8n..En channel message (1 or 2 data bytes; a data byte first = running status, the previous status again)
//     F0 / F7 VLQ length bytes (SysEx, skipped)
//     FF type VLQ length bytes (meta: 03 track name, 2F end of track, 51 tempo, 58 time sig, 59 key sig)
// Every read is bounds-checked against the chunk it belongs to; errors carry the byte offset.
#include "formats/midi_reader.h"

#include <algorithm>
#include <array>
#include <set>
#include <tuple>

#include "formats/midi_writer.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

// Songs longer than this many steps are refused before anything of that size is allocated.
constexpr int64_t kMaxSteps = 1'000'000;  // 250,000 quarter notes at the default grid

struct Parser {
  std::string_view b;
  const std::string& path;

  [[noreturn]] void fail(size_t at, const std::string& message) const {
    throw file_error(path, 0, "byte " + std::to_string(at) + ": " + message);
  }
  uint32_t u32(size_t at) const {
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) | (uint32_t(uint8_t(b[at + 2])) << 8) |
           uint32_t(uint8_t(b[at + 3]));
  }
  uint32_t u16(size_t at) const { return (uint32_t(uint8_t(b[at])) << 8) | uint32_t(uint8_t(b[at + 1])); }
  // Variable-length quantity at p inside [p, end): at most 4 bytes (values up to 0x0FFFFFFF).
  uint32_t vlq(size_t& p, size_t end, int track) const {
    const size_t start = p;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (p >= end) fail(start, "track " + std::to_string(track) + " ends inside a variable-length number");
      uint8_t c = uint8_t(b[p++]);
      v = (v << 7) | (c & 0x7F);
      if (!(c & 0x80)) return v;
    }
    fail(start, "variable-length number longer than 4 bytes in track " + std::to_string(track));
  }
};

struct FirstMeta {
  int64_t tick = -1;
  int track = 0;
  bool earlier_than(int64_t t, int tr) const { return tick >= 0 && std::tie(tick, track) <= std::tie(t, tr); }
};

std::string hex(int v) {
  static const char* d = "0123456789ABCDEF";
  return std::string("0x") + d[(v >> 4) & 15] + d[v & 15];
}

void parse_track(const Parser& in, size_t p, size_t end, int track, MidiFile& out, FirstMeta& tempo_at,
                 FirstMeta& time_at, FirstMeta& key_at) {
  int64_t tick = 0;
  // Last channel status byte, -1 before any. It survives meta and SysEx events: the standard says they
  // cancel it, but some writers rely on it and honouring it cannot misread a valid file.
  int running = -1;
  // open[channel * 128 + pitch]: start tick and velocity of the sounding note, start -1 when silent.
  std::vector<std::pair<int64_t, int>> open(16 * 128, {-1, 0});
  std::vector<int> touched;  // keys that ever sounded, to release them at the end without scanning all 2048
  std::string name;
  bool has_name = false;
  std::vector<int64_t> rest_marks;
  auto close = [&](int channel, int pitch, int64_t at) {
    auto& o = open[channel * 128 + pitch];
    if (o.first >= 0 && at > o.first) out.notes.push_back({track, channel, pitch, o.second, o.first, at});
    o.first = -1;
  };
  while (p < end) {
    tick += in.vlq(p, end, track);
    if (p >= end) in.fail(p, "track " + std::to_string(track) + " ends after a delta time, without its event");
    const size_t at = p;
    int status = uint8_t(in.b[p]);
    if (status < 0x80) {
      if (running < 0) in.fail(at, "running status (data byte " + hex(status) + ") with no earlier status byte in track " + std::to_string(track));
      status = running;
    } else {
      ++p;
    }
    if (status < 0xF0) {
      running = status;
      const int kind = status & 0xF0, channel = status & 0x0F;
      const int n = (kind == 0xC0 || kind == 0xD0) ? 1 : 2;
      if (end - p < size_t(n)) in.fail(at, "track " + std::to_string(track) + " ends inside a channel message");
      int d[2] = {0, 0};
      for (int i = 0; i < n; ++i) {
        d[i] = uint8_t(in.b[p + i]);
        // A data byte with its top bit set (velocity 0xCC): python3-mido (clip=True) reads it as 127 and
        // midicsv passes it through; both read the message as a note-on, so clamping to 127, as mido
        // does, keeps the music. Counted, and the first one named, in a warning.
        if (d[i] >= 0x80) {
          if (out.clamped_data_bytes++ == 0) out.first_clamped = {p + i, d[i], status};
          d[i] = 0x7F;
        }
      }
      p += n;
      if (kind == 0x90 && d[1] > 0) {
        close(channel, d[0], tick);  // a repeated note-on ends the note that sounds
        open[channel * 128 + d[0]] = {tick, d[1]};
        touched.push_back(channel * 128 + d[0]);
      } else if (kind == 0x80 || kind == 0x90) {  // note-off, or note-on with velocity 0
        close(channel, d[0], tick);
      }
    } else if (status == 0xFF) {
      if (p >= end) in.fail(at, "track " + std::to_string(track) + " ends inside a meta event");
      const int type = uint8_t(in.b[p++]);
      const uint32_t len = in.vlq(p, end, track);
      if (len > end - p)
        in.fail(at, "meta event " + hex(type) + " claims " + std::to_string(len) + " bytes, past the end of track " + std::to_string(track));
      const std::string_view data = in.b.substr(p, len);
      p += len;
      if (type == 0x2F) break;  // end of track: anything after it is ignored
      if (type == 0x03 && !has_name) name = std::string(data), has_name = true;
      if (type == 0x01 && data == kMidiRestMark) rest_marks.push_back(tick);
      if (type == 0x51 && len >= 3 && !tempo_at.earlier_than(tick, track)) {
        const uint32_t us = (uint32_t(uint8_t(data[0])) << 16) | (uint32_t(uint8_t(data[1])) << 8) | uint8_t(data[2]);
        if (us > 0) out.tempo_bpm = 60'000'000.0 / us, tempo_at = {tick, track};
      }
      if (type == 0x58 && len >= 2) {
        const int nn = uint8_t(data[0]), dd = uint8_t(data[1]);
        if (nn > 0 && dd <= 8) {
          if (!time_at.earlier_than(tick, track)) out.time_signature = TimeSignature{nn, 1 << dd}, time_at = {tick, track};
          out.time_signatures.push_back({tick, TimeSignature{nn, 1 << dd}});
        }
      }
      if (type == 0x59 && len >= 2 && !key_at.earlier_than(tick, track)) {
        const int sf = int8_t(uint8_t(data[0])), mi = uint8_t(data[1]);
        if (sf >= -7 && sf <= 7 && mi <= 1) out.key_fifths = sf, out.key_minor = mi == 1, key_at = {tick, track};
      }
    } else if (status == 0xF0 || status == 0xF7) {
      const uint32_t len = in.vlq(p, end, track);
      if (len > end - p)
        in.fail(at, "SysEx event claims " + std::to_string(len) + " bytes, past the end of track " + std::to_string(track));
      p += len;
    } else if (status == 0xF1 || status == 0xF3) {  // MTC quarter frame, song select: 1 data byte
      if (end - p < 1) in.fail(at, "track " + std::to_string(track) + " ends inside a system common message");
      p += 1;
    } else if (status == 0xF2) {  // song position pointer: 2 data bytes
      if (end - p < 2) in.fail(at, "track " + std::to_string(track) + " ends inside a system common message");
      p += 2;
    } else if (status == 0xF6 || status == 0xF8 || status >= 0xFA) {
      // Tune request and system real-time messages (clock, start, continue, stop, active sensing): no
      // data; mido and midicsv read them in a file, and they do not touch the running status.
    } else {  // F4 F5 F9 FD: undefined by the MIDI standard, refused by mido ("undefined status byte")
      in.fail(at, "undefined status byte " + hex(status) + " (its length is unknown, so the track cannot be read on)");
    }
  }
  for (int key : touched) close(key / 128, key % 128, tick);  // notes never released end with the track
  out.track_end.push_back(tick);
  out.track_names.push_back(name);
  out.rest_marks.push_back(std::move(rest_marks));
}

}  // namespace

MidiFile parse_midi(std::string_view bytes, const std::string& path) {
  const Parser in{bytes, path};
  if (bytes.size() > kMaxMidiFileBytes)
    in.fail(0, "the file is " + std::to_string(bytes.size()) + " bytes; melodist reads MIDI files of at most " +
                   std::to_string(kMaxMidiFileBytes) + " bytes (a melody is a few kilobytes; the largest " +
                   "orchestral MIDI files are a few megabytes)");
  if (bytes.size() < 4 || bytes.substr(0, 4) != "MThd") {
    if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "RMID")
      in.fail(0, "a RIFF RMID file; melodist reads plain Standard MIDI Files (extract its \"data\" chunk)");
    in.fail(0, "not a Standard MIDI File (it does not start with \"MThd\")");
  }
  if (bytes.size() < 8) in.fail(4, "file ends inside the MThd header");
  const uint32_t header_length = in.u32(4);
  if (header_length < 6) in.fail(4, "MThd header length is " + std::to_string(header_length) + ", must be 6");
  if (header_length > bytes.size() - 8)
    in.fail(4, "MThd header length " + std::to_string(header_length) + " runs past the end of the file (" +
                   std::to_string(bytes.size()) + " bytes)");
  MidiFile out;
  const uint32_t format = in.u16(8), ntracks = in.u16(10), division = in.u16(12);
  if (format > 2) in.fail(8, "unknown MIDI format " + std::to_string(format) + " (types 0, 1 and 2 exist)");
  if (ntracks == 0) in.fail(10, "the header announces 0 tracks: there is no music in this file");
  if (division & 0x8000) {
    const int fps = -int(int8_t(uint8_t(division >> 8))), tpf = division & 0xFF;
    in.fail(12, "SMPTE time division (" + std::to_string(fps) + " frames per second, " + std::to_string(tpf) +
                    " ticks per frame) is not supported: it counts seconds, not beats; melodist needs ticks per quarter note");
  }
  if (division == 0) in.fail(12, "time division of 0 ticks per quarter note");
  out.format = int(format);
  out.ticks_per_quarter = int(division);

  FirstMeta tempo_at, time_at, key_at;
  size_t p = 8 + header_length;
  while (out.tracks < int(ntracks)) {
    if (bytes.size() - p < 8) {
      in.fail(p, "file ends after " + std::to_string(out.tracks) + " of the " + std::to_string(ntracks) +
                     " tracks the header announces (truncated)");
    }
    const std::string_view type = bytes.substr(p, 4);
    const uint32_t length = in.u32(p + 4);
    if (length > bytes.size() - p - 8)
      in.fail(p, "chunk \"" + std::string(type == "MTrk" ? "MTrk" : "?") + "\" claims " + std::to_string(length) +
                     " bytes but only " + std::to_string(bytes.size() - p - 8) + " remain (truncated)");
    if (type == "MTrk") {
      if (format == 2) {  // a sequence of its own: its meta events start afresh
        tempo_at = time_at = key_at = FirstMeta{};
        out.tempo_bpm.reset(), out.time_signature.reset(), out.key_fifths.reset(), out.key_minor.reset();
        out.time_signatures.clear();
      }
      parse_track(in, p + 8, p + 8 + length, out.tracks, out, tempo_at, time_at, key_at);
      if (format == 2)
        out.sequences.push_back({out.tempo_bpm, out.time_signature, out.time_signatures, out.key_fifths, out.key_minor});
      ++out.tracks;
    }  // any other chunk type is skipped, as the standard asks
    p += 8 + size_t(length);
  }
  if (format == 0 && out.tracks != 1) in.fail(10, "MIDI type 0 must hold exactly 1 track, header says " + std::to_string(ntracks));
  if (out.clamped_data_bytes > 0) {
    const auto& c = out.first_clamped;
    out.warnings.push_back("byte " + std::to_string(c.offset) + ": data byte " + hex(c.value) + " (status " + hex(c.status) +
                           ") has its top bit set, read as 127 as mido does" +
                           (out.clamped_data_bytes > 1 ? " (" + std::to_string(out.clamped_data_bytes) + " such bytes in the file)" : std::string()));
  }
  std::sort(out.notes.begin(), out.notes.end(), [](const MidiNote& a, const MidiNote& c) {
    return std::tie(a.start, a.track, a.channel, a.pitch) < std::tie(c.start, c.track, c.channel, c.pitch);
  });
  // Tracks were read in order, so a stable sort by tick keeps the first of one tick first.
  auto by_tick = [](std::vector<MidiFile::MeterAt>& ts) {
    std::stable_sort(ts.begin(), ts.end(), [](const MidiFile::MeterAt& a, const MidiFile::MeterAt& c) { return a.tick < c.tick; });
    ts.erase(std::unique(ts.begin(), ts.end(), [](const MidiFile::MeterAt& a, const MidiFile::MeterAt& c) { return a.tick == c.tick; }),
             ts.end());
  };
  if (format == 2) {
    for (auto& q : out.sequences) by_tick(q.time_signatures);
    const auto& first = out.sequences.front();
    out.tempo_bpm = first.tempo_bpm, out.time_signature = first.time_signature, out.time_signatures = first.time_signatures;
    out.key_fifths = first.key_fifths, out.key_minor = first.key_minor;
  }
  by_tick(out.time_signatures);
  return out;
}

namespace {

std::vector<Rational> barlines_of(const std::vector<MidiFile::MeterAt>& meters, int ticks_per_quarter, Rational origin,
                                  Rational length, Rational step) {
  std::vector<std::pair<Rational, TimeSignature>> segments{{Rational(0), TimeSignature{4, 4}}};  // (start quarter, meter)
  for (const auto& m : meters) {
    const Rational at(m.tick, ticks_per_quarter);
    if (at == segments.back().first) segments.back().second = m.meter;
    else segments.push_back({at, m.meter});
  }
  const Rational end = origin + length;
  std::vector<Rational> out;
  for (size_t i = 0; i < segments.size() && segments[i].first < end; ++i) {
    const Rational bar(int64_t{4} * segments[i].second.numerator, segments[i].second.denominator);
    if (bar < step) continue;
    const Rational stop = i + 1 < segments.size() && segments[i + 1].first < end ? segments[i + 1].first : end;
    Rational t = segments[i].first;
    if (t < origin) {  // jump to the first bar at or after the origin: whole bars from the segment's start
      const Rational bars = (origin - t) / bar;
      t += bar * Rational(bars.num / bars.den);
      if (t < origin) t += bar;
    }
    for (; t < stop; t += bar)
      if (const Rational from = t - origin; from > Rational(0) && (from / step).den == 1) out.push_back(from);
  }
  return out;
}

}  // namespace

std::vector<Rational> midi_barlines(const MidiFile& file, Rational origin, Rational length, Rational step) {
  return barlines_of(file.time_signatures, file.ticks_per_quarter, origin, length, step);
}

Key key_from_signature(int fifths, bool minor) {
  static const char* kMajor[15] = {"C-", "G-", "D-", "A-", "E-", "B-", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"};
  static const char* kMinor[15] = {"a-", "e-", "b-", "f", "c", "g", "d", "a", "e", "b", "f#", "c#", "g#", "d#", "a#"};
  fifths = std::clamp(fifths, -7, 7);
  Key key;
  key.minor = minor;
  key.tonic_pitch_class = (((fifths * 7 + (minor ? 9 : 0)) % 12) + 12) % 12;
  key.spelling = minor ? kMinor[fifths + 7] : kMajor[fifths + 7];
  return key;
}

namespace {

// The part a melody is read from: (track, channel) with the most notes among those the options allow
// (drums, channel 9, only when asked for). Throws naming the file when there is none.
struct MidiPart {
  int track = -1, channel = -1;
  int64_t notes = 0;
};
MidiPart choose_part(const MidiFile& file, const MidiExtractOptions& options, const std::string& path) {
  auto fail = [&](const std::string& message) -> Error { return file_error(path, 0, message); };
  std::vector<std::array<int64_t, 16>> counts(size_t(file.tracks), std::array<int64_t, 16>{});
  bool any_drums = false;
  for (const MidiNote& n : file.notes) {
    if (options.track >= 0 && n.track != options.track) continue;
    if (options.channel >= 0 ? n.channel != options.channel : n.channel == 9) {
      any_drums |= n.channel == 9;
      continue;
    }
    ++counts[size_t(n.track)][size_t(n.channel)];
  }
  MidiPart part;
  for (int t = 0; t < file.tracks; ++t)
    for (int c = 0; c < 16; ++c)
      if (counts[size_t(t)][size_t(c)] > part.notes) part = {t, c, counts[size_t(t)][size_t(c)]};
  if (part.track < 0) {
    std::string where = options.track >= 0 ? " in track " + std::to_string(options.track) : "";
    if (options.channel >= 0) where += " on channel " + std::to_string(options.channel);
    if (any_drums) throw fail("no notes" + where + " except drums (channel 9); pass --channel 9 to read them");
    throw fail("no notes" + where);
  }
  return part;
}

}  // namespace

Melody extract_melody(const MidiFile& file, const MidiExtractOptions& options, const std::string& path) {
  auto fail = [&](const std::string& message) -> Error { return file_error(path, 0, message); };
  if (options.track < -1 || options.track >= file.tracks)
    throw fail("track " + std::to_string(options.track) + " does not exist: the file has " + std::to_string(file.tracks) +
               " track" + (file.tracks == 1 ? "" : "s") + ", numbered from 0");
  if (options.channel < -1 || options.channel > 15)
    throw fail("channel " + std::to_string(options.channel) + " does not exist: channels are numbered 0..15 (9 is drums)");
  if (!(options.step > Rational(0))) throw fail("the step must be a positive length");

  // The part: (track, channel) with the most notes.
  const MidiPart part = choose_part(file, options, path);
  const int part_track = part.track, part_channel = part.channel;
  const int64_t best = part.notes;

  // Quantize to the step grid: step index = round(tick / (ticks_per_quarter * step)).
  const __int128 num = __int128(options.step.den) * 2, den = __int128(file.ticks_per_quarter) * options.step.num * 2;
  auto quantize = [&](int64_t tick) -> int64_t {
    const __int128 q = (__int128(tick) * num + den / 2) / den;
    if (q > kMaxSteps)
      throw fail("the part lasts more than " + std::to_string(kMaxSteps) + " steps of " + options.step.to_string() +
                 " quarter; melodist does not read songs that long");
    return int64_t(q);
  };
  struct Span {
    int64_t start, end;  // steps
    int pitch;
    int64_t tick;        // the note's start tick in the file
  };
  std::vector<Span> spans;
  spans.reserve(size_t(best));  // the part's notes, exactly: no growth slack on a large file
  for (const MidiNote& n : file.notes) {
    if (n.track != part_track || n.channel != part_channel) continue;
    const int64_t s = quantize(n.start), e = quantize(n.end);
    if (e > s) spans.push_back({s, e, n.pitch, n.start});
  }
  if (spans.empty())
    throw fail("every note of track " + std::to_string(part_track) + " channel " + std::to_string(part_channel) +
               " is shorter than half a step of " + options.step.to_string() + " quarter");

  // Skyline sweep over the boundaries (note starts and ends, the track's end, rest marks after the first
  // note); active ordered by (pitch, start, index): the last one wins.
  std::vector<int64_t> bounds;
  bounds.reserve(2 * spans.size() + 1 + file.rest_marks[size_t(part_track)].size());
  int64_t first_start = spans.front().start, last_end = 0;
  for (const Span& s : spans) {
    bounds.push_back(s.start), bounds.push_back(s.end);
    first_start = std::min(first_start, s.start), last_end = std::max(last_end, s.end);
  }
  const int64_t track_end = quantize(file.track_end[size_t(part_track)]);
  if (track_end > last_end) bounds.push_back(track_end);  // silence after the last note
  const int64_t end = std::max(track_end, last_end);
  std::vector<int64_t> marks;
  for (int64_t tick : file.rest_marks[size_t(part_track)]) {
    const int64_t m = quantize(tick);
    if (m > first_start && m < end) marks.push_back(m), bounds.push_back(m);
  }
  std::sort(marks.begin(), marks.end());
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  // spans are in start order already (file.notes are sorted by start tick, and quantizing keeps order).
  std::vector<size_t> by_end(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) by_end[i] = i;
  std::sort(by_end.begin(), by_end.end(), [&](size_t a, size_t c) { return spans[a].end < spans[c].end; });
  std::set<std::tuple<int, int64_t, size_t>> active;
  size_t next_start = 0, next_end = 0;
  Melody melody;
  melody.source_format = SourceFormat::midi;
  const int64_t first = bounds.front();
  int64_t current_start = first;
  long current = -2;  // winning span index of the open event, -1 for a rest, -2 before the first
  auto emit = [&](int64_t until) {
    if (current == -2 || until <= current_start) return;
    MelodyEvent e;
    e.pitch = current >= 0 ? spans[size_t(current)].pitch : kRest;
    e.duration = Rational(until - current_start) * options.step;
    // Where the event starts in the file: the note's own tick when it starts there, else the grid point.
    if (current >= 0 && spans[size_t(current)].start == current_start) e.tick = spans[size_t(current)].tick;
    else e.tick = int64_t((__int128(current_start) * den + num / 2) / num);
    melody.events.push_back(e);
  };
  for (size_t bi = 0; bi + 1 < bounds.size(); ++bi) {
    const int64_t t = bounds[bi];
    while (next_end < by_end.size() && spans[by_end[next_end]].end <= t) {
      const Span& s = spans[by_end[next_end]];
      active.erase({s.pitch, s.start, by_end[next_end]});
      ++next_end;
    }
    while (next_start < spans.size() && spans[next_start].start <= t) {
      const Span& s = spans[next_start];
      active.insert({s.pitch, s.start, next_start});
      ++next_start;
    }
    const long winner = active.empty() ? -1 : long(std::get<2>(*active.rbegin()));
    if (winner != current || (winner == -1 && std::binary_search(marks.begin(), marks.end(), t))) {
      emit(t);
      current = winner;
      current_start = t;
    }
  }
  emit(bounds.back());

  // Type 2: the part's own sequence's tempo, meter and key; else the file's.
  const MidiFile::Sequence own = file.format == 2 ? file.sequences[size_t(part_track)] : MidiFile::Sequence{};
  const auto& key_fifths = file.format == 2 ? own.key_fifths : file.key_fifths;
  const auto& key_minor = file.format == 2 ? own.key_minor : file.key_minor;
  const auto& meters = file.format == 2 ? own.time_signatures : file.time_signatures;
  if (key_fifths) {
    melody.key_signature_fifths = *key_fifths;
    melody.key = key_from_signature(*key_fifths, key_minor.value_or(false));
  }
  melody.time_signature = file.format == 2 ? own.time_signature : file.time_signature;
  const Rational origin = Rational(first) * options.step, length = Rational(bounds.back() - first) * options.step;
  melody.barlines = barlines_of(meters, file.ticks_per_quarter, origin, length, options.step);
  melody.tempo_bpm = file.format == 2 ? own.tempo_bpm : file.tempo_bpm;
  melody.warnings = file.warnings;
  return melody;
}

Melody read_midi_file(const std::string& path, const MidiExtractOptions& options) {
  MidiFile file;
  {
    const std::string bytes = read_file(path);  // freed before extraction: the peak is the notes, not both
    file = parse_midi(bytes, path);
  }
  return extract_melody(file, options, path);
}

}  // namespace melodist
