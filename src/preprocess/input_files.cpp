#include "preprocess/input_files.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "formats/song_file.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace fs = std::filesystem;

std::vector<std::string> collect_input_files(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    fs::file_status status = fs::status(input, ec);
    // fs::status follows links: a loop (ELOOP) or a folder without permission is an error that says so,
    // not "no such file".
    if (ec && ec != std::errc::no_such_file_or_directory) throw Error(input + ": cannot read (" + ec.message() + ")");
    if (ec || !fs::exists(status)) throw Error(input + ": no such file or folder");
    if (fs::is_directory(status)) {
      fs::recursive_directory_iterator it(input, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) throw Error(input + ": cannot read the folder (" + ec.message() + ")");
      for (; it != end; it.increment(ec)) {
        if (ec) throw Error(input + ": cannot read the folder (" + ec.message() + ")");
        std::error_code fec;
        if (it->is_regular_file(fec) && is_song_file(it->path().string())) files.push_back(it->path().generic_string());
      }
    } else {
      files.push_back(input);  // a file named explicitly is read whatever its extension (and rejected if unknown)
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  if (files.empty()) {
    std::string list;
    for (const auto& i : inputs) list += (list.empty() ? "" : ", ") + i;
    throw Error("no song files found in " + list);
  }
  return files;
}

std::string song_key(const std::string& name) {
  const size_t hash = name.find('#');
  const std::string path = name.substr(0, hash);
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) canonical = fs::path(path).lexically_normal();
  return canonical.generic_string() + (hash == std::string::npos ? "" : name.substr(hash));
}

SongList read_song_list(const std::string& path) {
  SongList list;
  list.path = path;
  std::istringstream in(read_file(path));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    list.names.push_back(song_key(line));
    list.lines.push_back(number);
  }
  return list;
}

}  // namespace melodist
