#include "util/parse_number.h"

#include <charconv>

#include "util/error.h"

namespace melodist {

uint64_t parse_uint64(std::string_view text, const std::string& what) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  // from_chars takes no '+' or whitespace; it does take a leading '-' for unsigned types on some
  // libraries, so digits are checked first.
  const bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only || ec != std::errc() || ptr != end)
    throw Error((what.empty() ? "" : what + " ") + std::string(text) + " is not a whole number from 0 to 18446744073709551615");
  return value;
}

}  // namespace melodist
