#pragma once
// Humdrum **kern reader: the first **kern spine of a file as a monophonic Melody.
#include <string>
#include <string_view>

#include "music/melody.h"

namespace melodist {

// Parses kern text. `path` is used only in messages. Throws melodist::Error "path:line: reason" for
// input it cannot read (unknown token, no **kern spine, truncated file, binary data, a chord or a
// split of the first **kern spine, ...). Durations are exact; grace notes get duration 0.
Melody parse_kern(std::string_view text, const std::string& path);
Melody read_kern_file(const std::string& path);

}  // namespace melodist
