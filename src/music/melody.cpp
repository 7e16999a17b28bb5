#include "music/melody.h"

#include <algorithm>

namespace melodist {

Rational melody_length(const Melody& melody) {
  Rational length(0);
  for (const auto& e : melody.events) length += e.duration;
  return length;
}

void join_bars_split_by_jumps(Melody& melody, const std::vector<BarJump>& jumps) {
  if (jumps.empty()) return;
  // By time, so each barline finds its jump in log time (a hostile tune may repeat a million times).
  std::vector<BarJump> by_time = jumps;
  std::stable_sort(by_time.begin(), by_time.end(), [](const BarJump& a, const BarJump& b) { return a.time < b.time; });
  const Rational length = melody_length(melody);
  std::vector<Rational>& bars = melody.barlines;  // ascending
  std::vector<Rational> kept;
  kept.reserve(bars.size());
  for (size_t j = 0; j < bars.size(); ++j) {
    const Rational t = bars[j];
    const Rational before = t - (kept.empty() ? Rational(0) : kept.back());
    const Rational after = (j + 1 < bars.size() ? bars[j + 1] : length) - t;
    bool join = false;
    auto jump = std::lower_bound(by_time.begin(), by_time.end(), t, [](const BarJump& a, const Rational& b) { return a.time < b; });
    for (; jump != by_time.end() && jump->time == t; ++jump)
      if (jump->bar_length > Rational(0))
        join = join || (before < jump->bar_length && after < jump->bar_length && before + after == jump->bar_length);
    if (!join) kept.push_back(t);
  }
  bars = std::move(kept);
}

std::string Key::name() const {
  static const char* kNames[12] = {"C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B"};
  std::string n = kNames[((tonic_pitch_class % 12) + 12) % 12];
  if (minor) n[0] = static_cast<char>(n[0] - 'A' + 'a');
  return n;  // kern spelling: "G" is G major, "g" is G minor, "B-" is B-flat major
}

std::string to_string(SourceFormat format) {
  switch (format) {
    case SourceFormat::kern: return "kern";
    case SourceFormat::midi: return "midi";
    case SourceFormat::abc: return "abc";
    case SourceFormat::musicxml: return "musicxml";
  }
  return "kern";
}

std::string to_string(KeySource source) { return source == KeySource::designation ? "designation" : "estimate"; }

}  // namespace melodist
