#pragma once
// Helpers shared by the training tests (test_train.cpp, test_augment.cpp, test_train_pretrained.cpp):
// running the melodist binary into a per-process scratch folder, and small test-side oracles. They are
// written here on purpose and do not call the library's counterparts (e.g. remap_songs): a test must
// not check the library against itself.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nn/song_score.h"
#include "nn/model.h"
#include "train/checkpoint.h"
#include "train/train.h"

namespace melodist_test {

namespace fs = std::filesystem;

struct CliRun {
  int status;
  std::string out, err;
};

// TMP/melodist-test-<suite>-<pid>/<name>, emptied; its parent exists.
inline fs::path scratch_in(const std::string& suite, const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("melodist-test-" + suite + "-" + std::to_string(::getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `melodist ARGS`, capturing stdout and stderr through the suite's scratch folder.
inline CliRun run_melodist(const std::string& suite, const std::string& args) {
  const fs::path out = scratch_in(suite, "stdout.txt"), err = scratch_in(suite, "stderr.txt");
  const std::string cmd = std::string(MELODIST_BINARY) + " " + args + " > " + out.string() + " 2> " + err.string();
  const int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

// Exit status 1 and ONE line "melodist: error: ..." holding every needle.
inline void expect_one_line_error(const CliRun& r, const std::vector<std::string>& needles) {
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.err.rfind("melodist: error: ", 0), 0u) << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << "expected \"" << n << "\" in: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected: " << r.err;
}

inline std::vector<float> checkpoint_params(const fs::path& dir) {
  return melodist::load_checkpoint((dir / melodist::kCheckpointFileName).string()).state.params;
}

// Songs in the ids of vocabulary `from` -> the ids of model.vocabulary, symbol by symbol.
inline std::vector<std::vector<int>> to_model_ids(const std::vector<std::vector<int>>& songs,
                                                  const std::vector<std::string>& from, const melodist::Model& model) {
  std::vector<std::vector<int>> out;
  for (const auto& s : songs) {
    out.emplace_back();
    for (int id : s) out.back().push_back(model.symbol_id(from[id]));
  }
  return out;
}

// Mean -ln p per scored step over a set of song scores.
inline double mean_nats(const std::vector<melodist::SongScore>& scores) {
  double nats = 0, steps = 0;
  for (const auto& s : scores) nats += s.total_nats(), steps += s.steps();
  return nats / steps;
}

}  // namespace melodist_test
