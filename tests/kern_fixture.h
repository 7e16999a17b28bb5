#pragma once
// Hand-written **kern fixtures (tests/fixtures/kern/NAME.krn) and their hand-written expectations
// (NAME.expected), one "field: value" per line, '#' starts a comment:
//   options:  step=1/8 durations=any|1/4,1/2 transpose=none ties=merge key-symbol=1 barlines=1   (defaults: the reference's)
//   encoding: the expected symbols          reason: the expected rejection reason
//   key:      <key name> <designation|estimate> <transposition>
//   warning:  a reader warning expected in Melody::warnings
//   error:    the exact melodist::Error message, FILE standing for the fixture's path
// options2/encoding2/reason2 describe a second run of the same file with other options.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "formats/text_encoding.h"
#include "util/rational.h"

namespace kern_fixture {

struct Fixture {
  std::string name, path;
  std::multimap<std::string, std::string> fields;
  bool has(const std::string& k) const { return fields.count(k) > 0; }
  std::string get(const std::string& k) const { auto it = fields.find(k); return it == fields.end() ? "" : it->second; }
};

inline std::string dir() { return std::string(MELODIST_FIXTURES_DIR) + "/kern"; }

inline std::vector<Fixture> load_all() {
  std::vector<Fixture> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir())) {
    if (entry.path().extension() != ".krn") continue;
    Fixture f;
    f.name = entry.path().stem().string();
    f.path = entry.path().string();
    std::ifstream in(dir() + "/" + f.name + ".expected");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      f.fields.emplace(line.substr(0, colon), value);
    }
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(), [](const Fixture& a, const Fixture& b) { return a.name < b.name; });
  return out;
}

inline melodist::EncodeOptions parse_options(const std::string& text) {
  melodist::EncodeOptions o;
  o.durations = melodist::reference_durations();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    std::string item = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "step") o.step = melodist::parse_rational(v);
    if (k == "transpose") o.transpose = v == "none" ? melodist::TransposeMode::none : melodist::TransposeMode::reference;
    if (k == "key-symbol") o.key_symbol = v == "1";
    if (k == "barlines") o.barlines = v == "1";
    if (k == "pitch-only") o.pitch_only = v == "1";
    if (k == "per-note") o.per_note = v == "1";
    if (k == "ties") o.ties = v == "merge" ? melodist::TieMode::merge : melodist::TieMode::reattack;
    if (k == "durations") {
      o.durations.clear();
      if (v != "any") {
        size_t p = 0;
        while (p <= v.size()) {
          size_t c = v.find(',', p);
          o.durations.push_back(melodist::parse_rational(v.substr(p, c == std::string::npos ? std::string::npos : c - p)));
          if (c == std::string::npos) break;
          p = c + 1;
        }
      }
    }
  }
  return o;
}

}  // namespace kern_fixture
