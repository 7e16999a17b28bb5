#pragma once
// Strict parsing of unsigned 64-bit option values (seeds): decimal digits only, no sign, no wrap-around.
// CLI11 and strtoull accept "-1" (-> 2^64-1) and saturate 2^64 to 2^64-1; a seed that silently becomes
// another number would break "same seed, same bytes", so melodist refuses them instead.
#include <cstdint>
#include <string>
#include <string_view>

namespace melodist {

// Throws melodist::Error: "<what> <text> is not a whole number from 0 to 18446744073709551615".
uint64_t parse_uint64(std::string_view text, const std::string& what);

}  // namespace melodist
