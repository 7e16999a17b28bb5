// ABC 2.1 reader. Written by hand: Debian has no C/C++ ABC parsing library (abcmidi and abcm2ps are
// programs, not libraries). Two passes per tune, each linear in the tune's size:
//   1. read: header fields, then the body line by line into a written sequence of Items per voice
//      (notes and rests with their pitch and exact length, bar lines with their repeat and ending marks,
//      part labels). Pitches and lengths are resolved here, in written order, as abc2midi does.
//   2. perform: the chosen voice's items in played order (P: part order, repeats, endings).
//
// Body grammar (one line at a time; a tune's body ends at a blank line):
//   note      [accidental] letter [octave marks] [length]   accidental ^ ^^ _ __ =; letter A-G a-g
//             (C = MIDI 60, c = 72); octave ' up, , down; length [digits] then "/" [digits] or "//"...
//   rest      z x (a rest of that length), Z X [digits] (that many bars of the current meter)
//   chord     "[" notes "]" [length]: the highest note, length of the first note times the chord's
//   tuplet    "(" p [":" [q] [":" [r]]]: the next r notes (default p) take q/p of their length; q defaults
//             to 3 for p = 2, 4, 8, to 2 for p = 3, 6, and for 5, 7, 9 to 3 in compound meter, else 2
//   broken    > >> >>> (first note dotted, double, triple dotted; the second shortened to match), < << <<<
//   tie       - after a note: tied to the next note (kept only when the next note has the same pitch)
//   bar       | || |] [| |: :| :: :|: and an ending number list after it ("|1", ":|2", "|1,3", "[2")
//   skipped   "..." chord symbols and annotations, !..! +..+ decorations, . ~ H L M O P S T u v,
//             {..} grace notes, ( ) slurs, y spacers, ` and $ layout, \ line continuation, % comments
//   fields    [X:...] inline, or a line "X:..." (K M L P V Q change the music; the others are skipped)
#include "formats/abc_reader.h"

#include <array>
#include <cstring>
#include <map>

#include "formats/meter_symbol.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

constexpr size_t kMaxEvents = size_t{1} << 20;   // performed notes: expanded repeats are bounded
constexpr int kMaxNumber = 100000;                // lengths, tuplet and bar counts

// A field letter of the 2.1 standard (section 3.1) or "+" (field continuation).
bool is_standard_field(char c) { return std::strchr("ABCDFGHIKLMmNOPQRrSsTUVWwXZ+", c) != nullptr && c != 0; }

bool is_field_start(std::string_view line) {
  return line.size() >= 2 && line[1] == ':' &&
         ((line[0] >= 'A' && line[0] <= 'Z') || (line[0] >= 'a' && line[0] <= 'z') || line[0] == '+');
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Cuts a "%" comment (a "\%" is an escaped percent sign, kept).
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i)
    if (line[i] == '%' && (i == 0 || line[i - 1] != '\\')) return line.substr(0, i);
  return line;
}

std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) {
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

bool read_int(std::string_view s, int& value) {
  if (s.empty() || s.size() > 6) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

// The letters' pitch classes, c d e f g a b in the order of the letter index used below (0 = C).
constexpr std::array<int, 7> kLetterPc = {0, 2, 4, 5, 7, 9, 11};
int letter_index(char c) {
  char l = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  static const char* kLetters = "CDEFGAB";
  const char* p = std::strchr(kLetters, l);
  return p && l ? static_cast<int>(p - kLetters) : -1;
}

struct KeyInfo {
  std::optional<Key> key;                 // none for K:none
  std::string mode;                       // "dorian", ... ("" for major and minor)
  int fifths = 0;
  std::array<int, 7> alter{};             // per letter C..B: -2..2
};

// Sharps order F C G D A E B; flats the reverse.
std::array<int, 7> alterations_of(int fifths) {
  std::array<int, 7> a{};
  static const int kSharpOrder[7] = {3, 0, 4, 1, 5, 2, 6};  // F C G D A E B as letter indices
  for (int i = 0; i < fifths && i < 7; ++i) a[kSharpOrder[i]] = 1;
  for (int i = 0; i < -fifths && i < 7; ++i) a[kSharpOrder[6 - i]] = -1;
  return a;
}

struct Meter {
  bool free = true;  // M:none (or no M:)
  int num = 4, den = 4;
};

struct Item {
  enum Kind { note, bar, part } kind = note;
  int pitch = kRest;
  Rational duration;
  bool tied = false;
  int line = 0;
  // bar
  bool repeat_end = false, repeat_start = false, section_end = false;
  uint32_t endings = 0;  // bit n: ending n (1..31)
  bool ending_only = false;  // "[2" with no bar line before it
  char label = 0;        // part
};

struct Voice {
  std::string id;
  std::vector<Item> items;
  KeyInfo key;
  Rational unit;
  Meter meter;
  std::array<int, 7> bar_alter{};
  std::array<bool, 7> bar_set{};
  int tuplet_left = 0;
  Rational tuplet_factor{1};
  int tuplet_line = 0;
  Rational broken_next{1};   // factor for the next note (broken rhythm)
  int broken_line = 0;
  int last_note = -1;        // index in items of the last note or rest, for broken rhythm and ties
};

class TuneReader {
 public:
  TuneReader(const AbcTune& tune, const AbcReadOptions& options, const std::string& path)
      : tune_(tune), options_(options), path_(path) {}
  Melody read();

 private:
  [[noreturn]] void fail(int line, const std::string& message) const {
    throw file_error(path_, line, "tune X:" + std::to_string(tune_.number) + ": " + message);
  }
  void header_field(char letter, std::string_view value, int line);
  void body_field(char letter, std::string_view value, int line, bool inline_field);
  void body_line(std::string_view text, int line);
  KeyInfo parse_key(std::string_view value, int line);
  Meter parse_meter(std::string_view value, int line);
  Rational parse_unit(std::string_view value, int line);
  void parse_tempo(std::string_view value);
  Rational parse_length(std::string_view text, size_t& i, int line);
  int parse_pitch(std::string_view text, size_t& i, int line, int& pitch);
  void add_note(int pitch, Rational duration, int line);
  void add_bar(std::string_view text, size_t& i, int line);
  uint32_t parse_endings(std::string_view text, size_t& i, int line);
  void parse_tuplet(std::string_view text, size_t& i, int line);
  Voice& voice();
  void switch_voice(std::string_view id);
  void end_bar(Voice& v) { v.bar_set.fill(false); }
  void perform(const std::vector<Item>& items, size_t begin, size_t end, Melody& melody, Rational& time);
  // join_bars_split_by_jumps at jumps_, with the tune's first meter (a later M: changes the bars after
  // it, and rarely falls at a repeat with a pickup).
  void join_split_bars(Melody& melody) const {
    if (!melody.time_signature) return;
    const Rational bar = bar_length(*melody.time_signature);
    std::vector<BarJump> jumps;
    for (const Rational& t : jumps_) jumps.push_back({t, bar});
    join_bars_split_by_jumps(melody, jumps);
  }

  const AbcTune& tune_;
  const AbcReadOptions& options_;
  const std::string& path_;
  Melody melody_;
  // header state, copied into each voice when it first appears
  KeyInfo key_;
  Rational unit_{0};
  Meter meter_;
  bool unit_given_ = false;
  std::string part_order_;
  int part_order_line_ = 0;
  std::vector<Voice> voices_;
  std::map<std::string, size_t> voice_index_;
  size_t current_ = SIZE_MAX;
  bool meter_set_ = false;
  std::vector<Rational> jumps_;  // times where perform left the written order (join_bars_split_by_jumps)
};

// The standard's rule, in quarter notes: 1/16 of a whole note below 3/4 meter, else 1/8 (also without a meter).
Rational default_unit(const Meter& m) {
  if (m.free) return Rational(1, 2);
  return Rational(m.num, m.den) < Rational(3, 4) ? Rational(1, 4) : Rational(1, 2);
}

Voice& TuneReader::voice() {
  if (current_ == SIZE_MAX) switch_voice("");
  return voices_[current_];
}

void TuneReader::switch_voice(std::string_view id) {
  std::string key(id);
  auto it = voice_index_.find(key);
  if (it == voice_index_.end()) {
    Voice v;
    v.id = key;
    v.key = key_;
    v.unit = unit_;
    v.meter = meter_;
    it = voice_index_.emplace(key, voices_.size()).first;
    voices_.push_back(std::move(v));
  }
  current_ = it->second;
}

KeyInfo TuneReader::parse_key(std::string_view value, int line) {
  value = trim(value);
  KeyInfo info;
  size_t i = 0;
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  auto word_end = [&](size_t from) {
    size_t j = from;
    while (j < value.size() && value[j] != ' ' && value[j] != '\t') ++j;
    return j;
  };
  std::string first(value.substr(0, word_end(0)));
  std::string first_lower;
  for (char c : first) first_lower += lower(c);
  bool has_tonic = !value.empty() && letter_index(value[0]) >= 0 && value[0] >= 'A' && value[0] <= 'G';
  if (first_lower == "none" || value.empty() || first_lower.rfind("clef=", 0) == 0) {
    i = first_lower == "none" ? first.size() : 0;
  } else if (first == "HP" || first == "Hp") {  // Highland bagpipe: HP no signature, Hp F# C# (G natural)
    Key k;
    k.tonic_pitch_class = 2;
    k.spelling = "D";
    info.mode = "mixolydian";
    info.key = k;
    info.fifths = first == "Hp" ? 2 : 0;
    info.alter = alterations_of(info.fifths);
    i = first.size();
  } else if (has_tonic) {
    int letter = letter_index(value[0]);
    i = 1;
    int alter = 0;
    if (i < value.size() && (value[i] == '#' || value[i] == 'b')) alter = value[i] == '#' ? 1 : -1, ++i;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    // Mode: the first three letters of a mode name, any case; "m" alone is minor.
    size_t mode_end = i;
    while (mode_end < value.size() && ((value[mode_end] >= 'a' && value[mode_end] <= 'z') ||
                                       (value[mode_end] >= 'A' && value[mode_end] <= 'Z')))
      ++mode_end;
    std::string mode_word;
    for (size_t j = i; j < mode_end; ++j) mode_word += lower(value[j]);
    static const struct { const char* prefix; const char* name; int offset; bool minor; } kModes[] = {
        {"maj", "", 0, false},        {"ion", "ionian", 0, false},  {"mix", "mixolydian", -1, false},
        {"dor", "dorian", -2, true},  {"aeo", "aeolian", -3, true}, {"min", "", -3, true},
        {"phr", "phrygian", -4, true}, {"loc", "locrian", -5, true}, {"lyd", "lydian", 1, false}};
    int offset = 0;
    bool minor = false;
    std::string mode_name;
    bool known = mode_word.empty();
    if (mode_word == "m") known = true, offset = -3, minor = true;
    for (const auto& m : kModes)
      if (!known && mode_word.size() >= 3 && mode_word.compare(0, 3, m.prefix) == 0)
        known = true, offset = m.offset, minor = m.minor, mode_name = m.name;
    if (!known) {
      // Not a mode: a word such as "exp" or "clef=..." follows; only those two are allowed here.
      if (mode_word != "exp" && value.substr(i, 5) != "clef=" && mode_word != "treble" && mode_word != "bass" &&
          mode_word != "alto" && mode_word != "tenor" && mode_word != "transpose" && mode_word != "octave" &&
          mode_word != "middle" && mode_word != "stafflines")
        fail(line, "cannot read key \"" + shown(value) + "\"");
    } else {
      i = mode_end;
    }
    static const int kMajorFifths[7] = {0, 2, 4, -1, 1, 3, 5};  // C D E F G A B
    info.fifths = kMajorFifths[letter] + 7 * alter + offset;
    Key k;
    k.tonic_pitch_class = ((kLetterPc[static_cast<size_t>(letter)] + alter) % 12 + 12) % 12;
    k.minor = minor;
    info.mode = mode_name;
    k.spelling = std::string(1, minor ? lower(value[0]) : value[0]);
    if (alter) k.spelling += alter > 0 ? '#' : '-';
    info.key = k;
    if (info.fifths < -7 || info.fifths > 7) fail(line, "key \"" + shown(value) + "\" has more than 7 sharps or flats");
    info.alter = alterations_of(info.fifths);
  } else if (value[0] != '^' && value[0] != '_' && value[0] != '=') {
    fail(line, "cannot read key \"" + shown(value) + "\"");
  }
  // Then explicit accidentals ("K:D ^g _b", "K:D exp ^f"), clef and other words (skipped).
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    if (i >= value.size()) break;
    size_t end = word_end(i);
    std::string_view w = value.substr(i, end - i);
    if (w == "exp") info.alter.fill(0);  // "exp": only the accidentals that follow
    if (w[0] == '^' || w[0] == '_' || w[0] == '=') {
      int a = 0;
      size_t j = 0;
      while (j < w.size() && (w[j] == '^' || w[j] == '_' || w[j] == '=')) a += w[j] == '^' ? 1 : w[j] == '_' ? -1 : 0, ++j;
      if (j + 1 != w.size() || letter_index(w[j]) < 0 || j > 2) fail(line, "cannot read key accidental \"" + shown(w) + "\"");
      info.alter[static_cast<size_t>(letter_index(w[j]))] = a;
    }
    i = end;
  }
  return info;
}

Meter TuneReader::parse_meter(std::string_view value, int line) {
  value = trim(value);
  Meter m;
  if (value.empty() || value == "none") return m;
  m.free = false;
  if (value == "C") return m.num = 4, m.den = 4, m;
  if (value == "C|") return m.num = 2, m.den = 2, m;
  size_t slash = value.find('/');
  if (slash == std::string_view::npos) fail(line, "cannot read meter \"" + shown(value) + "\"");
  std::string_view top = value.substr(0, slash), bottom = trim(value.substr(slash + 1));
  if (!top.empty() && top.front() == '(' && top.back() == ')') top = top.substr(1, top.size() - 2);
  int sum = 0;
  for (size_t start = 0;;) {  // "2+3+2/8": the numerators add up
    size_t plus = top.find('+', start);
    int part = 0;
    if (!read_int(trim(top.substr(start, plus == std::string_view::npos ? std::string_view::npos : plus - start)), part))
      fail(line, "cannot read meter \"" + shown(value) + "\"");
    sum += part;
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  int den = 0;
  if (!read_int(bottom, den) || den == 0 || sum == 0 || sum > 1000 || den > 1000)
    fail(line, "cannot read meter \"" + shown(value) + "\"");
  m.num = sum;
  m.den = den;
  return m;
}

Rational TuneReader::parse_unit(std::string_view value, int line) {
  value = trim(value);
  int num = 0, den = 1;
  size_t slash = value.find('/');
  bool ok = slash == std::string_view::npos ? read_int(value, num)
                                            : read_int(trim(value.substr(0, slash)), num) && read_int(trim(value.substr(slash + 1)), den);
  if (!ok || num == 0 || den == 0) fail(line, "bad unit note length L:" + shown(value));
  return Rational(4 * num, den);  // in quarter notes
}

void TuneReader::parse_tempo(std::string_view value) {
  // "1/4=120", "3/8=100", "120" (in unit lengths), with optional quoted text: quarter notes per minute.
  value = trim(value);
  std::string v;
  bool in_quote = false;
  for (char c : value) {
    if (c == '"') in_quote = !in_quote;
    else if (!in_quote && c != ' ') v += c;
  }
  size_t eq = v.find('=');
  int bpm = 0;
  if (!read_int(eq == std::string::npos ? std::string_view(v) : std::string_view(v).substr(eq + 1), bpm) || bpm == 0) return;
  Rational beat = (unit_.num ? unit_ : Rational(1, 2)) / Rational(4);  // whole notes
  if (eq != std::string::npos) {
    size_t slash = v.find('/');
    int n = 0, d = 0;
    if (slash == std::string::npos || slash > eq || !read_int(std::string_view(v).substr(0, slash), n) ||
        !read_int(std::string_view(v).substr(slash + 1, eq - slash - 1), d) || n == 0 || d == 0)
      return;
    beat = Rational(n, d);
  }
  if (!melody_.tempo_bpm) melody_.tempo_bpm = bpm * beat.to_double() * 4;
}

void TuneReader::header_field(char letter, std::string_view value, int line) {
  switch (letter) {
    case 'K': key_ = parse_key(value, line); break;
    case 'M':
      meter_ = parse_meter(value, line);
      if (!meter_set_ && !meter_.free) melody_.time_signature = TimeSignature{meter_.num, meter_.den};
      meter_set_ = true;
      break;
    case 'L': unit_ = parse_unit(value, line), unit_given_ = true; break;
    case 'Q': parse_tempo(value); break;
    case 'P': part_order_ = std::string(trim(value)), part_order_line_ = line; break;
    case 'V': {
      std::string_view id = trim(value);
      id = id.substr(0, id.find_first_of(" \t"));
      if (!voice_index_.count(std::string(id))) {
        size_t keep = current_;
        switch_voice(id);
        current_ = keep;
      }
      break;
    }
    default:
      if (!is_standard_field(letter))
        melody_.warnings.push_back("line " + std::to_string(line) + ": tune X:" + std::to_string(tune_.number) +
                                   ": unknown field " + std::string(1, letter) + ": skipped");
  }
}

void TuneReader::body_field(char letter, std::string_view value, int line, bool inline_field) {
  switch (letter) {
    case 'K': voice().key = parse_key(value, line); break;
    case 'M': {
      Meter m = parse_meter(value, line);
      voice().meter = m;
      if (!unit_given_) voice().unit = default_unit(m);  // abc2midi: without L:, a new meter sets the unit
      if (!melody_.time_signature && !m.free) melody_.time_signature = TimeSignature{m.num, m.den};
      break;
    }
    case 'L': voice().unit = parse_unit(value, line); break;
    case 'Q': parse_tempo(value); break;
    case 'P': {
      std::string_view label = trim(value);
      if (!label.empty()) {
        Item it;
        it.kind = Item::part;
        it.label = label[0];
        it.line = line;
        voice().items.push_back(it);
      }
      break;
    }
    case 'V': {
      std::string_view id = trim(value);
      switch_voice(id.substr(0, id.find_first_of(" \t")));
      break;
    }
    default:
      if (!is_standard_field(letter) || letter == 'X')
        fail(line, std::string("unknown field ") + (inline_field ? "[" : "") + letter + ":" + " in the tune body");
  }
}

// Length after a note: [digits] ("/" [digits] | "/"+). Returns the multiplier of the unit length.
Rational TuneReader::parse_length(std::string_view text, size_t& i, int line) {
  auto digits = [&](int& value) {
    size_t start = i;
    int v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i] - '0');
      value = v;
      if (value > kMaxNumber) fail(line, "bad length \"" + shown(text.substr(start)) + "\" (too long)");
      ++i;
    }
    return i > start;
  };
  size_t start = i;
  int num = 1, den = 1;
  bool has_num = digits(num);
  if (has_num && num == 0) fail(line, "bad length \"" + shown(text.substr(start, i - start)) + "\" (zero)");
  if (i < text.size() && text[i] == '/') {
    ++i;
    int d = 0;
    if (digits(d)) {
      if (d == 0) fail(line, "bad length \"" + shown(text.substr(start, i - start)) + "\" (divided by zero)");
      den = d;
      if (i < text.size() && text[i] == '/') fail(line, "bad length \"" + shown(text.substr(start, i - start + 1)) + "\"");
    } else {
      den = 2;
      while (i < text.size() && text[i] == '/') {
        den *= 2, ++i;
        if (den > 1024) fail(line, "bad length \"" + shown(text.substr(start, i - start)) + "\"");
      }
      if (i < text.size() && text[i] >= '0' && text[i] <= '9') fail(line, "bad length \"" + shown(text.substr(start, i - start + 1)) + "\"");
    }
  }
  return Rational(num, den);
}

// [accidental] letter [octave marks]; returns 0 on success. Sets the bar's accidental for that letter.
int TuneReader::parse_pitch(std::string_view text, size_t& i, int line, int& pitch) {
  Voice& v = voice();
  int accidental = 0;
  bool has_accidental = false;
  size_t start = i;
  while (i < text.size() && (text[i] == '^' || text[i] == '_' || text[i] == '=')) {
    char c = text[i];
    if (has_accidental && (c == '=' || text[i - 1] != c || i - start >= 2)) fail(line, "bad accidental \"" + shown(text.substr(start, i - start + 1)) + "\"");
    accidental += c == '^' ? 1 : c == '_' ? -1 : 0;
    has_accidental = true;
    ++i;
  }
  if (i >= text.size() || letter_index(text[i]) < 0 || (text[i] > 'G' && text[i] < 'a') || text[i] > 'g')
    fail(line, "accidental without a note at \"" + shown(text.substr(start)) + "\"");
  char letter = text[i++];
  size_t li = static_cast<size_t>(letter_index(letter));
  int octave = letter >= 'a' ? 5 : 4;
  while (i < text.size() && (text[i] == '\'' || text[i] == ',')) {
    octave += text[i] == '\'' ? 1 : -1;
    ++i;
    if (octave < -2 || octave > 12) fail(line, "note \"" + shown(text.substr(start, i - start)) + "\" is outside MIDI 0..127");
  }
  int alter;
  if (has_accidental) {
    alter = accidental;
    v.bar_alter[li] = accidental;
    v.bar_set[li] = true;
  } else {
    alter = v.bar_set[li] ? v.bar_alter[li] : v.key.alter[li];
  }
  pitch = 12 * (octave + 1) + kLetterPc[li] + alter;
  if (pitch < 0 || pitch > 127) fail(line, "note \"" + shown(text.substr(start, i - start)) + "\" is outside MIDI 0..127");
  return 0;
}

void TuneReader::add_note(int pitch, Rational duration, int line) {
  Voice& v = voice();
  if (v.tuplet_left > 0) {
    duration = duration * v.tuplet_factor;
    --v.tuplet_left;
  }
  duration = duration * v.broken_next;
  v.broken_next = Rational(1);
  Item it;
  it.pitch = pitch;
  it.duration = duration;
  it.line = line;
  v.last_note = static_cast<int>(v.items.size());
  v.items.push_back(it);
}

// "1", "1,3", "1-2": a bit mask of ending numbers 1..31.
uint32_t TuneReader::parse_endings(std::string_view text, size_t& i, int line) {
  uint32_t mask = 0;
  while (i < text.size()) {
    int a = 0, b = 0;
    size_t s = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (!read_int(text.substr(s, i - s), a) || a < 1 || a > 31) fail(line, "bad ending number \"" + shown(text.substr(s)) + "\"");
    b = a;
    if (i + 1 < text.size() && text[i] == '-' && text[i + 1] >= '0' && text[i + 1] <= '9') {
      s = ++i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      if (!read_int(text.substr(s, i - s), b) || b < a || b > 31) fail(line, "bad ending range \"" + shown(text.substr(s)) + "\"");
    }
    for (int n = a; n <= b; ++n) mask |= uint32_t{1} << n;
    if (i + 1 < text.size() && text[i] == ',' && text[i + 1] >= '0' && text[i + 1] <= '9') ++i;
    else break;
  }
  return mask;
}

// Bar line at text[i] ('|', ':', or "[|"), with its ending numbers.
void TuneReader::add_bar(std::string_view text, size_t& i, int line) {
  Voice& v = voice();
  size_t start = i;
  Item it;
  it.kind = Item::bar;
  it.line = line;
  int colons_before = 0, colons_after = 0, pipes = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == ':') {
      (pipes == 0 ? colons_before : colons_after)++;
    } else if (c == '|') {
      if (colons_after) break;  // ":|:|" is two bars
      ++pipes;
    } else if (c == ']' && i > start && text[i - 1] == '|') {
      it.section_end = true;
    } else if (c == '[' && i + 1 < text.size() && text[i + 1] == '|' && i == start) {
      it.section_end = true;
    } else {
      break;
    }
    ++i;
  }
  if (pipes == 0) {  // "::" (or a lone ":"): end and start of a repeat
    if (colons_before < 2 && colons_after == 0) fail(line, "stray \":\" at \"" + shown(text.substr(start)) + "\"");
    it.repeat_end = it.repeat_start = true;
  } else {
    it.repeat_end = colons_before > 0;
    it.repeat_start = colons_after > 0;
    if (pipes >= 2) it.section_end = true;
  }
  // Ending numbers: "|1", ":|2", "|1,3", "|1-2" ("| [2" is read in body_line).
  if (i < text.size() && text[i] >= '1' && text[i] <= '9') it.endings = parse_endings(text, i, line);
  end_bar(v);
  v.items.push_back(it);
}

void TuneReader::parse_tuplet(std::string_view text, size_t& i, int line) {
  Voice& v = voice();
  size_t start = i++;
  auto number = [&](int& value) {
    size_t s = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return read_int(text.substr(s, i - s), value);
  };
  int p = 0, q = 0, r = 0;
  if (!number(p) || p < 2 || p > 9) fail(line, "bad tuplet \"" + shown(text.substr(start, i - start)) + "\"");
  if (i < text.size() && text[i] == ':') {
    ++i;
    if (i < text.size() && text[i] >= '0' && text[i] <= '9' && (!number(q) || q == 0 || q > 99))
      fail(line, "bad tuplet \"" + shown(text.substr(start, i - start)) + "\"");
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (i < text.size() && text[i] >= '0' && text[i] <= '9' && (!number(r) || r == 0 || r > 99))
        fail(line, "bad tuplet \"" + shown(text.substr(start, i - start)) + "\"");
    }
  }
  if (q == 0) {
    bool compound = !v.meter.free && v.meter.num % 3 == 0 && v.meter.num > 3;
    q = (p == 2 || p == 4 || p == 8) ? 3 : (p == 3 || p == 6) ? 2 : compound ? 3 : 2;
  }
  if (r == 0) r = p;
  if (v.tuplet_left > 0) fail(line, "tuplet inside a tuplet (the one at line " + std::to_string(v.tuplet_line) + " has notes left)");
  v.tuplet_left = r;
  v.tuplet_factor = Rational(q, p);
  v.tuplet_line = line;
}

// long: one dispatch over the characters of an ABC body line (ABC 2.1 section 4); each case is a few
// lines and shares the cursor and the closing-bracket helper, so splitting it would scatter one table.
void TuneReader::body_line(std::string_view text, int line) {
  size_t i = 0;
  auto closing = [&](char close, const char* what) {  // skips to after `close` on this line
    size_t end = text.find(close, i + 1);
    if (end == std::string_view::npos) fail(line, std::string("unclosed ") + what + " \"" + shown(text.substr(i)) + "\"");
    i = end + 1;
  };
  while (i < text.size()) {
    char c = text[i];
    Voice& v = voice();
    if (c == ' ' || c == '\t' || c == '\r' || c == '`' || c == '$' || c == 'y' || c == ')' || c == '*') {
      ++i;
    } else if (c == '\\') {
      if (trim(text.substr(i + 1)).empty()) break;  // line continuation
      fail(line, "stray \"\\\"");
    } else if (c == '"') {
      closing('"', "chord symbol or annotation");
    } else if (c == '!') {
      closing('!', "decoration");
    } else if (c == '+') {
      closing('+', "decoration");
    } else if (c == '{') {
      closing('}', "grace notes");  // grace notes take no time and do not count in tuplets
    } else if (std::strchr(".~HLMOPSTuv", c)) {
      ++i;
    } else if (c == '(') {
      if (i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') parse_tuplet(text, i, line);
      else ++i;  // slur
    } else if (c == '[' && i + 2 < text.size() && text[i + 2] == ':' &&
               ((text[i + 1] >= 'A' && text[i + 1] <= 'Z') || (text[i + 1] >= 'a' && text[i + 1] <= 'z'))) {
      size_t end = text.find(']', i);
      if (end == std::string_view::npos) fail(line, "unclosed inline field \"" + shown(text.substr(i)) + "\"");
      body_field(text[i + 1], text.substr(i + 3, end - i - 3), line, true);
      i = end + 1;
    } else if (c == '[' && i + 1 < text.size() && text[i + 1] >= '1' && text[i + 1] <= '9') {
      ++i;  // "[2": an ending; it belongs to the bar line just before, else it stands alone (no bar line)
      uint32_t endings = parse_endings(text, i, line);
      auto& items = v.items;
      if (!items.empty() && items.back().kind == Item::bar && items.back().endings == 0) {
        items.back().endings = endings;
      } else {
        Item it;
        it.kind = Item::bar;
        it.line = line;
        it.endings = endings;
        it.ending_only = true;
        items.push_back(it);
      }
    } else if (c == '|' || c == ':' || (c == '[' && i + 1 < text.size() && text[i + 1] == '|')) {
      if (v.broken_next != Rational(1)) fail(v.broken_line, "broken rhythm without a note after it");
      add_bar(text, i, line);
    } else if (c == '[') {  // chord
      size_t end = text.find(']', i);
      if (end == std::string_view::npos) fail(line, "unclosed chord \"" + shown(text.substr(i)) + "\"");
      size_t j = i + 1;
      int top = -1;
      Rational first_length{0};
      bool tied = false;
      std::string_view chord = text.substr(0, end);
      while (j < end) {
        char d = chord[j];
        if (d == ' ' || d == '\t') { ++j; continue; }
        if (d == '-') { tied = true, ++j; continue; }
        if (d == '"' || d == '!' || d == '+') {
          size_t e = chord.find(d, j + 1);
          if (e == std::string_view::npos) fail(line, "unclosed chord \"" + shown(text.substr(i)) + "\"");
          j = e + 1;
          continue;
        }
        if (std::strchr(".~HLMOPSTuv", d)) { ++j; continue; }
        int pitch = 0;
        if (!(d == '^' || d == '_' || d == '=' || letter_index(d) >= 0)) fail(line, "cannot read chord \"" + shown(text.substr(i, end - i + 1)) + "\"");
        parse_pitch(chord, j, line, pitch);
        Rational len = parse_length(chord, j, line);
        if (first_length == Rational(0)) first_length = len;
        top = std::max(top, pitch);
      }
      if (top < 0) fail(line, "empty chord \"" + shown(text.substr(i, end - i + 1)) + "\"");
      i = end + 1;
      Rational mult = parse_length(text, i, line);
      add_note(top, v.unit * first_length * mult, line);
      if (tied) voice().items.back().tied = true;
    } else if (c == '^' || c == '_' || c == '=' || (letter_index(c) >= 0 && (c <= 'G' || c >= 'a'))) {
      int pitch = 0;
      parse_pitch(text, i, line, pitch);
      Rational len = parse_length(text, i, line);
      add_note(pitch, v.unit * len, line);
    } else if (c == 'z' || c == 'x') {
      ++i;
      Rational len = parse_length(text, i, line);
      add_note(kRest, v.unit * len, line);
    } else if (c == 'Z' || c == 'X') {
      ++i;
      int bars = 1;
      size_t s = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      if (i > s && (!read_int(text.substr(s, i - s), bars) || bars == 0 || bars > 10000)) fail(line, "bad bar count \"" + shown(text.substr(s - 1, i - s + 1)) + "\"");
      if (v.meter.free) fail(line, std::string("bar rest ") + c + " without a meter (M:)");
      add_note(kRest, Rational(4 * v.meter.num, v.meter.den) * Rational(bars), line);
    } else if (c == '-') {
      if (v.last_note < 0) fail(line, "tie \"-\" without a note before it");
      v.items[static_cast<size_t>(v.last_note)].tied = true;
      ++i;
    } else if (c == '>' || c == '<') {
      size_t s = i;
      while (i < text.size() && text[i] == c) ++i;
      size_t n = i - s;
      if (n > 3) fail(line, "bad broken rhythm \"" + shown(text.substr(s, n)) + "\"");
      if (v.last_note < 0 || v.items.back().kind != Item::note) fail(line, "broken rhythm without a note before it");
      Rational shorter(1, int64_t{1} << n), longer = Rational(2) - shorter;
      Item& prev = v.items[static_cast<size_t>(v.last_note)];
      prev.duration = prev.duration * (c == '>' ? longer : shorter);
      v.broken_next = c == '>' ? shorter : longer;
      v.broken_line = line;
    } else if (c == '&') {
      fail(line, "voice overlay \"&\" is not supported (write the second voice with V:)");
    } else {
      fail(line, "cannot read \"" + shown(text.substr(i, 20)) + "\"");
    }
  }
}

// Plays items[begin, end) with repeats and endings expanded (see the header comment of the .cpp).
void TuneReader::perform(const std::vector<Item>& items, size_t begin, size_t end, Melody& melody, Rational& time) {
  if (time > Rational(0)) jumps_.push_back(time);  // the next part of P:
  size_t start = begin;  // where a ":|" goes back to
  int pass = 1;
  bool skipping = false;
  // A "|:" not yet closed by its ":|": a double bar inside it does not move the repeat's start. With no
  // "|:" since the last ":|", a ":|" goes back to the previous double bar ("||", "|]"), else to the last
  // ":|" or the start of the tune.
  bool opened = false;
  auto bar_line = [&](const Item&) {
    if (melody.barlines.empty() || melody.barlines.back() != time) melody.barlines.push_back(time);
  };
  for (size_t i = begin; i < end;) {
    const Item& it = items[i];
    if (it.kind == Item::part) { ++i; continue; }
    if (it.kind == Item::note) {
      if (!skipping) {
        if (melody.events.size() >= kMaxEvents) fail(it.line, "the performed tune has more than " + std::to_string(kMaxEvents) + " notes");
        melody.events.push_back(MelodyEvent{it.pitch, it.duration, it.tied, it.line});
        time += it.duration;
      }
      ++i;
      continue;
    }
    if (skipping) {  // inside an ending that this pass does not play
      if (it.repeat_end) {
        skipping = false;
        if (!it.repeat_start && !it.endings) { bar_line(it); ++i; continue; }
      } else if (!it.endings && !it.repeat_start && !it.section_end) {
        ++i;
        continue;
      }
      skipping = false;
    }
    if (!it.ending_only) bar_line(it);
    if (it.repeat_end && pass == 1) {
      pass = 2;
      i = start;
      jumps_.push_back(time);
      continue;
    }
    if (it.repeat_end) opened = false;
    if (it.endings) {
      // ":|2", "|2": an ending begins here; played on the passes it names
      if (!(it.endings & (uint32_t{1} << pass))) skipping = true, jumps_.push_back(time);
    } else if (it.repeat_end) {
      pass = 1, start = i + 1;  // a later ":|" with no "|:" repeats from here (abc2midi: "::")
    }
    if (it.repeat_start) start = i + 1, pass = 1, opened = true;
    else if (it.section_end && !it.endings && !opened) start = i + 1, pass = 1;
    ++i;
  }
}

Melody TuneReader::read() {
  // Header: X: up to K:.
  size_t n = tune_.lines.size();
  size_t i = 1;
  bool have_key = false;
  for (; i < n; ++i) {
    int line = tune_.first_line + static_cast<int>(i);
    std::string_view text = tune_.lines[i];
    if (text.substr(0, 1) == "%") continue;
    text = trim(strip_comment(text));
    if (text.empty()) continue;
    if (!is_field_start(text)) fail(line, "music before the K: field that ends the tune header");
    header_field(text[0], text.substr(2), line);
    if (text[0] == 'K') {
      have_key = true;
      ++i;
      break;
    }
  }
  if (!have_key) fail(tune_.first_line, "no K: field (a tune header ends with K:)");
  if (!unit_given_) unit_ = default_unit(meter_);
  melody_.key = key_.key;
  melody_.key_mode = key_.mode;
  melody_.key_signature_fifths = key_.fifths;
  for (auto& v : voices_) v.key = key_, v.unit = unit_, v.meter = meter_;  // voices declared in the header

  for (; i < n; ++i) {
    int line = tune_.first_line + static_cast<int>(i);
    std::string_view text = tune_.lines[i];
    if (text.substr(0, 1) == "%") continue;
    text = strip_comment(text);
    if (is_field_start(text)) {
      body_field(text[0], text.substr(2), line, false);
      continue;
    }
    body_line(text, line);
  }

  // The chosen voice: the first with music unless --voice N.
  std::vector<size_t> with_music;
  for (size_t k = 0; k < voices_.size(); ++k)
    if (!voices_[k].items.empty()) with_music.push_back(k);
  int last_line = tune_.first_line + static_cast<int>(n) - 1;
  if (with_music.empty()) fail(last_line, "no notes");
  size_t chosen = with_music.front();
  if (options_.voice > 0) {
    if (static_cast<size_t>(options_.voice) > voices_.size())
      fail(tune_.first_line, "--voice " + std::to_string(options_.voice) + ": the tune has " + std::to_string(voices_.size()) + " voice(s)");
    chosen = static_cast<size_t>(options_.voice - 1);
  }
  Voice& v = voices_[chosen];
  if (v.tuplet_left > 0) fail(v.tuplet_line, "unclosed tuplet: " + std::to_string(v.tuplet_left) + " note(s) missing at the end of the tune");
  if (v.broken_next != Rational(1)) fail(v.broken_line, "broken rhythm without a note after it");

  // Repeats: a "|:" while another is open is read as "::" (abc2midi: "Assuming repeat", a warning);
  // a "|:" that no ":|" closes before the end of the tune is an error (unbalanced repeats).
  {
    int open_line = 0;
    bool open = false;
    for (Item& it : v.items) {
      if (it.kind != Item::bar) continue;
      if (it.repeat_start && !it.repeat_end && open) {
        it.repeat_end = true;
        melody_.warnings.push_back("line " + std::to_string(it.line) + ": tune X:" + std::to_string(tune_.number) +
                                   ": \"|:\" inside the repeat opened at line " + std::to_string(open_line) + " read as \"::\"");
      }
      if (it.repeat_end) open = false;
      if (it.repeat_start) open = true, open_line = it.line;
    }
    if (open) fail(open_line, "unbalanced repeats: \"|:\" is never closed with \":|\"");
  }

  Melody melody = std::move(melody_);
  Rational time(0);
  std::string order;
  for (char c : part_order_) {
    if (c >= 'A' && c <= 'Z') order += c;
    else if (c >= '2' && c <= '9' && !order.empty()) order += std::string(static_cast<size_t>(c - '1'), order.back());
    else if (c != '.' && c != ' ' && c != '(' && c != ')' && c != '1')
      fail(part_order_line_, "cannot read part order P:" + shown(part_order_));
  }
  bool has_labels = false;
  for (const Item& it : v.items) has_labels = has_labels || it.kind == Item::part;
  if (order.empty() || !has_labels) {
    perform(v.items, 0, v.items.size(), melody, time);
  } else {
    std::map<char, std::pair<size_t, size_t>> parts;
    size_t k = 0;
    while (k < v.items.size() && v.items[k].kind != Item::part) ++k;
    perform(v.items, 0, k, melody, time);  // music before the first P: label
    while (k < v.items.size()) {
      size_t s = k + 1;
      size_t e = s;
      while (e < v.items.size() && v.items[e].kind != Item::part) ++e;
      if (!parts.count(v.items[k].label)) parts[v.items[k].label] = {s, e};
      k = e;
    }
    for (char part : order) {
      auto it = parts.find(part);
      if (it == parts.end()) {
        melody.warnings.push_back("line " + std::to_string(part_order_line_) + ": tune X:" + std::to_string(tune_.number) +
                                  ": part " + std::string(1, part) + " of P:" + part_order_ + " is not in the tune: skipped");
        continue;
      }
      perform(v.items, it->second.first, it->second.second, melody, time);
    }
  }
  if (melody.events.empty()) fail(last_line, "no notes");
  // A tie holds only into a note of the same pitch (abc2midi ignores the others).
  for (size_t k = 0; k < melody.events.size(); ++k)
    if (melody.events[k].tied_to_next)
      melody.events[k].tied_to_next = k + 1 < melody.events.size() && melody.events[k].pitch != kRest &&
                                      melody.events[k + 1].pitch == melody.events[k].pitch;
  // Barlines followed by a note or rest only.
  while (!melody.barlines.empty() && melody.barlines.back() >= time) melody.barlines.pop_back();
  join_split_bars(melody);
  melody.source_format = SourceFormat::abc;
  return melody;
}

}  // namespace

AbcBook split_abc_book(std::string_view text, const std::string& path) {
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\0') {
      int line = 1;
      for (size_t j = 0; j < i; ++j) line += text[j] == '\n';
      throw file_error(path, line, "binary data (byte 0x00), not an ABC text file");
    }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  AbcBook book;
  bool in_tune = false;
  int line_number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 2) == "X:") {
      AbcTune tune;
      tune.first_line = line_number;
      int number = 0;
      std::string_view value = trim(line.substr(2));
      tune.number = read_int(value, number) ? number : -1;  // parse_abc_tune refuses it
      book.tunes.push_back(std::move(tune));
      in_tune = true;
    } else if (in_tune && trim(line).empty()) {
      in_tune = false;
      continue;
    } else if (!in_tune) {
      continue;
    }
    AbcTune& tune = book.tunes.back();
    if (tune.title.empty() && line.substr(0, 2) == "T:") tune.title = std::string(trim(line.substr(2)));
    tune.lines.emplace_back(line);
  }
  if (book.tunes.empty()) throw file_error(path, 0, "no tune (an ABC tune starts with an X: line)");
  return book;
}

AbcBook read_abc_book(const std::string& path) { return split_abc_book(read_file(path), path); }

Melody parse_abc_tune(const AbcTune& tune, const AbcReadOptions& options, const std::string& path) {
  if (tune.number < 0) throw file_error(path, tune.first_line, "cannot read the tune number \"" + shown(tune.lines.front()) + "\"");
  if (tune.lines.empty()) throw file_error(path, tune.first_line, "tune X:" + std::to_string(tune.number) + ": empty tune");
  return TuneReader(tune, options, path).read();
}

}  // namespace melodist
