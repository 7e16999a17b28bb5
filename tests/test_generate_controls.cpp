// `melodist generate --key --meter --bars --pickup --end-on` (issue 16, Controls) on a tiny model trained
// here on tests/fixtures/meter/train (9 kern songs, 3 keys x 2/4, 3/4, 6/8; preprocess --key-symbol
// --meter-symbol --barlines). Every output file is read back with melodist's kern reader: its key and
// meter are the ones asked for, it has exactly the bars asked for, each of the meter's length, and with
// --end-on-tonic its last note is the tonic. Compliance holds by construction (constrained decoding), so
// a barely trained model must meet it as well as a good one.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "formats/model_file.h"
#include "formats/song_file.h"
#include "nn/model.h"
#include "run_binary.h"
#include "util/atomic_file.h"
#include "util/rational.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

const std::string kTrain = MELODIST_FIXTURES_DIR "/meter/train";

fs::path scratch() {
  static const fs::path dir = fs::temp_directory_path() / ("melodist_controls_" + std::to_string(::getpid()));
  return dir;
}

test_support::BinaryRun melodist(const std::vector<std::string>& args) {
  fs::create_directories(scratch());
  return test_support::run_melodist(args, scratch().string());
}

// Trains (once per process) a tiny model on the fixtures with the given --transpose.
std::string model(const std::string& transpose) {
  const fs::path dir = scratch() / ("model-" + transpose);
  if (fs::exists(dir / "model.safetensors")) return dir.string();
  const fs::path data = scratch() / ("data-" + transpose);
  auto r = melodist({"preprocess", kTrain, "--out", data.string(), "--key-symbol", "--meter-symbol", "--barlines", "--transpose",
                     transpose, "--durations", "any"});
  EXPECT_EQ(r.status, 0) << r.err;
  r = melodist({"train", "--data", data.string(), "--out", dir.string(), "--hidden", "24", "--epochs", "25", "--batch", "4",
                "--seed", "1", "--threads", "1", "--val-every", "3"});
  EXPECT_EQ(r.status, 0) << r.err;
  return dir.string();
}

class Controls : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fs::remove_all(scratch()); }
};

struct Expect {
  int tonic;            // pitch class
  bool minor;
  int num, den;         // meter
  int bars;
  Rational pickup{0};   // quarters
  bool end_on_tonic = false;
};

// One output file, read back: key, meter, bars and ending as asked.
void check_file(const std::string& path, const Expect& e) {
  SCOPED_TRACE(path);
  const Melody m = read_song_file(path);
  ASSERT_TRUE(m.key);
  EXPECT_EQ(m.key->tonic_pitch_class, e.tonic);
  EXPECT_EQ(m.key->minor, e.minor);
  ASSERT_TRUE(m.time_signature);
  EXPECT_EQ(m.time_signature->numerator, e.num);
  EXPECT_EQ(m.time_signature->denominator, e.den);
  const Rational bar(4 * e.num, e.den);
  Rational length(0);
  for (const auto& ev : m.events) length += ev.duration;
  EXPECT_EQ(length, e.pickup + bar * Rational(e.bars)) << "pickup plus the bars asked for";
  std::vector<Rational> expected;
  for (int k = e.pickup > Rational(0) ? 0 : 1; k < e.bars; ++k) expected.push_back(e.pickup + bar * Rational(k));
  EXPECT_EQ(m.barlines, expected) << "every bar of the meter's length";
  if (e.end_on_tonic) {
    int last = -1;
    for (const auto& ev : m.events)
      if (ev.pitch >= 0) last = ev.pitch;
    ASSERT_GE(last, 0);
    EXPECT_EQ(last % 12, e.tonic) << "the last note is the tonic";
  }
}

struct KeyCase {
  const char* name;
  int tonic;
  bool minor;
};

TEST_F(Controls, KeyMeterBarsEndOnTonicOverManySeeds) {
  const std::string m = model("none");
  const KeyCase keys[] = {{"D", 2, false}, {"Em", 4, true}, {"Bb", 10, false}};
  const std::pair<int, int> meters[] = {{2, 4}, {3, 4}, {6, 8}};
  int files = 0;
  for (const KeyCase& k : keys)
    for (const auto& [num, den] : meters)
      for (int bars : {8, 16}) {
        const std::string meter = std::to_string(num) + "/" + std::to_string(den);
        const fs::path out = scratch() / ("out-" + std::string(k.name) + "-" + std::to_string(num) + "-" + std::to_string(bars));
        fs::create_directories(out);
        auto r = melodist({"generate", "--model", m, "--key", k.name, "--meter", meter, "--bars", std::to_string(bars), "--end-on-tonic",
                           "--num-outputs", "10", "--seed", std::to_string(7 + bars), "--steps", "1000", "--out", (out / "x.krn").string()});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.out.find("under the constrained distribution"), std::string::npos) << r.out;
        for (int i = 1; i <= 10; ++i) {
          char name[32];
          std::snprintf(name, sizeof name, "x-%03d.krn", i);
          check_file((out / name).string(), {k.tonic, k.minor, num, den, bars, Rational(0), true});
          ++files;
        }
      }
  EXPECT_EQ(files, 180);
}

TEST_F(Controls, PickupTriadAndBeamSearch) {
  const std::string m = model("none");
  const fs::path out = scratch() / "pickup";
  fs::create_directories(out);
  // A pickup of an eighth in 6/8, with beam search (3 beams x 2 branches) and --num-outputs 4.
  auto r = melodist({"generate", "--model", m, "--key", "D", "--meter", "6/8", "--bars", "8", "--pickup", "1/8", "--end-on-tonic",
                     "--beam-size", "3", "--branch-factor", "2", "--num-outputs", "4", "--seed", "5", "--out", (out / "b.krn").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  for (int i = 1; i <= 4; ++i) check_file((out / ("b-00" + std::to_string(i) + ".krn")).string(), {2, false, 6, 8, 8, Rational(1, 2), true});
  // A primer with a barline inside its first bar gives the pickup (here one quarter of 3/4).
  r = melodist({"generate", "--model", m, "--primer", "K:D M:3/4 62 _ _ _ | 66 _", "--bars", "4", "--end-on-tonic", "--seed", "4", "--out",
                (out / "p.krn").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  check_file((out / "p.krn").string(), {2, false, 3, 4, 4, Rational(1), true});
  // --end-on triad: the last note is D, F# or A; MusicXML out, read back the same way.
  r = melodist({"generate", "--model", m, "--key", "D", "--meter", "3/4", "--bars", "4", "--end-on", "triad", "--num-outputs", "6",
                "--seed", "9", "--out", (out / "t.musicxml").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  for (int i = 1; i <= 6; ++i) {
    const std::string path = (out / ("t-00" + std::to_string(i) + ".musicxml")).string();
    check_file(path, {2, false, 3, 4, 4, Rational(0), false});
    const Melody back = read_song_file(path);
    int last = -1;
    for (const auto& ev : back.events)
      if (ev.pitch >= 0) last = ev.pitch % 12;
    EXPECT_TRUE(last == 2 || last == 6 || last == 9) << path << ": last pitch class " << last;
  }
}

TEST_F(Controls, SameSeedSameBytes) {
  const std::string m = model("none");
  const fs::path out = scratch() / "seeds";
  fs::create_directories(out);
  for (const char* name : {"a.mid", "b.mid"}) {
    auto r = melodist({"generate", "--model", m, "--key", "Em", "--meter", "2/4", "--bars", "8", "--end-on-tonic", "--beam-size", "2",
                       "--num-outputs", "3", "--seed", "11", "--out", (out / name).string()});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  for (const char* n : {"-001", "-002", "-003"})
    EXPECT_EQ(read_file((out / (std::string("a") + n + ".mid")).string()), read_file((out / (std::string("b") + n + ".mid")).string()));
  // The MIDI file carries the key and meter too.
  const Melody back = read_song_file((out / "a-001.mid").string());
  ASSERT_TRUE(back.key && back.time_signature);
  EXPECT_EQ(back.key->tonic_pitch_class, 4);
  EXPECT_TRUE(back.key->minor);
  EXPECT_EQ(back.time_signature->numerator, 2);
  EXPECT_EQ(back.time_signature->denominator, 4);
}

// Without --bars, a model with barline symbols still keeps every bar whole (the model picks the pickup).
TEST_F(Controls, WholeBarsWithoutBars) {
  const std::string m = model("none");
  const fs::path out = scratch() / "free";
  fs::create_directories(out);
  auto r = melodist({"generate", "--model", m, "--num-outputs", "10", "--seed", "3", "--steps", "400", "--out", (out / "f.krn").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  int ended = 0;
  for (int i = 1; i <= 10; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "f-%03d.krn", i);
    const Melody back = read_song_file((out / name).string());
    ASSERT_TRUE(back.time_signature) << name;  // the model's own meter symbol
    const Rational bar(4 * back.time_signature->numerator, back.time_signature->denominator);
    Rational length(0);
    for (const auto& ev : back.events) length += ev.duration;
    // A song of one bar has no barline; else the first falls within a bar (the pickup), then every bar.
    std::vector<Rational> lines = back.barlines;
    if (lines.empty()) lines.push_back(length);
    EXPECT_GT(lines[0], Rational(0));
    EXPECT_LE(lines[0], bar) << name;
    for (size_t j = 1; j < lines.size(); ++j) EXPECT_EQ(lines[j] - lines[j - 1], bar) << name;
    const std::string path = (out / name).string();
    const size_t at = r.out.find(path + ":");
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    if (line.find("ended by the model") != std::string::npos) {
      if (!back.barlines.empty()) {
        // The last bar is whole, or completes the pickup (a first bar line inside the first bar).
        const Rational last = length - back.barlines.back(), pickup = back.barlines.front();
        EXPECT_TRUE(last == bar || (pickup < bar && last == bar - pickup)) << line << ": the last bar is whole or completes the pickup";
      }
      ++ended;
    }
  }
  EXPECT_GT(ended, 0) << r.out;
}

// A model trained on songs moved to C major / A minor honours --key by transposing its output.
TEST_F(Controls, ReferenceTransposedModelHonoursKeyByTransposing) {
  const std::string m = model("reference");
  const fs::path out = scratch() / "reference";
  fs::create_directories(out);
  auto r = melodist({"generate", "--model", m, "--key", "Bb", "--meter", "3/4", "--bars", "8", "--end-on-tonic", "--num-outputs", "5",
                     "--seed", "2", "--out", (out / "r.krn").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  for (int i = 1; i <= 5; ++i) check_file((out / ("r-00" + std::to_string(i) + ".krn")).string(), {10, false, 3, 4, 8, Rational(0), true});
  r = melodist({"generate", "--model", m, "--key", "F#m", "--meter", "2/4", "--bars", "8", "--end-on-tonic", "--seed", "2", "--out",
                (out / "s.txt").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file((out / "s.txt").string()).rfind("K:F#m M:2/4 ", 0), 0u);
}

// Bad input: one line on standard error, exit 1, nothing written.
TEST_F(Controls, BadInputIsOneLineAndWritesNothing) {
  const std::string m = model("none");
  const std::string out = (scratch() / "bad.mid").string();
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Bad> cases = {
      {{"--meter", "7/8"}, "--meter 7/8: the model has never seen this meter (it knows M:2/4 M:3/4 M:6/8)"},
      {{"--bars", "0"}, "--bars must be 1 or more"},
      {{"--bars", "100", "--meter", "3/4", "--steps", "500"}, "--bars 100 needs up to"},
      {{"--primer", "K:D M:3/4 62 _", "--meter", "6/8"}, "the primer's meter M:3/4 contradicts --meter 6/8"},
      {{"--bars", "4", "--meter", "2/4", "--pickup", "3/4"}, "--pickup 3/4 is not shorter than a bar of 2/4"},
      {{"--key", "H"}, "--key \"H\" is not a key such as D, Em, Bb or F#m"},
      {{"--pickup", "1/8"}, "--pickup needs --bars"},
      {{"--bars", "4", "--candidates", "2000"}, "--candidates must be between 1 and 1024"},
      {{"--candidates", "-1"}, "--candidates must be between 1 and 1024"},
  };
  for (const Bad& b : cases) {
    std::vector<std::string> args = {"generate", "--model", m, "--out", out};
    args.insert(args.end(), b.args.begin(), b.args.end());
    auto r = melodist(args);
    EXPECT_EQ(r.status, 1) << b.message;
    EXPECT_NE(r.err.find(b.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(out)) << b.message;
  }
  // A model of written pitches without key and meter symbols refuses them, saying how to train one (one of
  // songs moved to C / Am honours --key by moving its output: ReferenceTransposedModelHonoursKeyByTransposing).
  const fs::path plain = fs::path(out).parent_path() / "plain-model";
  Model written = make_model(ModelConfig{5, 8, 1}, {"/", "_", "r", "60", "62"}, 3);
  const nlohmann::json preprocessing = {{"step", "1/4"}, {"durations", "any"}, {"transpose", "none"}};
  save_model({written, {{"preprocessing", preprocessing}}}, plain.string());
  auto r = melodist({"generate", "--model", plain.string(), "--key", "D", "--out", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--key D: the model has no key symbols; train one on data made with `melodist preprocess --key-symbol`"),
            std::string::npos) << r.err;
  r = melodist({"generate", "--model", plain.string(), "--meter", "6/8", "--out", out});
  EXPECT_NE(r.err.find("the model has no meter symbols; train one on data made with `melodist preprocess --meter-symbol`"),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
