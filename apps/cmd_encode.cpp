// melodist encode FILE: prints the text encoding of one **kern or MIDI song (one line, symbols separated
// by single spaces), with the same reading, filtering and transposition as `melodist preprocess`.
// A rejected song is an error (exit 1) that gives the reason.
#include <cstdio>
#include <memory>

#include "command.h"
#include "encoding_options.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "util/error.h"
#include "util/rational.h"

namespace {

struct EncodeArgs {
  std::string file;
  melodist::cli::EncodingArgs encoding;
  int track = -1;
  int channel = -1;
  int part = 0;      // MusicXML: 1-based, 0 the first
  int voice = 0;     // ABC: 1-based voice (V:); MusicXML: the <voice> number; 0 the first
  bool info = false;
};

void run(const EncodeArgs& a) {
  using namespace melodist;
  const EncodeOptions options = cli::encode_options(a.encoding);
  SongReadOptions read;
  read.midi_track = a.track;
  read.midi_channel = a.channel;
  read.part = a.part;
  read.voice = a.voice;
  read.step = options.step;
  if (!is_song_file(a.file))
    throw file_error(a.file, 0, "not a song file (melodist reads .krn, .mid, .midi, .kar, .abc, .musicxml, .xml and .mxl; FILE.abc#X is tune X)");
  const Melody melody = read_song_file(a.file, read);
  const EncodedSong song = encode_melody(melody, options);
  if (!song.accepted) throw file_error(a.file, 0, "song rejected: " + song.reason);
  if (a.info)
    std::fprintf(stderr, "%s: key %s (%s), transposed by %+d semitones, %zu steps, %d notes\n", a.file.c_str(),
                 song.key.name().c_str(), to_string(song.key_source).c_str(), song.transposition, song.symbols.size(),
                 song.notes);
  std::printf("%s\n", join_symbols(song.symbols).c_str());
}

void setup(CLI::App& root) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* app = root.add_subcommand(
      "encode", "Print the text encoding of one **kern (.krn), MIDI (.mid, .midi, .kar), ABC (.abc, FILE.abc#X) or MusicXML (.musicxml, .xml, .mxl) song, as `preprocess` encodes it");
  app->add_option("FILE", args->file, "a .krn, .mid, .midi, .kar, .abc, .musicxml, .xml or .mxl file (FILE.abc#X: tune X:, else the first tune)")->required();
  melodist::cli::add_encoding_options(app, args->encoding);
  app->add_option("--track", args->track,
                  "MIDI: read this track (MTrk chunk, numbered from 0); default: the track and channel with the most notes")
      ->check(CLI::Range(0, 65535));
  app->add_option("--channel", args->channel, "MIDI: read this channel (0..15; 9 is drums, read only when asked for)")
      ->check(CLI::Range(0, 15));
  app->add_option("--part", args->part, "MusicXML: read this part (numbered from 1 in the score's part list); default: the first")
      ->check(CLI::Range(1, 65535));
  app->add_option("--voice", args->voice,
                  "ABC: read this voice (V:, numbered from 1 in order of appearance); MusicXML: this <voice> number of the "
                  "part; default: the first voice")
      ->check(CLI::Range(1, 65535));
  app->add_flag("--info", args->info, "also print the key, its source and the transposition on standard error");
  app->callback([args]() { run(*args); });
}

melodist::cli::Command encode_command{"encode", 20, setup};

}  // namespace
