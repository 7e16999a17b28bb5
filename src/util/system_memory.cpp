#include "util/system_memory.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace melodist {

namespace {

// "Key:   1234 kB" in a /proc file -> bytes.
std::optional<double> proc_field_bytes(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    double kb = 0;
    if (fields >> kb) return kb * 1024.0;
  }
  return std::nullopt;
}

std::optional<double> file_number(const char* path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    return std::stod(word);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<double> available_memory_bytes() {
  std::optional<double> best;
  const auto take = [&](std::optional<double> v) {
    if (v) best = best ? std::min(*best, std::max(0.0, *v)) : std::max(0.0, *v);
  };
  take(proc_field_bytes("/proc/meminfo", "MemAvailable"));
  const auto limit = file_number("/sys/fs/cgroup/memory.max"), used = file_number("/sys/fs/cgroup/memory.current");
  if (limit && used) take(*limit - *used);
  rlimit as{};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const auto vm = proc_field_bytes("/proc/self/status", "VmSize");
    take(static_cast<double>(as.rlim_cur) - vm.value_or(0.0));
  }
  return best;
}

}  // namespace melodist
