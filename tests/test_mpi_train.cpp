// Data-parallel training over MPI (`mpirun -np N melodist train`, cluster/mpi_communicator.h), run as CI
// can run it: OpenMPI's mpirun on this one machine, as root allowed, ranks oversubscribed.
//   - N ranks of one thread give bitwise the model of one process with N threads (ordered reduction);
//   - a 2-rank checkpoint resumes with 1 rank (bitwise the uninterrupted run) and with 3 (close to it);
//   - MPI_Allreduce's own order (--reduction mpi) stays within a stated tolerance of the ordered sum;
//   - a killed rank stops the job with a message naming it, the last checkpoint is whole, and resuming
//     reaches the uninterrupted run's result; a hung rank stops the job after --mpi-timeout.
// A build without MPI (MELODIST_MPI off) runs only the test that it refuses to run under mpirun.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "formats/model_file.h"
#include "nn/model.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "train_test_support.h"

extern char** environ;

namespace fs = std::filesystem;

namespace {

const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";
// Small enough for seconds, large enough for several rows per rank; constant lr so that --epochs may grow on resume.
const std::string kOptions = " --hidden 16 --seq-len 8 --batch 6 --val-every 5 --seed 11 --lr-schedule constant --dropout 0.2";

fs::path scratch(const std::string& name) { return melodist_test::scratch_in("mpi", name); }

std::string mpirun(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 mpirun -np " +
         std::to_string(ranks) + " --oversubscribe ";
}

// `melodist train ARGS` under mpirun with `ranks` ranks (0: without mpirun).
melodist_test::CliRun train(int ranks, const std::string& args) {
  const fs::path out = scratch("stdout.txt"), err = scratch("stderr.txt");
  const std::string cmd = (ranks > 0 ? mpirun(ranks) : std::string()) + MELODIST_BINARY + " train " + args + " > " + out.string() +
                          " 2> " + err.string();
  const int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, melodist_test::slurp(out), melodist_test::slurp(err)};
}

// Every tensor of the checkpoint (params, Adam moments, average) and the saved model's weights.
struct Weights {
  std::vector<float> params, m, v, ema, model;
  int64_t step = 0;
};
Weights weights(const fs::path& dir) {
  const melodist::Checkpoint c = melodist::load_checkpoint((dir / melodist::kCheckpointFileName).string());
  return {c.state.params, c.state.adam_m, c.state.adam_v, c.state.ema, melodist::load_model(dir.string()).params, c.state.global_step};
}

void expect_same_bits(const Weights& a, const Weights& b) {
  EXPECT_EQ(a.step, b.step);
  EXPECT_TRUE(a.params == b.params) << "params differ";
  EXPECT_TRUE(a.m == b.m) << "Adam m differs";
  EXPECT_TRUE(a.v == b.v) << "Adam v differs";
  EXPECT_TRUE(a.ema == b.ema) << "weight average differs";
  EXPECT_TRUE(a.model == b.model) << "saved model differs";
}

// ||a - b|| / ||b||
double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * double(a[i] - b[i]), n += double(b[i]) * b[i];
  return std::sqrt(d / n);
}

#if MELODIST_MPI

TEST(MpiTrain, RanksOfOneThreadGiveTheBitsOfOneProcessWithAsManyThreads) {
  for (const std::string windows : {"songs", "shuffled", "stateful"}) {
    const fs::path one = scratch("one-" + windows), two = scratch("two-" + windows);
    const std::string args = " --data " + kTiny + kOptions + " --epochs 4 --windows " + windows;
    auto r1 = train(0, args + " --threads 2 --out " + one.string());
    ASSERT_EQ(r1.status, 0) << r1.err;
    auto r2 = train(2, args + " --threads 1 --out " + two.string());
    ASSERT_EQ(r2.status, 0) << r2.err;
    EXPECT_NE(r2.err.find("data-parallel over 2 MPI ranks (ordered reduction)"), std::string::npos) << r2.err;
    const Weights a = weights(one), b = weights(two);
    EXPECT_GE(a.step, 20) << windows;  // at least 20 steps compared
    SCOPED_TRACE(windows);
    expect_same_bits(a, b);
  }
}

TEST(MpiTrain, TwoRankCheckpointResumesWithOneAndWithThreeRanks) {
  const std::string args = " --data " + kTiny + kOptions;
  const fs::path whole = scratch("whole"), with1 = scratch("resume-1"), with3 = scratch("resume-3");
  ASSERT_EQ(train(0, args + " --threads 2 --epochs 6 --out " + whole.string()).status, 0);
  auto r = train(2, args + " --threads 1 --epochs 3 --out " + with1.string());
  ASSERT_EQ(r.status, 0) << r.err;
  fs::copy(with1, with3);
  r = train(0, args + " --threads 2 --epochs 6 --resume --out " + with1.string());
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_bits(weights(with1), weights(whole));  // 1 rank x 2 threads = the same 2 workers
  r = train(3, args + " --threads 1 --epochs 6 --resume --out " + with3.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const Weights w3 = weights(with3), w = weights(whole);
  EXPECT_EQ(w3.step, w.step);
  // 3 workers split each batch 2/2/2 rather than 3/3, so the sums round differently: close, not equal.
  EXPECT_NE(w3.params, w.params);
  EXPECT_LT(relative_difference(w3.params, w.params), 1e-3);
}

TEST(MpiTrain, MpiAllreduceOrderStaysWithinTolerance) {
  const std::string args = " --data " + kTiny + kOptions + " --threads 1 --epochs 4";
  const fs::path ordered = scratch("ordered"), native = scratch("native");
  ASSERT_EQ(train(3, args + " --out " + ordered.string()).status, 0);
  auto r = train(3, args + " --reduction mpi --out " + native.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("MPI_Allreduce reduction"), std::string::npos) << r.err;
  // The documented tolerance (README "Train on a cluster"): relative difference of the weights below 1e-4.
  EXPECT_LT(relative_difference(weights(native).params, weights(ordered).params), 1e-4);
}

// The pid of the process of `rank` among those whose command line holds `marker`, or -1.
pid_t find_rank(int rank, const std::string& marker) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmd(e.path() / "cmdline"), env(e.path() / "environ");
    std::string c((std::istreambuf_iterator<char>(cmd)), {}), v((std::istreambuf_iterator<char>(env)), {});
    if (c.find(marker) == std::string::npos || c.rfind("mpirun", 0) == 0) continue;
    if (v.find(std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0') != std::string::npos) return std::stoi(name);
  }
  return -1;
}

struct Job {
  pid_t pid = -1;
  fs::path err;
};

Job start_job(int ranks, const std::string& args, const fs::path& err) {
  const std::string cmd = "exec env " + mpirun(ranks) + MELODIST_BINARY + " train " + args + " > /dev/null 2> " + err.string();
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  Job job{-1, err};
  EXPECT_EQ(posix_spawn(&job.pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  return job;
}

// Waits at most `seconds` for the job; its exit status, or -1 when it is still running (then killed).
int wait_job(const Job& job, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(job.pid, &status, WNOHANG) == job.pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(job.pid, SIGKILL);
  waitpid(job.pid, &status, 0);
  return -1;
}

// Waits for the first checkpoint of `dir`, then sends `sig` to rank 1.
void signal_rank_one_after_first_checkpoint(const fs::path& dir, int sig) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir / melodist::kCheckpointFileName) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(dir / melodist::kCheckpointFileName));
  pid_t rank1 = -1;
  for (int i = 0; i < 100 && rank1 < 0; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(20))) rank1 = find_rank(1, dir.string());
  ASSERT_GT(rank1, 0) << "rank 1 not found";
  ASSERT_EQ(kill(rank1, sig), 0);
}

TEST(MpiTrain, KilledRankStopsTheJobNamingItAndTheCheckpointResumesToTheSameResult) {
  const std::string args = " --data " + kTiny + kOptions + " --threads 1";
  const fs::path killed = scratch("killed"), whole = scratch("killed-whole");
  Job job = start_job(2, args + " --epochs 100000 --out " + killed.string(), scratch("killed.err"));
  signal_rank_one_after_first_checkpoint(killed, SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  const int status = wait_job(job, 30);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string err = melodist_test::slurp(job.err);
  EXPECT_NE(status, -1) << "the job did not stop within 30 s of the kill";
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("rank 1"), std::string::npos) << err;
  EXPECT_LT(took, 30.0);
  // The checkpoint is whole (atomic writes); resuming it continues to the uninterrupted run's result.
  const melodist::Checkpoint c = melodist::load_checkpoint((killed / melodist::kCheckpointFileName).string());
  const int epochs = c.state.epoch + 2;
  auto r = train(2, args + " --epochs " + std::to_string(epochs) + " --resume --out " + killed.string());
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(train(2, args + " --epochs " + std::to_string(epochs) + " --out " + whole.string()).status, 0);
  expect_same_bits(weights(killed), weights(whole));
}

TEST(MpiTrain, HungRankStopsTheJobAfterTheTimeout) {
  const fs::path hung = scratch("hung");
  Job job = start_job(2, " --data " + kTiny + kOptions + " --threads 1 --epochs 100000 --mpi-timeout 2 --out " + hung.string(),
                      scratch("hung.err"));
  signal_rank_one_after_first_checkpoint(hung, SIGSTOP);
  const int status = wait_job(job, 40);
  const std::string err = melodist_test::slurp(job.err);
  EXPECT_NE(status, -1) << "the job did not stop within 40 s of the hang";
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("melodist: rank 0: no reply from the other ranks"), std::string::npos) << err;
  const pid_t left = find_rank(1, hung.string());
  if (left > 0) kill(left, SIGKILL);  // mpirun kills it; never leave one behind
}

TEST(MpiTrain, ErrorOnRootEndsEveryRankWithOneMessage) {
  auto r = train(2, "--data " + kTiny + kOptions + " --threads 1 --resume --out " + scratch("no-such-run").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("melodist: error: rank 0 of 2: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no such model folder to resume"), std::string::npos) << r.err;
}

#else

TEST(MpiTrain, BuildWithoutMpiRefusesSeveralRanks) {
  if (std::system("command -v mpirun > /dev/null") != 0) GTEST_SKIP() << "mpirun is not installed (Debian openmpi-bin)";
  auto r = train(2, "--data " + kTiny + kOptions + " --epochs 1 --out " + scratch("refused").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("built without MPI"), std::string::npos) << r.err;
}

#endif

}  // namespace
