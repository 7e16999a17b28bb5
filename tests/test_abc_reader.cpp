// ABC reader: hand-written fixtures (tests/fixtures/abc/*.abc), each with its expected text encoding
// beside it (*.expected: worked out by hand from the ABC 2.1 standard, --transpose none and any length
// unless said), bad input with the one-line error naming file, tune and line, and the song-file API
// (FILE#X, every tune of a file, preprocess's manifest entry per tune).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/abc_reader.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "preprocess/preprocess.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;

namespace {

const std::string kDir = std::string(MELODIST_FIXTURES_DIR) + "/abc/";

std::string expected(const std::string& name) {
  std::string text = read_file(kDir + name);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string encode(const std::string& file, Rational step = Rational(1, 4), TieMode ties = TieMode::reattack,
                   int voice = 0, TransposeMode transpose = TransposeMode::none) {
  SongReadOptions read;
  read.voice = voice;
  Melody melody = read_song_file(kDir + file, read);
  EncodeOptions options;
  options.step = step;
  options.ties = ties;
  options.transpose = transpose;
  EncodedSong song = encode_melody(melody, options);
  EXPECT_TRUE(song.accepted) << file << ": " << song.reason;
  return join_symbols(song.symbols);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(AbcReader, OctavesAndLengths) { EXPECT_EQ(encode("octaves_lengths.abc"), expected("octaves_lengths.expected")); }
TEST(AbcReader, AccidentalsLastToTheBarInEveryOctave) { EXPECT_EQ(encode("accidentals.abc"), expected("accidentals.expected")); }
TEST(AbcReader, BrokenRhythm) { EXPECT_EQ(encode("broken_rhythm.abc"), expected("broken_rhythm.expected")); }
TEST(AbcReader, Tuplets) { EXPECT_EQ(encode("tuplets.abc", Rational(1, 12)), expected("tuplets.expected")); }
TEST(AbcReader, TiesAndRests) {
  EXPECT_EQ(encode("ties_rests.abc"), expected("ties_rests.expected"));
  EXPECT_EQ(encode("ties_rests.abc", Rational(1, 4), TieMode::merge), expected("ties_rests.merge.expected"));
}
TEST(AbcReader, ChordsGraceNotesDecorationsAnnotationsSlurs) {
  EXPECT_EQ(encode("chords_decorations.abc"), expected("chords_decorations.expected"));
}
TEST(AbcReader, CommentsDirectivesContinuationInlineAndBodyFields) { EXPECT_EQ(encode("fields.abc"), expected("fields.expected")); }
TEST(AbcReader, RepeatsAndEndingsExpanded) { EXPECT_EQ(encode("repeats.abc"), expected("repeats.expected")); }
// A ":|" with no "|:" since the last repeat goes back to the previous double bar (the engraving rule the
// ABC 2.1 standard leaves unstated); a "||" inside an open "|:" ... ":|" does not move the repeat's start.
// abc2midi differs on the first (it goes back to the start of the tune; see abc2midi_differences.tsv).
TEST(AbcReader, RepeatStartAfterDoubleBar) {
  EXPECT_EQ(encode("repeats_double_bar.abc"), expected("repeats_double_bar.expected"));
}
TEST(AbcReader, PartOrder) { EXPECT_EQ(encode("parts.abc"), expected("parts.expected")); }
TEST(AbcReader, VoicesFirstOrChosen) {
  EXPECT_EQ(encode("voices.abc"), expected("voices.expected"));
  EXPECT_EQ(encode("voices.abc", Rational(1, 4), TieMode::reattack, 2), expected("voices.voice2.expected"));
  EXPECT_NE(error_of([] { encode("voices.abc", Rational(1, 4), TieMode::reattack, 3); }).find("the tune has 2 voice(s)"), std::string::npos);
}

TEST(AbcReader, ModesKeysAndMeters) {
  // Ddor: tonic D with a minor third, so the reference's rule moves D to A (+7).
  EXPECT_EQ(encode("modes_meters.abc#1", Rational(1, 4), TieMode::reattack, 0, TransposeMode::reference), expected("modes_meters.expected"));
  Melody dor = read_song_file(kDir + "modes_meters.abc#1");
  ASSERT_TRUE(dor.key);
  EXPECT_EQ(dor.key->tonic_pitch_class, 2);
  EXPECT_TRUE(dor.key->minor);
  EXPECT_EQ(dor.key_mode, "dorian");
  EXPECT_EQ(dor.key_signature_fifths, 0);
  Melody mix = read_song_file(kDir + "modes_meters.abc#2");
  EXPECT_EQ(mix.key->tonic_pitch_class, 9);
  EXPECT_FALSE(mix.key->minor);
  EXPECT_EQ(mix.key_mode, "mixolydian");
  EXPECT_EQ(mix.key_signature_fifths, 2);
  EXPECT_EQ(mix.events[1].pitch, 67);  // G natural in A mixolydian
  Melody em = read_song_file(kDir + "modes_meters.abc#3");
  EXPECT_EQ(em.key->name(), "e");
  EXPECT_EQ(em.key_mode, "");
  EXPECT_EQ(em.key_signature_fifths, 1);
  EXPECT_FALSE(read_song_file(kDir + "modes_meters.abc#4").key);  // K:none: the encoder estimates
  Melody common = read_song_file(kDir + "modes_meters.abc#5");
  ASSERT_TRUE(common.time_signature);
  EXPECT_EQ(common.time_signature->numerator, 4);
  EXPECT_EQ(common.time_signature->denominator, 4);
  // "C|D E F|G3|": barlines after 1 and 4 quarters (the final one is followed by nothing).
  ASSERT_EQ(common.barlines.size(), 2u);
  EXPECT_EQ(common.barlines[0], Rational(1));
  EXPECT_EQ(common.barlines[1], Rational(4));
  Melody cut = read_song_file(kDir + "modes_meters.abc#6");
  EXPECT_EQ(cut.time_signature->numerator, 2);
  EXPECT_EQ(cut.time_signature->denominator, 2);
  EXPECT_EQ(cut.events[0].duration, Rational(2));  // M:C| = 2/2 >= 3/4: unit 1/8, C4 = a half note
  EXPECT_EQ(cut.source_format, melodist::SourceFormat::abc);
}

TEST(AbcReader, RepeatBarlinesArePerformed) {
  Melody m = read_song_file(kDir + "repeats.abc");
  // C D|:E F:|(E F):|G A|1 B c:|2 ... every bar line as played, at 2, 4, 6, 8, 10, 12 (second G A), ...
  std::vector<Rational> want = {Rational(2), Rational(4), Rational(6), Rational(8), Rational(10), Rational(12)};
  ASSERT_GE(m.barlines.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(m.barlines[i], want[i]) << i;
}

TEST(AbcReader, ARepeatWithAPickupPlaysWholeBars) {
  // |:G|C D|E:|F A|c2|] plays G C D E G C D E F A c2. The repeat's short bar (E) and the pickup played
  // again after it (G) are one bar: no barline at 4. The second E, before the bar F A, keeps its own.
  // (The "|:" that opens the tune is a barline at 0, as every performed bar line is.)
  Melody m = read_song_file(kDir + "repeat_pickup.abc");
  EXPECT_EQ(m.barlines, (std::vector<Rational>{Rational(0), Rational(1), Rational(3), Rational(5), Rational(7), Rational(8), Rational(10)}));
  // Only at a jump: the same bars written out have their barline at 4.
  const AbcBook book = split_abc_book("X:1\nM:2/4\nL:1/4\nK:C\nG|C D|E|G|C D|E|F A|c2|]\n", "written.abc");
  ASSERT_EQ(book.tunes.size(), 1u);
  Melody written = parse_abc_tune(book.tunes[0], AbcReadOptions{}, "written.abc");
  EXPECT_EQ(written.barlines, (std::vector<Rational>{Rational(1), Rational(3), Rational(4), Rational(5), Rational(7), Rational(8), Rational(10)}));
}

TEST(AbcReader, BadTunesNameFileTuneAndLineAndTheOthersStillRead) {
  const std::string path = kDir + "bad_tunes.abc";
  auto songs = read_songs(path);
  ASSERT_EQ(songs.size(), 8u);
  EXPECT_EQ(songs[0].name, path + "#1");
  EXPECT_TRUE(songs[0].melody);
  EXPECT_TRUE(songs[7].melody);
  const std::vector<std::pair<std::string, std::string>> want = {
      {":10: tune X:2: ", "unclosed chord"}, {":15: tune X:3: ", "unclosed tuplet"}, {":21: tune X:4: ", "unknown field Y:"},
      {":27: tune X:5: ", "bad length"},     {":29: tune X:6: ", "no K: field"},     {":36: tune X:7: ", "unbalanced repeats"}};
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& s = songs[i + 1];
    EXPECT_FALSE(s.melody) << s.name;
    EXPECT_EQ(s.error.rfind(path + want[i].first, 0), 0u) << s.error;
    EXPECT_NE(s.error.find(want[i].second), std::string::npos) << s.error;
    EXPECT_EQ(s.error.find('\n'), std::string::npos);
  }
  EXPECT_NE(error_of([&] { read_song_file(path + "#5"); }).find("bad length"), std::string::npos);
  EXPECT_NE(error_of([&] { read_song_file(path + "#99"); }).find("no tune X:99"), std::string::npos);
  EXPECT_NE(error_of([] { split_abc_book(std::string("X:1\nK:C\nC\0D", 12), "nul.abc"); }).find("nul.abc:3: binary data"), std::string::npos);
  EXPECT_NE(error_of([] { split_abc_book("T:no tune\n", "none.abc"); }).find("no tune"), std::string::npos);
}

TEST(AbcReader, PreprocessGivesOneManifestEntryPerTune) {
  namespace fs = std::filesystem;
  PreprocessOptions options;
  options.progress = false;
  options.jobs = 2;
  Dataset d = build_dataset({kDir + "bad_tunes.abc", kDir + "modes_meters.abc"}, options);
  ASSERT_EQ(d.files.size(), 14u);
  EXPECT_EQ(d.files[0].path, kDir + "bad_tunes.abc#1");
  EXPECT_TRUE(d.files[0].accepted);
  EXPECT_FALSE(d.files[1].readable);
  EXPECT_EQ(d.files[1].reason.rfind("line 10: tune X:2: unclosed chord", 0), 0u) << d.files[1].reason;
  EXPECT_TRUE(d.files[7].accepted);
  EXPECT_EQ(d.files[8].path, kDir + "modes_meters.abc#1");
  auto manifest = nlohmann::json::parse(manifest_json(d, options));
  EXPECT_EQ(manifest["files"][8]["mode"], "dorian");
  EXPECT_EQ(manifest["files"][8]["key"], "D minor");
  EXPECT_EQ(manifest["files"][1]["stage"], "read");
}

TEST(AbcReader, SongFileDispatch) {
  EXPECT_TRUE(is_song_file("a/b.ABC"));
  EXPECT_TRUE(is_song_file("a/b.abc#12"));
  EXPECT_FALSE(is_song_file("a/b.krn#12"));
  EXPECT_FALSE(is_song_file("a/b.abcd"));
}
