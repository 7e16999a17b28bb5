#include "formats/key_symbol.h"

#include <cctype>

namespace melodist {

namespace {
constexpr const char* kMajorNames[12] = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
constexpr const char* kMinorNames[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"};
constexpr int kLetterPitchClass[7] = {9, 11, 0, 2, 4, 5, 7};  // A B C D E F G
}  // namespace

std::string key_symbol(int tonic_pitch_class, bool minor) {
  const int pc = ((tonic_pitch_class % 12) + 12) % 12;
  return std::string(kKeySymbolPrefix) + (minor ? std::string(kMinorNames[pc]) + "m" : std::string(kMajorNames[pc]));
}

std::optional<Key> parse_key_symbol(std::string_view symbol) {
  if (symbol.substr(0, kKeySymbolPrefix.size()) != kKeySymbolPrefix) return std::nullopt;
  std::string_view rest = symbol.substr(kKeySymbolPrefix.size());
  if (rest.empty() || rest[0] < 'A' || rest[0] > 'G') return std::nullopt;
  int pc = kLetterPitchClass[rest[0] - 'A'];
  rest.remove_prefix(1);
  if (!rest.empty() && (rest[0] == '#' || rest[0] == 'b')) {
    pc += rest[0] == '#' ? 1 : -1;
    rest.remove_prefix(1);
  }
  bool minor = false;
  if (!rest.empty() && rest[0] == 'm') {
    minor = true;
    rest.remove_prefix(1);
  }
  if (!rest.empty()) return std::nullopt;
  Key key;
  key.tonic_pitch_class = (pc + 12) % 12;
  key.minor = minor;
  return key;
}

std::optional<Key> parse_key_name(std::string_view text) {
  std::string t(text);
  const size_t space = t.find(' ');
  if (space == std::string::npos) return parse_key_symbol(std::string(kKeySymbolPrefix) + t);
  std::string tonic = t.substr(0, space), mode = t.substr(space + 1);
  while (!mode.empty() && mode.front() == ' ') mode.erase(0, 1);
  for (char& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (mode != "major" && mode != "minor") return std::nullopt;
  if (tonic.empty()) return std::nullopt;
  tonic[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(tonic[0])));
  if (tonic.size() == 2 && tonic[1] == '-') tonic[1] = 'b';
  return parse_key_symbol(std::string(kKeySymbolPrefix) + tonic + (mode == "minor" ? "m" : ""));
}

std::vector<std::string> all_key_symbols() {
  std::vector<std::string> out;
  for (int minor = 0; minor < 2; ++minor)
    for (int pc = 0; pc < 12; ++pc) out.push_back(key_symbol(pc, minor == 1));
  return out;
}

}  // namespace melodist
