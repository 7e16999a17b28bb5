// Nothing a second process can break (issue 21, defects 3 and 4): locked output folders
// (util/folder_lock.h) and whole dataset folders (formats/dataset_folder.h). The concurrency tests run
// the melodist binary as real second (and first) processes; the hashes are checked against `sha256sum`.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "preprocess/dataset.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/folder_lock.h"
#include "util/sha256.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kKern = std::string(MELODIST_FIXTURES_DIR) + "/kern";
const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";
const std::string kTrainOptions = " --hidden 8 --seq-len 8 --batch 4 --val-every 5 --threads 1";

struct Scratch {
  fs::path path;
  explicit Scratch(const std::string& name) {
    path = fs::temp_directory_path() / ("melodist-test-reliability-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Scratch() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `sh -c COMMAND` as a child process (COMMAND starts with `exec` where the child's pid must be melodist's).
pid_t spawn_shell(const std::string& command) {
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) return -1;
  return pid;
}

int wait_status(pid_t pid) {
  int raw = 0;
  if (::waitpid(pid, &raw, 0) != pid) return -1;
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

struct CliRun {
  int status;
  std::string out, err;
  double seconds;
};

CliRun run_cli(const std::string& args, const Scratch& s, const std::string& prefix = "") {
  const std::string out = s / "stdout.txt", err = s / "stderr.txt";
  const auto start = Clock::now();
  const int status = wait_status(spawn_shell(prefix + "exec " + MELODIST_BINARY + " " + args + " >" + out + " 2>" + err));
  return {status, slurp(out), slurp(err), std::chrono::duration<double>(Clock::now() - start).count()};
}

// Waits until the lock file holds `pid` (the holder writes it right after taking the lock).
bool wait_for_lock(const std::string& lock_file, pid_t pid) {
  for (int i = 0; i < 3000; ++i) {
    if (slurp(lock_file) == std::to_string(pid) + "\n") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// A child that must not outlive a failed test (one blocked on a FIFO would wait forever): killed unless
// waited for.
struct Child {
  pid_t pid;
  explicit Child(pid_t p) : pid(p) {}
  ~Child() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    wait_status(pid);
  }
  int wait() { return wait_status(std::exchange(pid, -1)); }
};

bool still_running(pid_t pid) {
  int raw = 0;
  return ::waitpid(pid, &raw, WNOHANG) == 0;
}

std::map<std::string, std::string> folder_bytes(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files[e.path().filename().string()] = slurp(e.path());
  return files;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// Input folder NAME holding copies of the given kern fixtures.
std::string kern_input(const Scratch& s, const std::string& name, const std::vector<std::string>& fixtures) {
  const fs::path dir = s.path / name;
  fs::create_directories(dir);
  for (const auto& f : fixtures) fs::copy_file(kKern + "/" + f + ".krn", dir / (f + ".krn"));
  return dir.string();
}

std::string sha256sum_of(const fs::path& file) {
  const fs::path out = file.string() + ".sum";
  EXPECT_EQ(std::system(("sha256sum '" + file.string() + "' > '" + out.string() + "'").c_str()), 0);
  std::string line = slurp(out);
  fs::remove(out);
  return line.substr(0, line.find(' '));
}

}  // namespace

// ---- the lock itself ----

TEST(FolderLock, ASecondHolderIsRefusedWithTheFirstOnesPidAndTheFolderIsFreeAfterRelease) {
  Scratch s("lock");
  const std::string model = s / "model";
  {
    melodist::FolderLock first = melodist::FolderLock::inside(model);
    EXPECT_TRUE(fs::is_directory(model));
    EXPECT_EQ(slurp(first.lock_path()), std::to_string(::getpid()) + "\n");
    try {
      melodist::FolderLock second = melodist::FolderLock::inside(model + "/");  // the same folder, spelled otherwise
      ADD_FAILURE() << "a second lock was granted";
    } catch (const melodist::Error& e) {
      EXPECT_EQ(std::string(e.what()),
                model + "/ is in use by another melodist process (pid " + std::to_string(::getpid()) + ")");
    }
  }
  // Released: the lock file is gone, and the folder it created (still empty) with it.
  EXPECT_FALSE(fs::exists(model));
  fs::create_directories(model);
  fs::copy_file(kTiny + "/songs.txt", model + "/songs.txt");
  { melodist::FolderLock again = melodist::FolderLock::inside(model); }
  EXPECT_EQ(names_in(model), std::set<std::string>{"songs.txt"});  // a folder it did not create stays

  {
    melodist::FolderLock beside = melodist::FolderLock::beside(s / "data/");
    EXPECT_EQ(beside.lock_path(), s / "data.lock");
    EXPECT_THROW(melodist::FolderLock::beside(s / "data"), melodist::Error);
  }
  EXPECT_FALSE(fs::exists(s / "data.lock"));
  EXPECT_THROW(melodist::FolderLock::beside("."), melodist::Error);
}

TEST(FolderLock, ALockFileLeftByADeadProcessIsTakenOver) {
  Scratch s("stale");
  const std::string model = s / "model";
  fs::create_directories(model);
  melodist::write_file_atomically(model + "/" + melodist::kLockFileName, "999999999\n");  // no flock behind it
  CliRun r = run_cli("train --data " + kTiny + " --out " + model + kTrainOptions + " --epochs 1", s);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(model + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(model + "/" + melodist::kLockFileName));
}

// ---- two processes on one folder ----

// The first run blocks reading songs.txt (a FIFO the test feeds later), so it holds the lock while the
// second starts: the second must refuse before the first goes on, and the folder then holds the first
// run's files only (3 epochs; the second asked for 1).
TEST(TwoProcesses, SecondTrainOnOneModelFolderRefusesAtOnceAndTheFirstFinishes) {
  Scratch s("train");
  const fs::path data = s.path / "data";
  fs::create_directories(data);
  for (auto f : {"mapping.json", "manifest.json"}) fs::copy_file(fs::path(kTiny) / f, data / f);
  ASSERT_EQ(::mkfifo((data / "songs.txt").c_str(), 0644), 0);
  const std::string model = s / "model";
  Child child(spawn_shell("exec " + std::string(MELODIST_BINARY) + " train --data " + data.string() + " --out " + model +
                          kTrainOptions + " --epochs 3 >" + (s / "first.out") + " 2>" + (s / "first.err")));
  const pid_t first = child.pid;
  ASSERT_GT(first, 0);
  ASSERT_TRUE(wait_for_lock(model + "/" + melodist::kLockFileName, first)) << slurp(s / "first.err");

  CliRun second = run_cli("train --data " + kTiny + " --out " + model + kTrainOptions + " --epochs 1", s);
  EXPECT_EQ(second.status, 1);
  EXPECT_EQ(second.err, "melodist: error: " + model + " is in use by another melodist process (pid " +
                            std::to_string(first) + ")\n");
  EXPECT_TRUE(still_running(first));
  std::printf("the second train refused in %.3f s\n", second.seconds);

  { std::ofstream(data / "songs.txt") << slurp(fs::path(kTiny) / "songs.txt"); }  // the first goes on
  EXPECT_EQ(child.wait(), 0) << slurp(s / "first.err");
  EXPECT_EQ(names_in(model),
            (std::set<std::string>{"checkpoint.safetensors", "mapping.json", "metrics.csv", "model.safetensors"}));
  const std::string metrics = slurp(model + "/metrics.csv");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 4) << metrics;  // header + the first run's 3 epochs
}

// The same for preprocess: the first blocks reading a song (a FIFO), the second refuses, the dataset
// folder then holds the first run's songs.
TEST(TwoProcesses, SecondPreprocessOnOneDatasetFolderRefusesAtOnceAndTheFirstFinishes) {
  Scratch s("preprocess");
  const std::string fifo = s / "slow.krn";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const std::string out = s / "data";
  Child child(spawn_shell("exec " + std::string(MELODIST_BINARY) + " preprocess " + fifo + " --out " + out + " -q >" +
                          (s / "first.out") + " 2>" + (s / "first.err")));
  const pid_t first = child.pid;
  ASSERT_GT(first, 0);
  ASSERT_TRUE(wait_for_lock(out + ".lock", first)) << slurp(s / "first.err");

  const std::string other = kern_input(s, "other", {"key-B-major", "key-F-sharp-minor"});
  CliRun second = run_cli("preprocess " + other + " --out " + out + " -q", s);
  EXPECT_EQ(second.status, 1);
  EXPECT_EQ(second.err, "melodist: error: " + out + " is in use by another melodist process (pid " +
                            std::to_string(first) + ")\n");
  EXPECT_TRUE(still_running(first));
  EXPECT_FALSE(fs::exists(out));
  std::printf("the second preprocess refused in %.3f s\n", second.seconds);

  { std::ofstream(fifo) << slurp(kKern + "/key-C-major.krn"); }
  EXPECT_EQ(child.wait(), 0) << slurp(s / "first.err");
  EXPECT_EQ(names_in(out), (std::set<std::string>{"file_dataset", "manifest.json", "mapping.json", "songs.txt"}));
  const std::string expected = slurp(kKern + "/key-C-major.expected");  // "... encoding: 60 _ _ ...\n"
  EXPECT_EQ(slurp(out + "/songs.txt"), expected.substr(expected.find("encoding: ") + 10));
  EXPECT_FALSE(fs::exists(out + ".lock"));
}

// crossval locks its folder, and each fold's model folder is locked by the training it runs.
TEST(TwoProcesses, CrossvalRefusesAFolderOrAFoldFolderInUse) {
  Scratch s("crossval");
  const std::string out = s / "cv";
  const std::string args = "crossval --data " + kTiny + " --folds 3 --hidden 8 --epochs 1 --seq-len 8 --batch 4 --out " + out;
  const std::string busy = " is in use by another melodist process (pid " + std::to_string(::getpid()) + ")\n";
  {
    melodist::FolderLock held = melodist::FolderLock::inside(out);  // this test process is the first writer
    CliRun r = run_cli(args, s);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "melodist: error: " + out + busy);
    EXPECT_EQ(names_in(out), std::set<std::string>{melodist::kLockFileName});
  }
  {
    melodist::FolderLock fold = melodist::FolderLock::inside(out + "/fold-01");
    CliRun r = run_cli(args, s);
    EXPECT_EQ(r.status, 1);
    const std::string line = "melodist: error: " + out + "/fold-01" + busy;  // after fold 1's progress line
    EXPECT_TRUE(r.err.size() >= line.size() && r.err.substr(r.err.size() - line.size()) == line) << r.err;
    EXPECT_FALSE(fs::exists(out + "/crossval.json"));
  }
  CliRun r = run_cli(args, s);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(out + "/crossval.json"));
  EXPECT_FALSE(fs::exists(out + "/" + melodist::kLockFileName));
}

// ---- whole datasets ----

TEST(WholeDataset, ManifestRecordsTheSha256OfEachFileAsSha256sumComputesIt) {
  Scratch s("hash");
  const std::string in = kern_input(s, "in", {"key-C-major", "key-A-minor"});
  ASSERT_EQ(run_cli("preprocess " + in + " --out " + (s / "data") + " -q", s).status, 0);
  const auto manifest = nlohmann::json::parse(slurp(s / "data/manifest.json"));
  ASSERT_TRUE(manifest.contains("content"));
  EXPECT_EQ(manifest["content"]["hash"], "sha256");
  for (auto f : {"songs.txt", "mapping.json", "file_dataset"})
    EXPECT_EQ(manifest["content"][f], sha256sum_of(s.path / "data" / f)) << f;
  EXPECT_EQ(melodist::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // FIPS 180-4
}

// A dataset whose songs.txt or mapping.json is not the one its manifest records is refused by every reader.
TEST(WholeDataset, ReadersRefuseAMixedSet) {
  Scratch s("mixed");
  const std::string a = kern_input(s, "a", {"key-C-major", "key-A-minor"});
  const std::string b = kern_input(s, "b", {"key-B-major", "key-F-sharp-minor"});
  ASSERT_EQ(run_cli("preprocess " + a + " --out " + (s / "A") + " --transpose none -q", s).status, 0);
  ASSERT_EQ(run_cli("preprocess " + b + " --out " + (s / "B") + " --transpose none -q", s).status, 0);
  for (const std::string file : {"mapping.json", "songs.txt"}) {
    const fs::path mixed = s.path / ("mixed-" + file);
    fs::copy(s.path / "A", mixed);
    fs::copy_file(s.path / "B" / file, mixed / file, fs::copy_options::overwrite_existing);
    const std::string expected = (mixed / file).string() + ": does not match the SHA-256 that " +
                                 (mixed / "manifest.json").string() + " records for it";
    try {
      melodist::load_training_data(mixed.string());
      ADD_FAILURE() << "train accepted a mixed dataset";
    } catch (const melodist::Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    try {
      melodist::dataset_vocabulary(melodist::read_dataset_songs(mixed.string()));
      ADD_FAILURE() << "evaluate accepted a mixed dataset";
    } catch (const melodist::Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    CliRun r = run_cli("train --data " + mixed.string() + " --out " + (s / "m") + kTrainOptions + " --epochs 1", s);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind("melodist: error: " + expected, 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_NO_THROW(melodist::load_training_data(s / "A"));
}

// One process rewrites the dataset 40 times, alternating two inputs of different pitches (and so
// different mappings); this process loads it meanwhile, as train and as evaluate do. Every load must
// succeed and give exactly set A or set B.
TEST(WholeDataset, AReaderDuringFortyRewritesNeverSeesAMixedSetAndNeverFails) {
  Scratch s("rewrites");
  const std::string a = kern_input(s, "a", {"key-C-major", "key-A-minor", "key-G-major"});
  const std::string b = kern_input(s, "b", {"key-B-major", "key-F-sharp-minor"});
  const std::string opts = " --transpose none -q";
  ASSERT_EQ(run_cli("preprocess " + a + " --out " + (s / "A") + opts, s).status, 0);
  ASSERT_EQ(run_cli("preprocess " + b + " --out " + (s / "B") + opts, s).status, 0);
  const auto set_a = melodist::load_training_data(s / "A"), set_b = melodist::load_training_data(s / "B");
  ASSERT_NE(set_a.vocabulary, set_b.vocabulary);
  const std::string data = s / "data";
  ASSERT_EQ(run_cli("preprocess " + b + " --out " + data + opts, s).status, 0);

  const std::string preprocess = std::string(MELODIST_BINARY) + " preprocess ";
  Child writer_child(spawn_shell("for i in $(seq 1 20); do " + preprocess + a + " --out " + data + opts + " || exit 1; " +
                                   preprocess + b + " --out " + data + opts + " || exit 1; done >/dev/null 2>" + (s / "writer.err")));
  const pid_t writer = writer_child.pid;
  ASSERT_GT(writer, 0);
  int loads = 0, changes = 0, failures = 0, mixed = 0, writer_status = -1;
  bool last_a = false;
  for (;;) {
    int raw = 0;
    if (::waitpid(writer, &raw, WNOHANG) == writer) {
      writer_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      writer_child.pid = -1;
      break;
    }
    try {
      const auto d = melodist::load_training_data(data);
      const auto e = melodist::read_dataset_songs(data);
      const auto e_vocabulary = melodist::dataset_vocabulary(e);
      const bool is_a = d.vocabulary == set_a.vocabulary && d.songs == set_a.songs;
      const bool is_b = d.vocabulary == set_b.vocabulary && d.songs == set_b.songs;
      if (!is_a && !is_b) ++mixed;
      if (e_vocabulary != (e.songs.size() == 3 ? set_a.vocabulary : set_b.vocabulary)) ++mixed;
      if (loads > 0 && is_a != last_a) ++changes;
      last_a = is_a;
    } catch (const melodist::Error& e) {
      if (++failures <= 3) ADD_FAILURE() << "load " << loads << " failed: " << e.what();
    }
    ++loads;
  }
  EXPECT_EQ(writer_status, 0) << slurp(s / "writer.err");
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(mixed, 0);
  EXPECT_GT(changes, 5) << "the reader saw too few of the 40 rewrites to test anything";
  std::printf("%d loads during 40 rewrites: %d changes of the set seen, %d mixed, %d failed\n", loads, changes, mixed,
              failures);
  EXPECT_EQ(names_in(s.path).count("data.lock"), 0u);
  EXPECT_EQ(folder_bytes(data), folder_bytes(s.path / "B"));  // the last rewrite was B's
}

// A run in which every song is rejected leaves the old dataset byte for byte; its reasons go beside it.
TEST(WholeDataset, AnAllRejectedRunLeavesTheOldDatasetAsItWas) {
  Scratch s("rejected");
  const std::string good = kern_input(s, "good", {"key-C-major", "key-A-minor"});
  const std::string bad = kern_input(s, "bad", {"grace", "malformed-no-kern"});
  const std::string data = s / "data";
  ASSERT_EQ(run_cli("preprocess " + good + " --out " + data + " -q", s).status, 0);
  const auto before = folder_bytes(data);

  CliRun r = run_cli("preprocess " + bad + " --out " + data + " -q", s);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("melodist: error: no song accepted: all 2 file(s) were rejected (" + bad + "/grace.krn: ", 0), 0u)
      << r.err;
  EXPECT_NE(r.err.find("every reason in " + data + ".rejected-manifest.json; " + data + " is left as it was\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(folder_bytes(data), before);
  const auto rejected = nlohmann::json::parse(slurp(data + ".rejected-manifest.json"));
  EXPECT_EQ(rejected["totals"]["accepted"], 0);
  EXPECT_EQ(rejected["files"].size(), 2u);
  EXPECT_FALSE(rejected.contains("content"));

  ASSERT_EQ(run_cli("preprocess " + good + " --out " + data + " -q", s).status, 0);
  EXPECT_FALSE(fs::exists(data + ".rejected-manifest.json"));  // it described a failed run
  EXPECT_EQ(folder_bytes(data), before);
}

// A run that dies while writing (killed by SIGXFSZ past a file-size limit) or fails to write (the same
// limit with SIGXFSZ ignored: EFBIG) leaves the old dataset byte for byte; the next run clears the leftovers.
TEST(WholeDataset, ARunThatFailsHalfWayThroughWritingLeavesTheOldDatasetAsItWas) {
  Scratch s("halfway");
  const std::string good = kern_input(s, "good", {"key-C-major", "key-A-minor"});
  const std::string other = kern_input(s, "other", {"key-B-major", "key-F-sharp-minor"});
  const std::string data = s / "data";
  ASSERT_EQ(run_cli("preprocess " + good + " --out " + data + " -q", s).status, 0);
  const auto before = folder_bytes(data);
  // songs.txt and mapping.json are under 1 KiB; file_dataset, with 2,000 "/" per song, is 8 KB.
  const std::string args = "preprocess " + other + " --out " + data + " --delimiter-length 2000 -q";

  CliRun killed = run_cli(args, s, "ulimit -f 4; ");
  EXPECT_EQ(killed.status, 128 + SIGXFSZ) << killed.err;
  EXPECT_EQ(folder_bytes(data), before);

  CliRun failed = run_cli(args, s, "ulimit -f 4; trap '' XFSZ; ");
  EXPECT_EQ(failed.status, 1);
  EXPECT_EQ(failed.err.rfind("melodist: error: ", 0), 0u) << failed.err;
  EXPECT_NE(failed.err.find("File too large"), std::string::npos) << failed.err;
  EXPECT_EQ(folder_bytes(data), before);

  ASSERT_EQ(run_cli(args, s).status, 0);
  EXPECT_NE(folder_bytes(data), before);
  EXPECT_EQ(names_in(s.path), (std::set<std::string>{"data", "good", "other", "stderr.txt", "stdout.txt"}));
}

// The dataset folder is replaced whole, so a folder holding anything else is refused, not emptied.
TEST(WholeDataset, AFolderHoldingOtherFilesIsRefusedAndLeftAlone) {
  Scratch s("foreign");
  const std::string in = kern_input(s, "in", {"key-C-major"});
  const std::string out = s / "mine";
  fs::create_directories(out);
  melodist::write_file_atomically(out + "/notes.txt", "my notes\n");
  CliRun r = run_cli("preprocess " + in + " --out " + out + " -q", s);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: " + out + ": holds \"notes.txt\", which is not a dataset file; the dataset folder is "
                   "replaced whole, so choose an empty or new folder for --out\n");
  EXPECT_EQ(folder_bytes(out), (std::map<std::string, std::string>{{"notes.txt", "my notes\n"}}));
}
