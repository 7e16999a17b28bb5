#pragma once
// melodist::Error: every failure the library reports (a missing or malformed file, a bad option, an
// unknown symbol) is thrown as this one type. what() is ONE line, the same line the `melodist` command
// prints after "melodist: error: ", e.g.
//     "songs/a.krn:17: note of 1/3 quarter"      (a file and line are known)
//     "--temperature must be >= 0"               (an option)
// Out of memory is std::bad_alloc, as everywhere in C++.
#include <stdexcept>
#include <string>

#include "melodist/export.h"

namespace melodist {

class MELODIST_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace melodist
