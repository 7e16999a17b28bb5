// The **kern reader against hand-written fixtures (tests/fixtures/kern, see kern_fixture.h) and
// generated malformed input (a 10 MB line, random bytes).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "formats/kern_reader.h"
#include "kern_fixture.h"
#include "util/error.h"

using namespace melodist;

namespace {

std::string read_fixture_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string error_of(const std::string& text, const std::string& path) {
  try {
    parse_kern(text, path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(KernReader, FixturesHaveExpectations) {
  auto fixtures = kern_fixture::load_all();
  ASSERT_GE(fixtures.size(), 40u);
  for (const auto& f : fixtures) EXPECT_FALSE(f.fields.empty()) << f.name << ".krn has no (or an empty) .expected";
}

TEST(KernReader, MalformedFixturesGiveTheExactError) {
  int checked = 0;
  for (const auto& f : kern_fixture::load_all()) {
    if (!f.has("error")) continue;
    std::string expected = f.get("error");
    expected.replace(expected.find("FILE"), 4, f.path);
    EXPECT_EQ(error_of(read_fixture_text(f.path), f.path), expected) << f.name;
    // read_kern_file gives the same message
    try {
      read_kern_file(f.path);
      ADD_FAILURE() << f.name << ": read_kern_file accepted it";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), expected);
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(KernReader, WellFormedFixturesAreRead) {
  for (const auto& f : kern_fixture::load_all()) {
    if (f.has("error")) continue;
    Melody m;
    ASSERT_NO_THROW(m = read_kern_file(f.path)) << f.name;
    EXPECT_FALSE(m.events.empty()) << f.name;
    std::vector<std::string> expected_warnings;
    for (auto [it, end] = f.fields.equal_range("warning"); it != end; ++it) expected_warnings.push_back(it->second);
    EXPECT_EQ(m.warnings, expected_warnings) << f.name;
  }
}

TEST(KernReader, EventsDurationsTiesAndLines) {
  Melody m = read_kern_file(kern_fixture::dir() + "/ties.krn");
  ASSERT_EQ(m.events.size(), 7u);
  EXPECT_EQ(m.events[0].pitch, 60);
  EXPECT_TRUE(m.events[0].tied_to_next);   // [4c
  EXPECT_FALSE(m.events[1].tied_to_next);  // 4c]
  EXPECT_TRUE(m.events[2].tied_to_next);   // [8d
  EXPECT_TRUE(m.events[3].tied_to_next);   // 8d_
  EXPECT_FALSE(m.events[4].tied_to_next);  // 8d]
  EXPECT_EQ(m.events[2].duration, Rational(1, 2));
  EXPECT_EQ(m.events[0].line, 5);
  EXPECT_EQ(m.events[6].line, 11);
}

TEST(KernReader, InterpretationsMeterTempoKeySignatureFirstKey) {
  Melody m = read_kern_file(kern_fixture::dir() + "/notation.krn");
  ASSERT_TRUE(m.time_signature.has_value());
  EXPECT_EQ(m.time_signature->numerator, 4);
  EXPECT_EQ(m.time_signature->denominator, 4);
  ASSERT_TRUE(m.tempo_bpm.has_value());
  EXPECT_DOUBLE_EQ(*m.tempo_bpm, 96.0);
  ASSERT_TRUE(m.key_signature_fifths.has_value());
  EXPECT_EQ(*m.key_signature_fifths, -1);
  ASSERT_TRUE(m.key.has_value());
  EXPECT_EQ(m.key->tonic_pitch_class, 5);
  EXPECT_FALSE(m.key->minor);

  Melody mod = read_kern_file(kern_fixture::dir() + "/modulation.krn");
  ASSERT_TRUE(mod.key.has_value());
  EXPECT_EQ(mod.key->tonic_pitch_class, 7);  // *G: first, *D: later is a modulation
  EXPECT_EQ(*mod.key_signature_fifths, 1);   // the first key signature

  Melody none = read_kern_file(kern_fixture::dir() + "/no-designation.krn");
  EXPECT_FALSE(none.key.has_value());
  Melody minor = read_kern_file(kern_fixture::dir() + "/key-F-sharp-minor.krn");
  ASSERT_TRUE(minor.key.has_value());
  EXPECT_EQ(minor.key->tonic_pitch_class, 6);
  EXPECT_TRUE(minor.key->minor);
  EXPECT_EQ(minor.key->spelling, "f#");
  Melody three = read_kern_file(kern_fixture::dir() + "/durations-breve.krn");
  EXPECT_EQ(three.time_signature->numerator, 4);
  EXPECT_EQ(three.time_signature->denominator, 1);
}

TEST(KernReader, BarlineTimes) {
  // =1 after an eighth-note pickup, =2 three quarters later, "==" with no note after it; a barline in
  // another spine's record is the same record.
  Melody m = parse_kern("**kern\t**kern\n*M3/4\t*\n8g\t8c\n=1\t=1\n4b\t4c\n4dd\t4c\n[4g\t4c\n=2\t=2\n4g]\t4c\n"
                        "2r\t2c\n==\t==\n*-\t*-\n", "t.krn");
  EXPECT_EQ(m.barlines, (std::vector<Rational>{Rational(1, 2), Rational(7, 2)}));
  // Two barline records in a row (a repeat sign) are one time; a barline before the first note is time 0.
  Melody two = parse_kern("**kern\n=1-\n4c\n=2\n=:|!\n4d\n*-\n", "t.krn");
  EXPECT_EQ(two.barlines, (std::vector<Rational>{Rational(0), Rational(1)}));
  EXPECT_TRUE(parse_kern("**kern\n4c\n4d\n*-\n", "t.krn").barlines.empty());
}

TEST(KernReader, DurationForms) {
  auto dur = [](const std::string& token) {
    Melody m = parse_kern("**kern\n" + token + "\n*-\n", "t.krn");
    return m.events.at(0).duration;
  };
  EXPECT_EQ(dur("4c"), Rational(1));
  EXPECT_EQ(dur("4.c"), Rational(3, 2));
  EXPECT_EQ(dur("4..c"), Rational(7, 4));
  EXPECT_EQ(dur("4...c"), Rational(15, 8));
  EXPECT_EQ(dur("0c"), Rational(8));
  EXPECT_EQ(dur("00c"), Rational(16));
  EXPECT_EQ(dur("0.c"), Rational(12));
  EXPECT_EQ(dur("1c"), Rational(4));
  EXPECT_EQ(dur("3c"), Rational(4, 3));
  EXPECT_EQ(dur("6c"), Rational(2, 3));
  EXPECT_EQ(dur("12c"), Rational(1, 3));
  EXPECT_EQ(dur("24c"), Rational(1, 6));
  EXPECT_EQ(dur("10c"), Rational(2, 5));   // eighth-note quintuplet
  EXPECT_EQ(dur("3%2c"), Rational(8, 3));  // rational reciprocal
  EXPECT_EQ(dur("1.5c"), Rational(8, 3));  // decimal reciprocal (deutschl/altdeu1/deut3939.krn)
  EXPECT_EQ(dur("c4"), Rational(1));        // signifier order is free
  EXPECT_EQ(dur("8cq"), Rational(0));       // grace note
  EXPECT_EQ(dur("qc"), Rational(0));        // grace note without a written duration
  EXPECT_EQ(dur("4r"), Rational(1));
  EXPECT_EQ(dur("1rr"), Rational(4));
}

TEST(KernReader, CrLfAndBomAreRead) {
  Melody m = parse_kern("\xEF\xBB\xBF**kern\r\n*G:\r\n4g\r\n*-\r\n", "t.krn");
  ASSERT_EQ(m.events.size(), 1u);
  EXPECT_EQ(m.events[0].pitch, 67);
  EXPECT_EQ(m.key->tonic_pitch_class, 7);
}

TEST(KernReader, OnlyTheFirstKernSpineIsRead) {
  Melody m = read_kern_file(kern_fixture::dir() + "/multi-spine.krn");
  ASSERT_EQ(m.events.size(), 4u);
  EXPECT_EQ(m.events[0].pitch, 65);
  EXPECT_EQ(m.events[1].pitch, 69);
  EXPECT_EQ(m.events[2].pitch, 67);
  EXPECT_EQ(m.events[3].pitch, 65);
}

TEST(KernReader, MalformedTokens) {
  auto err = [](const std::string& token) { return error_of("**kern\n" + token + "\n*-\n", "t.krn"); };
  EXPECT_EQ(err("4x#"), "t.krn:2: cannot read token \"4x#\"");
  EXPECT_EQ(err("4cd"), "t.krn:2: cannot read token \"4cd\"");      // two pitches
  EXPECT_EQ(err("4cC"), "t.krn:2: cannot read token \"4cC\"");      // mixed case
  EXPECT_EQ(err("4c4"), "t.krn:2: cannot read token \"4c4\"");      // two durations
  EXPECT_EQ(err("#4c"), "t.krn:2: cannot read token \"#4c\"");      // accidental before the pitch
  EXPECT_EQ(err("4c#-"), "t.krn:2: cannot read token \"4c#-\"");    // contradicting accidentals
  EXPECT_EQ(err("4"), "t.krn:2: cannot read token \"4\"");          // neither pitch nor rest
  EXPECT_EQ(err("4c*"), "t.krn:2: cannot read token \"4c*\"");
  EXPECT_EQ(err("c"), "t.krn:2: cannot read token \"c\": note without duration");
  EXPECT_EQ(err("4cccccccc"), "t.krn:2: cannot read token \"4cccccccc\": pitch outside MIDI 0..127");
  EXPECT_EQ(err("4CCCCCC"), "t.krn:2: cannot read token \"4CCCCCC\": pitch outside MIDI 0..127");
  EXPECT_EQ(err("99999999999c"), "t.krn:2: cannot read token \"99999999999c\"");  // absurd duration
  EXPECT_EQ(err("4c\xC3\xA4"), "t.krn:2: cannot read token \"4c\\xC3\\xA4\"");   // non-ASCII, shown escaped
}

TEST(KernReader, TenMegabyteLines) {
  const size_t n = 10u << 20;
  // A 10 MB note token: read in linear time, reported on one short line.
  std::string text = "**kern\n4" + std::string(n, 'c') + "\n*-\n";
  std::string expected = "big.krn:2: cannot read token \"4" + std::string(39, 'c') + "...\" (" +
                         std::to_string(n + 1) + " characters): pitch outside MIDI 0..127";
  EXPECT_EQ(error_of(text, "big.krn"), expected);
  // A 10 MB line of unknown signifiers
  std::string junk = "**kern\n4c\n" + std::string(n, '=') + "x\n*-\n";
  junk[10] = '4';  // "4==...=x": a data token, not a barline
  EXPECT_EQ(error_of(junk, "junk.krn").substr(0, 35), "junk.krn:3: cannot read token \"4===");
  // A 10 MB line of tabs: counted, not split.
  EXPECT_EQ(error_of("**kern\n4c" + std::string(n, '\t') + "\n*-\n", "tabs.krn"),
            "tabs.krn:2: expected 1 tab-separated field(s), one per spine, found " + std::to_string(n + 1));
  // A 10 MB comment is fine.
  std::string comment = "!! " + std::string(n, 'x') + "\n**kern\n4c\n*-\n";
  EXPECT_EQ(parse_kern(comment, "c.krn").events.size(), 1u);
  // A 10 MB file of one line without a newline at all.
  EXPECT_EQ(error_of(std::string(n, 'c'), "one.krn"), "one.krn: no **kern spine");
}

TEST(KernReader, RandomBytesNeverCrash) {
  // Seeded mutations of a valid file: every outcome is a Melody or a melodist::Error with one line.
  std::string base = read_fixture_text(kern_fixture::dir() + "/notation.krn");
  std::mt19937 rng(12345);
  const std::string alphabet = "\t\n *!=-_.#[](){}qQrn0123456789abcgABC%^:v\x01";
  int errors = 0, melodies = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: text.erase(at, 1 + rng() % 8); break;
      }
      if (text.empty()) text = "x";
    }
    try {
      Melody m = parse_kern(text, "fuzz.krn");
      for (const auto& ev : m.events) ASSERT_TRUE(ev.pitch == kRest || (ev.pitch >= 0 && ev.pitch <= 127));
      ++melodies;
    } catch (const Error& e) {
      std::string msg = e.what();
      ASSERT_EQ(msg.find('\n'), std::string::npos) << msg;
      ASSERT_EQ(msg.rfind("fuzz.krn", 0), 0u) << msg;
      ++errors;
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(melodies, 0);
}
