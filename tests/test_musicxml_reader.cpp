// The MusicXML reader against hand-written fixtures (tests/fixtures/musicxml/NAME.musicxml with NAME.expected
// beside it, the kern fixtures' format: kern_fixture.h) plus "read: part=N voice=N" (read2: for the
// second run) and "meter: 3/4"; and .mxl archives made here with libzip (no container, a zip bomb).
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <fstream>

#include "formats/key_symbol.h"
#include "formats/musicxml_reader.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "kern_fixture.h"
#include "preprocess/preprocess.h"
#include "util/error.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(MELODIST_FIXTURES_DIR) + "/musicxml";

using Fields = std::multimap<std::string, std::string>;

Fields load_expected(const std::string& path) {
  Fields f;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    f.emplace(line.substr(0, colon), value);
  }
  return f;
}

std::string get(const Fields& f, const std::string& k) {
  auto it = f.find(k);
  return it == f.end() ? "" : it->second;
}

MusicXmlExtractOptions read_options(const std::string& text) {
  MusicXmlExtractOptions o;
  if (auto p = text.find("part="); p != std::string::npos) o.part = std::stoi(text.substr(p + 5));
  if (auto p = text.find("voice="); p != std::string::npos) o.voice = std::stoi(text.substr(p + 6));
  return o;
}

std::vector<std::string> fixtures() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.path().extension() == ".musicxml" || e.path().extension() == ".mxl") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string expected_path(const std::string& path) { return fs::path(path).replace_extension(".expected").string(); }

}  // namespace

TEST(MusicXmlReader, HandWrittenFixtures) {
  int checked = 0;
  for (const std::string& path : fixtures()) {
    Fields f = load_expected(expected_path(path));
    ASSERT_FALSE(f.empty()) << path << " has no .expected";
    for (std::string suffix : {"", "2"}) {
      const std::string opts = get(f, "options" + suffix);
      if (suffix == "2" && !f.count("options2") && !f.count("read2")) continue;
      MusicXmlExtractOptions read = read_options(get(f, "read" + suffix));
      if (f.count("error")) {
        std::string expected = get(f, "error");
        expected.replace(expected.find("FILE"), 4, path);
        try {
          read_musicxml_file(path, read);
          ADD_FAILURE() << path << ": accepted";
        } catch (const Error& e) {
          EXPECT_EQ(std::string(e.what()), expected);
        }
        ++checked;
        break;
      }
      Melody m;
      ASSERT_NO_THROW(m = read_musicxml_file(path, read)) << path;
      EncodedSong song = encode_melody(m, kern_fixture::parse_options(opts));
      if (f.count("encoding" + suffix)) {
        EXPECT_TRUE(song.accepted) << path << suffix << ": " << song.reason;
        EXPECT_EQ(join_symbols(song.symbols), get(f, "encoding" + suffix)) << path << suffix;
        ++checked;
      }
      if (f.count("reason" + suffix)) {
        EXPECT_FALSE(song.accepted) << path << suffix;
        EXPECT_EQ(song.reason, get(f, "reason" + suffix)) << path << suffix;
        ++checked;
      }
      if (suffix.empty() && f.count("key")) {
        std::string k = get(f, "key");
        size_t b = k.rfind(' '), a = k.rfind(' ', b - 1);
        EXPECT_EQ(key_display_name(song.key), k.substr(0, a)) << path;
        EXPECT_EQ(to_string(song.key_source), k.substr(a + 1, b - a - 1)) << path;
        EXPECT_EQ(song.transposition, std::stoi(k.substr(b + 1))) << path;
      }
      if (suffix.empty() && f.count("meter")) {
        ASSERT_TRUE(m.time_signature) << path;
        EXPECT_EQ(std::to_string(m.time_signature->numerator) + "/" + std::to_string(m.time_signature->denominator), get(f, "meter")) << path;
      }
    }
  }
  EXPECT_GE(checked, 25);
}

TEST(MusicXmlReader, ReadThroughSongFileWithPartAndVoice) {
  EXPECT_TRUE(is_song_file("a.MusicXML"));
  EXPECT_TRUE(is_song_file("a.mxl"));
  EXPECT_TRUE(is_song_file("a.xml"));
  SongReadOptions o;
  o.part = 2;
  Melody m = read_song_file(kDir + "/timewise-parts.musicxml", o);
  ASSERT_EQ(m.events.size(), 3u);
  EXPECT_EQ(m.events[0].pitch, 48);
  EXPECT_EQ(m.barlines, std::vector<Rational>{Rational(2)});
  o.part = 3;
  EXPECT_THROW(read_song_file(kDir + "/timewise-parts.musicxml", o), Error);
}

namespace {
// An .mxl made by libzip: the given members (name, bytes).
std::string make_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  std::vector<std::string> keep;
  keep.reserve(members.size());
  for (const auto& [name, bytes] : members) {
    keep.push_back(bytes);
    zip_source_t* s = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
    zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE);
  }
  EXPECT_EQ(zip_close(z), 0);
  return path;
}
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string error_of(const std::string& path) {
  try {
    read_musicxml_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
const std::string kContainer =
    "<?xml version=\"1.0\"?><container><rootfiles><rootfile full-path=\"score/tune.musicxml\"/></rootfiles></container>";
}  // namespace

TEST(MusicXmlReader, CompressedMxl) {
  const std::string dir = testing::TempDir();
  const std::string xml = read_text(kDir + "/pickup-meter-key.musicxml");
  std::string good = make_zip(dir + "/good.mxl", {{"mimetype", "application/vnd.recordare.musicxml"},
                                                 {"META-INF/container.xml", kContainer}, {"score/tune.musicxml", xml}});
  Melody a = read_musicxml_file(good), b = read_musicxml_file(kDir + "/pickup-meter-key.musicxml");
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) EXPECT_EQ(a.events[i].pitch, b.events[i].pitch);

  std::string none = make_zip(dir + "/none.mxl", {{"score/tune.musicxml", xml}});
  EXPECT_EQ(error_of(none), none + ": the archive has no META-INF/container.xml (not a compressed MusicXML file)");
  std::string missing = make_zip(dir + "/missing.mxl", {{"META-INF/container.xml", kContainer}});
  EXPECT_EQ(error_of(missing), missing + ": the archive has no score/tune.musicxml");
  std::string bad = make_zip(dir + "/bad.mxl", {{"META-INF/container.xml", kContainer}, {"score/tune.musicxml", "<score-partwise><part-list>"}});
  EXPECT_EQ(error_of(bad).substr(0, bad.size() + 22), bad + "[score/tune.musicxml]:");
  std::ofstream(dir + "/text.mxl") << "<score-partwise/>";
  EXPECT_EQ(error_of(dir + "/text.mxl"), dir + "/text.mxl: not a compressed MusicXML file: an .mxl is a zip archive");
  // A zip bomb: 65 MiB of spaces deflate to ~64 KiB; inflating stops at the cap.
  std::string bomb = make_zip(dir + "/bomb.mxl", {{"META-INF/container.xml", kContainer},
                                                 {"score/tune.musicxml", "<score-partwise>" + std::string(65u << 20, ' ')}});
  EXPECT_LT(fs::file_size(bomb), 1u << 20);
  EXPECT_EQ(error_of(bomb), bomb + ": score/tune.musicxml inflates to more than 64 MiB; refused");
}

// Regression for the fuzzer's zero-length event (two same-voice notes at one onset after a <backup>;
// fixtures/musicxml/zero-length-events.*): every event the reader gives has a positive length, and the
// measure's four quarters are all there.
TEST(MusicXmlReader, NoZeroLengthEventAfterBackupOrZeroDurations) {
  const Melody m = read_musicxml_file(kDir + "/zero-length-events.musicxml", {});
  Rational total(0);
  for (const MelodyEvent& e : m.events) {
    EXPECT_GT(e.duration, Rational(0)) << "pitch " << e.pitch;
    total += e.duration;
  }
  EXPECT_EQ(total, Rational(8));
  ASSERT_FALSE(m.events.empty());
  EXPECT_EQ(m.events.front().pitch, 69);
  EXPECT_EQ(m.events.front().duration, Rational(1));
}
