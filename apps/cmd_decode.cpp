// melodist decode INPUT --out melody.mid: the text encoding (a file, or "-" for standard input) -> a song file
// chosen by the extension (formats/song_writer.h: MIDI, ABC, MusicXML, kern, audio). INPUT may hold several songs, one per line (songs.txt) or
// separated by "/" delimiters (file_dataset, generated output); --song picks one.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>

#include "command.h"
#include "formats/meter_symbol.h"
#include "formats/song_writer.h"
#include "formats/text_encoding.h"
#include "music/key_estimate.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/rational.h"

namespace {

struct DecodeArgs {
  std::string input;
  std::string out;
  double bpm = 120.0;
  int program = 0;
  int velocity = 80;
  std::string soundfont = melodist::kDefaultSoundfont;
  std::string time_signature = "4/4";
  std::string step = "1/4";
  std::string key = "auto";
  int song = 1;
};

struct SongText {
  std::vector<std::string> symbols;
  int line = 0;  // where the song starts
};

// Songs: split at line breaks and at runs of "/".
std::vector<SongText> split_songs(const std::string& text) {
  std::vector<SongText> songs;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    SongText current{{}, line_number};
    for (std::string& s : melodist::split_symbols(line)) {
      if (s == melodist::kDelimiterSymbol) {
        if (!current.symbols.empty()) songs.push_back(std::move(current));
        current = SongText{{}, line_number};
      } else {
        current.symbols.push_back(std::move(s));
      }
    }
    if (!current.symbols.empty()) songs.push_back(std::move(current));
  }
  return songs;
}

void run(const DecodeArgs& a) {
  using namespace melodist;
  const Rational step = parse_step_option(a.step);
  SongWriteOptions options;
  options.notation.bpm = a.bpm;
  options.program = a.program;
  options.velocity = a.velocity;
  options.soundfont = a.soundfont;
  options.notation.time_signature = melodist::parse_time_signature_option(a.time_signature, "--time-signature");
  std::optional<Key> fixed_key;
  if (a.key != "auto" && a.key != "estimate" && a.key != "none") fixed_key = parse_key_option(a.key);

  // Refuse early, before reading anything, when the output cannot be written.
  const std::filesystem::path out(a.out);
  const std::filesystem::path folder = out.parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
    throw Error(a.out + ": output folder \"" + folder.string() + "\" does not exist");
  if (std::filesystem::is_directory(out, ec)) throw Error(a.out + ": is a folder; give a file name such as melody.mid");
  if (!is_written_song_file(a.out)) throw Error(a.out + ": unknown extension; melodist writes " + written_extensions());

  const std::string name = a.input == "-" ? "<stdin>" : a.input;
  std::string text;
  if (a.input == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    text = read_file(a.input);
  }
  const std::vector<SongText> songs = split_songs(text);
  if (songs.empty()) throw file_error(name, 0, "no song in the input (expected symbols such as \"60 _ _ _ r _ 62\")");
  if (a.song > static_cast<int>(songs.size()))
    throw file_error(name, 0, "--song " + std::to_string(a.song) + ": the input holds " + std::to_string(songs.size()) +
                                  " song" + (songs.size() == 1 ? "" : "s"));
  const SongText& chosen = songs[static_cast<size_t>(a.song - 1)];
  Melody melody;
  try {
    melody = decode_symbols(chosen.symbols, step);
  } catch (const Error& e) {
    throw file_error(name, chosen.line, e.what());
  }
  bool any_note = false;
  for (const MelodyEvent& e : melody.events) any_note |= e.pitch != kRest;
  if (!any_note) throw file_error(name, chosen.line, "the song holds no note");

  if (fixed_key) {
    melody.key = *fixed_key;
  } else if (a.key == "estimate") {
    melody.key = estimate_key(melody);
  } else if (a.key == "auto" && !melody.key) {
    // A key symbol ("K:D", formats/key_symbol.h) in the song names its key. Without one:
    // reference-transposed encodings (and what a model trained on them generates) are in C major or A
    // minor: no sharps or flats; the mode is the estimate's.
    Key key;
    key.minor = estimate_key(melody).minor;
    key.tonic_pitch_class = key.minor ? 9 : 0;
    key.spelling = key.minor ? "a" : "C";
    melody.key = key;
  }
  try {
    write_song_file(a.out, melody, options);
  } catch (const Error& e) {
    const std::string what = e.what();
    throw Error(what.rfind(a.out, 0) == 0 ? what : a.out + ": " + what);
  }
}

void setup(CLI::App& root) {
  auto args = std::make_shared<DecodeArgs>();
  CLI::App* app = root.add_subcommand(
      "decode", "Turn the text encoding (a file, or - for standard input) into a song file: MIDI, ABC, MusicXML, kern or audio, by --out's extension");
  app->add_option("INPUT", args->input, "text encoding: a file (one song per line, or songs separated by /), or - for stdin")
      ->required();
  app->add_option("--out,-o", args->out, "the file to write (its folder must exist): .mid, .abc, .musicxml, .mxl, .krn, .wav, .flac or .ogg")->required();
  app->add_option("--bpm", args->bpm, "tempo in quarter notes per minute")->check(CLI::Range(4.0, 1000.0))->capture_default_str();
  app->add_option("--program", args->program, "General MIDI program 0..127 (0: acoustic grand piano)")
      ->check(CLI::Range(0, 127))
      ->capture_default_str();
  app->add_option("--soundfont", args->soundfont, "General MIDI soundfont for .wav/.flac/.ogg")->capture_default_str();
  app->add_option("--velocity", args->velocity, "note-on velocity of every note, 1..127")->check(CLI::Range(1, 127))->capture_default_str();
  app->add_option("--time-signature", args->time_signature, "N/D, D a power of two (a meter symbol \"M:6/8\" in the song wins)")
      ->capture_default_str();
  app->add_option("--step", args->step, "quarter notes per symbol (fraction or decimal)")->capture_default_str();
  app->add_option("--key", args->key,
                  "key signature: auto (the song's key symbol \"K:D\" if it has one, else no sharps or flats, C major or "
                  "A minor as the reference transposes; mode estimated), estimate (estimated from the notes), none, or a key such as G, Em, Bb, F#m (or in kern spelling: e, B-, f#)")
      ->capture_default_str();
  app->add_option("--song", args->song, "which song of the input to decode, from 1")->check(CLI::PositiveNumber)->capture_default_str();
  app->callback([args]() { run(*args); });
}

melodist::cli::Command decode_command{"decode", 30, setup};

}  // namespace
