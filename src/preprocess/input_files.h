#pragma once
// The song files named by the user: files as given, folders searched recursively for song files
// (formats/song_file.h: is_song_file), one sorted list without duplicates (sorted by path, byte order).
#include <string>
#include <vector>

namespace melodist {

// Throws melodist::Error naming an input that does not exist, or when no song file is found at all.
std::vector<std::string> collect_input_files(const std::vector<std::string>& inputs);

}  // namespace melodist
