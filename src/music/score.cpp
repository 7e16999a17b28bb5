#include "music/score.h"

#include <array>
#include <cctype>
#include <cmath>

#include "music/key_estimate.h"
#include "util/error.h"

namespace melodist {

namespace {

// Fifths of a spelled tonic (kern spelling "C-", "f#"; case gives the mode): F -1, C 0, G 1 ... B 5,
// each sharp +7, each flat -7; a minor key sits 3 fifths below its relative major (a minor = 0).
bool spelled_fifths(const std::string& spelling, bool minor, int& fifths) {
  if (spelling.empty()) return false;
  static const char kLetters[] = "fcgdaeb";
  char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(spelling[0])));
  int f = -2;
  for (int i = 0; i < 7; ++i)
    if (kLetters[i] == letter) f = i - 1;
  if (f == -2) return false;
  for (size_t i = 1; i < spelling.size(); ++i) {
    if (spelling[i] == '#') f += 7;
    else if (spelling[i] == '-' || spelling[i] == 'b') f -= 7;
    else return false;
  }
  if (minor) f -= 3;
  if (f < -7 || f > 7) return false;
  fifths = f;
  return true;
}

constexpr int kNaturalPc[7] = {9, 11, 0, 2, 4, 5, 7};  // A B C D E F G

int key_alter(char letter, int fifths) {
  static const char kSharps[] = "FCGDAEB", kFlats[] = "BEADGCF";
  for (int i = 0; i < fifths && i < 7; ++i)
    if (kSharps[i] == letter) return 1;
  for (int i = 0; i < -fifths && i < 7; ++i)
    if (kFlats[i] == letter) return -1;
  return 0;
}

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Spelling in a key signature: the scale's own letter, in a minor key the raised 6th and 7th on the
// letters of the 6th and 7th (d minor: B natural, C sharp), else the natural, else a sharp in sharp keys
// and a flat in flat keys (C major: C# Eb F# G# Bb, the spellings folk tunes use).
SpelledPitch spell(int pitch, int fifths, const Key& key) {
  const int pc = ((pitch % 12) + 12) % 12;
  char letter = 0;
  int alter = 0;
  if (key.minor && (pc == (key.tonic_pitch_class + 11) % 12 || pc == (key.tonic_pitch_class + 9) % 12)) {
    const int lowered = (pc + 11) % 12;  // the natural minor's 7th or 6th
    for (int i = 0; i < 7 && !letter; ++i) {
      const char l = static_cast<char>('A' + i);
      const int a = key_alter(l, fifths);
      if ((kNaturalPc[i] + a + 12) % 12 == lowered && a < 1) letter = l, alter = a + 1;
    }
  }
  for (int i = 0; i < 7 && !letter; ++i) {
    char l = static_cast<char>('A' + i);
    int a = key_alter(l, fifths);
    if ((kNaturalPc[i] + a + 12) % 12 == pc) letter = l, alter = a;
  }
  for (int i = 0; i < 7 && !letter; ++i)
    if (kNaturalPc[i] == pc) letter = static_cast<char>('A' + i), alter = 0;
  if (!letter) {
    bool sharp = fifths > 0 || (fifths == 0 && pc != 3 && pc != 10);
    alter = sharp ? 1 : -1;
    for (int i = 0; i < 7 && !letter; ++i)
      if ((kNaturalPc[i] + alter + 12) % 12 == pc) letter = static_cast<char>('A' + i);
  }
  SpelledPitch s;
  s.letter = letter;
  s.alter = alter;
  s.octave = floor_div(pitch - alter - kNaturalPc[letter - 'A'], 12) - 1;
  return s;
}

bool is_plain(Rational x) { return x.den <= 16 && (x.den & (x.den - 1)) == 0; }

// Written values without double dots, longest first: dotted whole ... 64th (in quarters).
struct Value {
  Rational length, base;
  int dots;
};
const std::array<Value, 13>& plain_values() {
  static const std::array<Value, 13> kValues = {{
      {Rational(6), Rational(4), 1},      {Rational(4), Rational(4), 0},      {Rational(3), Rational(2), 1},
      {Rational(2), Rational(2), 0},      {Rational(3, 2), Rational(1), 1},   {Rational(1), Rational(1), 0},
      {Rational(3, 4), Rational(1, 2), 1}, {Rational(1, 2), Rational(1, 2), 0}, {Rational(3, 8), Rational(1, 4), 1},
      {Rational(1, 4), Rational(1, 4), 0}, {Rational(3, 16), Rational(1, 8), 1}, {Rational(1, 8), Rational(1, 8), 0},
      {Rational(1, 16), Rational(1, 16), 0},
  }};
  return kValues;
}
const Value* exact_value(Rational length) {
  for (const Value& v : plain_values())
    if (v.length == length) return &v;
  return nullptr;
}

// One stretch of an event inside one bar.
struct Segment {
  int pitch;
  Rational start, duration;
  bool tie_start, tie_stop;
};

std::string where(const Segment& s, Rational bar) {
  return "bar " + std::to_string(static_cast<long long>((s.start / bar).num / (s.start / bar).den) + 1);
}

WrittenNote written(const Segment& s, Rational duration, const Value& v) {
  WrittenNote n;
  n.pitch = s.pitch;
  n.duration = duration;
  n.value = v.base;
  n.dots = v.dots;
  return n;
}

// Plain segment: the longest values that fit, tied.
void write_plain(const Segment& s, Measure& m) {
  Rational left = s.duration;
  bool first = true;
  while (left > Rational(0)) {
    const Value* chosen = nullptr;
    for (const Value& v : plain_values())
      if (v.length <= left) { chosen = &v; break; }
    WrittenNote n = written(s, chosen->length, *chosen);
    left = left - chosen->length;
    n.tie_stop = first ? s.tie_stop : true;
    n.tie_start = left > Rational(0) ? true : s.tie_start;
    first = false;
    m.notes.push_back(n);
  }
}

// A triplet group from segments[i]: span S (1/2, 1 or 2 quarters) starting on a multiple of S, filled by
// whole segments each a multiple of S/3. Returns the index after the group, or i when there is none.
size_t write_triplet(const std::vector<Segment>& segs, size_t i, Rational bar_start, Measure& m) {
  for (Rational span : {Rational(1, 2), Rational(1), Rational(2)}) {
    const Rational pos = segs[i].start - bar_start;
    if ((pos / span).den != 1) continue;
    const Rational end = segs[i].start + span, third = span / Rational(3);
    std::vector<WrittenNote> group;
    size_t j = i;
    Rational t = segs[i].start;
    bool ok = true;
    while (ok && t < end && j < segs.size() && segs[j].start == t) {
      const Rational w = segs[j].duration * Rational(3, 2);
      const Value* v = exact_value(w);
      if (t + segs[j].duration > end || (segs[j].duration / third).den != 1 || !v) ok = false;
      else {
        WrittenNote n = written(segs[j], segs[j].duration, *v);
        n.tie_start = segs[j].tie_start;
        n.tie_stop = segs[j].tie_stop;
        n.tuplet = true;
        group.push_back(n);
        t = t + segs[j].duration;
        ++j;
      }
    }
    if (!ok || t != end) continue;
    group.front().tuplet_start = true;
    group.front().tuplet_notes = static_cast<int>(group.size());
    group.back().tuplet_stop = true;
    m.notes.insert(m.notes.end(), group.begin(), group.end());
    return j;
  }
  return i;
}

// Accidentals: printed when the note's alteration differs from what the key signature and the bar so
// far give its letter in its octave, or from the last accidental of its letter in any octave (readers
// differ on whether an accidental carries to other octaves; printing it in both cases satisfies each).
void mark_accidentals(Measure& m, int fifths) {
  constexpr int kUnset = 99;
  std::array<std::array<int, 16>, 7> in_octave;
  for (auto& row : in_octave) row.fill(kUnset);
  std::array<int, 7> letter_last;
  letter_last.fill(kUnset);
  for (WrittenNote& n : m.notes) {
    if (n.pitch == kRest) continue;
    const int l = n.spelled.letter - 'A';
    const int o = std::min(15, std::max(0, n.spelled.octave + 2));
    const int current = in_octave[l][o] == kUnset ? key_alter(n.spelled.letter, fifths) : in_octave[l][o];
    n.show_accidental = n.spelled.alter != current || (letter_last[l] != kUnset && n.spelled.alter != letter_last[l]);
    if (n.show_accidental) in_octave[l][o] = letter_last[l] = n.spelled.alter;
  }
}

struct ResolvedKey {
  Key key;
  int fifths;
};

ResolvedKey resolve_key(const Melody& melody, const NotationOptions& options) {
  if (melody.key) return {*melody.key, key_signature_fifths(*melody.key)};
  if (options.key) return {*options.key, key_signature_fifths(*options.key)};
  const Key estimate = estimate_key(melody);
  if (!melody.key_signature_fifths || *melody.key_signature_fifths < -7 || *melody.key_signature_fifths > 7)
    return {estimate, key_signature_fifths(estimate)};
  // A signature without a designation (kern *k[] alone): its major, or its relative minor when the
  // estimate says so.
  const int f = *melody.key_signature_fifths;
  Key key;
  const int major_pc = ((7 * f) % 12 + 12) % 12;
  key.minor = estimate.minor && estimate.tonic_pitch_class == (major_pc + 9) % 12;
  key.tonic_pitch_class = key.minor ? (major_pc + 9) % 12 : major_pc;
  return {key, f};
}

}  // namespace

int key_signature_fifths(const Key& key) {
  int f = 0;
  if (spelled_fifths(key.spelling, key.minor, f)) return f;
  static const int kMajor[12] = {0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5};   // C Db D Eb E F F# G Ab A Bb B
  static const int kMinor[12] = {-3, 4, -1, -6, 1, -4, 3, -2, 5, 0, -5, 2};  // c c# d eb e f f# g g# a bb b
  int pc = ((key.tonic_pitch_class % 12) + 12) % 12;
  return key.minor ? kMinor[pc] : kMajor[pc];
}

std::string key_tonic_name(int fifths, bool minor) {
  static const char* kMajor[15] = {"Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"};
  static const char* kMinor[15] = {"Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#"};
  const int i = std::min(7, std::max(-7, fifths)) + 7;
  return minor ? kMinor[i] : kMajor[i];
}

Rational pickup_length(const Melody& melody, TimeSignature meter) {
  if (melody.barlines.empty() || meter.numerator < 1 || meter.denominator < 1) return Rational(0);
  const Rational bar = Rational(meter.numerator) * Rational(4, meter.denominator);
  const Rational first = melody.barlines.front();
  return first > Rational(0) && first < bar ? first : Rational(0);
}

Score lay_out(const Melody& melody, const NotationOptions& options) {
  Score score;
  score.meter = melody.time_signature ? *melody.time_signature : options.time_signature.value_or(TimeSignature{4, 4});
  const int d = score.meter.denominator;
  if (score.meter.numerator < 1 || score.meter.numerator > 255 || d < 1 || d > 64 || (d & (d - 1)) != 0)
    throw Error("time signature " + std::to_string(score.meter.numerator) + "/" + std::to_string(d) +
                " cannot be written (N 1..255 over a power of two up to 64)");
  const ResolvedKey key = resolve_key(melody, options);
  score.key = key.key;
  score.fifths = key.fifths;
  score.bpm = options.bpm ? *options.bpm : melody.tempo_bpm.value_or(120.0);
  if (!(score.bpm > 0) || !std::isfinite(score.bpm)) throw Error("tempo must be a positive number of beats per minute");
  score.bar_length = Rational(score.meter.numerator) * Rational(4, d);
  score.pickup = pickup_length(melody, score.meter);
  const Rational bar = score.bar_length;

  // Events -> segments, cut at barlines.
  std::vector<std::vector<Segment>> bars;
  Rational t = score.pickup > Rational(0) ? bar - score.pickup : Rational(0);
  bool tied_in = false;
  for (size_t i = 0; i < melody.events.size(); ++i) {
    const MelodyEvent& e = melody.events[i];
    if (e.duration < Rational(0)) throw Error("event " + std::to_string(i + 1) + " has a negative length");
    if (e.duration == Rational(0)) continue;  // grace note
    if (e.pitch != kRest && (e.pitch < 0 || e.pitch > 127))
      throw Error("event " + std::to_string(i + 1) + " has pitch " + std::to_string(e.pitch) + ", outside MIDI 0..127");
    size_t next = i + 1;
    while (next < melody.events.size() && melody.events[next].duration == Rational(0)) ++next;
    const bool tied_out = e.pitch != kRest && e.tied_to_next && next < melody.events.size() && melody.events[next].pitch == e.pitch;
    const Rational end = t + e.duration;
    while (t < end) {
      const Rational q = t / bar;
      const size_t index = static_cast<size_t>(q.num / q.den);
      const Rational bar_end = Rational(static_cast<int64_t>(index) + 1) * bar;
      const Rational stop = end < bar_end ? end : bar_end;
      if (bars.size() <= index) bars.resize(index + 1);
      bars[index].push_back({e.pitch, t, stop - t, stop < end || tied_out, t > end - e.duration || tied_in});
      t = stop;
    }
    tied_in = tied_out;
  }
  if (bars.empty()) throw Error("the melody holds no notes or rests to write");

  for (size_t b = 0; b < bars.size(); ++b) {
    Measure m;
    m.pickup = b == 0 && score.pickup > Rational(0);
    const std::vector<Segment>& segs = bars[b];
    if (segs.empty()) continue;  // cannot happen: time is contiguous
    m.start = segs.front().start;
    const Rational bar_start = Rational(static_cast<int64_t>(b)) * bar;
    for (size_t i = 0; i < segs.size();) {
      if (is_plain(segs[i].start) && is_plain(segs[i].duration)) {
        write_plain(segs[i], m);
        ++i;
        continue;
      }
      const size_t after = write_triplet(segs, i, bar_start, m);
      if (after == i)
        throw Error(where(segs[i], bar) + ": a " + (segs[i].pitch == kRest ? "rest" : "note") + " of " +
                    segs[i].duration.to_string() + " quarters at " + (segs[i].start - bar_start).to_string() +
                    " has no written form (plain values down to a 64th and triplets are written)");
      i = after;
    }
    for (WrittenNote& n : m.notes) {
      if (n.pitch != kRest) n.spelled = spell(n.pitch, score.fifths, score.key);
      m.length = m.length + n.duration;
    }
    mark_accidentals(m, score.fifths);
    score.measures.push_back(std::move(m));
  }
  return score;
}

}  // namespace melodist
