#pragma once
// Song files in and out. The format is chosen by the file's extension, case-insensitively.
//   read:  .krn (Humdrum **kern), .mid / .midi (Standard MIDI File)
//   write: .mid / .midi (type 1 MIDI, 480 ticks per quarter), .txt (the text encoding, one line)
// readable_extensions() / writable_extensions() list what this build supports; formats added to the
// library appear there and in read_song / write_song without a change to this header.
#include <string>
#include <vector>

#include "melodist/export.h"
#include "melodist/melody.h"

namespace melodist::api {

struct ReadOptions {
  int midi_track = -1;     // -1: the non-drum track with the most notes
  int midi_channel = -1;   // -1: automatic; 0..15 otherwise
  double step = 0.25;      // grid for MIDI onsets and lengths, and for symbols(), in quarter notes
};

// Throws melodist::Error naming the file (and line) for a missing, unreadable or malformed file or
// an extension no reader handles.
MELODIST_API Melody read_song(const std::string& path, const ReadOptions& options = {});

// Writes atomically (a temporary file, then rename: never a half-written file). Throws
// melodist::Error for an extension no writer handles, bad options, or a melody the format cannot hold.
MELODIST_API void write_song(const std::string& path, const Melody& melody, const WriteOptions& options = {});

MELODIST_API std::vector<std::string> readable_extensions();  // {".krn", ".mid", ".midi"}
MELODIST_API std::vector<std::string> writable_extensions();  // {".mid", ".midi", ".txt"}

}  // namespace melodist::api
