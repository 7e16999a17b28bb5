// melodist convert IN --out OUT: any song file melodist reads (formats/song_file.h) to any it writes
// (formats/song_writer.h), each chosen by extension.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "command.h"
#include "formats/key_symbol.h"
#include "formats/song_file.h"
#include "formats/song_writer.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace {

struct ConvertArgs {
  std::string input;
  std::string out;
  std::string time_signature;
  std::string key;
  double bpm = 0;  // 0: the melody's tempo, else 120
  int program = 0;
  std::string soundfont = melodist::kDefaultSoundfont;
  std::string title;
  std::string step = "1/4";
  int track = -1;
  int channel = -1;
};

melodist::TimeSignature parse_meter(const std::string& text) {
  int num = 0, den = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d %c %d %c", &num, &slash, &den, &extra) != 3 || slash != '/' || num < 1 || num > 255 ||
      den < 1 || den > 64 || (den & (den - 1)) != 0)
    throw melodist::Error("--time-signature \"" + text + "\" is not N/D with N 1..255 and D a power of two up to 64");
  return {num, den};
}

void run(const ConvertArgs& a) {
  using namespace melodist;
  SongWriteOptions options;
  if (!a.time_signature.empty()) options.notation.time_signature = parse_meter(a.time_signature);
  if (!a.key.empty()) {
    options.notation.key = parse_key_option(a.key);
  }
  if (a.bpm != 0) {
    if (!(a.bpm >= 4 && a.bpm <= 1000)) throw Error("--bpm must be in [4, 1000]");
    options.notation.bpm = a.bpm;
  }
  if (a.program < 0 || a.program > 127) throw Error("--program must be 0..127");
  options.program = a.program;
  options.soundfont = a.soundfont;
  // Checked before reading: a wrong extension or a missing folder costs nothing.
  if (!is_written_song_file(a.out)) throw file_error(a.out, 0, "unknown extension; melodist writes " + written_extensions());
  check_output_path(a.out);
  SongReadOptions read;
  read.step = parse_step_option(a.step);
  read.midi_track = a.track;
  read.midi_channel = a.channel;
  const Melody melody = read_song_file(a.input, read);
  options.title = a.title.empty() ? std::filesystem::path(a.input).stem().string() : a.title;
  write_song_file(a.out, melody, options);
}

void setup(CLI::App& root) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* app = root.add_subcommand(
      "convert", "Turn a song file melodist reads (.krn, .mid) into one it writes (.abc, .musicxml, .mxl, .krn, .mid, .wav, .flac, .ogg)");
  app->add_option("IN", args->input, "the song to read")->required();
  app->add_option("--out,-o", args->out, "the file to write, format by extension (its folder must exist)")->required();
  app->add_option("--time-signature", args->time_signature, "meter when the song has none of its own (N/D; default 4/4)");
  app->add_option("--key", args->key, "key when the song has none of its own (G, Em, Bb, F#m; default: estimated)");
  app->add_option("--bpm", args->bpm, "tempo in quarter notes per minute (default: the song's, else 120)");
  app->add_option("--program", args->program, "General MIDI program for .mid and audio (0 piano, 73 flute, 110 fiddle)")->capture_default_str();
  app->add_option("--soundfont", args->soundfont, "General MIDI soundfont for .wav/.flac/.ogg")->capture_default_str();
  app->add_option("--title", args->title, "title (ABC T:, MusicXML work title, kern !!!OTL; default: the input's name)");
  app->add_option("--step", args->step, "MIDI input: quantisation grid in quarter notes")->capture_default_str();
  app->add_option("--track", args->track, "MIDI input: track (default: the non-drum track with the most notes)");
  app->add_option("--channel", args->channel, "MIDI input: channel 0..15 (default: automatic)");
  app->callback([args] { run(*args); });
}

melodist::cli::Command convert_command{"convert", 35, setup};

}  // namespace
