#pragma once
// The format-neutral melody that every reader produces (kern, MIDI) and every writer consumes:
// one monophonic line of notes and rests with exact durations in quarter notes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/rational.h"

namespace melodist {

constexpr int kRest = -1;

struct MelodyEvent {
  int pitch = kRest;             // MIDI note number 0..127, or kRest
  Rational duration;             // quarter notes (a 16th note is 1/4); may be 0 for grace notes
  bool tied_to_next = false;     // kern '[' or '_': this note continues into the next event
  int line = 0;                  // source line (kern), 0 when unknown
  int64_t tick = -1;             // MIDI: the tick in the file at which the event starts, -1 when unknown
};

// Where a melody came from. The encoder's duration rule depends on it (formats/text_encoding.h):
// kern keeps the reference's list of allowed lengths (`--durations`); every other format accepts any
// length that is a whole number of steps. EVERY READER SETS IT; the default is kern, the reference's
// format, so that a hand-built Melody behaves as the reference's songs do.
enum class SourceFormat { kern, midi, abc, musicxml };
std::string to_string(SourceFormat format);  // "kern" / "midi" / "abc" / "musicxml"

struct Key {
  int tonic_pitch_class = 0;     // 0 = C, 1 = C#/Db, ... 11 = B
  bool minor = false;
  // The tonic as spelled in the source ("C-", "f#"; kern spelling, case gives the mode), empty when
  // unknown (estimated keys, MIDI). The reference (music21) transposes by the SPELLED tonic in octave
  // 4, so C-flat major moves by +1, not -11; see reference_transposition in music/key_estimate.h.
  std::string spelling;
  std::string name() const;      // "G major", "e minor" style: "G" / "e" as in kern designations
};

enum class KeySource { designation, estimate };
std::string to_string(KeySource source);  // "designation" / "estimate"

struct TimeSignature {
  int numerator = 4;
  int denominator = 4;
};

struct Melody {
  SourceFormat source_format = SourceFormat::kern;  // set by every reader (see SourceFormat)
  std::vector<MelodyEvent> events;
  std::optional<Key> key;                 // the FIRST key designation (kern *G:) / key-signature meta event
  // The mode of `key` when the source names one other than major/minor (ABC K:Ddor: "dorian"); key->minor
  // then says whether its third is minor. Empty for kern, MIDI and plain major/minor keys.
  std::string key_mode;
  std::optional<int> key_signature_fifths;  // kern *k[f#] = 1, *k[b-e-] = -2; MIDI key signature sf
  std::optional<TimeSignature> time_signature;  // first meter
  std::optional<double> tempo_bpm;        // MIDI tempo meta event, kern *MM
  // kern barline records ("=", "=2", "=="): the time of each, in quarters from the start (the sum of the
  // event durations before it), ascending, one entry per time; only those followed by a note or rest.
  // MIDI: the bars of the time-signature events (formats/midi_reader.h, midi_barlines). ABC: every
  // performed bar line (repeats expanded). MusicXML: the start of every played measure after the first.
  std::vector<Rational> barlines;
  std::vector<std::string> warnings;      // things read leniently, "line 44: ..." (reported in manifests)
};

// The melody's length in quarters: the sum of its event durations.
Rational melody_length(const Melody& melody);

// A place where the played order leaves the written one (a repeat goes back, an ending is skipped, the
// next part of P: begins), and the length of a bar of the meter there, in quarters.
struct BarJump {
  Rational time;
  Rational bar_length;
};

// A repeat with a pickup is written as a short last bar, and the pickup played again after the jump
// (or the next part's) begins a second short bar: "G3 :| d | ..." plays 12 + 4 sixteenths of a
// 16-sixteenth bar. Played, the two are one bar; a model that learned them split would write split bars
// where the decoder keeps every bar whole. Removes the barline at each jump that falls between two bars
// each shorter than the jump's bar_length and together exactly one (the ABC and MusicXML readers).
void join_bars_split_by_jumps(Melody& melody, const std::vector<BarJump>& jumps);

}  // namespace melodist
