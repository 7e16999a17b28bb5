#include "formats/song_file.h"

#include <algorithm>
#include <filesystem>

#include "formats/kern_reader.h"
#include "formats/midi_reader.h"
#include "util/error.h"

namespace melodist {

namespace {
std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}
}  // namespace

bool is_song_file(const std::string& path) {
  std::string ext = lower_extension(path);
  return ext == ".krn" || ext == ".mid" || ext == ".midi" || ext == ".kar";
}

Melody read_song_file(const std::string& path, const SongReadOptions& options) {
  std::string ext = lower_extension(path);
  if (ext == ".krn") return read_kern_file(path);
  if (ext == ".mid" || ext == ".midi" || ext == ".kar") return  // .kar: karaoke, a Standard MIDI File
       read_midi_file(path, {options.midi_track, options.midi_channel, options.step});
  throw file_error(path, 0, "unknown song format \"" + ext + "\" (melodist reads .krn, .mid, .midi and .kar)");
}

}  // namespace melodist
