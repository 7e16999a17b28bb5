#include "evaluate/melody_sources.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "preprocess/dataset.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

Melody decode_line(const std::vector<std::string>& symbols, Rational step, const std::string& path, int line) {
  try {
    return decode_symbols(symbols, step);
  } catch (const Error& e) {
    throw file_error(path, line, e.what());
  }
}

}  // namespace

std::vector<NamedMelody> read_melody_source(const std::string& path, Rational text_step) {
  namespace fs = std::filesystem;
  std::vector<NamedMelody> out;
  if (fs::is_directory(path)) {
    const DatasetSongs data = read_dataset_songs(path);
    const std::string songs_path = (fs::path(path) / "songs.txt").string();
    for (size_t i = 0; i < data.songs.size(); ++i)
      out.push_back({songs_path + ":" + std::to_string(data.lines[i]),
                     decode_line(data.songs[i], data.step, songs_path, data.lines[i])});
    return out;
  }
  if (!fs::exists(path)) throw file_error(path, 0, "no such file or directory");
  if (lower_extension(path) == ".txt") {
    std::istringstream in(read_file(path));
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const auto symbols = split_symbols(line);
      if (symbols.empty()) continue;
      out.push_back({path + ":" + std::to_string(number), decode_line(symbols, text_step, path, number)});
    }
    // A file without symbols is one empty melody (a generator may end at once); it counts as 0 notes.
    if (out.empty()) out.push_back({path, Melody{}});
    return out;
  }
  if (!is_song_file(path))
    throw file_error(path, 0, "unknown kind of file (expected a dataset folder, .krn, .mid, .midi, .abc or .txt)");
  if (lower_extension(path) == ".abc") {  // every tune of the book ("path#X" is one tune, read below)
    for (auto& song : read_songs(path)) {
      if (!song.melody) throw Error(song.error);
      out.push_back({song.name, std::move(*song.melody)});
    }
    return out;
  }
  out.push_back({path, read_song_file(path)});
  return out;
}

std::vector<NamedMelody> read_melody_sources(const std::vector<std::string>& paths, Rational text_step) {
  std::vector<NamedMelody> out;
  for (const auto& p : paths) {
    auto part = read_melody_source(p, text_step);
    for (auto& m : part) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace melodist
