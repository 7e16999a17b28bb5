#pragma once
// melodist reports every user-facing failure as a melodist::Error whose what() is one line:
// "<file>:<line>: <message>" when a file (and line) is known, otherwise the message alone.
// The CLI prints it after "melodist: error: " and exits with status 1.
// The class itself is public (include/melodist/error.h), so library users catch the same type.
#include <string>

#include "melodist/error.h"

namespace melodist {

// "path: message" or "path:line: message" (line <= 0 leaves the line out).
inline Error file_error(const std::string& path, int line, const std::string& message) {
  if (line > 0) return Error(path + ":" + std::to_string(line) + ": " + message);
  return Error(path + ": " + message);
}

}  // namespace melodist
