// The dataset builder: in-process on fixtures, end to end through the melodist binary, and on the
// shared Essen corpus (skipped when ../shared is absent).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "melodist/version.h"
#include "preprocess/preprocess.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(MELODIST_FIXTURES_DIR) + "/kern";
const std::string kDeutschl = std::string(MELODIST_SHARED_DIR) + "/data/essen/deutschl";

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("melodist-test-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string copy(const std::string& fixture, const std::string& sub = "") const {
    fs::create_directories(path / "in" / sub);
    fs::path to = path / "in" / sub / (fixture + ".krn");
    fs::copy_file(kFixtures + "/" + fixture + ".krn", to);
    return to.string();
  }
  std::string in() const { return (path / "in").string(); }
  std::string out() const { return (path / "out").string(); }
};

PreprocessOptions quiet() {
  PreprocessOptions o;
  o.encode.durations = reference_durations();
  o.progress = false;
  o.jobs = 1;
  return o;
}

struct RunResult {
  int status;
  std::string out, err;
};

RunResult run_cli(const std::string& args, const fs::path& scratch) {
  std::string out = (scratch / "stdout.txt").string(), err = (scratch / "stderr.txt").string();
  std::string command = std::string(MELODIST_BINARY) + " " + args + " >" + out + " 2>" + err;
  int raw = std::system(command.c_str());
  RunResult r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
  return r;
}

nlohmann::json load_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

const std::string kMinorSong = "69 _ _ _ 72 _ _ _ 76 _ _ _ 69 _ _ _ _ _ _ _";  // hand-written (key-*-minor fixtures)
const std::string kMajorSong = "60 _ _ _ 64 _ _ _ 67 _ _ _ 60 _ _ _ _ _ _ _";

}  // namespace

TEST(Preprocess, FileDatasetSongsAndMappingExactly) {
  TempDir t("exact");
  t.copy("key-C-major");
  t.copy("key-A-minor", "sub");  // "in/key-C-major.krn" < "in/sub/key-A-minor.krn"
  t.copy("durations-triplet-rejected");
  PreprocessOptions o = quiet();
  o.delimiter_length = 2;
  Dataset d = run_preprocess({t.in()}, t.out(), o);
  EXPECT_EQ(d.accepted, 2u);
  EXPECT_EQ(read_file(t.out() + "/songs.txt"), kMajorSong + "\n" + kMinorSong + "\n");
  EXPECT_EQ(read_file(t.out() + "/file_dataset"), kMajorSong + " / / " + kMinorSong + " / /");
  EXPECT_EQ(read_file(t.out() + "/mapping.json"),
            "{\n    \"/\": 0,\n    \"_\": 1,\n    \"60\": 2,\n    \"64\": 3,\n    \"67\": 4,\n    \"69\": 5,\n"
            "    \"72\": 6,\n    \"76\": 7\n}\n");
  EXPECT_EQ(summary_line(d), "accepted 2 of 3 songs, 8 symbols, 40 steps");
  auto m = load_json(t.out() + "/manifest.json");
  EXPECT_EQ(m["melodist_version"], MELODIST_VERSION);
  EXPECT_EQ(m["totals"]["accepted"], 2);
  EXPECT_EQ(m["totals"]["rejected"], 1);
  EXPECT_EQ(m["totals"]["steps"], 40);
  EXPECT_EQ(m["options"]["delimiter_length"], 2);
  EXPECT_EQ(m["options"]["durations"], "1/4,1/2,3/4,1,3/2,2,3,4");
  ASSERT_EQ(m["files"].size(), 3u);
  auto& rejected = m["files"][0];
  EXPECT_NE(rejected["path"].get<std::string>().find("durations-triplet-rejected.krn"), std::string::npos);
  EXPECT_EQ(rejected["status"], "rejected");
  EXPECT_EQ(rejected["reason"], "note of 1/3 quarter at line 5");
  auto& minor = m["files"][2];
  EXPECT_EQ(minor["status"], "accepted");
  EXPECT_EQ(minor["key"], "A minor");
  EXPECT_EQ(minor["key_source"], "designation");
  EXPECT_EQ(minor["transposition"], 0);
  EXPECT_EQ(minor["steps"], 20);
}

TEST(Preprocess, KeySymbolsStartEachSongAndAll24AreInTheMapping) {
  TempDir t("keys");
  t.copy("key-G-major");
  t.copy("key-E-minor");  // "key-E-minor.krn" < "key-G-major.krn"
  PreprocessOptions o = quiet();
  o.encode.transpose = TransposeMode::none;
  o.encode.key_symbol = true;
  Dataset d = run_preprocess({t.in()}, t.out(), o);
  ASSERT_EQ(d.accepted, 2u);
  // Hand-worked: e g b e (E minor) and g b d g (G major) at written pitch, each behind its key symbol.
  EXPECT_EQ(read_file(t.out() + "/songs.txt"),
            "K:Em 64 _ _ _ 67 _ _ _ 71 _ _ _ 64 _ _ _ _ _ _ _\n"
            "K:G 67 _ _ _ 71 _ _ _ 74 _ _ _ 67 _ _ _ _ _ _ _\n");
  const auto mapping = load_json(t.out() + "/mapping.json");
  // "/", "_", the four pitches 64 67 71 74, then all 24 keys: majors from C, then minors from C.
  std::vector<std::string> order(mapping.size());
  for (auto& [symbol, id] : mapping.items()) order.at(id.get<size_t>()) = symbol;
  ASSERT_EQ(order.size(), 2u + 4u + 24u);
  EXPECT_EQ(order[5], "74");
  EXPECT_EQ(order[6], "K:C");
  EXPECT_EQ(order[6 + 7], "K:G");
  EXPECT_EQ(order[6 + 12 + 4], "K:Em");
  EXPECT_EQ(order.back(), "K:Bm");
  EXPECT_EQ(load_json(t.out() + "/manifest.json")["options"]["key_symbol"], true);
  // Without the option: no key symbol and no "key_symbol" entry.
  PreprocessOptions plain = quiet();
  plain.encode.transpose = TransposeMode::none;
  run_preprocess({t.in()}, t.out(), plain);
  EXPECT_EQ(read_file(t.out() + "/songs.txt").find("K:"), std::string::npos);
  EXPECT_FALSE(load_json(t.out() + "/manifest.json")["options"].contains("key_symbol"));
}

TEST(Preprocess, PitchOnlyWritesOneMidiNumberPerNoteAndRecordsTheOption) {
  TempDir t("pitch-only");
  t.copy("key-G-major");
  t.copy("key-E-minor");
  PreprocessOptions o = quiet();
  o.encode.transpose = TransposeMode::none;
  o.encode.pitch_only = true;
  Dataset d = run_preprocess({t.in()}, t.out(), o);
  ASSERT_EQ(d.accepted, 2u);
  EXPECT_EQ(read_file(t.out() + "/songs.txt"), "64 67 71 64\n67 71 74 67\n");
  EXPECT_EQ(load_json(t.out() + "/manifest.json")["options"]["pitch_only"], true);
  // With an input symbol it is refused before anything is written.
  o.encode.barlines = true;
  EXPECT_THROW(run_preprocess({t.in()}, t.out() + "-bad", o), Error);
  EXPECT_FALSE(std::filesystem::exists(t.out() + "-bad"));
}

// --exclude: a listed song (spelled through "..", and an ABC tune by FILE#X) is neither in songs.txt nor
// in the vocabulary, the manifest lists it as excluded; --include keeps only the listed ones; a name that
// is no song of the inputs is an error naming the list and line, and nothing is written.
TEST(Preprocess, ExcludeListLeavesSongsOutAndNamesUnknownOnes) {
  TempDir t("exclude");
  t.copy("key-C-major");
  const std::string minor = t.copy("key-A-minor", "sub");
  fs::copy_file(std::string(MELODIST_FIXTURES_DIR) + "/abc/two-tunes.abc", t.path / "in" / "two-tunes.abc");
  const fs::path list = t.path / "exclude.txt";
  std::ofstream(list) << "# held out\n" << (t.path / "in" / "sub" / ".." / "sub" / "key-A-minor.krn").string() << "\n\n"
                      << (t.path / "in" / "two-tunes.abc").string() << "#2\n";
  PreprocessOptions o = quiet();
  o.exclude_list = list.string();
  Dataset d = run_preprocess({t.in()}, t.out(), o);
  EXPECT_EQ(d.excluded, 2u);
  EXPECT_EQ(summary_line(d).substr(0, 34), "accepted 2 of 4 songs (2 excluded)");
  EXPECT_EQ(read_file(t.out() + "/songs.txt").find("69"), std::string::npos);  // A minor's tonic: not there
  auto m = load_json(t.out() + "/manifest.json");
  EXPECT_EQ(m["totals"]["excluded"], 2);
  EXPECT_EQ(m["totals"]["rejected"], 0);
  EXPECT_EQ(m["options"]["exclude"], list.string());
  std::set<std::string> excluded;
  for (const auto& f : m["files"])
    if (f["status"] == "excluded") excluded.insert(fs::path(f["path"].get<std::string>()).filename().string());
  EXPECT_EQ(excluded, (std::set<std::string>{"key-A-minor.krn", "two-tunes.abc#2"}));

  // --include with the same list keeps exactly the two songs --exclude left out.
  PreprocessOptions only = quiet();
  only.include_list = list.string();
  Dataset kept = run_preprocess({t.in()}, (t.path / "kept").string(), only);
  EXPECT_EQ(kept.accepted, 2u);
  EXPECT_EQ(kept.excluded, 2u);
  std::set<std::string> accepted;
  const auto kept_manifest = load_json((t.path / "kept" / "manifest.json").string());
  for (const auto& f : kept_manifest["files"])
    if (f["status"] == "accepted") accepted.insert(fs::path(f["path"].get<std::string>()).filename().string());
  EXPECT_EQ(accepted, excluded);

  std::ofstream(list, std::ios::app) << (t.path / "in" / "missing.krn").string() << "\n";
  try {
    run_preprocess({t.in()}, (t.path / "out2").string(), o);
    FAIL() << "an unknown name was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(list.string() + ":5: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("is not a song of the inputs"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t.path / "out2"));
}

TEST(Preprocess, DelimiterLengthZeroJoinsSongsWithOneSpace) {
  TempDir t("nodelim");
  t.copy("key-C-major");
  t.copy("key-G-major");
  PreprocessOptions o = quiet();
  o.delimiter_length = 0;
  Dataset d = build_dataset({t.in()}, o);
  EXPECT_EQ(file_dataset_text(d, 0), kMajorSong + " " + kMajorSong);
  EXPECT_EQ(file_dataset_text(d, 1), kMajorSong + " / " + kMajorSong + " /");
}

TEST(Preprocess, MalformedFilesAreReportedAndSkippedStrictIsFatal) {
  TempDir t("malformed");
  std::string bad = t.copy("malformed-unknown-token");
  t.copy("malformed-empty");
  t.copy("key-D-major");
  Dataset d = build_dataset({t.in()}, quiet());
  EXPECT_EQ(d.accepted, 1u);
  EXPECT_EQ(d.unreadable, 2u);
  // sorted: key-D-major, malformed-empty, malformed-unknown-token
  EXPECT_TRUE(d.files[0].accepted);
  EXPECT_EQ(d.files[2].path, bad);
  EXPECT_EQ(d.files[2].reason, "line 12: cannot read token \"4x#\"");
  EXPECT_EQ(d.files[1].reason, "empty file");
  auto m = nlohmann::json::parse(manifest_json(d, quiet()));
  EXPECT_EQ(m["files"][2]["reason"], "line 12: cannot read token \"4x#\"");
  EXPECT_EQ(m["files"][2]["stage"], "read");
  EXPECT_TRUE(m["files"][2]["key"].is_null());
  PreprocessOptions strict = quiet();
  strict.strict = true;
  EXPECT_THROW(build_dataset({t.in()}, strict), Error);
}

TEST(Preprocess, NoAcceptedSongIsAnError) {
  TempDir t("none");
  t.copy("grace");
  t.copy("malformed-no-kern");
  try {
    run_preprocess({t.in()}, t.out(), quiet());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no song accepted"), std::string::npos) << e.what();
  }
  // The reasons stay readable, beside the (absent) dataset, which is not created.
  EXPECT_EQ(load_json(t.out() + ".rejected-manifest.json")["totals"]["rejected"], 2);
  EXPECT_FALSE(fs::exists(t.out()));
}

TEST(Preprocess, MissingInputIsAnError) {
  EXPECT_THROW(build_dataset({"/nonexistent/melodist/input"}, quiet()), Error);
  TempDir t("emptydir");
  fs::create_directories(t.in());
  EXPECT_THROW(build_dataset({t.in()}, quiet()), Error);  // no song file found
}

TEST(Preprocess, OutputDoesNotDependOnJobs) {
  PreprocessOptions one = quiet(), four = quiet();
  four.jobs = 4;
  Dataset a = build_dataset({kFixtures}, one), b = build_dataset({kFixtures}, four);
  EXPECT_EQ(songs_text(a), songs_text(b));
  EXPECT_EQ(file_dataset_text(a, 64), file_dataset_text(b, 64));
  EXPECT_EQ(manifest_json(a, one), manifest_json(b, one));
  EXPECT_GT(a.accepted, 10u);
}

TEST(Preprocess, EndToEndThroughTheBinary) {
  TempDir t("cli");
  t.copy("key-C-major");
  t.copy("key-A-minor");
  t.copy("malformed-unknown-token");
  std::string args = "preprocess " + t.in() + " --out " + t.out() + " --delimiter-length 2 --jobs 2";
  RunResult ok = run_cli(args, t.path);
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "accepted 2 of 3 songs, 8 symbols, 40 steps\n");
  EXPECT_EQ(read_file(t.out() + "/file_dataset"), kMinorSong + " / / " + kMajorSong + " / /");
  auto m = load_json(t.out() + "/manifest.json");
  EXPECT_EQ(m["files"][2]["reason"], "line 12: cannot read token \"4x#\"");
  EXPECT_EQ(m["options"]["jobs"], nullptr);  // not an output-changing option

  RunResult strict = run_cli(args + " --strict", t.path);
  EXPECT_EQ(strict.status, 1);
  EXPECT_EQ(strict.err.rfind("melodist: error: ", 0), 0u) << strict.err;
  EXPECT_NE(strict.err.find("malformed-unknown-token.krn"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("cannot read token \"4x#\""), std::string::npos) << strict.err;

  RunResult any = run_cli(args + " --durations any --transpose none --ties merge --step 0.25", t.path);
  EXPECT_EQ(any.status, 0) << any.err;
  auto m2 = load_json(t.out() + "/manifest.json");
  EXPECT_EQ(m2["options"]["durations"], "any");
  EXPECT_EQ(m2["options"]["transpose"], "none");
  EXPECT_EQ(m2["options"]["ties"], "merge");
  EXPECT_EQ(m2["options"]["step"], "1/4");

  RunResult bad_durations = run_cli(args + " --durations 1/4,x", t.path);
  EXPECT_EQ(bad_durations.status, 1);
  EXPECT_NE(bad_durations.err.find("--durations"), std::string::npos) << bad_durations.err;
  RunResult bad_step = run_cli(args + " --step 0", t.path);
  EXPECT_EQ(bad_step.status, 1);
  RunResult missing = run_cli("preprocess /nonexistent/melodist --out " + t.out(), t.path);
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "melodist: error: /nonexistent/melodist: no such file or folder\n");

  TempDir none("cli-none");
  none.copy("grace");
  RunResult empty = run_cli("preprocess " + none.in() + " --out " + none.out(), none.path);
  EXPECT_EQ(empty.status, 1);
  EXPECT_NE(empty.err.find("no song accepted"), std::string::npos) << empty.err;
}

TEST(PreprocessCorpus, EveryDeutschlFileIsAcceptedOrRejectedWithAReason) {
  if (!fs::exists(kDeutschl)) GTEST_SKIP() << "shared data not found at " << kDeutschl << " (set MELODIST_SHARED_DIR)";
  PreprocessOptions o = quiet();
  o.jobs = 2;
  Dataset d = build_dataset({kDeutschl}, o);
  ASSERT_EQ(d.files.size(), 5365u);
  size_t accepted = 0;
  for (const auto& f : d.files) {
    if (f.accepted) {
      ++accepted;
      EXPECT_GT(f.steps, 0u) << f.path;
    } else {
      EXPECT_FALSE(f.reason.empty()) << f.path;
    }
  }
  std::printf("deutschl: %s, %zu unreadable\n", summary_line(d).c_str(), d.unreadable);
  EXPECT_EQ(accepted, d.accepted);
}

TEST(PreprocessCorpus, ErkMatchesTheReference) {
  std::string erk = kDeutschl + "/erk";
  if (!fs::exists(erk)) GTEST_SKIP() << "shared data not found at " << erk << " (set MELODIST_SHARED_DIR)";
  PreprocessOptions o = quiet();
  o.jobs = 2;
  Dataset d = build_dataset({erk}, o);
  EXPECT_EQ(d.files.size(), 1700u);
  EXPECT_EQ(d.accepted, 1683u);
  int length_rejections = 0;
  for (const auto& f : d.files) {
    if (f.accepted) continue;
    bool length = (f.reason.rfind("note of ", 0) == 0 || f.reason.rfind("rest of ", 0) == 0) &&
                  f.reason.find(" quarter at line ") != std::string::npos;
    EXPECT_TRUE(length) << f.path << ": " << f.reason;
    length_rejections += length;
  }
  EXPECT_EQ(length_rejections, 17);
  // The vocabulary is exactly the reference's 38 symbols.
  auto reference = load_json(std::string(MELODIST_SHARED_DIR) + "/data/keras-reference/mapping.json");
  std::set<std::string> ref_symbols, ours(d.vocabulary.begin(), d.vocabulary.end());
  for (auto it = reference.begin(); it != reference.end(); ++it) ref_symbols.insert(it.key());
  EXPECT_EQ(ref_symbols.size(), 38u);
  EXPECT_EQ(ours, ref_symbols);
  EXPECT_EQ(summary_line(d), "accepted 1683 of 1700 songs, 38 symbols, 254,530 steps");
}
