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
  const std::string_view rest = symbol.substr(kKeySymbolPrefix.size());
  // The symbol's own form only (a capital tonic, "#" or "b", an optional "m"); parse_key_name also takes
  // kern spelling and mode words, which no symbol holds.
  if (rest.empty() || rest[0] < 'A' || rest[0] > 'G' || rest.find_first_of(" -") != std::string_view::npos) return std::nullopt;
  std::optional<Key> key = parse_key_name(rest);
  if (key) key->spelling.clear();
  return key;
}

std::optional<Key> parse_key_name(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  const char first = text[0];
  const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(first)));
  if (letter < 'A' || letter > 'G') return std::nullopt;
  size_t i = 1;
  int alter = 0;
  if (i < text.size() && (text[i] == '#' || text[i] == 'b' || text[i] == '-')) alter = text[i++] == '#' ? 1 : -1;
  std::string_view rest = text.substr(i);
  bool minor = false;
  if (rest.empty()) {
    minor = std::islower(static_cast<unsigned char>(first)) != 0;  // kern: "a", "f#" minor; "D", "B-" major
  } else if (rest == "m") {
    minor = true;  // the key symbol's form: "Em", "F#m"
  } else if (rest[0] == ' ') {
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    std::string mode(rest);
    for (char& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (mode != "major" && mode != "minor") return std::nullopt;
    minor = mode == "minor";
  } else {
    return std::nullopt;
  }
  Key key;
  key.tonic_pitch_class = ((kLetterPitchClass[letter - 'A'] + alter) % 12 + 12) % 12;
  key.minor = minor;
  key.spelling = std::string(1, minor ? static_cast<char>(std::tolower(letter)) : letter) + (alter > 0 ? "#" : alter < 0 ? "-" : "");
  return key;
}

std::vector<std::string> all_key_symbols() {
  std::vector<std::string> out;
  for (int minor = 0; minor < 2; ++minor)
    for (int pc = 0; pc < 12; ++pc) out.push_back(key_symbol(pc, minor == 1));
  return out;
}

}  // namespace melodist
