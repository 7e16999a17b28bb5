#pragma once
// Runs a piece of this program in a forked child process, so that a crash, hang or runaway allocation
// inside code melodist does not control (a third-party parser fed a damaged file: libhdf5 in
// formats/keras_h5.cpp) cannot take the calling process down.
//
//   parent                                   child (fork)
//   ------                                   ------------
//   pipe: reads everything (poll, deadline)  <- work(fd) writes its result to fd
//   pipe: keeps the last bytes of stderr     <- the child's standard error (stdout goes to /dev/null)
//   waitpid; kills the child (SIGKILL) at the deadline or past max_output bytes
//
// The child runs `work` and leaves with _exit (0 when work returns, 2 when it throws), so none of the
// parent's atexit handlers, stdio buffers or static destructors run twice. Its crash-signal handlers
// are reset to the default first: a crash in the child must end the child with that signal, not run a
// handler the parent installed (libFuzzer's or a sanitizer's, which would report the parent as crashed).
//
// fork() copies only the calling thread; `work` must not need another thread of the parent's (OpenBLAS
// workers, a lock another thread held) and should use no more than the C library, malloc included
// (glibc makes malloc usable after fork), and a library the parent has not initialised.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace melodist {

struct SubprocessLimits {
  std::chrono::milliseconds timeout{60000};  // from fork to the child's exit
  size_t max_output = size_t{1} << 30;       // bytes the child may write to its fd
};

struct SubprocessResult {
  enum class End { exited, signaled, timed_out, too_much_output };
  End end = End::exited;
  int exit_code = 0;        // End::exited
  int signal = 0;           // End::signaled
  std::string output;       // what work() wrote (complete only when the child exited)
  std::string diagnostics;  // the last 4 KiB of the child's standard error

  bool succeeded() const { return end == End::exited && exit_code == 0; }
  // "crashed (signal 11, Segmentation fault)", "exited with status 2",
  // "was still running after 60 s and was stopped", "wrote more than N bytes and was stopped"
  std::string describe(const SubprocessLimits& limits) const;
};

// Forks, runs work(fd) in the child, collects its output. Throws melodist::Error only when the child
// cannot be started (pipe or fork failed); every way the child can end is in the result.
SubprocessResult run_in_subprocess(const std::function<void(int fd)>& work, const SubprocessLimits& limits = {});

// Writes all of `bytes` to fd (retrying short writes); false on an error.
bool write_all(int fd, const void* bytes, size_t size);

}  // namespace melodist
