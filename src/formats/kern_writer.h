#pragma once
// Humdrum **kern writer: one **kern spine with *clefG2, *k[...], the key designation (*G:, *e:),
// *M meter, *MM tempo, barlines "=N" where the meter puts them (the pickup before "=1"), "==" at the end.
// Notes that cross a barline are split and tied ([ _ ]); formats/kern_reader.h reads the file back to
// the same melody (tied parts as separate tied events).
#include <string>

#include "music/melody.h"
#include "music/score.h"

namespace melodist {

// Throws melodist::Error (music/score.h) for what cannot be written.
std::string write_kern(const Melody& melody, const NotationOptions& options, const std::string& title);

}  // namespace melodist
