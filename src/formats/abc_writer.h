#pragma once
// ABC notation writer (ABC 2.1): one tune per melody, or a tune book of several (X:1 ... X:N).
//   X:n  T:title  M:meter  L:1/8  Q:1/4=bpm  K:key   then the notes, four bars a line, "|]" at the end.
// Lengths are in eighths (L:1/8): c2 a quarter, c/ a sixteenth, c3 a dotted quarter. Accidentals are
// printed relative to the key signature and the bar so far (music/score.h); notes that cross a barline or
// have no single value are tied with "-"; triplets are "(3" or "(3:2:n".
#include <string>
#include <vector>

#include "music/melody.h"
#include "music/score.h"

namespace melodist {

// One tune of a book to write (not formats/abc_reader.h's AbcTune, the lines of a tune read: one name
// per type, or the two would break the one-definition rule).
struct AbcBookTune {
  const Melody* melody = nullptr;
  std::string title;  // T: line; "melodist" when empty
};

// One tune with reference number `number`. Throws melodist::Error (music/score.h) for what cannot be written.
std::string write_abc_tune(const Melody& melody, const NotationOptions& options, int number, const std::string& title);
// A tune book: the tunes numbered from 1, separated by blank lines.
std::string write_abc_book(const std::vector<AbcBookTune>& tunes, const NotationOptions& options);

}  // namespace melodist
