// ABC writer. ABC is text a person reads and edits, so it is printed by hand (no library writes ABC);
// its layout comes from music/score.h, which the MusicXML and kern writers share.
#include "formats/abc_writer.h"

#include <cmath>
#include <cstdio>

namespace melodist {

namespace {

// "c'" "c" "C" "C," ...: C4..B4 upper case, C5..B5 lower case, one ' or , per further octave.
void put_pitch(std::string& out, const WrittenNote& n) {
  if (n.show_accidental) out += n.spelled.alter > 0 ? "^" : n.spelled.alter < 0 ? "_" : "=";
  const int o = n.spelled.octave;
  if (o >= 5) {
    out += static_cast<char>(n.spelled.letter - 'A' + 'a');
    for (int i = 5; i < o; ++i) out += '\'';
  } else {
    out += n.spelled.letter;
    for (int i = 4; i > o; --i) out += ',';
  }
}

// Length in units of L:1/8 (half a quarter): 1 nothing, 2 "2", 1/2 "/", 1/4 "/4", 3/2 "3/2".
void put_length(std::string& out, Rational written) {
  const Rational units = written * Rational(2);
  if (units == Rational(1)) return;
  if (units.den == 1) {
    out += std::to_string(units.num);
  } else {
    if (units.num != 1) out += std::to_string(units.num);
    out += '/';
    if (units.den != 2) out += std::to_string(units.den);
  }
}

Rational written_length(const WrittenNote& n) {
  Rational w = n.value;
  Rational add = n.value;
  for (int i = 0; i < n.dots; ++i) add = add * Rational(1, 2), w = w + add;
  return w;
}

// Beats for beaming: the dotted quarter in compound meters (6/8, 9/8, 12/8), else the denominator.
Rational beat_of(const TimeSignature& m) {
  if (m.denominator == 8 && m.numerator % 3 == 0 && m.numerator > 3) return Rational(3, 2);
  return Rational(4, m.denominator);
}

std::string format_bpm(double bpm) {
  char buf[32];
  if (std::abs(bpm - std::round(bpm)) < 1e-9) std::snprintf(buf, sizeof buf, "%.0f", bpm);
  else std::snprintf(buf, sizeof buf, "%.2f", bpm);
  return buf;
}

void put_measure(std::string& out, const Measure& m, Rational bar_start, Rational beat) {
  Rational t = m.start;
  for (size_t i = 0; i < m.notes.size(); ++i) {
    const WrittenNote& n = m.notes[i];
    // A space starts a new beam group: at every beat, and around notes of a quarter or longer.
    if (i > 0 && !n.tuplet) {
      const bool on_beat = ((t - bar_start) / beat).den == 1;
      if (on_beat || n.value >= Rational(1) || m.notes[i - 1].value >= Rational(1)) out += ' ';
    } else if (i > 0 && n.tuplet_start) {
      out += ' ';
    }
    if (n.tuplet_start) {
      if (n.tuplet_notes == 3) out += "(3";
      else out += "(3:2:" + std::to_string(n.tuplet_notes);
    }
    if (n.pitch == kRest) out += 'z';
    else put_pitch(out, n);
    put_length(out, written_length(n));
    if (n.tie_start && n.pitch != kRest) out += '-';
    t = t + n.duration;
  }
}

}  // namespace

std::string write_abc_tune(const Melody& melody, const NotationOptions& options, int number, const std::string& title) {
  const Score s = lay_out(melody, options);
  std::string out;
  out += "X:" + std::to_string(number) + "\n";
  out += "T:" + (title.empty() ? std::string("melodist") : title) + "\n";
  out += "M:" + std::to_string(s.meter.numerator) + "/" + std::to_string(s.meter.denominator) + "\n";
  out += "L:1/8\n";
  out += "Q:1/4=" + format_bpm(s.bpm) + "\n";
  out += "K:" + key_tonic_name(s.fifths, s.key.minor) + (s.key.minor ? "m" : "") + "\n";
  const Rational beat = beat_of(s.meter);
  constexpr int kBarsPerLine = 4;
  int full_bars_on_line = 0;
  for (size_t i = 0; i < s.measures.size(); ++i) {
    const Measure& m = s.measures[i];
    const Rational q = m.start / s.bar_length;
    const Rational bar_start = Rational(q.num / q.den) * s.bar_length;
    put_measure(out, m, bar_start, beat);
    if (i + 1 == s.measures.size()) {
      out += " |]\n";
    } else if (!m.pickup && ++full_bars_on_line == kBarsPerLine) {
      out += " |\n";
      full_bars_on_line = 0;
    } else {
      out += " | ";
    }
  }
  return out;
}

std::string write_abc_book(const std::vector<AbcBookTune>& tunes, const NotationOptions& options) {
  std::string out;
  for (size_t i = 0; i < tunes.size(); ++i) {
    if (i) out += "\n";
    out += write_abc_tune(*tunes[i].melody, options, static_cast<int>(i) + 1, tunes[i].title);
  }
  return out;
}

}  // namespace melodist
