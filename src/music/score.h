#pragma once
// A melody laid out for notation: its meter, key signature, tempo and pickup resolved, and its events cut
// into measures of written notes (note values with dots, ties across barlines and inside a bar where a
// length has no single note value, triplets, spelled pitches). The ABC, MusicXML and kern writers print
// this one layout, so the three agree on every bar.
//
// Shape: Score{meter, key, fifths, bpm, pickup, measures[ Measure{start, length, notes[ WrittenNote ]} ]}.
// Times are quarter notes. "Score time" 0 is the downbeat of the (possibly incomplete) first bar: a melody
// with a pickup of p quarters starts at score time bar_length - p, so every barline is a multiple of the
// bar length.
#include <optional>
#include <string>
#include <vector>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

// What the caller knows when the melody does not carry it (command-line options).
struct NotationOptions {
  std::optional<TimeSignature> time_signature;  // used when the melody has none; else 4/4
  std::optional<Key> key;                       // used when the melody has none; else the estimated key
  std::optional<double> bpm;                    // overrides the melody's tempo; else the melody's, else 120
};

struct SpelledPitch {
  char letter = 'C';  // 'A'..'G'
  int alter = 0;      // -1 flat, 0 natural, +1 sharp
  int octave = 4;     // scientific: C4 = MIDI 60
};

struct WrittenNote {
  int pitch = kRest;           // MIDI number or kRest
  SpelledPitch spelled;        // for notes
  Rational duration;           // sounding length in quarters
  Rational value;              // written note value without dots: 4 whole, 1 quarter, 1/4 sixteenth
  int dots = 0;
  bool tie_start = false;      // tied to the next written note
  bool tie_stop = false;       // tied from the previous written note
  bool show_accidental = false;  // the accidental must be printed (key signature and bar so far differ)
  // Triplet (3 in the time of 2): every note of the group has tuplet = true; the first has tuplet_start
  // and the number of notes in the group, the last tuplet_stop.
  bool tuplet = false, tuplet_start = false, tuplet_stop = false;
  int tuplet_notes = 0;
};

struct Measure {
  Rational start;              // score time of its first note
  Rational length;             // sum of its notes (shorter than a bar for a pickup or the last bar)
  bool pickup = false;
  std::vector<WrittenNote> notes;
};

struct Score {
  TimeSignature meter;
  Key key;                     // the melody's, the option's, or the estimate
  int fifths = 0;              // key signature, -7..7
  double bpm = 120.0;
  Rational bar_length;         // quarters per bar
  Rational pickup;             // 0 when the melody starts on a downbeat
  std::vector<Measure> measures;
};

// Key signature of a key: from its spelling when it has one (C-flat major -7), else the usual signature
// with at most 6 accidentals (F#/f# rather than G-flat/e-flat minor). Throws nothing.
int key_signature_fifths(const Key& key);
// The tonic of a signature and mode as letters: ("G", false) for 1 major, ("E", true) ... ; alter in
// the second char: "F#", "Bb" (ABC spelling); kern and MusicXML spell it from these.
std::string key_tonic_name(int fifths, bool minor);

// The pickup of a melody in quarters, from its first barline (kern "=" records, barline symbols): the
// time before it when that is shorter than a bar of `meter`, else 0.
Rational pickup_length(const Melody& melody, TimeSignature meter);

// Throws melodist::Error for a length that has no written form here (a tuplet other than a triplet, a
// triplet that crosses its beat, a note shorter than a 64th) or a meter that is not N/D with D a power of
// two. Grace notes (length 0) are left out: none of the writers' oracles read them the same way.
Score lay_out(const Melody& melody, const NotationOptions& options = {});

}  // namespace melodist
