#pragma once
// The song files named by the user: files as given, folders searched recursively for song files
// (formats/song_file.h: is_song_file), one sorted list without duplicates (sorted by path, byte order).
#include <string>
#include <vector>

namespace melodist {

// Throws melodist::Error naming an input that does not exist, or when no song file is found at all.
std::vector<std::string> collect_input_files(const std::vector<std::string>& inputs);

// A list of song names (`preprocess --exclude LIST`): one per line, a path or "path#X" for a tune of an
// ABC file; blank lines and lines starting with '#' are skipped. Names come back canonical
// (song_key). Throws melodist::Error naming the list when it cannot be read.
struct SongList {
  std::string path;
  std::vector<std::string> names;  // canonical, in the list's order
  std::vector<int> lines;          // the line of each name
};
SongList read_song_list(const std::string& path);

// One spelling per song: the path made absolute and canonical (symbolic links resolved), then "#X" if any,
// so "../shared/a.krn" and "/work/shared/a.krn" name one song.
std::string song_key(const std::string& name);

}  // namespace melodist
