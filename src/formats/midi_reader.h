#pragma once
// Standard MIDI File reader: types 0, 1 and 2 (type 2: one track is one sequence), then melody extraction
// (choose one part, reduce it to one line, quantize to the step grid) into a Melody.
//
// Timing: only ticks-per-quarter-note division is read. SMPTE division (frames per second × ticks per
// frame) is REFUSED with its reason: such files count wall-clock time, not beats, so the step grid of the
// text encoding has nothing to hold on to.
//
// Malformed input (truncated chunks, a wrong header length, a variable-length quantity longer than 4 bytes,
// running status with no earlier status byte, lengths past the end of the file, 0 tracks, not MIDI at all)
// throws melodist::Error "path: byte N: reason". Nothing here crashes or allocates more than a small multiple
// of the input size.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

struct MidiNote {
  int track = 0;          // index of the MTrk chunk, from 0
  int channel = 0;        // 0..15 (9 is General MIDI drums)
  int pitch = 0;          // 0..127
  int velocity = 0;       // note-on velocity 1..127
  int64_t start = 0;      // ticks
  int64_t end = 0;        // ticks, > start
};

struct MidiFile {
  int format = 1;                    // 0 or 1
  int ticks_per_quarter = 480;
  int tracks = 0;                    // MTrk chunks read
  std::vector<MidiNote> notes;       // every note with length > 0, sorted by (start, track, channel, pitch)
  std::vector<int64_t> track_end;    // per track: tick of its End of Track event (or of its last event)
  std::vector<std::string> track_names;  // per track: first FF 03 text, "" when none
  std::vector<std::vector<int64_t>> rest_marks;  // per track: ticks of "melodist:rest" text events (midi_writer.h)
  // The first (earliest tick, then lowest track) of each kind of meta event.
  std::optional<double> tempo_bpm;
  std::optional<TimeSignature> time_signature;
  // Every time-signature event, by tick; of several at one tick, the first (lowest track, then file order).
  struct MeterAt {
    int64_t tick = 0;
    TimeSignature meter;
  };
  std::vector<MeterAt> time_signatures;
  std::optional<int> key_fifths;     // -7..7 (sharps > 0)
  std::optional<bool> key_minor;     // mode flag of that key signature
  // Type 2: every track is its own sequence, with its own tempo, meter and key. sequences[t] holds track
  // t's first tempo, time signature and key and its time-signature events; the file-level fields above
  // are track 0's. Empty for types 0 and 1.
  struct Sequence {
    std::optional<double> tempo_bpm;
    std::optional<TimeSignature> time_signature;
    std::vector<MeterAt> time_signatures;
    std::optional<int> key_fifths;
    std::optional<bool> key_minor;
  };
  std::vector<Sequence> sequences;
  // Data bytes with their top bit set, clamped to 127 (see parse_track), and the first of them.
  int64_t clamped_data_bytes = 0;
  struct Clamped {
    size_t offset = 0;
    int value = 0, status = 0;
  } first_clamped;
  std::vector<std::string> warnings;  // "byte N: ..." lines for the manifest (Melody::warnings)
};

// Larger files are refused before parsing (see README, Robustness): parsing keeps every note of every
// track: at most about 17 bytes of memory per input byte (tools/midi_memory.sh, README).
inline constexpr size_t kMaxMidiFileBytes = 16u << 20;

// Parses the bytes of a file; `path` names the file in messages.
MidiFile parse_midi(std::string_view bytes, const std::string& path);

struct MidiExtractOptions {
  int track = -1;          // -1: any track; else the index of the MTrk chunk, from 0
  int channel = -1;        // -1: any non-drum channel; else 0..15 (9 = drums, only when asked for)
  Rational step{1, 4};     // the grid, in quarter notes
};

// The melody of one part:
//  - part: the (track, channel) pair with the most notes among those the options allow; channel 9 (drums)
//    only when --channel 9 is asked for; ties go to the lower track, then the lower channel;
//  - quantize every note's start and end to the nearest step (notes that shrink to nothing are dropped);
//  - skyline: at every moment the highest sounding note wins (equal pitches: the later onset); a note that
//    was covered and sounds on after the higher note ends comes back as a new onset;
//  - gaps become rests (one per gap, split where melodist's writer marked a rest following a rest);
//    silence before the first note is dropped; silence after the last note up to the track's End of Track
//    event is kept as a final rest;
//  - key: from the first key-signature meta event (tonic from sf and the mode flag, kern spelling), else
//    none (the encoder estimates it as it does for kern files without a designation);
//    time signature and tempo from the first meta events (type 2: the part's track's own);
//  - barlines (Melody::barlines, in quarters from the melody's first step) from the time-signature events
//    (midi_barlines).
Melody extract_melody(const MidiFile& file, const MidiExtractOptions& options, const std::string& path);

// The file's bars: 4/4 from tick 0 until the first time-signature event (the SMF default), then each
// event's meter from its tick, a new bar starting at every event (a change in the middle of a bar cuts
// it short). Returns the bar starts after `origin` and before `origin + length` (quarters from the
// file's tick 0), as times from `origin` (as MusicXML's: the melody's start is a bar start or a pickup,
// which the first barline tells apart), keeping only those on the `step` grid (a barline between
// two steps falls inside a quantized note); a meter whose bar is shorter than a step gives none.
std::vector<Rational> midi_barlines(const MidiFile& file, Rational origin, Rational length, Rational step);

// read_file + parse_midi + extract_melody.
Melody read_midi_file(const std::string& path, const MidiExtractOptions& options = {});

// The key that a key-signature meta event names: sf -7..7, minor from the mode flag.
Key key_from_signature(int fifths, bool minor);

}  // namespace melodist
