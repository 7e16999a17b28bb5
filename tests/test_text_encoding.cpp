// The reference text encoding against the hand-written fixtures (tests/fixtures/kern/*.expected),
// plus the encoder's rules one by one on small hand-built melodies.
#include <gtest/gtest.h>

#include "formats/key_symbol.h"
#include "formats/kern_reader.h"
#include "formats/text_encoding.h"
#include "kern_fixture.h"
#include "preprocess/preprocess.h"
#include "preprocess/vocabulary.h"
#include "util/error.h"

using namespace melodist;

namespace {

void check_run(const kern_fixture::Fixture& f, const Melody& m, const std::string& suffix, int& checked) {
  std::string opts = suffix.empty() ? f.get("options") : f.get("options" + suffix);
  EncodedSong song = encode_melody(m, kern_fixture::parse_options(opts));
  if (f.has("encoding" + suffix)) {
    EXPECT_TRUE(song.accepted) << f.name << suffix << ": " << song.reason;
    EXPECT_EQ(join_symbols(song.symbols), f.get("encoding" + suffix)) << f.name << suffix;
    ++checked;
  }
  if (f.has("reason" + suffix)) {
    EXPECT_FALSE(song.accepted) << f.name << suffix;
    EXPECT_EQ(song.reason, f.get("reason" + suffix)) << f.name << suffix;
    EXPECT_TRUE(song.symbols.empty());
    ++checked;
  }
  if (suffix.empty() && f.has("key")) {
    std::string k = f.get("key");
    size_t b = k.rfind(' '), a = k.rfind(' ', b - 1);
    EXPECT_EQ(key_display_name(song.key), k.substr(0, a)) << f.name;
    EXPECT_EQ(to_string(song.key_source), k.substr(a + 1, b - a - 1)) << f.name;
    EXPECT_EQ(song.transposition, std::stoi(k.substr(b + 1))) << f.name;
    ++checked;
  }
}

Melody melody(std::initializer_list<std::pair<int, Rational>> notes) {
  Melody m;
  int line = 1;
  for (auto [p, d] : notes) m.events.push_back(MelodyEvent{p, d, false, line++});
  return m;
}

EncodeOptions none_any() {
  EncodeOptions o;
  o.durations = reference_durations();
  o.transpose = TransposeMode::none;
  return o;
}

}  // namespace

TEST(TextEncoding, HandWrittenFixtures) {
  int checked = 0, files = 0;
  for (const auto& f : kern_fixture::load_all()) {
    if (f.has("error")) continue;
    Melody m = read_kern_file(f.path);
    check_run(f, m, "", checked);
    check_run(f, m, "2", checked);
    check_run(f, m, "3", checked);
    check_run(f, m, "4", checked);
    check_run(f, m, "5", checked);
    ++files;
  }
  EXPECT_GE(files, 28);
  EXPECT_GE(checked, 60);
}

TEST(TextEncoding, KeyFixturesCoverSixTonicsInEachMode) {
  int major = 0, minor = 0;
  for (const auto& f : kern_fixture::load_all()) {
    std::string k = f.get("key");
    if (k.find("designation") == std::string::npos) continue;
    if (k.find(" major ") != std::string::npos) ++major;
    if (k.find(" minor ") != std::string::npos) ++minor;
  }
  EXPECT_GE(major, 6);
  EXPECT_GE(minor, 6);
}

TEST(TextEncoding, ReferenceDurations) {
  auto d = reference_durations();
  std::vector<std::string> s;
  for (auto r : d) s.push_back(r.to_string());
  EXPECT_EQ(s, (std::vector<std::string>{"1/4", "1/2", "3/4", "1", "3/2", "2", "3", "4"}));
}

TEST(TextEncoding, StepsPerEvent) {
  Melody m = melody({{60, Rational(1)}, {kRest, Rational(1, 2)}, {62, Rational(3, 4)}, {64, Rational(1, 4)}});
  EncodedSong s = encode_melody(m, none_any());
  ASSERT_TRUE(s.accepted);
  EXPECT_EQ(join_symbols(s.symbols), "60 _ _ _ r _ 62 _ _ 64");
  EXPECT_EQ(s.notes, 3);
}

TEST(TextEncoding, RejectionReasons) {
  Melody m = melody({{60, Rational(1)}, {62, Rational(1, 3)}});
  m.events[1].line = 17;
  EncodedSong s = encode_melody(m, none_any());
  EXPECT_FALSE(s.accepted);
  EXPECT_EQ(s.reason, "note of 1/3 quarter at line 17");
  Melody r = melody({{kRest, Rational(5, 4)}});
  r.events[0].line = 9;
  EXPECT_EQ(encode_melody(r, none_any()).reason, "rest of 5/4 quarter at line 9");
  EXPECT_EQ(encode_melody(Melody{}, none_any()).reason, "no notes or rests");
}

TEST(TextEncoding, AnyDurationsAcceptsWholeStepsOnly) {
  EncodeOptions o = none_any();
  o.durations.clear();
  Melody m = melody({{60, Rational(5, 4)}, {62, Rational(7)}});
  EncodedSong s = encode_melody(m, o);
  ASSERT_TRUE(s.accepted) << s.reason;
  EXPECT_EQ(s.symbols.size(), 5u + 28u);
  Melody bad = melody({{60, Rational(1, 3)}});
  EXPECT_EQ(encode_melody(bad, o).reason, "note of 1/3 quarter (not a whole number of 1/4-quarter steps) at line 1");
  // a listed length that is not a whole number of steps is refused too
  o.durations = {Rational(1, 4)};
  o.step = Rational(1, 2);
  EXPECT_EQ(encode_melody(melody({{60, Rational(1, 4)}}), o).reason,
            "note of 1/4 quarter (not a whole number of 1/2-quarter steps) at line 1");
}

TEST(TextEncoding, HugeLengthsAreRejectedNotAllocated) {
  EncodeOptions o = none_any();
  o.durations.clear();
  Melody m = melody({{60, Rational(1)}, {62, Rational(4000000000LL, 1)}});  // e.g. kern "1%1000000000c"
  EncodedSong s = encode_melody(m, o);
  EXPECT_FALSE(s.accepted);
  EXPECT_EQ(s.reason, "note of 4000000000 quarter (the song would exceed 1048576 steps) at line 2");
}

TEST(TextEncoding, TranspositionUsesDesignationOrEstimate) {
  Melody m = melody({{67, Rational(1)}, {71, Rational(1)}, {74, Rational(2)}});
  m.key = Key{7, false, "G"};
  EncodeOptions o;
  EncodedSong s = encode_melody(m, o);
  EXPECT_EQ(join_symbols(s.symbols), "60 _ _ _ 64 _ _ _ 67 _ _ _ _ _ _ _");
  EXPECT_EQ(s.transposition, -7);
  EXPECT_EQ(s.key_source, KeySource::designation);
  o.transpose = TransposeMode::none;
  s = encode_melody(m, o);
  EXPECT_EQ(join_symbols(s.symbols), "67 _ _ _ 71 _ _ _ 74 _ _ _ _ _ _ _");
  EXPECT_EQ(s.transposition, 0);
}

TEST(TextEncoding, MergeJoinsOnlySamePitchTies) {
  Melody m = melody({{60, Rational(1)}, {62, Rational(1)}, {62, Rational(1)}});
  m.events[0].tied_to_next = true;  // a tie to a different pitch is not joined
  m.events[1].tied_to_next = true;
  EncodeOptions o = none_any();
  o.ties = TieMode::merge;
  EXPECT_EQ(join_symbols(encode_melody(m, o).symbols), "60 _ _ _ 62 _ _ _ _ _ _ _");
}

TEST(TextEncoding, SplitAndJoin) {
  EXPECT_EQ(split_symbols("  60 _\t_\nr  / "), (std::vector<std::string>{"60", "_", "_", "r", "/"}));
  EXPECT_EQ(join_symbols({"60", "_", "r"}), "60 _ r");
  EXPECT_EQ(join_symbols({}), "");
  EXPECT_TRUE(split_symbols("   ").empty());
}

TEST(TextEncoding, DecodeSymbols) {
  Melody m = decode_symbols(split_symbols("/ / _ 60 _ _ _ r _ 62 / 64 _"));
  ASSERT_EQ(m.events.size(), 3u);
  EXPECT_EQ(m.events[0].pitch, 60);
  EXPECT_EQ(m.events[0].duration, Rational(1));
  EXPECT_EQ(m.events[1].pitch, kRest);
  EXPECT_EQ(m.events[1].duration, Rational(1, 2));
  EXPECT_EQ(m.events[2].pitch, 62);
  EXPECT_EQ(m.events[2].duration, Rational(1, 4));
  Melody half = decode_symbols(split_symbols("60 _"), Rational(1, 2));
  EXPECT_EQ(half.events[0].duration, Rational(1));
  try {
    decode_symbols(split_symbols("60 _ 128"));
    ADD_FAILURE() << "128 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "symbol \"128\" at position 3 is not a MIDI number 0..127, \"r\", \"_\", \"/\", \"|\" (or \"|3\"), \"(3:1\", \"$\", a key symbol such as \"K:G\" or a meter symbol such as \"M:6/8\"");
  }
  EXPECT_THROW(decode_symbols({"60", "x"}), Error);
  EXPECT_THROW(decode_symbols({"-1"}), Error);
}

TEST(KeySymbol, CanonicalNamesByPitchClass) {
  EXPECT_EQ(key_symbol(7, false), "K:G");
  EXPECT_EQ(key_symbol(4, true), "K:Em");
  EXPECT_EQ(key_symbol(10, false), "K:Bb");
  EXPECT_EQ(key_symbol(6, false), "K:F#");
  EXPECT_EQ(key_symbol(1, true), "K:C#m");
  EXPECT_EQ(key_symbol(1, false), "K:Db");
  EXPECT_EQ(key_symbol(-1, false), "K:B");  // modulo 12
  EXPECT_EQ(key_symbol(7 + 24, true), "K:Gm");
  const auto all = all_key_symbols();
  ASSERT_EQ(all.size(), 24u);
  EXPECT_EQ(all.front(), "K:C");
  EXPECT_EQ(all[11], "K:B");
  EXPECT_EQ(all[12], "K:Cm");
  EXPECT_EQ(all.back(), "K:Bm");
  for (size_t i = 0; i < all.size(); ++i) {  // every canonical name reads back as its own key
    auto key = parse_key_symbol(all[i]);
    ASSERT_TRUE(key) << all[i];
    EXPECT_EQ(key->tonic_pitch_class, static_cast<int>(i % 12)) << all[i];
    EXPECT_EQ(key->minor, i >= 12) << all[i];
  }
}

TEST(KeySymbol, ParsesAnySpellingAndRefusesTheRest) {
  auto gb = parse_key_symbol("K:Gb");
  ASSERT_TRUE(gb);
  EXPECT_EQ(gb->tonic_pitch_class, 6);
  EXPECT_FALSE(gb->minor);
  auto dsm = parse_key_symbol("K:D#m");
  ASSERT_TRUE(dsm);
  EXPECT_EQ(dsm->tonic_pitch_class, 3);
  EXPECT_TRUE(dsm->minor);
  EXPECT_EQ(parse_key_symbol("K:Cb")->tonic_pitch_class, 11);
  EXPECT_EQ(parse_key_symbol("K:B#")->tonic_pitch_class, 0);
  for (const char* s : {"K:", "K:H", "K:g", "K:Gx", "K:Gmaj", "K:Gmm", "K:G#b", "G", "k:G", "KG", "60", "r", "/"})
    EXPECT_FALSE(parse_key_symbol(s)) << s;
}

// The one key-name parser (generate/decode/convert --key, the API, the server): every form, the spelling kept.
TEST(KeySymbol, KeyNamesInEveryFormAndTheirSpelling) {
  struct Case {
    const char* text;
    int pc;
    bool minor;
    const char* spelling;
  };
  for (const Case& c : {Case{"D", 2, false, "D"}, Case{"Em", 4, true, "e"}, Case{"Bb", 10, false, "B-"}, Case{"F#m", 6, true, "f#"},
                        Case{"D major", 2, false, "D"}, Case{"e minor", 4, true, "e"}, Case{"bb minor", 10, true, "b-"},
                        Case{"B- major", 10, false, "B-"}, Case{"Eb  Minor", 3, true, "e-"}, Case{"a", 9, true, "a"},
                        Case{"f#", 6, true, "f#"}, Case{"B-", 10, false, "B-"}, Case{"C#", 1, false, "C#"}, Case{"Cb", 11, false, "C-"}}) {
    const auto key = parse_key_name(c.text);
    ASSERT_TRUE(key) << c.text;
    EXPECT_EQ(key->tonic_pitch_class, c.pc) << c.text;
    EXPECT_EQ(key->minor, c.minor) << c.text;
    EXPECT_EQ(key->spelling, c.spelling) << c.text;
  }
  for (const char* s : {"", "H", "H major", "D dorian", "Dmaj", "Em7", "D#m#", "K:D", " D", "Dmajor", "x minor"})
    EXPECT_FALSE(parse_key_name(s)) << s;
}

TEST(TextEncoding, KeySymbolComesFirstAndDecodesToTheMelodysKey) {
  Melody m = melody({{67, Rational(1)}, {71, Rational(1)}, {74, Rational(2)}});
  Key g;
  g.tonic_pitch_class = 7;
  m.key = g;
  EncodeOptions o = none_any();
  o.key_symbol = true;
  EncodedSong s = encode_melody(m, o);
  ASSERT_TRUE(s.accepted) << s.reason;
  EXPECT_EQ(join_symbols(s.symbols), "K:G 67 _ _ _ 71 _ _ _ 74 _ _ _ _ _ _ _");
  EXPECT_EQ(s.notes, 3);
  o.transpose = TransposeMode::reference;
  EXPECT_EQ(join_symbols(encode_melody(m, o).symbols), "K:C 60 _ _ _ 64 _ _ _ 67 _ _ _ _ _ _ _");
  // Decoding: the key symbol takes no time, does not break a hold, and the first one is the key.
  Melody back = decode_symbols(split_symbols("/ K:Em 64 _ K:G _ _ r / 60"));
  ASSERT_EQ(back.events.size(), 2u);
  EXPECT_EQ(back.events[0].pitch, 64);
  EXPECT_EQ(back.events[0].duration, Rational(1));
  EXPECT_EQ(back.events[1].pitch, kRest);
  ASSERT_TRUE(back.key);
  EXPECT_EQ(back.key->tonic_pitch_class, 4);
  EXPECT_TRUE(back.key->minor);
  EXPECT_FALSE(decode_symbols(split_symbols("60 _")).key);
  EXPECT_THROW(decode_symbols({"K:H"}), Error);
}

TEST(TextEncoding, BarlinesTakeNoTimeAndComeAfterThePitchesInTheMapping) {
  Melody m = decode_symbols(split_symbols("| 60 _ | _ r | 62"));
  ASSERT_EQ(m.events.size(), 3u);
  EXPECT_EQ(m.events[0].duration, Rational(3, 4));  // the hold goes on across "|"
  EXPECT_EQ(m.events[1].duration, Rational(1, 4));
  SymbolSet set;
  for (const char* s : {"K:G", "|", "60", "/", "_"}) set.add(s);
  const auto vocabulary = ordered_vocabulary(set);
  ASSERT_EQ(vocabulary.size(), 4u + 24u);
  EXPECT_EQ(std::vector<std::string>(vocabulary.begin(), vocabulary.begin() + 5),
            (std::vector<std::string>{"/", "_", "60", "|", "K:C"}));
  // A barline that falls between steps is dropped; one at the end of the song too.
  Melody odd = melody({{60, Rational(1)}, {62, Rational(1)}});
  odd.barlines = {Rational(0), Rational(1, 8), Rational(1), Rational(2)};
  EncodeOptions o = none_any();
  o.barlines = true;
  EXPECT_EQ(join_symbols(encode_melody(odd, o).symbols), "| 60 _ _ _ | 62 _ _ _");
  o.barlines = false;
  EXPECT_EQ(join_symbols(encode_melody(odd, o).symbols), "60 _ _ _ 62 _ _ _");
}

// --triplets: a window of 4 (or 2, 1, 8) steps whose onsets fall on its thirds is "(3:W" and three units.
TEST(TextEncoding, TripletsAreWindowsOfThreeUnits) {
  const Rational third(1, 3), sixth(1, 6);
  Melody m = melody({{60, Rational(1)}, {62, third}, {64, third}, {65, third}, {67, Rational(1, 2)},
                     {69, sixth}, {71, sixth}, {72, sixth}, {kRest, Rational(1)}, {74, Rational(2, 3)},
                     {72, Rational(4, 3)}});
  m.barlines = {Rational(2), Rational(4)};
  EncodeOptions o = none_any();
  o.durations.clear();  // every whole number of steps
  o.barlines = true;
  EXPECT_FALSE(encode_melody(m, o).accepted);  // without --triplets: refused, as before
  EXPECT_EQ(encode_melody(m, o).reason, "note of 1/3 quarter (not a whole number of 1/4-quarter steps) at line 2");
  o.triplets = true;
  const EncodedSong s = encode_melody(m, o);
  ASSERT_TRUE(s.accepted) << s.reason;
  EXPECT_EQ(join_symbols(s.symbols), "60 _ _ _ (3:1 62 64 65 | 67 _ (3:1/2 69 71 72 r _ _ _ | (3:2 74 72 _");
  EXPECT_EQ(s.notes, 10);
  // Decoded: the same notes, lengths and barlines.
  const Melody back = decode_symbols(s.symbols);
  ASSERT_EQ(back.events.size(), m.events.size());
  for (size_t i = 0; i < m.events.size(); ++i) {
    EXPECT_EQ(back.events[i].pitch, m.events[i].pitch) << i;
    EXPECT_EQ(back.events[i].duration, m.events[i].duration) << i;
  }
  EXPECT_EQ(back.barlines, m.barlines);
  // A song without triplets encodes the same with the option.
  Melody plain = melody({{60, Rational(1)}, {62, Rational(1, 2)}, {64, Rational(3, 2)}});
  plain.barlines = {Rational(0), Rational(2)};
  EncodeOptions off = o;
  off.triplets = false;
  EXPECT_EQ(encode_melody(plain, o).symbols, encode_melody(plain, off).symbols);
  // A window may not hold a barline: an eighth triplet across one is two sixteenth windows, exactly; a
  // fifth of a quarter fits no window; the end must fall on a step.
  Melody across = melody({{60, Rational(1, 2)}, {62, third}, {64, third}, {65, third}, {67, Rational(1, 2)}});
  across.barlines = {Rational(1)};
  EXPECT_EQ(join_symbols(encode_melody(across, o).symbols), "60 _ (3:1/2 62 _ 64 | (3:1/2 _ 65 _ 67 _");
  EXPECT_EQ(encode_melody(melody({{60, Rational(1, 5)}, {62, Rational(4, 5)}}), o).reason,
            "note of 4/5 quarter (it starts between the steps, and not in a triplet the grid can hold) at line 2");
  EXPECT_EQ(encode_melody(melody({{60, Rational(1)}, {62, third}}), o).reason,
            "the song's length, 4/3 quarters, is not a whole number of 1/4-quarter steps");
  EXPECT_EQ(triplet_window("(3:1/2"), Rational(1, 2));
  for (const char* bad : {"(3:", "(3:0", "(3:2/4", "(3:x", "(3:9", "(2:1", "(3:-1"}) EXPECT_FALSE(triplet_window(bad)) << bad;
}

// --countdown-bars: the barlines that open the last bars count down to the end; a primer has none.
TEST(TextEncoding, CountdownBarlinesNumberTheLastBars) {
  Melody m = melody({{60, Rational(1)}, {62, Rational(1)}, {64, Rational(1)}, {65, Rational(1)}, {67, Rational(1)}});
  m.barlines = {Rational(1), Rational(2), Rational(3), Rational(4)};  // a pickup, then four bars of one quarter
  EncodeOptions o = none_any();
  o.step = Rational(1);
  o.barlines = true;
  o.countdown_bars = 3;
  const EncodedSong s = encode_melody(m, o);
  ASSERT_TRUE(s.accepted) << s.reason;
  EXPECT_EQ(join_symbols(s.symbols), "60 | 62 |3 64 |2 65 |1 67");
  o.countdown_bars = 8;  // more than the song has: every barline counts
  EXPECT_EQ(join_symbols(encode_melody(m, o).symbols), "60 |4 62 |3 64 |2 65 |1 67");
  // Decoded, a countdown barline is a barline.
  const Melody back = decode_symbols(split_symbols("60 |4 62 |3 64 |2 65 |1 67"), Rational(1));
  EXPECT_EQ(back.barlines, m.barlines);
  EXPECT_EQ(bar_countdown("|"), 0);
  EXPECT_EQ(bar_countdown("|16"), 16);
  for (const char* bad : {"|0", "|17", "|01", "|x", "||", "1|", ""}) EXPECT_EQ(bar_countdown(bad), -1) << bad;
  EXPECT_THROW(decode_symbols(split_symbols("60 |0 62")), Error);
  // It needs barlines, and has a range.
  EncodeOptions no_bars = none_any();
  no_bars.countdown_bars = 2;
  EXPECT_THROW(check_encode_options(no_bars), Error);
  o.countdown_bars = 17;
  EXPECT_THROW(check_encode_options(o), Error);
}

// --final-mark: "$" before the step (or the triplet window) at which the last note starts, after the
// barline there; rests after it stay; decoded, it takes no time.
TEST(TextEncoding, FinalMarkPrecedesTheLastNote) {
  Melody m = melody({{60, Rational(1)}, {62, Rational(1)}, {64, Rational(1, 2)}, {kRest, Rational(1, 2)}});
  m.barlines = {Rational(1), Rational(2)};
  EncodeOptions o = none_any();
  o.step = Rational(1, 2);
  o.barlines = true;
  o.countdown_bars = 1;
  o.final_mark = true;
  EXPECT_EQ(join_symbols(encode_melody(m, o).symbols), "60 _ | 62 _ |1 $ 64 r");
  o.final_mark = false;
  EXPECT_EQ(join_symbols(encode_melody(m, o).symbols), "60 _ | 62 _ |1 64 r");
  const Melody back = decode_symbols(split_symbols("60 _ | 62 _ |1 $ 64 r"), Rational(1, 2));
  ASSERT_EQ(back.events.size(), m.events.size());
  for (size_t i = 0; i < m.events.size(); ++i) EXPECT_EQ(back.events[i].duration, m.events[i].duration) << i;
  EXPECT_EQ(back.barlines, m.barlines);
  // The last note inside a triplet window: "$" before the window.
  const Rational third(1, 3);
  Melody t = melody({{60, Rational(1)}, {62, third}, {64, third}, {65, third}});
  EncodeOptions w = none_any();
  w.triplets = true;
  w.durations = {};
  w.final_mark = true;
  EXPECT_EQ(join_symbols(encode_melody(t, w).symbols), "60 _ _ _ $ (3:1 62 64 65");
  // --countdown-key: the key symbol again after the first countdown line.
  Melody k = m;
  k.key = Key{7, false, "G"};
  o.final_mark = true;
  o.key_symbol = true;
  o.countdown_bars = 2;
  o.countdown_key = true;
  EXPECT_EQ(join_symbols(encode_melody(k, o).symbols), "K:G 60 _ |2 K:G 62 _ |1 $ 64 r");
  EXPECT_EQ(decode_symbols(encode_melody(k, o).symbols, Rational(1, 2)).events.size(), m.events.size());
  EncodeOptions no_key = o;
  no_key.key_symbol = false;
  EXPECT_THROW(check_encode_options(no_key), Error);
  // Not with --pitch-only.
  EncodeOptions p = none_any();
  p.pitch_only = true;
  p.final_mark = true;
  EXPECT_THROW(check_encode_options(p), Error);
}

TEST(TextEncoding, PerNoteSaysWhatTheStepEncodingSaysOneSymbolPairPerNote) {
  EncodeOptions o = none_any();
  o.per_note = true;
  o.barlines = true;
  Melody m = melody({{60, Rational(1)}, {kRest, Rational(1, 2)}, {62, Rational(3, 4)}, {62, Rational(1, 4)}, {64, Rational(2)}});
  m.barlines = {Rational(0), Rational(2), Rational(5, 2)};  // steps 0, 8 (inside the first 62: dropped), 10
  EncodedSong s = encode_melody(m, o);
  ASSERT_TRUE(s.accepted) << s.reason;
  EXPECT_EQ(join_symbols(s.symbols), "| 60 :4 r :2 62 :3 62 :1 | 64 :8");
  EXPECT_EQ(s.notes, encode_melody(m, none_any()).notes);
  // The step encoding's steps are the lengths' sum.
  int64_t steps = 0;
  for (const auto& x : s.symbols)
    if (const auto n = length_steps(x)) steps += *n;
  EXPECT_EQ(steps, 18);
  // Its vocabulary lists the lengths after the other symbols but before the keys, ascending.
  SymbolSet set;
  for (const auto& x : s.symbols) set.add(x);
  set.add("K:C");
  const auto v = ordered_vocabulary(set);
  ASSERT_GE(v.size(), 30u);
  EXPECT_EQ(std::vector<std::string>(v.begin(), v.begin() + 9),
            (std::vector<std::string>{"r", "60", "62", "64", "|", ":1", ":2", ":3", ":4"}));
  EXPECT_EQ(v[9], ":8");
  EXPECT_EQ(v[10], "K:C");
  // Length symbols: ":N", N >= 1, digits only.
  EXPECT_EQ(length_steps(":12"), 12);
  for (const char* bad : {":", ":0", ":07", ":-1", ":1x", "12", "|1", ":123456789"}) EXPECT_FALSE(length_steps(bad)) << bad;
  // A note the grid cannot hold is refused as by the step encoding.
  Melody odd = melody({{60, Rational(1)}, {62, Rational(1, 3)}});
  EXPECT_FALSE(encode_melody(odd, o).accepted);
  // Not with the options of the step encoding's closing (their symbols are steps), nor with pitch-only.
  for (auto set_other : {+[](EncodeOptions& e) { e.pitch_only = true; }, +[](EncodeOptions& e) { e.triplets = true; },
                         +[](EncodeOptions& e) { e.final_mark = true; }, +[](EncodeOptions& e) { e.countdown_bars = 2; }}) {
    EncodeOptions bad = o;
    set_other(bad);
    EXPECT_THROW(check_encode_options(bad), Error);
  }
  EXPECT_NO_THROW(check_encode_options(o));
  // generate cannot write a melody from either prediction encoding.
  EXPECT_THROW(check_generate_encoding(o), Error);
  EncodeOptions p = none_any();
  p.pitch_only = true;
  EXPECT_THROW(check_generate_encoding(p), Error);
  EXPECT_NO_THROW(check_generate_encoding(none_any()));
}

TEST(TextEncoding, PitchOnlyKeepsTheNotesOfTheStepEncodingAndNothingElse) {
  EncodeOptions o = none_any();
  o.pitch_only = true;
  Melody m = melody({{60, Rational(1)}, {kRest, Rational(1, 2)}, {62, Rational(3, 4)}, {62, Rational(1, 4)}});
  m.barlines = {Rational(0), Rational(2)};
  EncodedSong s = encode_melody(m, o);
  ASSERT_TRUE(s.accepted) << s.reason;
  EXPECT_EQ(join_symbols(s.symbols), "60 62 62");
  EXPECT_EQ(s.notes, encode_melody(m, none_any()).notes);
  // The length filter still decides which songs are in: a note the step encoding refuses is refused here.
  Melody odd = melody({{60, Rational(1)}, {62, Rational(1, 3)}});
  EXPECT_FALSE(encode_melody(odd, o).accepted);
  EXPECT_EQ(encode_melody(odd, o).reason, encode_melody(odd, none_any()).reason);
  EXPECT_EQ(encode_melody(melody({{kRest, Rational(1)}}), o).reason, "no notes");
  // Out of MIDI's range after transposition (C minor moves up 9 semitones, to A minor): rejected with the
  // step encoding's reason.
  Melody high = melody({{127, Rational(1)}});
  high.key = Key{0, true, "c"};
  EncodeOptions ref = o, ref_steps = none_any();
  ref.transpose = ref_steps.transpose = TransposeMode::reference;
  EXPECT_FALSE(encode_melody(high, ref).accepted);
  EXPECT_EQ(encode_melody(high, ref).reason, encode_melody(high, ref_steps).reason);
  // Input symbols contradict it.
  for (int which = 0; which < 3; ++which) {
    EncodeOptions bad = o;
    (which == 0 ? bad.key_symbol : which == 1 ? bad.meter_symbol : bad.barlines) = true;
    EXPECT_THROW(check_encode_options(bad), Error);
  }
  EXPECT_NO_THROW(check_encode_options(o));
}

TEST(TextEncoding, EncodeDecodeRoundTrip) {
  Melody m = melody({{60, Rational(1)}, {kRest, Rational(1, 2)}, {62, Rational(3, 4)}, {127, Rational(4)}, {0, Rational(1, 4)}});
  EncodedSong s = encode_melody(m, none_any());
  ASSERT_TRUE(s.accepted);
  Melody back = decode_symbols(s.symbols);
  ASSERT_EQ(back.events.size(), m.events.size());
  for (size_t i = 0; i < m.events.size(); ++i) {
    EXPECT_EQ(back.events[i].pitch, m.events[i].pitch);
    EXPECT_EQ(back.events[i].duration, m.events[i].duration);
  }
}
