// `melodist preprocess` streams (issue 20): its peak memory does not grow with the corpus, and the folder
// it writes song by song holds the bytes the in-memory builder (build_dataset, then the text functions)
// gives for the same songs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/mapping_json.h"
#include "preprocess/preprocess.h"
#include "run_binary.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

const std::string kKern = std::string(MELODIST_FIXTURES_DIR) + "/kern";
const std::string kAbc = std::string(MELODIST_FIXTURES_DIR) + "/abc";

struct Scratch {
  fs::path path;
  explicit Scratch(const std::string& name) {
    path = fs::temp_directory_path() / ("melodist-stream-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Scratch() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// COPIES folders under `root` of symbolic links to every kern fixture (43 songs each: accepted ones,
// rejected ones, unreadable ones); returns how many songs.
size_t link_kern_copies(const fs::path& root, int copies) {
  std::vector<fs::path> songs;
  for (const auto& e : fs::directory_iterator(kKern))
    if (e.path().extension() == ".krn") songs.push_back(e.path());
  for (int c = 0; c < copies; ++c) {
    const fs::path dir = root / ("copy" + std::to_string(1000 + c));
    fs::create_directories(dir);
    for (const fs::path& song : songs) fs::create_symlink(song, dir / song.filename());
  }
  return songs.size() * static_cast<size_t>(copies);
}

std::map<std::string, std::string> folder_bytes(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files[e.path().filename().string()] = read_file(e.path().string());
  return files;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

}  // namespace

// The same command on N songs and on 8N songs. Holding every song, as preprocess did before it streamed,
// the 8N run peaked 18 MB above the N run here (30 MB -> 48 MB for 1,032 -> 8,256 songs); streaming, the
// two peaks differ by what the file list takes (about 100 bytes a song, 0.7 MB here).
TEST(PreprocessStream, PeakMemoryOfEightTimesTheSongsStaysWithinAMarginOfTheSmallRun) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in its quarantine, so the peak grows with everything ever
  // allocated: it measures the sanitizer, not melodist (as in test_memory_estimate.cpp).
  GTEST_SKIP() << "peak memory means nothing under AddressSanitizer; the ordinary build measures it";
#endif
  constexpr long kMarginKb = 4 * 1024;
  Scratch s("rss");
  const size_t small_songs = link_kern_copies(s.path / "small", 24);
  const size_t large_songs = link_kern_copies(s.path / "large", 192);
  ASSERT_EQ(large_songs, 8 * small_songs);
  auto preprocess = [&](const std::string& corpus) {
    return test_support::run_melodist({"preprocess", s / corpus, "--out", s / (corpus + "-data"), "--jobs", "2", "--quiet"},
                                      s.path.string());
  };
  const test_support::BinaryRun small = preprocess("small");
  const test_support::BinaryRun large = preprocess("large");
  ASSERT_EQ(small.status, 0) << small.err;
  ASSERT_EQ(large.status, 0) << large.err;
  const auto totals = nlohmann::json::parse(read_file(s / "large-data/manifest.json"))["totals"];
  EXPECT_EQ(totals["files"], large_songs);
  EXPECT_EQ(totals["accepted"], 8 * nlohmann::json::parse(read_file(s / "small-data/manifest.json"))["totals"]["accepted"].get<size_t>());
  ASSERT_GT(small.max_rss_kb, 0);
  EXPECT_LE(large.max_rss_kb, small.max_rss_kb + kMarginKb)
      << small_songs << " songs peaked at " << small.max_rss_kb << " KiB, " << large_songs << " at " << large.max_rss_kb;
  std::printf("peak RSS: %zu songs %ld KiB, %zu songs %ld KiB\n", small_songs, small.max_rss_kb, large_songs, large.max_rss_kb);
}

// More files than the window of files read ahead (a few hundred), songs of many to a file (ABC tune
// books), an --exclude list whose name matches only the first of the linked copies, and four threads:
// the streamed folder is byte for byte the in-memory builder's, single-threaded.
TEST(PreprocessStream, TheStreamedFolderHoldsTheBytesOfTheInMemoryBuilder) {
  Scratch s("bytes");
  const fs::path corpus = s.path / "corpus";
  const size_t kern_songs = link_kern_copies(corpus, 12);
  for (const char* book : {"bad_tunes.abc", "two-tunes.abc", "modes_meters.abc", "voices.abc"})
    fs::copy_file(kAbc + "/" + book, corpus / book);
  std::ofstream(s / "exclude.txt") << kKern << "/key-C-major.krn\n" << (corpus / "two-tunes.abc").string() << "#2\n";

  PreprocessOptions options;
  options.encode.durations = reference_durations();
  options.progress = false;
  options.exclude_list = s / "exclude.txt";
  options.jobs = 4;
  const Dataset streamed = run_preprocess({corpus.string()}, s / "data", options);
  options.jobs = 1;
  const Dataset held = build_dataset({corpus.string()}, options);

  EXPECT_GT(held.files.size(), kern_songs + 8);
  EXPECT_TRUE(streamed.files.empty());  // it kept none
  EXPECT_EQ(streamed.songs, held.files.size());
  EXPECT_EQ(streamed.excluded, 2u);
  EXPECT_EQ(summary_line(streamed), summary_line(held));
  const auto files = folder_bytes(s / "data");
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files.at("songs.txt"), songs_text(held));
  EXPECT_EQ(files.at("file_dataset"), file_dataset_text(held, options.delimiter_length));
  EXPECT_EQ(files.at("mapping.json"), mapping_json(held.vocabulary));
  EXPECT_EQ(files.at("manifest.json"), manifest_json(held, options));
}

// A run that fails after streaming every song (--strict, and an --exclude name that is no song) leaves the
// old dataset as it was and nothing of its own beside it.
TEST(PreprocessStream, ARunThatFailsAtTheEndLeavesTheOldDatasetAndNoTemporaryFolder) {
  Scratch s("fail");
  link_kern_copies(s.path / "corpus", 8);
  PreprocessOptions options;
  options.encode.durations = reference_durations();
  options.progress = false;
  options.jobs = 2;
  run_preprocess({s / "corpus"}, s / "data", options);
  const auto before = folder_bytes(s / "data");

  PreprocessOptions strict = options;
  strict.strict = true;
  EXPECT_THROW(run_preprocess({s / "corpus"}, s / "data", strict), Error);
  std::ofstream(s / "exclude.txt") << (s.path / "corpus" / "nosuch.krn").string() << "\n";
  PreprocessOptions unknown = options;
  unknown.exclude_list = s / "exclude.txt";
  try {
    run_preprocess({s / "corpus"}, s / "data", unknown);
    ADD_FAILURE() << "an unknown name was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(s / "exclude.txt:1: ", 0), 0u) << e.what();
  }
  EXPECT_EQ(folder_bytes(s / "data"), before);
  EXPECT_EQ(names_in(s.path), (std::set<std::string>{"corpus", "data", "exclude.txt"}));
}
