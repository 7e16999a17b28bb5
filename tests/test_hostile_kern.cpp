// Hostile **kern files (tests/fixtures/hostile/kern, issue 21 defect 1): lengths that overflow the
// encoder's exact arithmetic. Each one used to end a whole `preprocess` run with SIGABRT (the exception
// left a worker thread) and `encode` reported it without the file's name. The binary runs without a
// shell (tests/run_binary.h), so a crash would show as a signal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/kern_reader.h"
#include "formats/text_encoding.h"
#include "run_binary.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;
namespace fs = std::filesystem;
using test_support::BinaryRun;
using test_support::run_melodist;

namespace {

const std::string kHostile = std::string(MELODIST_FIXTURES_DIR) + "/hostile/kern/";
const std::string kKern = std::string(MELODIST_FIXTURES_DIR) + "/kern/";
const std::vector<std::string> kHostileNames = {"duration-overflow", "step-overflow", "tied-chain-overflow"};
// The options of the .expected reasons (fixtures/hostile/kern/README.md).
const std::vector<std::string> kOptions = {"--durations", "any", "--ties", "merge", "--step", "1/48"};

// "reason: ..." of NAME.expected.
std::string expected_reason(const std::string& name) {
  std::string text = read_file(kHostile + name + ".expected");
  EXPECT_EQ(text.rfind("reason: ", 0), 0u) << name;
  return text.substr(8, text.find('\n') - 8);
}

// The hand-written encoding at 1/4-quarter steps (kern fixture NAME.expected, "encoding: ...") at
// 1/48-quarter steps: every step becomes 12 (a symbol then 11 holds, a hold 12 holds).
std::string encoding_at_48th_steps(const std::string& name) {
  std::istringstream lines(read_file(kKern + name + ".expected"));
  std::string line, out;
  while (std::getline(lines, line))
    if (line.rfind("encoding: ", 0) == 0)
      for (const std::string& s : split_symbols(line.substr(10)))
        for (int i = 0; i < 12; ++i) out += (out.empty() ? "" : " ") + (i == 0 ? s : std::string("_"));
  return out;
}

std::string describe(const BinaryRun& r) {
  return "exited " + std::to_string(r.exited) + " status " + std::to_string(r.status) + " signal " + std::to_string(r.signal) +
         "\nstderr: " + r.err;
}

class HostileKern : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("melodist-hostile-kern-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    for (const auto& name : kHostileNames) fs::copy_file(kHostile + name + ".krn", dir_ / "in" / (name + ".krn"));
    for (const char* good : {"key-C-major", "key-A-minor"}) fs::copy_file(kKern + good + ".krn", dir_ / "in" / (std::string(good) + ".krn"));
  }
  void TearDown() override { fs::remove_all(dir_); }
  BinaryRun preprocess(std::vector<std::string> extra, const std::string& jobs = "2") {
    std::vector<std::string> args = {"preprocess", (dir_ / "in").string(), "--out", (dir_ / "out").string(), "--jobs", jobs};
    args.insert(args.end(), kOptions.begin(), kOptions.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return run_melodist(args, dir_.string());
  }
  fs::path dir_;
};

}  // namespace

TEST(HostileKernEncoder, OverflowIsAMalformedRejectionNotAnException) {
  EncodeOptions options;
  options.ties = TieMode::merge;
  options.step = Rational(1, 48);  // durations: any
  for (const auto& name : kHostileNames) {
    const Melody melody = parse_kern(read_file(kHostile + name + ".krn"), name + ".krn");
    EncodedSong song;
    ASSERT_NO_THROW(song = encode_melody(melody, options)) << name;
    EXPECT_FALSE(song.accepted) << name;
    EXPECT_TRUE(song.malformed) << name;
    EXPECT_TRUE(song.symbols.empty()) << name;
    EXPECT_EQ(song.reason, expected_reason(name)) << name;
  }
}

TEST_F(HostileKern, PreprocessAcceptsTheGoodSongsAndListsEachHostileFile) {
  for (const char* jobs : {"1", "2", "4"}) {
    const BinaryRun r = preprocess({}, jobs);
    ASSERT_TRUE(r.exited) << describe(r);
    ASSERT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out.rfind("accepted 2 of 5 songs, ", 0), 0u) << r.out;
    // Path order: key-A-minor.krn < key-C-major.krn.
    EXPECT_EQ(read_file((dir_ / "out/songs.txt").string()),
              encoding_at_48th_steps("key-A-minor") + "\n" + encoding_at_48th_steps("key-C-major") + "\n");
    const auto manifest = nlohmann::json::parse(read_file((dir_ / "out/manifest.json").string()));
    size_t seen = 0;
    for (const auto& entry : manifest["files"]) {
      const std::string name = fs::path(entry["path"].get<std::string>()).stem().string();
      if (name.rfind("key-", 0) == 0) {
        EXPECT_EQ(entry["status"], "accepted") << name;
        continue;
      }
      ++seen;
      EXPECT_EQ(entry["status"], "rejected") << name;
      EXPECT_EQ(entry["stage"], "encode") << name;
      EXPECT_EQ(entry["reason"], expected_reason(name)) << name;
    }
    EXPECT_EQ(seen, kHostileNames.size());
  }
}

TEST_F(HostileKern, StrictStopsAtTheFirstHostileFileWithOneLine) {
  const BinaryRun r = preprocess({"--strict"});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.status, 1) << describe(r);
  // duration-overflow.krn is first in path order.
  EXPECT_EQ(r.err, "melodist: error: " + (dir_ / "in" / "duration-overflow.krn").string() + ": " + expected_reason("duration-overflow") +
                       " (--strict: a malformed file is fatal)\n");
  EXPECT_FALSE(fs::exists(dir_ / "out" / "songs.txt"));
}

TEST_F(HostileKern, EncodeNamesTheFile) {
  for (const auto& name : kHostileNames) {
    std::vector<std::string> args = {"encode", kHostile + name + ".krn"};
    args.insert(args.end(), kOptions.begin(), kOptions.end());
    const BinaryRun r = run_melodist(args, dir_.string());
    ASSERT_TRUE(r.exited) << name << " " << describe(r);
    EXPECT_EQ(r.status, 1) << name;
    EXPECT_EQ(r.out, "") << name;
    EXPECT_EQ(r.err, "melodist: error: " + kHostile + name + ".krn: song rejected: " + expected_reason(name) + "\n") << name;
  }
}
