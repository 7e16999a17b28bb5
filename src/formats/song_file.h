#pragma once
// One entry point for every song format melodist reads, chosen by file extension:
// .krn (Humdrum **kern), .mid / .midi (Standard MIDI File), .musicxml / .xml / .mxl (MusicXML).
#include <string>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

struct SongReadOptions {
  int midi_track = -1;        // -1: choose automatically (non-drum track/channel with the most notes)
  int midi_channel = -1;      // -1: choose automatically; 0..15 otherwise (0-based)
  Rational step{1, 4};        // quantisation grid for MIDI input, quarter notes
  int part = 0;               // MusicXML: the part, 1-based in <part-list> order; 0: the first
  int voice = 0;              // MusicXML: the <voice> number; 0: the first voice of the part
};

bool is_song_file(const std::string& path);  // by extension, case-insensitive
// Throws melodist::Error naming the file for unreadable input or an unknown extension.
Melody read_song_file(const std::string& path, const SongReadOptions& options = {});

}  // namespace melodist
