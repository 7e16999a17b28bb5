#pragma once
// Every output file is written whole or not at all: the bytes go to "<path>.tmp-<pid>" beside the
// target, are fsync'ed, and the temporary is renamed over the target (rename is atomic on POSIX).
// A crash at any moment leaves either the old file or the new one, never half of one.
#include <filesystem>
#include <string>
#include <string_view>

namespace melodist {

// Throws melodist::Error naming the path (e.g. a missing folder) and removes the temporary on failure.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Creates `dir` (and its parents) if needed and proves it writable by creating and removing a
// temporary file in it, so a run that writes there only at its end fails at its start instead.
// Throws melodist::Error naming the folder. (access(2) is not enough: root passes it on read-only mounts.)
void check_folder_writable(const std::string& dir);

// "DIR/" and "DIR" name one folder: things written beside it (DIR.lock, DIR.tmp-PID) must not land inside it.
std::filesystem::path without_trailing_slash(const std::string& dir);

// Reads a whole file; throws melodist::Error naming the path when it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace melodist
