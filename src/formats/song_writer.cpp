#include "formats/song_writer.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "formats/abc_writer.h"
#include "formats/key_symbol.h"
#include "formats/kern_writer.h"
#include "formats/midi_writer.h"
#include "formats/musicxml_writer.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

constexpr const char* kExtensions[] = {".abc", ".musicxml", ".mxl", ".krn", ".mid", ".midi", ".wav", ".flac", ".ogg"};

double tempo_of(const Melody& melody, const SongWriteOptions& options) {
  return options.notation.bpm ? *options.notation.bpm : melody.tempo_bpm.value_or(120.0);
}

}  // namespace

std::string written_extensions() {
  std::string out;
  for (const char* e : kExtensions) out += (out.empty() ? "" : ", ") + std::string(e);
  return out;
}

bool is_written_song_file(const std::string& path) {
  const std::string ext = lower_extension(path);
  return std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions);
}

void check_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec))
    throw file_error(path, 0, "the output folder " + folder.string() + " does not exist");
  if (fs::is_directory(path, ec)) throw file_error(path, 0, "is a folder; give a file name such as melody.abc");
}

std::string song_bytes(const std::string& path, const Melody& melody, const SongWriteOptions& options) {
  const std::string ext = lower_extension(path);
  if (ext == ".abc") return write_abc_tune(melody, options.notation, 1, options.title);
  if (ext == ".musicxml") return write_musicxml(melody, options.notation, options.title);
  if (ext == ".mxl") return write_mxl(melody, options.notation, options.title);
  if (ext == ".krn") return write_kern(melody, options.notation, options.title);
  if (ext == ".mid" || ext == ".midi") {
    MidiWriteOptions midi;
    midi.bpm = tempo_of(melody, options);
    midi.time_signature = options.notation.time_signature.value_or(TimeSignature{4, 4});
    midi.program = options.program;
    midi.velocity = options.velocity;
    if (!melody.key && options.notation.key) {
      Melody keyed = melody;
      keyed.key = options.notation.key;
      return write_midi(keyed, midi);
    }
    return write_midi(melody, midi);
  }
  if (ext == ".wav" || ext == ".flac" || ext == ".ogg") {
    AudioOptions audio;
    audio.soundfont = options.soundfont;
    audio.program = options.program;
    audio.velocity = options.velocity;
    audio.bpm = tempo_of(melody, options);
    return write_audio(melody, audio, ext == ".wav" ? AudioFormat::wav : ext == ".flac" ? AudioFormat::flac : AudioFormat::ogg);
  }
  throw Error("unknown extension \"" + ext + "\"; melodist writes " + written_extensions());
}

void write_song_file(const std::string& path, const Melody& melody, const SongWriteOptions& options) {
  check_output_path(path);
  std::string bytes;
  try {
    bytes = song_bytes(path, melody, options);
  } catch (const Error& e) {
    throw file_error(path, 0, e.what());
  }
  write_file_atomically(path, bytes);
}

Key parse_key_option(const std::string& text, const std::string& option) {
  if (std::optional<Key> named = parse_key_name(text)) return *named;
  throw Error(option + ": cannot read \"" + text.substr(0, 20) + "\" (a key such as G, Em, Bb, F#m, D major, e minor, or in kern spelling C, a, B-, f#)");
}

void adopt_primer_notation(Melody& melody, const Melody& primer, const EncodedSong& encoding) {
  if (!melody.time_signature && primer.time_signature) {
    melody.time_signature = primer.time_signature;
    if (melody.barlines.empty()) melody.barlines = primer.barlines;
  }
  if (!melody.tempo_bpm) melody.tempo_bpm = primer.tempo_bpm;
  if (!melody.key && encoding.accepted && encoding.key_source == KeySource::designation) {
    Key key = encoding.key;
    if (encoding.transposition % 12 != 0) {
      key.tonic_pitch_class = ((key.tonic_pitch_class + encoding.transposition) % 12 + 12) % 12;
      key.spelling.clear();  // respelled by the writer from the pitch class
      if (!key.minor && key.tonic_pitch_class == 0) key.spelling = "C";
      if (key.minor && key.tonic_pitch_class == 9) key.spelling = "a";
    }
    melody.key = key;
  }
}

}  // namespace melodist
