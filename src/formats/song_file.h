#pragma once
// One entry point for every song format melodist reads, chosen by file extension:
// .krn (Humdrum **kern), .mid / .midi / .kar (Standard MIDI File;
// .kar is karaoke MIDI with lyrics), .abc (ABC tune book: many songs per file),
// .musicxml / .xml / .mxl (MusicXML, partwise or timewise; .mxl compressed).
//
// Song names: a single-song file is named by its path; each tune of an ABC file is "path#X" (X: its X:
// number). read_songs gives every song of a file (preprocess); read_song_file gives one song (encode,
// generate --primer-file, score, plot, stats): "tunes.abc#12" chooses tune X:12, "tunes.abc" the first tune.
//
// Adding a format: a reader in src/formats/, its extensions in kFormats (song_file.cpp), and a branch in
// read_songs (a single-song format returns one entry).
#include <optional>
#include <string>
#include <vector>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

struct SongReadOptions {
  int midi_track = -1;        // -1: choose automatically (non-drum track/channel with the most notes)
  int midi_channel = -1;      // -1: choose automatically; 0..15 otherwise (0-based)
  Rational step{1, 4};        // quantisation grid for MIDI input, quarter notes
  int part = 0;               // MusicXML: the part, 1-based in <part-list> order; 0: the first
  int voice = 0;              // ABC: 1-based voice (V:, in order of appearance); MusicXML: the <voice> number; 0: the first voice
};

struct SongEntry {
  std::string name;              // "path", or "path#X" for a tune of an ABC file
  std::optional<Melody> melody;  // absent when this song could not be read
  std::string error;             // then: the reader's one-line message (melodist::Error::what())
};

// By extension, case-insensitive; "x.abc#3" (a tune of an ABC file) counts.
bool is_song_file(const std::string& path);
// Every song of one file, in file order. A bad tune of an ABC file is an entry with its error; the file's
// other tunes are still read. Throws melodist::Error naming the file when the file itself cannot be read
// (missing, unknown extension, not the format, an ABC file with no tune) or for a single-song file's error.
std::vector<SongEntry> read_songs(const std::string& path, const SongReadOptions& options = {});
// One song ("tunes.abc#X" or the first tune of an ABC file). Throws melodist::Error naming the file (and
// tune and line) for unreadable input or an unknown extension.
Melody read_song_file(const std::string& path, const SongReadOptions& options = {});

}  // namespace melodist
