#include "preprocess/vocabulary.h"

#include <nlohmann/json.hpp>

#include "formats/key_symbol.h"
#include "formats/text_encoding.h"
#include "formats/meter_symbol.h"

namespace melodist {

void SymbolSet::add(const std::string& s) {
  if (s == "/") delimiter = true;
  else if (s == "_") hold = true;
  else if (s == "r") rest = true;
  else if (s == "|") bar = true;
  else if (s == kFinalSymbol) final_mark = true;
  else if (const int k = bar_countdown(s); k > 0) countdowns.set(static_cast<size_t>(k));
  else if (const auto w = triplet_window(s)) triplets.insert({w->den, w->num});
  else if (const auto n = length_steps(s)) lengths.insert(*n);
  else if (parse_key_symbol(s)) keys = true;
  else if (const auto m = parse_meter_symbol(s)) meters.insert({m->denominator, m->numerator});
  else if (!s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos) {
    int v = std::stoi(s);
    if (v <= 127) pitches.set(static_cast<size_t>(v));
  }
}

void SymbolSet::merge(const SymbolSet& o) {
  delimiter = delimiter || o.delimiter;
  hold = hold || o.hold;
  rest = rest || o.rest;
  bar = bar || o.bar;
  keys = keys || o.keys;
  final_mark = final_mark || o.final_mark;
  pitches |= o.pitches;
  countdowns |= o.countdowns;
  triplets.insert(o.triplets.begin(), o.triplets.end());
  lengths.insert(o.lengths.begin(), o.lengths.end());
  meters.insert(o.meters.begin(), o.meters.end());
}

std::vector<std::string> ordered_vocabulary(const SymbolSet& set) {
  std::vector<std::string> out;
  if (set.delimiter) out.emplace_back("/");
  if (set.hold) out.emplace_back("_");
  if (set.rest) out.emplace_back("r");
  for (int p = 0; p < 128; ++p)
    if (set.pitches.test(static_cast<size_t>(p))) out.push_back(std::to_string(p));
  if (set.bar) out.emplace_back("|");
  for (int k = 1; k <= kMaxCountdownBars; ++k)
    if (set.countdowns.test(static_cast<size_t>(k))) out.push_back(bar_symbol(k));
  for (const auto& [den, num] : set.triplets) out.push_back(triplet_symbol(Rational(num, den)));
  if (set.final_mark) out.emplace_back(kFinalSymbol);
  for (const int64_t n : set.lengths) out.push_back(length_symbol(n));
  if (set.keys)
    for (auto& k : all_key_symbols()) out.push_back(std::move(k));
  for (const auto& [den, num] : set.meters) out.push_back(meter_symbol(TimeSignature{num, den}));
  return out;
}

}  // namespace melodist
