#pragma once
// Progress for long work: a live line on a terminal (stderr is a tty), plain lines otherwise
// (at most one every `plain_interval_seconds`). Shows done/total, rate and time left.
#include <chrono>
#include <string>

namespace melodist {

class Progress {
 public:
  Progress(std::string label, double total, std::string unit, double plain_interval_seconds = 10.0);
  // Reports `done` units so far; `extra` is appended (e.g. "loss 0.812").
  void update(double done, const std::string& extra = "");
  // Ends the live line (a final update at `done`).
  void finish(double done, const std::string& extra = "");
  double elapsed_seconds() const;

 private:
  void print(double done, const std::string& extra, bool final);
  std::string label_, unit_;
  double total_;
  double plain_interval_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  bool printed_ = false;
};

std::string format_duration(double seconds);  // "1:05", "2:03:07"
std::string format_count(double value);       // 254530 -> "254,530"
std::string format_bytes(double bytes);       // 17.2e9 -> "17.2 GB", 3.5e6 -> "3.5 MB" (decimal units)

}  // namespace melodist
