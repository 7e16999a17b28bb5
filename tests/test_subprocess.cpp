// util/subprocess.h: every way a child can end reaches the parent as a result, never as the parent's
// own crash or hang.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "util/subprocess.h"

using namespace melodist;
using End = SubprocessResult::End;

TEST(Subprocess, OutputOfAChildThatExitsCleanly) {
  std::string big(3 << 20, 'x');  // more than a pipe buffer: the parent must read while the child writes
  big[12345] = 'y';
  const SubprocessResult r = run_in_subprocess([&](int fd) { write_all(fd, big.data(), big.size()); });
  EXPECT_TRUE(r.succeeded()) << r.describe({});
  EXPECT_EQ(r.output, big);
}

TEST(Subprocess, ACrashIsTheChildsSignal) {
  const SubprocessResult r = run_in_subprocess([](int fd) {
    write_all(fd, "partial", 7);
    ::raise(SIGSEGV);
  });
  EXPECT_EQ(r.end, End::signaled);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.describe({}), std::string("crashed (signal 11, ") + strsignal(SIGSEGV) + ")");
  EXPECT_EQ(r.output, "partial");
}

TEST(Subprocess, AbortAndExitStatusAndThrow) {
  EXPECT_EQ(run_in_subprocess([](int) { std::abort(); }).signal, SIGABRT);
  const SubprocessResult exited = run_in_subprocess([](int) { ::_exit(7); });
  EXPECT_EQ(exited.end, End::exited);
  EXPECT_EQ(exited.exit_code, 7);
  EXPECT_EQ(exited.describe({}), "exited with status 7");
  const SubprocessResult thrown = run_in_subprocess([](int) { throw std::runtime_error("x"); });
  EXPECT_EQ(thrown.end, End::exited);
  EXPECT_EQ(thrown.exit_code, 2);
}

TEST(Subprocess, AHangIsStoppedAtTheTimeout) {
  SubprocessLimits limits;
  limits.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  const SubprocessResult r = run_in_subprocess([](int) { ::sleep(30); }, limits);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.end, End::timed_out);
  EXPECT_LT(seconds, 5.0);
  EXPECT_GE(seconds, 0.25);
  EXPECT_EQ(r.describe(limits), "was still running after 0.3 s and was stopped");
  // A child that closes its pipes and then hangs is stopped too.
  const SubprocessResult closed = run_in_subprocess(
      [](int fd) {
        ::close(fd);
        ::close(2);
        ::sleep(30);
      },
      limits);
  EXPECT_EQ(closed.end, End::timed_out);
}

TEST(Subprocess, TooMuchOutputIsStopped) {
  SubprocessLimits limits;
  limits.max_output = 1 << 20;
  const SubprocessResult r = run_in_subprocess(
      [](int fd) {
        std::string chunk(1 << 16, 'z');
        while (write_all(fd, chunk.data(), chunk.size())) {
        }
      },
      limits);
  EXPECT_EQ(r.end, End::too_much_output);
  EXPECT_GT(r.output.size(), limits.max_output);
  EXPECT_LT(r.output.size(), limits.max_output + (4 << 20));
}

TEST(Subprocess, StandardErrorIsKeptAndStandardOutputDiscarded) {
  const SubprocessResult r = run_in_subprocess([](int) {
    std::printf("to stdout\n");
    std::fflush(stdout);
    std::string noise(10000, 'n');
    std::fprintf(stderr, "%s\nlast line\n", noise.c_str());
  });
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.output, "");
  EXPECT_EQ(r.diagnostics.size(), 4096u);
  EXPECT_TRUE(r.diagnostics.ends_with("\nlast line\n")) << r.diagnostics;
}
