#include "util/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace melodist {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string format_count(double value) {
  long long v = std::llround(value);
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 4) bytes /= 1000.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

Progress::Progress(std::string label, double total, std::string unit, double plain_interval_seconds)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), plain_interval_(plain_interval_seconds),
      tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()), last_print_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(double done, const std::string& extra) {
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (since < (tty_ ? 0.1 : plain_interval_)) return;
  last_print_ = now;
  print(done, extra, false);
}

void Progress::finish(double done, const std::string& extra) {
  if (tty_ || printed_) print(done, extra, true);
}

void Progress::print(double done, const std::string& extra, bool final) {
  double elapsed = elapsed_seconds();
  double rate = elapsed > 0 ? done / elapsed : 0;
  double left = rate > 0 && total_ > done ? (total_ - done) / rate : 0;
  char line[512];
  std::snprintf(line, sizeof line, "%s %s/%s %s, %s %s/s, %s left%s%s", label_.c_str(), format_count(done).c_str(),
                format_count(total_).c_str(), unit_.c_str(), format_count(rate).c_str(), unit_.c_str(),
                format_duration(left).c_str(), extra.empty() ? "" : ", ", extra.c_str());
  if (tty_) std::fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
  else std::fprintf(stderr, "%s\n", line);
  std::fflush(stderr);
  printed_ = true;
}

}  // namespace melodist
