#include "formats/mapping_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "formats/text_encoding.h"
#include "util/error.h"

namespace melodist {

std::vector<std::string> parse_mapping_json(const std::string& bytes, const std::string& path, const MappingRules& rules) {
  nlohmann::json mapping;
  try {
    mapping = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, 0, std::string("not a JSON mapping: ") + e.what());
  }
  if (!mapping.is_object() || mapping.empty()) throw file_error(path, 0, "expected a JSON object {\"symbol\": id, ...}");
  const size_t n = mapping.size();
  std::vector<std::string> vocabulary(n);
  std::vector<bool> seen(n, false);
  for (const auto& [symbol, id] : mapping.items()) {
    // Range-checked as a 64-bit value: get<int>() would truncate 2^32 to 0.
    const long long value = !id.is_number_integer()                                                      ? -1
                            : id.is_number_unsigned() && id.get<unsigned long long>() > (1ull << 62) ? -1
                                                                                                     : id.get<long long>();
    if (value < 0 || value >= static_cast<long long>(n))
      throw file_error(path, 0, "symbol \"" + symbol + "\" has id " + id.dump() + " (ids must be 0.." + std::to_string(n - 1) + ")");
    const size_t i = static_cast<size_t>(value);
    if (seen[i]) throw file_error(path, 0, "id " + std::to_string(i) + " is given to two symbols (\"" + vocabulary[i] + "\", \"" + symbol + "\")");
    if (rules.symbol_ok && !rules.symbol_ok(symbol))
      throw file_error(path, 0, "symbol \"" + symbol + "\" is not a symbol of " + rules.symbol_rule);
    seen[i] = true;
    vocabulary[i] = symbol;
  }
  if (rules.need_delimiter && std::find(vocabulary.begin(), vocabulary.end(), kDelimiterSymbol) == vocabulary.end())
    throw file_error(path, 0, "has no \"/\" symbol (the song delimiter that training and generation start from)");
  return vocabulary;
}

std::string mapping_json(const std::vector<std::string>& vocabulary) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t i = 0; i < vocabulary.size(); ++i) j[vocabulary[i]] = i;
  return j.dump(4) + "\n";
}

}  // namespace melodist
