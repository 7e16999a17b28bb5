#include "util/rational.h"

#include <limits>
#include <numeric>

#include "util/error.h"

namespace melodist {

namespace {
// Products and sums of Humdrum durations stay tiny; anything near overflow is bad input.
constexpr int64_t kLimit = int64_t{1} << 40;

Rational make(__int128 n, __int128 d) {
  if (d == 0) throw Error("division by zero in a duration");
  if (d < 0) n = -n, d = -d;
  __int128 a = n < 0 ? -n : n, b = d;
  while (b != 0) { __int128 t = a % b; a = b; b = t; }
  if (a == 0) a = 1;
  n /= a; d /= a;
  if (n > kLimit || n < -kLimit || d > kLimit) throw Error("duration too large or too finely divided");
  Rational r;
  r.num = static_cast<int64_t>(n);
  r.den = static_cast<int64_t>(d);
  return r;
}
}  // namespace

Rational::Rational(int64_t n, int64_t d) { *this = make(n, d); }

std::string Rational::to_string() const {
  if (den == 1) return std::to_string(num);
  return std::to_string(num) + "/" + std::to_string(den);
}

Rational operator+(Rational a, Rational b) { return make((__int128)a.num * b.den + (__int128)b.num * a.den, (__int128)a.den * b.den); }
Rational operator-(Rational a, Rational b) { return make((__int128)a.num * b.den - (__int128)b.num * a.den, (__int128)a.den * b.den); }
Rational operator*(Rational a, Rational b) { return make((__int128)a.num * b.num, (__int128)a.den * b.den); }
Rational operator/(Rational a, Rational b) { return make((__int128)a.num * b.den, (__int128)a.den * b.num); }
bool operator<(Rational a, Rational b) { return (__int128)a.num * b.den < (__int128)b.num * a.den; }

Rational parse_rational(std::string_view text) {
  auto fail = [&]() -> Error { return Error("cannot read \"" + std::string(text) + "\" as a number (write 3/4, 0.75 or 3)"); };
  if (text.empty() || text.size() > 30) throw fail();
  auto read_int = [&](std::string_view s, int64_t& out) {
    if (s.empty()) return false;
    __int128 v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
      if (v > kLimit) return false;
    }
    out = static_cast<int64_t>(v);
    return true;
  };
  bool negative = text[0] == '-';
  std::string_view body = negative ? text.substr(1) : text;
  int64_t n = 0, d = 1;
  if (auto slash = body.find('/'); slash != std::string_view::npos) {
    if (!read_int(body.substr(0, slash), n) || !read_int(body.substr(slash + 1), d) || d == 0) throw fail();
  } else if (auto dot = body.find('.'); dot != std::string_view::npos) {
    std::string_view whole = body.substr(0, dot), frac = body.substr(dot + 1);
    int64_t w = 0, f = 0;
    if (whole.empty() && frac.empty()) throw fail();
    if (!whole.empty() && !read_int(whole, w)) throw fail();
    if (!frac.empty() && !read_int(frac, f)) throw fail();
    if (frac.size() > 9) throw fail();
    int64_t scale = 1;
    for (size_t i = 0; i < frac.size(); ++i) scale *= 10;
    n = w * scale + f;
    d = scale;
  } else if (!read_int(body, n)) {
    throw fail();
  }
  return Rational(negative ? -n : n, d);
}

}  // namespace melodist
