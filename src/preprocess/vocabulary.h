#pragma once
// The dataset vocabulary (mapping.json): symbol -> integer id, the same shape as the reference's
// mapping.json. Order (documented, deterministic): "/" (delimiter), "_" (hold), "r" (rest), then the
// MIDI numbers ascending; only symbols that occur in the dataset are listed; ids are 0, 1, 2, ...
#include <bitset>
#include <string>
#include <vector>

namespace melodist {

struct SymbolSet {
  bool delimiter = false, hold = false, rest = false;
  std::bitset<128> pitches;
  void add(const std::string& symbol);  // "/", "_", "r" or a MIDI number 0..127 (anything else is ignored)
  void merge(const SymbolSet& other);
};

std::vector<std::string> ordered_vocabulary(const SymbolSet& set);
// The JSON text of mapping.json (4-space indent like the reference, symbols in vocabulary order).
std::string mapping_json(const std::vector<std::string>& vocabulary);

}  // namespace melodist
