// The reference's text encoding. encode_melody mirrors the reference pipeline step by step:
//   1. has_acceptable_durations: every note and rest length must be one of `durations` (else rejected);
//   2. transpose: by the first key designation, or the estimated key, major -> C, minor -> A;
//   3. encode_song: per event, MIDI number (or "r") at its first step, "_" for every further step.
// Ties: music21 (and so the reference) keeps every tied part as its own note (reattack); merge joins a
// tied chain of one pitch into one held note, and the length filter then applies to the joined length.
#include "formats/text_encoding.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "formats/key_symbol.h"
#include "formats/meter_symbol.h"
#include "music/key_estimate.h"
#include "util/error.h"

namespace melodist {

std::vector<Rational> reference_durations() {
  return {Rational(1, 4), Rational(1, 2), Rational(3, 4), Rational(1), Rational(3, 2), Rational(2), Rational(3), Rational(4)};
}

namespace {

struct Span {
  int pitch;          // MIDI or kRest
  Rational duration;  // quarters
  int line;
  int64_t tick;       // MIDI start tick, -1 unknown
};

// " at line 17" (kern), " at tick 1920" (MIDI), "" when unknown.
std::string where(const Span& s) {
  if (s.line > 0) return " at line " + std::to_string(s.line);
  if (s.tick >= 0) return " at tick " + std::to_string(s.tick);
  return "";
}

std::string describe(const Span& s, const std::string& what) {
  std::string out = (s.pitch == kRest ? "rest" : "note") + std::string(" of ") + s.duration.to_string() + " quarter";
  if (!what.empty()) out += " " + what;
  return out + where(s);
}

// Appends the note's transposed MIDI number; false (the song rejected, its symbols cleared) outside 0..127.
bool push_pitch(const Span& s, EncodedSong& song) {
  const int pitch = s.pitch + song.transposition;
  if (pitch < 0 || pitch > 127) {
    song.symbols.clear();
    song.notes = 0;
    song.reason = "note" + where(s) + " is MIDI " + std::to_string(pitch) + " after transposing by " +
                  std::to_string(song.transposition) + " semitones, outside 0..127";
    return false;
  }
  song.symbols.push_back(std::to_string(pitch));
  ++song.notes;
  return true;
}

// EncodeOptions::pitch_only: the notes' MIDI numbers, transposed, one symbol each.
void encode_pitches(const std::vector<Span>& spans, EncodedSong& song, int& line) {
  for (const Span& s : spans) {
    if (s.pitch == kRest) continue;
    line = s.line;
    if (!push_pitch(s, song)) return;
  }
  if (song.notes == 0) {
    song.reason = "no notes";
    return;
  }
  song.accepted = true;
}

// EncodeOptions::per_note: each note or rest as its pitch symbol and its length symbol (":6"), "|" before
// the one at whose start a barline falls (`bar_steps` ascending; one inside a note is dropped).
bool write_notes(const std::vector<Span>& spans, const EncodeOptions& options, const std::vector<int64_t>& bar_steps,
                 EncodedSong& song, int& line) {
  size_t next_bar = 0;
  Rational at(0);  // the span's start, in steps
  for (const Span& s : spans) {
    line = s.line;
    const Rational steps = s.duration / options.step;  // whole: the length filter refuses the rest
    for (; next_bar < bar_steps.size() && Rational(bar_steps[next_bar]) <= at; ++next_bar)
      if (Rational(bar_steps[next_bar]) == at) song.symbols.emplace_back(kBarSymbol);
    if (s.pitch == kRest) {
      song.symbols.emplace_back(kRestSymbol);
    } else if (!push_pitch(s, song)) {
      return false;
    }
    song.symbols.push_back(length_symbol(steps.num));
    at += steps;
  }
  return true;
}

// The largest window W in {8, 4, 2, 1} steps from step t (EncodeOptions::triplets) that lies in the song,
// has no barline after t, and whose onsets all fall on t + k W / 3 (k = 0, 1, 2), one of them between the
// steps; 0 none. `start` (spans + 1): each span's start in steps, then the song's end; `i` the first span
// that starts at or after t.
int64_t window_at(const std::vector<Rational>& start, size_t i, int64_t t, const std::vector<int64_t>& bar_steps,
                       int64_t total_steps) {
  for (const int64_t w : {8, 4, 2, 1}) {
    if (t + w > total_steps) continue;
    const auto bar = std::upper_bound(bar_steps.begin(), bar_steps.end(), t);
    if (bar != bar_steps.end() && *bar < t + w) continue;
    bool fits = true, between = false;
    for (size_t j = i; fits && j + 1 < start.size() && start[j] < Rational(t + w); ++j) {
      fits = ((start[j] - Rational(t)) * Rational(3, w)).den == 1;
      between = between || start[j].den != 1;
    }
    if (fits && between) return w;
  }
  return 0;
}

// Step 3: one symbol per step, the span's at its first step ("r" or its MIDI number), else "_"; with
// EncodeOptions::triplets a window of window_at steps as triplet_symbol and its three units.
// Barline symbols go before the step (or window) at which they fall, the last countdown_bars of them
// counting down (the first of them followed by the key symbol with countdown_key), then "$"
// (EncodeOptions::final_mark) where the last note starts. False (song.reason set) for a note the grid
// cannot hold.
bool write_steps(const std::vector<Span>& spans, const EncodeOptions& options, const std::vector<int64_t>& bar_steps,
                 int64_t total_steps, EncodedSong& song, int& line) {
  std::vector<Rational> start(spans.size() + 1, Rational(0));  // in steps
  for (size_t i = 0; i < spans.size(); ++i) start[i + 1] = start[i] + spans[i].duration / options.step;
  size_t next_bar = 0;
  const std::string key = options.countdown_key && options.key_symbol && !song.symbols.empty() ? song.symbols.front() : "";
  const size_t countdown_from = bar_steps.size() - std::min(bar_steps.size(), static_cast<size_t>(std::max(0, options.countdown_bars)));
  auto bars_before = [&](int64_t step) {
    for (; next_bar < bar_steps.size() && bar_steps[next_bar] <= step; ++next_bar)
      if (bar_steps[next_bar] == step) {
        song.symbols.push_back(bar_symbol(next_bar < countdown_from ? 0 : static_cast<int>(bar_steps.size() - next_bar)));
        if (next_bar == countdown_from && !key.empty() && options.countdown_bars > 0) song.symbols.push_back(key);  // the key again
      }
  };
  size_t i = 0;  // the first span that starts at or after the time written
  size_t last_note = spans.size();  // the last span that is a note
  for (size_t k = 0; k < spans.size(); ++k)
    if (spans[k].pitch != kRest) last_note = k;
  auto mark_final = [&](int64_t from, int64_t to) {  // before the step or window [from, to) holding its onset
    if (options.final_mark && last_note < spans.size() && Rational(from) <= start[last_note] && start[last_note] < Rational(to))
      song.symbols.emplace_back(kFinalSymbol);
  };
  auto onset_or_hold = [&](const Rational& at) {
    if (i >= spans.size() || !(start[i] == at)) return song.symbols.emplace_back(kHoldSymbol), true;
    line = spans[i].line;
    const Span& s = spans[i++];
    if (s.pitch == kRest) return song.symbols.emplace_back(kRestSymbol), true;
    return push_pitch(s, song);
  };
  for (int64_t t = 0; t < total_steps;) {
    bars_before(t);
    if (const int64_t w = options.triplets ? window_at(start, i, t, bar_steps, total_steps) : 0; w > 0) {
      mark_final(t, t + w);
      song.symbols.push_back(triplet_symbol(Rational(w) * options.step));
      for (int64_t k = 0; k < 3; ++k)
        if (!onset_or_hold(Rational(t) + Rational(w * k, 3))) return false;
      t += w;
      continue;
    }
    mark_final(t, t + 1);
    if (!onset_or_hold(Rational(t))) return false;
    if (i < spans.size() && start[i] < Rational(t + 1)) {
      song.reason = describe(spans[i], "(it starts between the steps, and not in a triplet the grid can hold)");
      return false;
    }
    ++t;
  }
  return true;
}

// Steps 1-3 into `song` (whose key and transposition are set). `line` follows the event being worked on,
// so that a Rational overflow (melodist::Error, thrown by the arithmetic) can name it.
void encode_spans(const Melody& melody, const EncodeOptions& options, EncodedSong& song, int& line) {
  // Spans to encode: every event (reattack) or tied chains of one pitch joined (merge).
  std::vector<Span> spans;
  spans.reserve(melody.events.size());
  bool joining = false;
  for (const MelodyEvent& e : melody.events) {
    line = e.line;
    if (options.ties == TieMode::merge && joining && !spans.empty() && spans.back().pitch == e.pitch && e.pitch != kRest &&
        e.duration > Rational(0)) {
      spans.back().duration += e.duration;
    } else {
      spans.push_back(Span{e.pitch, e.duration, e.line, e.tick});
    }
    joining = e.tied_to_next && e.pitch != kRest;
  }
  if (spans.empty()) {
    song.reason = "no notes or rests";
    return;
  }

  // 1. Length filter (exact rational comparison).
  // The reference's list applies to kern songs only (see EncodeOptions::durations).
  const bool whole_steps_only = options.durations.empty() || melody.source_format != SourceFormat::kern;
  for (const Span& s : spans) {
    line = s.line;
    if (whole_steps_only) {
      if (s.duration <= Rational(0)) {
        song.reason = describe(s, s.pitch == kRest ? "" : "(grace note)");
        return;
      }
      Rational steps = s.duration / options.step;
      if (steps.den != 1 && !options.triplets) {
        song.reason = describe(s, "(not a whole number of " + options.step.to_string() + "-quarter steps)");
        return;
      }
    } else {
      bool allowed = false;
      for (const Rational& d : options.durations) allowed = allowed || d == s.duration;
      if (!allowed) {
        song.reason = describe(s, s.duration == Rational(0) && s.pitch != kRest ? "(grace note)" : "");
        return;
      }
      if ((s.duration / options.step).den != 1 && !options.triplets) {
        song.reason = describe(s, "(not a whole number of " + options.step.to_string() + "-quarter steps)");
        return;
      }
    }
  }

  // Bound the output: a hostile file ("1%999999999c" with --durations any) must not ask for billions of symbols.
  constexpr int64_t kMaxSongSteps = int64_t{1} << 20;
  Rational length(0);  // in steps
  for (const Span& s : spans) {
    line = s.line;
    length += s.duration / options.step;
    if (Rational(kMaxSongSteps) < length) {
      song.reason = describe(s, "(the song would exceed " + std::to_string(kMaxSongSteps) + " steps)");
      return;
    }
  }
  if (length.den != 1) {  // triplets: the song's end falls between the steps
    song.reason = "the song's length, " + (length * options.step).to_string() + " quarters, is not a whole number of " +
                  options.step.to_string() + "-quarter steps";
    return;
  }
  const int64_t total_steps = length.num;

  // 2. Transposition, 3. encoding.
  if (options.pitch_only) return encode_pitches(spans, song, line);
  song.symbols.reserve(static_cast<size_t>(total_steps) + 1);
  if (options.key_symbol) song.symbols.push_back(key_symbol(song.key.tonic_pitch_class + song.transposition, song.key.minor));
  if (options.meter_symbol && melody.time_signature) song.symbols.push_back(meter_symbol(*melody.time_signature));
  // Barline symbols go before the step at which a barline falls (one that falls between steps is dropped).
  std::vector<int64_t> bar_steps;  // ascending
  line = 0;
  if (options.barlines)
    for (const Rational& t : melody.barlines)
      if (const Rational k = t / options.step; k.den == 1 && k.num >= 0 && k.num < total_steps) bar_steps.push_back(k.num);
  if (options.per_note ? !write_notes(spans, options, bar_steps, song, line)
                       : !write_steps(spans, options, bar_steps, total_steps, song, line))
    return;
  if (song.notes == 0 && options.per_note) {
    song.reason = "no notes";
    return;
  }
  song.accepted = true;
}

}  // namespace

EncodedSong encode_melody(const Melody& melody, const EncodeOptions& options) {
  EncodedSong song;
  if (options.step <= Rational(0)) {
    song.reason = "step must be positive";
    return song;
  }

  // The key is found first so that the manifest records it for rejected songs too.
  if (melody.key) {
    song.key = *melody.key;
    song.key_source = KeySource::designation;
  } else {
    song.key = estimate_key(melody);
    song.key_source = KeySource::estimate;
  }
  song.transposition = options.transpose == TransposeMode::reference ? reference_transposition(song.key) : 0;

  int line = 0;
  try {
    encode_spans(melody, options, song, line);
  } catch (const Error& e) {
    // A length beyond exact arithmetic (a tied chain or a length divided by the step; the reader checks
    // each single length): the file is bad input, not a song the filter rejects.
    song.accepted = false;
    song.malformed = true;
    song.symbols.clear();
    song.notes = 0;
    song.reason = std::string(e.what()) + (line > 0 ? " at line " + std::to_string(line) : std::string());
  }
  return song;
}

void check_encode_options(const EncodeOptions& options) {
  if (options.countdown_bars < 0 || options.countdown_bars > kMaxCountdownBars)
    throw Error("--countdown-bars must be 0.." + std::to_string(kMaxCountdownBars));
  if (options.countdown_bars > 0 && !options.barlines)
    throw Error("--countdown-bars numbers the last barlines: it needs --barlines");
  if (options.countdown_key && (options.countdown_bars == 0 || !options.key_symbol))
    throw Error("--countdown-key restates the key symbol where the countdown starts: it needs --key-symbol and --countdown-bars");
  if (options.pitch_only && (options.key_symbol || options.meter_symbol || options.barlines || options.final_mark))
    throw Error("--pitch-only encodes the notes' pitches alone: it cannot be combined with --key-symbol, --meter-symbol, --barlines or --final-mark");
  if (options.per_note && (options.pitch_only || options.triplets || options.countdown_bars > 0 || options.final_mark))
    throw Error("--per-note cannot be combined with --pitch-only, --triplets, --countdown-bars or --final-mark");
}

void check_generate_encoding(const EncodeOptions& options) {
  if (options.pitch_only || options.per_note)
    throw Error(std::string("the model was trained on ") + (options.pitch_only ? "--pitch-only" : "--per-note") +
                " songs, a prediction encoding (for evaluate and crossval): generate needs a model of the step encoding");
}

std::string length_symbol(int64_t steps) { return kLengthPrefix + std::to_string(steps); }

std::optional<int64_t> length_steps(std::string_view s) {
  if (s.size() < 2 || s.size() > 8 || s[0] != kLengthPrefix[0]) return std::nullopt;
  int64_t steps = 0;
  const auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), steps);
  if (ec != std::errc() || end != s.data() + s.size() || steps < 1 || s[1] == '0') return std::nullopt;
  return steps;
}

std::vector<std::string> split_symbols(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !space(text[i])) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::string join_symbols(const std::vector<std::string>& symbols) {
  size_t size = 0;
  for (const auto& s : symbols) size += s.size() + 1;
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (i) out += ' ';
    out += symbols[i];
  }
  return out;
}

std::optional<Rational> triplet_window(std::string_view s) {
  if (s.size() < 4 || s.substr(0, 3) != kTripletPrefix) return std::nullopt;
  try {
    const Rational q = parse_rational(std::string(s.substr(3)));
    if (q <= Rational(0) || Rational(kMaxTripletQuarters) < q || q.to_string() != s.substr(3)) return std::nullopt;
    return q;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string triplet_symbol(const Rational& window) { return kTripletPrefix + window.to_string(); }

int bar_countdown(std::string_view s) {
  if (s.empty() || s[0] != '|') return -1;
  if (s.size() == 1) return 0;
  int n = 0;
  const auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || s[1] == '0' || n < 1 || n > kMaxCountdownBars) return -1;
  return n;
}

std::string bar_symbol(int countdown) { return countdown > 0 ? kBarSymbol + std::to_string(countdown) : std::string(kBarSymbol); }

Melody decode_symbols(const std::vector<std::string>& symbols, Rational step) {
  if (step <= Rational(0)) throw Error("decode: step must be positive");
  Melody melody;
  Rational elapsed(0);  // quarters decoded so far
  Rational triplet_unit(0);
  int units_left = 0;   // timed symbols left in a triplet window
  for (size_t i = 0; i < symbols.size(); ++i) {
    const std::string& s = symbols[i];
    if (s == kDelimiterSymbol) {
      if (!melody.events.empty()) break;  // the reference's end of song
      continue;                           // delimiters before the song
    }
    const Rational unit = units_left > 0 ? triplet_unit : step;  // the length of a timed symbol here
    if (s == kHoldSymbol) {
      if (!melody.events.empty()) melody.events.back().duration += unit, elapsed += unit, units_left -= units_left > 0;
      continue;  // a hold before any note holds nothing
    }
    if (s == kRestSymbol) {
      melody.events.push_back(MelodyEvent{kRest, unit, false, 0});
      elapsed += unit, units_left -= units_left > 0;
      continue;
    }
    if (const auto window = triplet_window(s)) {  // the next three timed symbols share the window
      triplet_unit = *window / Rational(3), units_left = 3;
      continue;
    }
    if (s == kFinalSymbol) continue;  // takes no time: the next onset is the last note
    if (bar_countdown(s) >= 0) {  // takes no time; its place is the melody's barline (a pickup when the first is early)
      if (melody.barlines.empty() || melody.barlines.back() != elapsed) melody.barlines.push_back(elapsed);
      continue;
    }
    if (auto key = parse_key_symbol(s)) {  // takes no time; the first one is the melody's key
      if (!melody.key) melody.key = *key;
      continue;
    }
    if (auto meter = parse_meter_symbol(s)) {  // takes no time; the first one is the melody's meter
      if (!melody.time_signature) melody.time_signature = *meter;
      continue;
    }
    int pitch = -1;
    bool digits = !s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos;
    if (digits) std::from_chars(s.data(), s.data() + s.size(), pitch);
    if (!digits || pitch < 0 || pitch > 127) {
      std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
      throw Error("symbol \"" + shown + "\" at position " + std::to_string(i + 1) +
                  " is not a MIDI number 0..127, \"r\", \"_\", \"/\", \"|\" (or \"|3\"), \"(3:1\", \"$\", a key symbol such as \"K:G\" or a meter symbol such as \"M:6/8\"");
    }
    melody.events.push_back(MelodyEvent{pitch, unit, false, 0});
    elapsed += unit, units_left -= units_left > 0;
  }
  return melody;
}

std::vector<Rational> parse_durations_option(const std::string& text) {
  std::vector<Rational> out;
  if (text == "any") return out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    Rational value;
    try {
      value = parse_rational(item);
    } catch (const Error& e) {
      throw Error(std::string("--durations: ") + e.what());
    }
    if (value <= Rational(0)) throw Error("--durations: \"" + item + "\" is not a positive length");
    out.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Rational parse_step_option(const std::string& text) {
  Rational step;
  try {
    step = parse_rational(text);
  } catch (const Error& e) {
    throw Error(std::string("--step: ") + e.what());
  }
  if (step <= Rational(0)) throw Error("--step must be positive");
  return step;
}

}  // namespace melodist
