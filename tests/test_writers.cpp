// The writers on small melodies whose output was written out and checked by hand
// (tests/fixtures/writers: a pickup in 3/4, a tie across a barline, accidentals to cancel within a bar,
// a minor key in 6/8, triplets): ABC, MusicXML and kern compared byte for byte. Then the corrected MIDI
// pickup (mido), audio (FFT pitch, sox duration and peak), and bad input through `melodist convert`.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <complex>
#include <filesystem>

#include "formats/abc_writer.h"
#include "formats/audio_writer.h"
#include "formats/kern_reader.h"
#include "formats/kern_writer.h"
#include "formats/midi_writer.h"
#include "formats/musicxml_writer.h"
#include "formats/song_writer.h"
#include "formats/text_encoding.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

const std::string kDir = MELODIST_FIXTURES_DIR "/writers/";
const char* kFixtures[] = {"pickup_3-4", "tie_across_barline", "accidentals", "minor_6-8", "triplet"};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
struct Shell {
  int status;
  std::string out;
};
Shell shell(const std::string& cmd) {
  const fs::path o = fs::temp_directory_path() / ("melodist_writers_" + std::to_string(::getpid()) + ".txt");
  const int raw = std::system((cmd + " >" + quote(o.string()) + " 2>&1").c_str());
  Shell r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(o.string())};
  fs::remove(o);
  return r;
}

class Writers : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("melodist_writers_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

TEST_F(Writers, HandCheckedFilesByteForByte) {
  for (const char* name : kFixtures) {
    SCOPED_TRACE(name);
    const Melody m = read_kern_file(kDir + name + ".krn");
    EXPECT_EQ(write_abc_tune(m, {}, 1, name), read_file(kDir + name + ".abc"));
    EXPECT_EQ(write_musicxml(m, {}, name), read_file(kDir + name + ".musicxml"));
    EXPECT_EQ(write_kern(m, {}, name), read_file(kDir + name + ".out.krn"));
  }
}

TEST_F(Writers, MxlHoldsTheSameDocumentAndIsDeterministic) {
  const Melody m = read_kern_file(kDir + std::string("pickup_3-4.krn"));
  const std::string a = write_mxl(m, {}, "pickup_3-4"), b = write_mxl(m, {}, "pickup_3-4");
  EXPECT_EQ(a, b);
  write_file_atomically(path("p.mxl"), a);
  // Python's zipfile as the independent reader of the container.
  const Shell r = shell("/usr/bin/python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                        "print(z.namelist()); sys.stdout.write(z.read('score.musicxml').decode())\" " + quote(path("p.mxl")));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "['mimetype', 'META-INF/container.xml', 'score.musicxml']\n" + read_file(kDir + "pickup_3-4.musicxml"));
}

TEST_F(Writers, MidiPickupStartsAfterARestThatFillsTheFirstBar) {
  if (shell("/usr/bin/python3 -c 'import mido'").status != 0) GTEST_SKIP() << "/usr/bin/python3 with mido is missing";
  const Melody m = read_kern_file(kDir + std::string("pickup_3-4.krn"));  // 3/4, a one-beat pickup
  write_file_atomically(path("p.mid"), write_midi(m));
  const Shell r = shell("/usr/bin/python3 " MELODIST_SOURCE_DIR "/tests/tools/midi_notes.py " + quote(path("p.mid")));
  // The pickup D4 at beat 3 of an empty first bar (2 quarters in), bar 2 from quarter 3.
  EXPECT_EQ(r.out, path("p.mid") + "\t2:1:62 3:1:67 4:1/2:69 9/2:1/2:71 5:1:72 6:2:74 8:1:71 9:3:67\n");
  // Without a pickup nothing moves: the bytes are those of before the correction.
  Melody no_pickup = m;
  no_pickup.barlines.clear();
  const std::string bytes = write_midi(no_pickup);
  EXPECT_EQ(bytes.substr(0, 14), std::string("MThd\0\0\0\6\0\1\0\2\1\xE0", 14));
}

// Fundamental of a tone: the magnitude peak of a Hann-windowed DFT over 40..2000 Hz in 1 Hz steps, refined by a parabola.
double dominant_frequency(const std::vector<float>& stereo, size_t from, size_t count) {
  std::vector<double> x(count);
  for (size_t i = 0; i < count; ++i)
    x[i] = stereo[2 * (from + i)] * (0.5 - 0.5 * std::cos(2 * M_PI * double(i) / double(count - 1)));
  auto power = [&](double f) {
    std::complex<double> acc = 0, step = std::polar(1.0, -2 * M_PI * f / kAudioSampleRate), w = 1;
    for (size_t i = 0; i < count; ++i) acc += x[i] * w, w *= step;
    return std::norm(acc);
  };
  double best = 40, best_power = 0;
  for (double f = 40; f <= 2000; f += 1) {
    const double p = power(f);
    if (p > best_power) best = f, best_power = p;
  }
  // The strongest partial may be a harmonic (a flute's low notes): the fundamental is the lowest
  // best/k (k = 4, 3, 2) with a peak of at least 5% of the strongest one near it.
  for (int k = 4; k >= 2; --k) {
    double f0 = best / k, p0 = 0;
    for (double f = best / k * 0.97; f <= best / k * 1.03; f += 0.5)
      if (const double p = power(f); p > p0) f0 = f, p0 = p;
    if (f0 >= 40 && p0 > 0.05 * best_power) {
      best = f0, best_power = p0;
      break;
    }
  }
  const double a = power(best - 1), c = power(best + 1);
  const double denom = a - 2 * best_power + c;
  return denom != 0 ? best + 0.5 * (a - c) / denom : best;
}

TEST_F(Writers, AudioSingleNotesHaveTheirPitch) {
  if (!fs::exists(kDefaultSoundfont)) GTEST_SKIP() << kDefaultSoundfont << " is missing (apt-get install " << kDefaultSoundfontPackage << ")";
  for (int pitch : {62, 69, 76, 81}) {  // in the flute range (C4 up)
    SCOPED_TRACE(pitch);
    Melody m;
    m.events.push_back({pitch, Rational(2), false, 0});  // one second at 120 bpm
    AudioOptions options;
    options.program = 73;  // flute: a strong fundamental
    const std::vector<float> s = render_audio(m, options);
    const double f = dominant_frequency(s, 4410, 16384);
    const double want = 440.0 * std::pow(2.0, (pitch - 69) / 12.0);
    EXPECT_LT(std::abs(12 * std::log2(f / want)), 0.5) << f << " Hz, want " << want;
  }
}

TEST_F(Writers, AudioFilesLastThePlusTailAndPeakAtMinusOneDb) {
  if (!fs::exists(kDefaultSoundfont)) GTEST_SKIP() << kDefaultSoundfont << " is missing (apt-get install " << kDefaultSoundfontPackage << ")";
  if (shell("command -v sox").status != 0) GTEST_SKIP() << "sox is missing (apt-get install sox)";
  const Melody m = read_kern_file(kDir + std::string("pickup_3-4.krn"));  // 10 quarters at *MM100 = 6 s
  for (const char* ext : {".wav", ".flac", ".ogg"}) {
    SCOPED_TRACE(ext);
    SongWriteOptions options;
    write_song_file(path(std::string("a") + ext), m, options);
    const Shell r = shell("sox " + quote(path(std::string("a") + ext)) + " -n stat");
    ASSERT_EQ(r.status, 0) << r.out;
    auto value = [&](const std::string& label) {
      const size_t at = r.out.find(label);
      return at == std::string::npos ? -1.0 : std::stod(r.out.substr(r.out.find(':', at) + 1));
    };
    EXPECT_NEAR(value("Length (seconds)"), 6.0 + kAudioTailSeconds, 0.05);
    const double peak = std::max(value("Maximum amplitude"), -value("Minimum amplitude"));
    EXPECT_NEAR(20 * std::log10(peak), kAudioPeakDbfs, 1.0);
    EXPECT_GT(value("RMS     amplitude"), 0.01);  // not silent
  }
}

// Same melody, same bytes, for every audio format, from two separate processes (libsndfile seeds its
// Ogg serial number from the clock once per process); the .ogg, whose serial and page checksums
// melodist rewrites, must still decode whole (libogg drops a page whose CRC is wrong, so a bad checksum
// would shorten it).
TEST_F(Writers, AudioIsTheSameBytesOnEveryRunAndTheOggStillDecodes) {
  if (!fs::exists(kDefaultSoundfont)) GTEST_SKIP() << kDefaultSoundfont << " is missing (apt-get install " << kDefaultSoundfontPackage << ")";
  if (shell("command -v sox").status != 0) GTEST_SKIP() << "sox is missing (apt-get install sox)";
  const std::string m = quote(MELODIST_BINARY), in = quote(kDir + "pickup_3-4.krn");  // 6 s at *MM100
  for (const char* ext : {".wav", ".flac", ".ogg"}) {
    SCOPED_TRACE(ext);
    for (const char* run : {"1", "2"}) {
      const Shell r = shell(m + " convert " + in + " --out " + quote(path(std::string("run") + run + ext)));
      ASSERT_EQ(r.status, 0) << r.out;
    }
    const std::string first = read_file(path(std::string("run1") + ext)), second = read_file(path(std::string("run2") + ext));
    ASSERT_GT(first.size(), 1000u);
    EXPECT_TRUE(first == second) << "two renders of one melody differ";
  }
  const Shell r = shell("sox " + quote(path("run1.ogg")) + " -n stat");
  ASSERT_EQ(r.status, 0) << r.out;
  const size_t at = r.out.find("Length (seconds)");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_NEAR(std::stod(r.out.substr(r.out.find(':', at) + 1)), 6.0 + kAudioTailSeconds, 0.05) << r.out;
  EXPECT_EQ(r.out.find("WARN"), std::string::npos) << r.out;
}

TEST_F(Writers, ConvertBadInputIsOneLineAndWritesNothing) {
  const std::string m = quote(MELODIST_BINARY), in = quote(kDir + "triplet.krn");
  Shell r = shell(m + " convert " + in + " --out " + quote(path("x.xyz")));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "melodist: error: " + path("x.xyz") + ": unknown extension; melodist writes " + written_extensions() + "\n");
  r = shell(m + " convert " + in + " --out " + quote(path("nowhere/x.abc")));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "melodist: error: " + path("nowhere/x.abc") + ": the output folder " + path("nowhere") + " does not exist\n");
  r = shell(m + " convert " + in + " --out " + quote(path("x.wav")) + " --soundfont " + quote(path("none.sf2")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("timgm6mb-soundfont"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(dir)) << "a failed convert left a file";
  r = shell(m + " convert " + in + " --out " + quote(path("ok.abc")));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(read_file(path("ok.abc")), read_file(kDir + "triplet.abc"));
}

TEST_F(Writers, GenerateWritesATuneBookAndDecodeWritesEveryFormat) {
  const std::string m = quote(MELODIST_BINARY);
  Shell r = shell(m + " generate --seed 5 --num-outputs 3 --steps 64 --out " + quote(path("book.abc")));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string book = read_file(path("book.abc"));
  EXPECT_EQ(book.rfind("X:1\nT:essen-german seed 5 melody 1\nM:4/4\n", 0), 0u) << book;
  EXPECT_NE(book.find("\n\nX:2\nT:essen-german seed 5 melody 2\n"), std::string::npos) << book;
  EXPECT_NE(book.find("\n\nX:3\n"), std::string::npos) << book;
  EXPECT_FALSE(fs::exists(path("book-001.abc")));
  r = shell(m + " generate --seed 5 --num-outputs 2 --steps 64 --split --out " + quote(path("t.abc")));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(path("t-001.abc")) && fs::exists(path("t-002.abc")));
  // decode: the same melody in every format, each one what the library writes for it.
  const std::string text = "67 _ 69 _ 71 _ 72 _ 74 _ _ _ 71 _ 67 _ _ _ _ _";
  for (const char* ext : {".abc", ".musicxml", ".krn"}) {
    r = shell("echo '" + text + "' | " + m + " decode - --key G --time-signature 3/4 --out " + quote(path(std::string("d") + ext)));
    ASSERT_EQ(r.status, 0) << r.out;
  }
  Melody want = decode_symbols(split_symbols(text));
  want.key = Key{7, false, "G"};
  NotationOptions notation;
  notation.time_signature = TimeSignature{3, 4};
  notation.bpm = 120;
  EXPECT_EQ(read_file(path("d.abc")), write_abc_tune(want, notation, 1, ""));
  EXPECT_EQ(read_file(path("d.krn")), write_kern(want, notation, ""));
  EXPECT_NE(read_file(path("d.abc")).find("M:3/4\nL:1/8\nQ:1/4=120\nK:G\nGA Bc d2 | B G3 |]"), std::string::npos)
      << read_file(path("d.abc"));
  r = shell("echo '60 _' | " + m + " decode - --out " + quote(path("d.xyz")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("unknown extension; melodist writes .abc"), std::string::npos) << r.out;
}

TEST_F(Writers, MissingDefaultSoundfontNamesThePackage) {
  AudioOptions options;
  options.soundfont = path("absent.sf2");
  Melody m;
  m.events.push_back({60, Rational(1), false, 0});
  try {
    render_audio(m, options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("timgm6mb-soundfont"), std::string::npos) << e.what();
  }
}

}  // namespace
