#pragma once
// The dataset vocabulary (mapping.json): symbol -> integer id, the same shape as the reference's
// mapping.json. Order (documented, deterministic): "/" (delimiter), "_" (hold), "r" (rest), then the
// MIDI numbers ascending; only symbols that occur in the dataset are listed; ids are 0, 1, 2, ...
// The barline "|" (`--barlines`) follows the pitches, then the countdown barlines "|1", "|2", ... that occur
// (`--countdown-bars`), then the triplet symbols that occur ("(3:1" "(3:2" "(3:1/2": by denominator, then numerator), then the final
// mark "$" (`--final-mark`), then the length symbols that occur (":3" ":6", `--per-note`), ascending. Key symbols ("K:G", formats/key_symbol.h) come last: when any occurs, ALL 24 are listed (majors, then
// minors, by tonic from C), so that a model can be moved into, and generate in, every key. Meter symbols
// ("M:6/8", formats/meter_symbol.h) follow them: only those that occur, by denominator then numerator
// (M:2/2 M:2/4 M:3/4 M:4/4 M:6/8), so that a model knows which meters it has seen.
#include <bitset>
#include <set>
#include <utility>
#include <string>
#include <vector>

namespace melodist {

struct SymbolSet {
  bool delimiter = false, hold = false, rest = false, bar = false, keys = false, final_mark = false;
  std::bitset<128> pitches;
  std::bitset<17> countdowns;            // k of each "|k" (formats/text_encoding.h kMaxCountdownBars)
  std::set<std::pair<int64_t, int64_t>> triplets;  // the window of each triplet symbol, (den, num) ascending by den
  std::set<int64_t> lengths;             // the steps of each length symbol ":6" (--per-note), ascending
  std::set<std::pair<int, int>> meters;  // (denominator, numerator) of each meter symbol
  void add(const std::string& symbol);  // "/", "_", "r", a MIDI number 0..127, "|", "|k", "(3:W", "$", ":N", a key or meter symbol (else ignored)
  void merge(const SymbolSet& other);
};

std::vector<std::string> ordered_vocabulary(const SymbolSet& set);

}  // namespace melodist
