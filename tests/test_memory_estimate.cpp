// Issue 21 (5): train refuses a run whose shapes need more memory than the machine has, before it
// allocates, and the estimate it refuses with is close to what a real run takes. The oracle for the
// estimate is the kernel: the peak resident size (wait4's ru_maxrss) of a real `melodist train`.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "train/memory_estimate.h"
#include "train_test_support.h"

namespace {

namespace fs = std::filesystem;
// AddressSanitizer multiplies resident memory and reserves terabytes of address space, so neither the
// peak nor an address-space limit means anything under it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";

// Runs the CLI with `args`, stdout/stderr to /dev/null; returns (exit status, peak RSS in bytes).
std::pair<int, double> run_measured(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(MELODIST_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    ::execv(MELODIST_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), usage.ru_maxrss * 1024.0};
}

TEST(MemoryEstimate, IsWithinAQuarterOfARealRunsPeak) {
  if (kSanitized) GTEST_SKIP() << "resident size under AddressSanitizer is not the program's";
  const fs::path out = melodist_test::scratch_in("memory", "model");
  // hidden 1024 makes the network's buffers (not the program) most of the peak: about 0.9 GB.
  const auto [status, peak] = run_measured({"train", "--data", kTiny, "--hidden", "1024", "--threads", "2", "--epochs", "1",
                                            "--out", out.string()});
  ASSERT_EQ(status, 0);
  melodist::TrainingShapes s;
  s.config.vocab_size = 9;  // the tiny dataset's mapping.json
  s.config.hidden_size = 1024;
  s.config.num_layers = 1;
  s.seq_len = 64;
  s.batch = 64;
  s.threads = 2;
  s.ema = true;
  const double estimate = melodist::estimate_training_bytes(s);
  EXPECT_GT(estimate, 0.8 * peak) << "estimate " << estimate << " bytes, measured peak " << peak;
  EXPECT_LT(estimate, 1.25 * peak) << "estimate " << estimate << " bytes, measured peak " << peak;
}

TEST(MemoryEstimate, TooLargeRunsAreRefusedWithTheEstimateBeforeAllocating) {
  if (kSanitized) GTEST_SKIP() << "AddressSanitizer cannot start under an address-space limit";
  // Under a 2 GB address-space limit, --hidden 4096 (about 9 GB) must be refused with the figures, not
  // fail with a bare "out of memory" half way (6608ffd did), and --batch 100000 the same.
  const fs::path out = melodist_test::scratch_in("memory", "refused");
  for (const std::vector<std::string> shape : {std::vector<std::string>{"--hidden", "4096"}, {"--batch", "100000"}}) {
    const std::string err_path = (out.parent_path() / "err.txt").string();
    std::string cmd = std::string("ulimit -v 2000000; ") + MELODIST_BINARY + " train --data " + kTiny + " --epochs 1 --out " +
                      out.string() + " " + shape[0] + " " + shape[1] + " 2> " + err_path;
    const int rc = std::system(cmd.c_str());
    const std::string err = melodist_test::slurp(err_path);
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 1) << err;
    EXPECT_NE(err.find("needs about"), std::string::npos) << err;
    EXPECT_NE(err.find("available"), std::string::npos) << err;
    EXPECT_NE(err.find(shape[0] + " " + shape[1]), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  }
}

}  // namespace
