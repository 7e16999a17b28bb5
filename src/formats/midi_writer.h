#pragma once
// Standard MIDI File writer: type 1, 480 ticks per quarter, a conductor track (tempo, time signature,
// key signature) and one melody track (track name, program change, fixed velocity).
#include <string>

#include "music/melody.h"

namespace melodist {

struct MidiWriteOptions {
  double bpm = 120.0;
  TimeSignature time_signature{4, 4};     // used unless the melody carries its own
  bool use_melody_time_signature = true;
  int program = 0;                        // General MIDI program 0..127
  int velocity = 80;
  int channel = 0;                        // 0..15
  std::string track_name = "melodist";
};

inline constexpr int kMidiTicksPerQuarter = 480;
// Text meta event (FF 01) written where a rest directly follows another rest: MIDI silence has no parts, and
// the text encoding tells "r _ r _" from "r _ _ _". melodist's reader splits silence there.
inline constexpr const char* kMidiRestMark = "melodist:rest";

// Bytes of the file; throws melodist::Error when a duration is not a whole number of ticks.
std::string write_midi(const Melody& melody, const MidiWriteOptions& options = {});
// Atomic write to path.
void write_midi_file(const std::string& path, const Melody& melody, const MidiWriteOptions& options = {});

}  // namespace melodist
