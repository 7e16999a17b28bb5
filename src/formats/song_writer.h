#pragma once
// One entry point for every song format melodist writes, chosen by file extension (case-insensitive):
// .abc (ABC), .musicxml / .mxl (MusicXML, plain or compressed), .krn (Humdrum **kern),
// .mid / .midi (Standard MIDI File), .wav / .flac / .ogg (audio rendered with FluidSynth).
#include <string>

#include "formats/audio_writer.h"
#include "formats/text_encoding.h"
#include "music/melody.h"
#include "music/score.h"

namespace melodist {

struct SongWriteOptions {
  NotationOptions notation;   // meter and key when the melody has none; tempo (overrides the melody's)
  std::string title;          // ABC T:, MusicXML work-title, kern !!!OTL; "melodist" when empty
  int program = 0;            // General MIDI program for .mid and audio
  int velocity = 80;
  std::string soundfont = kDefaultSoundfont;
};

// "an unknown extension lists the ones melodist writes": ".abc, .musicxml, .mxl, .krn, .mid, .midi, .wav, .flac, .ogg"
std::string written_extensions();
bool is_written_song_file(const std::string& path);
// Throws melodist::Error naming `path` when its folder does not exist or it is a folder.
void check_output_path(const std::string& path);
// The file's bytes. Throws melodist::Error (not naming the path) for an unknown extension or a melody the
// format cannot hold.
std::string song_bytes(const std::string& path, const Melody& melody, const SongWriteOptions& options);
// check_output_path, song_bytes, then an atomic write (util/atomic_file.h); errors name the path.
void write_song_file(const std::string& path, const Melody& melody, const SongWriteOptions& options);

// A key option of `decode --key` and `convert --key`: as ABC names keys ("G", "Em", "Bb", "F#m", as
// `generate --key` takes them), or in kern spelling ("e" E minor, "B-" B-flat major, "f#" F-sharp minor).
// Throws melodist::Error naming `option`.
Key parse_key_option(const std::string& text, const std::string& option = "--key");

// The notation a primer file gives a generated melody (issue 15: the meter, key and tempo come from the
// model's symbols when it has them, else from the primer file, else from options). Whatever the melody
// already has (decoded from the model's own symbols) is kept; otherwise it takes the primer's meter and
// barlines, its tempo, and its designated key moved by the transposition the model's preprocessing
// applied to the primer (`encoding`, from encode_melody of `primer`), so a primer in G major under
// `--transpose reference` gives a melody written in C major. An estimated primer key is not a key the
// file states, and is left to the writer's own estimate.
void adopt_primer_notation(Melody& melody, const Melody& primer, const EncodedSong& encoding);

}  // namespace melodist
