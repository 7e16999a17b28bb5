#include "music/melody.h"

namespace melodist {

Rational melody_length(const Melody& melody) {
  Rational length(0);
  for (const auto& e : melody.events) length += e.duration;
  return length;
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
