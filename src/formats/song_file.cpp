#include "formats/song_file.h"

#include <algorithm>
#include <filesystem>

#include "formats/abc_reader.h"
#include "formats/kern_reader.h"
#include "formats/midi_reader.h"
#include "formats/musicxml_reader.h"
#include "util/error.h"

namespace melodist {

namespace {

enum class Format { unknown, kern, midi, abc, musicxml };

struct FormatExtension {
  const char* extension;
  Format format;
};
constexpr FormatExtension kFormats[] = {{".krn", Format::kern}, {".mid", Format::midi}, {".midi", Format::midi},
                                       {".kar", Format::midi},  // karaoke: a Standard MIDI File
                                       {".abc", Format::abc},
                                       {".musicxml", Format::musicxml}, {".xml", Format::musicxml}, {".mxl", Format::musicxml}};
constexpr const char* kKnownList = ".krn, .mid, .midi, .kar, .abc, .musicxml, .xml and .mxl";

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

Format format_of(const std::string& path) {
  const std::string ext = lower_extension(path);
  for (const auto& f : kFormats)
    if (ext == f.extension) return f.format;
  return Format::unknown;
}

// "tunes.abc#12" -> ("tunes.abc", 12); otherwise (path, -1).
std::pair<std::string, int> split_tune(const std::string& path) {
  const size_t hash = path.rfind('#');
  if (hash == std::string::npos || hash + 1 == path.size() || hash + 8 < path.size()) return {path, -1};
  for (size_t i = hash + 1; i < path.size(); ++i)
    if (path[i] < '0' || path[i] > '9') return {path, -1};
  std::string file = path.substr(0, hash);
  if (format_of(file) != Format::abc) return {path, -1};
  return {file, std::stoi(path.substr(hash + 1))};
}

Melody read_single(const std::string& path, Format format, const SongReadOptions& options) {
  Melody melody;
  if (format == Format::kern) {
    melody = read_kern_file(path);
    melody.source_format = SourceFormat::kern;
  } else if (format == Format::musicxml) {
    melody = read_musicxml_file(path, {options.part, options.voice});
    melody.source_format = SourceFormat::musicxml;
  } else {
    melody = read_midi_file(path, {options.midi_track, options.midi_channel, options.step});
    melody.source_format = SourceFormat::midi;
  }
  return melody;
}

[[noreturn]] void unknown_format(const std::string& path) {
  throw file_error(path, 0, "unknown song format \"" + lower_extension(path) + "\" (melodist reads " + kKnownList + ")");
}

}  // namespace

bool is_song_file(const std::string& path) { return format_of(split_tune(path).first) != Format::unknown; }

std::vector<SongEntry> read_songs(const std::string& path, const SongReadOptions& options) {
  const Format format = format_of(path);
  if (format == Format::unknown) unknown_format(path);
  std::vector<SongEntry> out;
  if (format != Format::abc) {
    out.push_back({path, read_single(path, format, options), ""});
    return out;
  }
  const AbcBook book = read_abc_book(path);
  out.reserve(book.tunes.size());
  for (const AbcTune& tune : book.tunes) {
    SongEntry entry;
    entry.name = path + "#" + std::to_string(tune.number);
    try {
      entry.melody = parse_abc_tune(tune, {options.voice}, path);
    } catch (const Error& e) {
      entry.error = e.what();
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Melody read_song_file(const std::string& path, const SongReadOptions& options) {
  const auto [file, number] = split_tune(path);
  const Format format = format_of(file);
  if (format == Format::unknown) unknown_format(path);
  if (format != Format::abc) return read_single(file, format, options);
  const AbcBook book = read_abc_book(file);
  if (number < 0) return parse_abc_tune(book.tunes.front(), {options.voice}, file);
  for (const AbcTune& tune : book.tunes)
    if (tune.number == number) return parse_abc_tune(tune, {options.voice}, file);
  throw file_error(file, 0, "no tune X:" + std::to_string(number) + " (the file has " + std::to_string(book.tunes.size()) + " tune(s))");
}

}  // namespace melodist
