#include "formats/meter_symbol.h"

#include <charconv>

#include "util/error.h"

namespace melodist {

namespace {
// A decimal 1..9999 without a leading zero, or nullopt.
std::optional<int> small_number(std::string_view s) {
  if (s.empty() || s.size() > 4 || s[0] == '0' || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}
}  // namespace

std::string meter_symbol(const TimeSignature& meter) {
  return std::string(kMeterSymbolPrefix) + std::to_string(meter.numerator) + "/" + std::to_string(meter.denominator);
}

std::optional<TimeSignature> parse_meter_text(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto num = small_number(text.substr(0, slash)), den = small_number(text.substr(slash + 1));
  if (!num || !den) return std::nullopt;
  return TimeSignature{*num, *den};
}

TimeSignature parse_time_signature_option(std::string_view text, const std::string& option) {
  if (const auto meter = parse_meter_text(text)) return *meter;
  throw Error(option + " \"" + std::string(text) + "\" is not a time signature N/D such as 3/4 or 6/8");
}

std::optional<TimeSignature> parse_meter_symbol(std::string_view symbol) {
  if (symbol.substr(0, kMeterSymbolPrefix.size()) != kMeterSymbolPrefix) return std::nullopt;
  return parse_meter_text(symbol.substr(kMeterSymbolPrefix.size()));
}

Rational bar_length(const TimeSignature& meter) { return Rational(int64_t{4} * meter.numerator, meter.denominator); }

}  // namespace melodist
