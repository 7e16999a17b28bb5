#pragma once
// Melodies for `melodist stats` and `melodist plot` from any source melodist knows:
//   a dataset directory from `melodist preprocess` (every song of songs.txt, decoded on the step grid
//   recorded in its manifest.json), .krn / .mid / .midi files (formats/song_file.h), .abc files (every
//   tune, named "path#X"; "path.abc#X" is one tune), and .txt files in
//   the text encoding (one melody per non-empty line, step 1/4 quarter unless given; a file with no symbol at all is
//   one empty melody).
#include <string>
#include <vector>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

struct NamedMelody {
  std::string name;  // "path" or "path:line"
  Melody melody;
};

// Throws melodist::Error naming the file (and line) for anything unreadable.
std::vector<NamedMelody> read_melody_source(const std::string& path, Rational text_step = Rational(1, 4));
std::vector<NamedMelody> read_melody_sources(const std::vector<std::string>& paths, Rational text_step = Rational(1, 4));

}  // namespace melodist
