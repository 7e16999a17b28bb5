// Humdrum **kern reader. One pass over the text, linear in its size (a 10 MB line costs 10 MB of
// work), no regular expressions. Spine bookkeeping follows the Humdrum syntax (tabs separate spines;
// *^ *v *x *+ *- change them); only the FIRST **kern spine is read, every other spine is skipped.
//
// Token grammar for a note or rest of the first **kern spine (order of signifiers is free, as in kern):
//   duration   digits [ '.' digits ] [ '%' digits ] then any number of augmentation dots '.'
//              "4" quarter, "8." dotted eighth, "2.." double-dotted half, "3" triplet half (4/3 quarter),
//              "0" breve (8 quarters), "00" longa (16), "000" maxima (32), "3%2" = "1.5" (8/3 quarter)
//   pitch      one run of one letter: c = C4 (MIDI 60), cc = C5, C = C3, CC = C2; then # - n (stacking)
//   rest       r (rr: whole-measure rest; pitch letters on a rest only place it on the staff)
//   grace      q or Q: the note has no length (duration 0), with or without a written duration
//   ties       [ start, _ middle, ] end
//   ignored    every other ASCII letter and {}()&;:,'"`~^/\<>?@+|$ (phrases, slurs, beams L J K k,
//              articulations ' ~ ^ ` ", ornaments t T M m W w S $ R O, stems / \, editorial x X y Y ...)
#include "formats/kern_reader.h"

#include <cstring>
#include <vector>

#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

// A token quoted in an error message: long tokens are cut (a 10 MB line must give a one-line message),
// bytes outside printable ASCII are shown as \xNN so the message stays valid UTF-8 for JSON.
std::string quote_token(std::string_view token) {
  constexpr size_t kShown = 40;
  std::string out = "\"";
  size_t shown = token.size() > 60 ? kShown : token.size();
  for (size_t i = 0; i < shown; ++i) {
    unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < token.size()) out += "...\" (" + std::to_string(token.size()) + " characters)";
  else out += "\"";
  return out;
}

bool is_pitch_letter(char c) { return (c >= 'a' && c <= 'g') || (c >= 'A' && c <= 'G'); }

int letter_pitch_class(char c) {
  static const int kPc[7] = {9, 11, 0, 2, 4, 5, 7};  // a b c d e f g
  char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return kPc[lower - 'a'];
}

// Signifiers that are read and do not change the encoding.
bool is_ignored_signifier(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;  // letters with meaning are tested first
  return std::strchr("{}()&;:,'\"`~^/\\<>?@+|$", c) != nullptr && c != '\0';
}

struct NoteToken {
  bool rest = false;
  bool grace = false;
  bool tied_to_next = false;
  int pitch = kRest;
  Rational duration;
};

enum class TokenProblem { none, generic, no_duration, pitch_range };

// Parses one note/rest token. Linear in the token's length.
TokenProblem parse_note(std::string_view tok, NoteToken& out) {
  const size_t n = tok.size();
  char letter = 0;
  size_t letter_count = 0, letter_end = 0;
  int sharps = 0, flats = 0, naturals = 0;
  bool rest = false, grace = false, tie_start = false, tie_mid = false, tie_end = false;
  bool have_duration = false;
  std::string_view digits, fraction, divisor;
  int dots = 0;
  for (size_t i = 0; i < n;) {
    char c = tok[i];
    if (c >= '0' && c <= '9') {
      if (have_duration) return TokenProblem::generic;  // two durations in one token
      have_duration = true;
      size_t j = i;
      while (j < n && tok[j] >= '0' && tok[j] <= '9') ++j;
      digits = tok.substr(i, j - i);
      if (j + 1 < n && tok[j] == '.' && tok[j + 1] >= '0' && tok[j + 1] <= '9') {  // "1.5": decimal reciprocal
        size_t k = j + 1;
        while (k < n && tok[k] >= '0' && tok[k] <= '9') ++k;
        fraction = tok.substr(j + 1, k - j - 1);
        j = k;
      }
      if (j + 1 < n && tok[j] == '%' && tok[j + 1] >= '0' && tok[j + 1] <= '9') {  // "3%2": rational reciprocal
        size_t k = j + 1;
        while (k < n && tok[k] >= '0' && tok[k] <= '9') ++k;
        divisor = tok.substr(j + 1, k - j - 1);
        j = k;
      }
      i = j;
      continue;
    }
    if (c == '.') {
      if (!have_duration) return TokenProblem::generic;
      ++dots;
    } else if (is_pitch_letter(c)) {
      if (letter_count == 0) {
        letter = c;
      } else if (c != letter || letter_end != i) {
        return TokenProblem::generic;  // a second pitch, or mixed case ("cC", "cd")
      }
      ++letter_count;
      letter_end = i + 1;
    } else if (c == 'r') {
      rest = true;
    } else if (c == '#' || c == '-' || c == 'n') {
      if (letter_count == 0) return TokenProblem::generic;  // accidental before the pitch
      (c == '#' ? sharps : c == '-' ? flats : naturals) += 1;
    } else if (c == 'q' || c == 'Q') {
      grace = true;
    } else if (c == '[') {
      tie_start = true;
    } else if (c == '_') {
      tie_mid = true;
    } else if (c == ']') {
      tie_end = true;
    } else if (!is_ignored_signifier(c)) {
      return TokenProblem::generic;
    }
    ++i;
  }
  if (!rest && letter_count == 0) return TokenProblem::generic;
  if ((sharps > 0) + (flats > 0) + (naturals > 0) > 1) return TokenProblem::generic;  // "#-" contradicts itself
  if (!have_duration && !grace) return TokenProblem::no_duration;

  Rational duration(0);
  if (have_duration && !grace) {
    if (digits.size() > 9 || fraction.size() > 6 || divisor.size() > 9 || dots > 12) return TokenProblem::generic;
    try {
      if (digits.find_first_not_of('0') == std::string_view::npos) {  // 0 breve, 00 longa, 000 maxima
        if (!fraction.empty() || !divisor.empty() || digits.size() > 3) return TokenProblem::generic;
        duration = Rational(int64_t{8} << (digits.size() - 1));
      } else {
        int64_t whole = 0, frac = 0, scale = 1, div = 1;
        for (char d : digits) whole = whole * 10 + (d - '0');
        for (char d : fraction) frac = frac * 10 + (d - '0'), scale *= 10;
        if (!divisor.empty()) {
          div = 0;
          for (char d : divisor) div = div * 10 + (d - '0');
          if (div == 0) return TokenProblem::generic;
        }
        Rational reciprocal = Rational(whole * scale + frac, scale) / Rational(div);  // notes per whole note
        if (reciprocal.num == 0) return TokenProblem::generic;
        duration = Rational(4) / reciprocal;
      }
      // k dots: base * (2 - 1/2^k)
      if (dots > 0) duration = duration * Rational((int64_t{2} << dots) - 1, int64_t{1} << dots);
    } catch (const Error&) {
      return TokenProblem::generic;  // a duration too large or too finely divided for exact arithmetic
    }
  }

  out = NoteToken{};
  out.rest = rest;
  out.grace = grace;
  out.duration = duration;
  out.tied_to_next = (tie_start || tie_mid) && !tie_end;
  if (!rest) {
    if (letter_count > 11) return TokenProblem::pitch_range;
    int count = static_cast<int>(letter_count);
    bool lower = letter >= 'a';
    int octave = lower ? 4 + (count - 1) : 3 - (count - 1);
    int pitch = 12 * (octave + 1) + letter_pitch_class(letter) + sharps - flats;
    if (pitch < 0 || pitch > 127) return TokenProblem::pitch_range;
    out.pitch = pitch;
  }
  return TokenProblem::none;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s) if (c < '0' || c > '9') return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Tandem interpretations of the first **kern spine that matter: *k[..], *G: / *g:, *M3/4, *MM120.
void read_interpretation(std::string_view tok, Melody& melody) {
  if (starts_with(tok, "*k[")) {
    if (melody.key_signature_fifths) return;
    size_t close = tok.find(']');
    if (close == std::string_view::npos) return;
    std::string_view body = tok.substr(3, close - 3);
    int fifths = 0;
    for (char c : body) {
      if (c == '#') ++fifths;
      else if (c == '-') --fifths;
      else if (!is_pitch_letter(c)) return;  // not a key signature we understand: ignore it
    }
    melody.key_signature_fifths = fifths;
    return;
  }
  if (starts_with(tok, "*MM")) {
    if (melody.tempo_bpm) return;
    std::string_view v = tok.substr(3);
    size_t dot = v.find('.');
    std::string_view whole = v.substr(0, dot);
    if (!all_digits(whole)) return;
    double bpm = to_int(whole);
    if (dot != std::string_view::npos) {
      std::string_view frac = v.substr(dot + 1);
      if (!all_digits(frac)) return;
      double scale = 1;
      for (char c : frac) scale /= 10, bpm += (c - '0') * scale;
    }
    if (bpm > 0) melody.tempo_bpm = bpm;
    return;
  }
  if (starts_with(tok, "*M")) {
    if (melody.time_signature) return;
    std::string_view v = tok.substr(2);
    size_t slash = v.find('/');
    if (slash == std::string_view::npos) return;
    std::string_view num = v.substr(0, slash), den = v.substr(slash + 1);
    if (!all_digits(num) || !all_digits(den) || to_int(num) == 0 || to_int(den) == 0) return;
    melody.time_signature = TimeSignature{to_int(num), to_int(den)};
    return;
  }
  // Key designation: *G: *g: *B-: *f#: (a mode suffix such as *G:dor keeps the case's major/minor).
  if (tok.size() >= 3 && is_pitch_letter(tok[1])) {
    size_t i = 2;
    int alter = 0;
    while (i < tok.size() && (tok[i] == '#' || tok[i] == '-')) alter += tok[i] == '#' ? 1 : -1, ++i;
    if (i >= tok.size() || tok[i] != ':' || i > 6) return;
    if (melody.key) return;  // only the FIRST designation counts; later ones are modulations
    Key key;
    key.minor = tok[1] >= 'a';
    key.tonic_pitch_class = ((letter_pitch_class(tok[1]) + alter) % 12 + 12) % 12;
    key.spelling = std::string(tok.substr(1, i - 1));
    melody.key = key;
  }
}

enum SpineKind : unsigned char { kOther = 0, kMelody = 1 };

// Refuses binary data: a NUL byte, or more than kMaxControl control characters (other than tab, CR, LF).
// A few stray ones are typing accidents (deutschl/erk/deut1328.krn line 44 holds "4.B<backspace>8G");
// inside a note token the token is read up to the control character, as music21 (the reference's
// reader) does, and a warning names the line. Returns the number of control characters.
int check_not_binary(std::string_view text, const std::string& path) {
  constexpr int kMaxControl = 8;
  int control = 0;
  size_t first_control = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      if (first_control == std::string_view::npos) first_control = i;
      if (c == 0 || ++control > kMaxControl) {
        size_t at = c == 0 ? i : first_control;
        int line = 1;
        for (size_t j = 0; j < at; ++j) line += text[j] == '\n';
        char buf[80];
        std::snprintf(buf, sizeof buf, "binary data (byte 0x%02X), not a Humdrum text file",
                      static_cast<unsigned char>(text[at]));
        throw file_error(path, line, buf);
      }
    }
  }
  return control;
}

// An interpretation record (every field starts with "*"): the spines after it (splits *^, joins *v,
// exchanges *x, new spines *+, ends *-) into `next`, and the melody spine's own interpretations
// (meter, key, ...) into `melody` until it ends.
void read_interpretation_record(const std::vector<std::string_view>& fields, const std::vector<SpineKind>& spines,
                                std::vector<SpineKind>& next, Melody& melody, bool& melody_ended, const std::string& path,
                                int line_number) {
  next.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string_view f = fields[i];
    if (f.empty() || f[0] != '*') throw file_error(path, line_number, "cannot read token " + quote_token(f) + " in an interpretation record");
    bool mine = spines[i] == kMelody;
    if (f == "*-") {
      if (mine) melody_ended = true;
    } else if (f == "*^") {
      if (mine) throw file_error(path, line_number, "the first **kern spine splits (*^); melodist reads one melody line");
      next.push_back(kOther);
      next.push_back(kOther);
    } else if (f == "*v") {
      size_t j = i;
      bool joins_mine = false;
      while (j < fields.size() && fields[j] == "*v") joins_mine = joins_mine || spines[j] == kMelody, ++j;
      if (joins_mine && j - i > 1)
        throw file_error(path, line_number, "the first **kern spine joins another spine (*v); melodist reads one melody line");
      next.push_back(joins_mine ? kMelody : kOther);
      i = j - 1;
    } else if (f == "*x" && i + 1 < fields.size() && fields[i + 1] == "*x") {
      next.push_back(spines[i + 1]);
      next.push_back(spines[i]);
      ++i;
    } else if (f == "*+") {
      next.push_back(spines[i]);
      next.push_back(kOther);
    } else {
      if (mine && !melody_ended) read_interpretation(f, melody);
      next.push_back(spines[i]);
    }
  }
}

}  // namespace

Melody parse_kern(std::string_view text, const std::string& path) {
  const int control = check_not_binary(text, path);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) throw file_error(path, 0, "empty file");

  Melody melody;
  std::vector<SpineKind> spines, next;
  std::vector<std::string_view> fields;
  bool started = false, melody_ended = false, all_ended = false;
  bool pending_barline = false;  // a barline record since the last note or rest
  Rational elapsed(0);           // quarters before the next event
  bool timed = true;             // false once elapsed would overflow
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size() && !all_ended) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are tolerated
    if (starts_with(line, "!!")) continue;                                   // global comments, reference records

    // Count the fields before splitting: a line of 10 million tabs must not build 10 million views.
    size_t field_count = 1;
    for (char c : line) field_count += c == '\t';
    if (started && field_count != spines.size()) {
      throw file_error(path, line_number, "expected " + std::to_string(spines.size()) +
                                              " tab-separated field(s), one per spine, found " +
                                              std::to_string(field_count));
    }
    fields.clear();
    for (size_t start = 0;;) {
      size_t tab = line.find('\t', start);
      if (!started && !starts_with(line.substr(start, 2), "**")) throw file_error(path, 0, "no **kern spine");
      fields.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }

    if (!started) {
      // The first record that is not a comment names the spines: **kern **text ...
      bool found = false;
      for (auto f : fields) {
        bool kern = f == "**kern" && !found;
        spines.push_back(kern ? kMelody : kOther);
        found = found || kern;
      }
      if (!found) throw file_error(path, 0, "no **kern spine");
      started = true;
      continue;
    }

    size_t melody_col = spines.size();
    for (size_t i = 0; i < spines.size(); ++i)
      if (spines[i] == kMelody) melody_col = i;

    char kind = fields[0].empty() ? ' ' : fields[0][0];
    if (kind == '!') continue;  // local comments
    if (kind == '*') {
      read_interpretation_record(fields, spines, next, melody, melody_ended, path, line_number);
      spines.swap(next);
      if (spines.empty()) all_ended = true;
      continue;
    }
    if (kind == '=') {  // barlines: remembered at the time they occur, kept when a note or rest follows
      if (melody_col < spines.size() && !melody_ended) pending_barline = true;
      continue;
    }
    if (melody_col == spines.size() || melody_ended) continue;

    std::string_view tok = fields[melody_col];
    if (tok == ".") continue;  // null token: the note sounding before goes on
    if (tok.find(' ') != std::string_view::npos) {
      throw file_error(path, line_number, "chord " + quote_token(tok) + " in the first **kern spine; melodist reads one melody line");
    }
    if (control > 0) {
      size_t cut = 0;
      while (cut < tok.size() && static_cast<unsigned char>(tok[cut]) >= 0x20 && tok[cut] != 0x7f) ++cut;
      if (cut < tok.size()) {
        melody.warnings.push_back("line " + std::to_string(line_number) + ": control character in token " +
                                  quote_token(tok) + ", read as " + quote_token(tok.substr(0, cut)));
        tok = tok.substr(0, cut);
      }
    }
    NoteToken note;
    switch (parse_note(tok, note)) {
      case TokenProblem::none: break;
      case TokenProblem::generic: throw file_error(path, line_number, "cannot read token " + quote_token(tok));
      case TokenProblem::no_duration:
        throw file_error(path, line_number, "cannot read token " + quote_token(tok) + ": note without duration");
      case TokenProblem::pitch_range:
        throw file_error(path, line_number, "cannot read token " + quote_token(tok) + ": pitch outside MIDI 0..127");
    }
    MelodyEvent event;
    event.pitch = note.pitch;
    event.duration = note.duration;
    event.tied_to_next = note.tied_to_next && !note.rest;
    event.line = line_number;
    if (pending_barline && timed && (melody.barlines.empty() || melody.barlines.back() != elapsed))
      melody.barlines.push_back(elapsed);
    pending_barline = false;
    try {
      if (timed) elapsed += event.duration;
    } catch (const Error&) {  // a song too long to time (the encoder rejects it anyway): no barlines
      timed = false;
      melody.barlines.clear();
    }
    melody.events.push_back(event);
  }
  if (!started) throw file_error(path, 0, "no **kern spine");
  if (!all_ended) throw file_error(path, line_number, "truncated file: the spines do not end with *-");
  return melody;
}

Melody read_kern_file(const std::string& path) {
  std::string text = read_file(path);
  return parse_kern(text, path);
}

}  // namespace melodist
