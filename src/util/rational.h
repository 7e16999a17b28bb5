#pragma once
// Exact durations in quarter notes. Humdrum rhythms (triplets, dots, breves) are rational, and the
// filter "is this length one of 1/4, 1/2, 3/4 ..." must be exact, so floating point is not used.
#include <cstdint>
#include <string>
#include <string_view>

namespace melodist {

struct Rational {
  int64_t num = 0;
  int64_t den = 1;  // always > 0, fraction kept in lowest terms

  Rational() = default;
  Rational(int64_t n, int64_t d = 1);  // throws melodist::Error on d == 0 or overflow-prone input

  double to_double() const { return static_cast<double>(num) / static_cast<double>(den); }
  std::string to_string() const;  // "3/4", "2", "-1/3"

  friend Rational operator+(Rational a, Rational b);
  friend Rational operator-(Rational a, Rational b);
  friend Rational operator*(Rational a, Rational b);
  friend Rational operator/(Rational a, Rational b);
  Rational& operator+=(Rational b) { return *this = *this + b; }
  friend bool operator==(Rational a, Rational b) { return a.num == b.num && a.den == b.den; }
  friend bool operator<(Rational a, Rational b);
  friend bool operator<=(Rational a, Rational b) { return !(b < a); }
  friend bool operator>(Rational a, Rational b) { return b < a; }
  friend bool operator>=(Rational a, Rational b) { return !(a < b); }
};

// Parses "1/4", "3", "0.75", "1.5" (decimals are read exactly: 0.75 = 3/4). Throws melodist::Error
// naming the text on anything else, zero denominators included.
Rational parse_rational(std::string_view text);

}  // namespace melodist
