#pragma once
// One entry point for every song format melodist reads, chosen by file extension:
// .krn (Humdrum **kern), .mid / .midi / .kar (Standard MIDI File; .kar is karaoke MIDI with lyrics).
#include <string>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

struct SongReadOptions {
  int midi_track = -1;        // -1: choose automatically (non-drum track/channel with the most notes)
  int midi_channel = -1;      // -1: choose automatically; 0..15 otherwise (0-based)
  Rational step{1, 4};        // quantisation grid for MIDI input, quarter notes
};

bool is_song_file(const std::string& path);  // by extension, case-insensitive
// Throws melodist::Error naming the file for unreadable input or an unknown extension.
Melody read_song_file(const std::string& path, const SongReadOptions& options = {});

}  // namespace melodist
