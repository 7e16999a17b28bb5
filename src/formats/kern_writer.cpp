// kern writer: printed by hand (Humdrum is line text; no Debian library writes it), from the layout of
// music/score.h that the ABC and MusicXML writers share.
#include "formats/kern_writer.h"

#include <cmath>
#include <cstdio>

namespace melodist {

namespace {

// "c" = C4, "cc" = C5, "C" = C3, "CC" = C2; accidentals are absolute in kern (# -).
void put_pitch(std::string& out, const SpelledPitch& p) {
  const char lower = static_cast<char>(p.letter - 'A' + 'a');
  if (p.octave >= 4) out.append(static_cast<size_t>(p.octave - 3), lower);
  else out.append(static_cast<size_t>(4 - p.octave), p.letter);
  if (p.alter > 0) out += '#';
  else if (p.alter < 0) out += '-';
}

// Reciprocal duration: 4 / (sounding length without dots); triplet eighths (1/3 quarter) are 12.
void put_duration(std::string& out, const WrittenNote& n) {
  Rational undotted = n.duration;
  if (n.dots == 1) undotted = n.duration * Rational(2, 3);
  const Rational recip = Rational(4) / undotted;
  if (recip == Rational(1, 2)) out += '0';  // breve
  else if (recip.den == 1) out += std::to_string(recip.num);
  else out += std::to_string(recip.num) + "%" + std::to_string(recip.den);
  for (int i = 0; i < n.dots; ++i) out += '.';
}

std::string kern_key(int fifths, bool minor) {
  std::string name = key_tonic_name(fifths, minor);  // "Bb", "F#"
  std::string out;
  out += minor ? static_cast<char>(name[0] - 'A' + 'a') : name[0];
  if (name.size() > 1) out += name[1] == 'b' ? '-' : '#';
  return out;
}

std::string key_signature(int fifths) {
  static const char* kSharps[7] = {"f#", "c#", "g#", "d#", "a#", "e#", "b#"};
  static const char* kFlats[7] = {"b-", "e-", "a-", "d-", "g-", "c-", "f-"};
  std::string out = "*k[";
  for (int i = 0; i < fifths && i < 7; ++i) out += kSharps[i];
  for (int i = 0; i < -fifths && i < 7; ++i) out += kFlats[i];
  return out + "]";
}

}  // namespace

std::string write_kern(const Melody& melody, const NotationOptions& options, const std::string& title) {
  const Score s = lay_out(melody, options);
  std::string out;
  out += "!!!OTL: " + (title.empty() ? std::string("melodist") : title) + "\n";
  out += "**kern\n*clefG2\n";
  out += key_signature(s.fifths) + "\n";
  out += '*';
  out += kern_key(s.fifths, s.key.minor);
  out += ":\n*M";
  out += std::to_string(s.meter.numerator);
  out += '/';
  out += std::to_string(s.meter.denominator);
  out += '\n';
  char mm[32];
  if (std::abs(s.bpm - std::round(s.bpm)) < 1e-9) std::snprintf(mm, sizeof mm, "*MM%.0f\n", s.bpm);
  else std::snprintf(mm, sizeof mm, "*MM%.2f\n", s.bpm);
  out += mm;
  int number = 1;
  for (size_t i = 0; i < s.measures.size(); ++i) {
    const Measure& m = s.measures[i];
    if (i > 0) {
      out += '=';
      out += std::to_string(number++);
      out += '\n';
    }
    else if (!m.pickup) ++number;  // the first full bar is bar 1; its barline is not written
    for (const WrittenNote& n : m.notes) {
      const bool tie_start = n.pitch != kRest && n.tie_start, tie_stop = n.pitch != kRest && n.tie_stop;
      if (tie_start && !tie_stop) out += '[';
      put_duration(out, n);
      if (n.pitch == kRest) out += 'r';
      else put_pitch(out, n.spelled);
      if (tie_start && tie_stop) out += '_';
      else if (tie_stop) out += ']';
      out += '\n';
    }
  }
  out += "==\n*-\n";
  return out;
}

}  // namespace melodist
