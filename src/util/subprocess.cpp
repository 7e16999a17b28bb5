#include "util/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "util/error.h"

namespace melodist {

namespace {

constexpr size_t kDiagnosticsKept = 4096;

// The child's side: never returns.
[[noreturn]] void child_main(const std::function<void(int)>& work, int out_fd, int err_fd) {
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGPIPE, SIGALRM, SIGXCPU}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
  }
  ::dup2(err_fd, 2);
  int code = 0;
  try {
    work(out_fd);
  } catch (...) {
    code = 2;
  }
  ::_exit(code);
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads what is there, or until `into` holds more than `cap` bytes; false at end of file (or a read error).
bool drain(int fd, std::string& into, size_t cap) {
  char buffer[65536];
  while (into.size() <= cap) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Collects both pipes until both end, the deadline passes or the output passes its limit.
SubprocessResult::End collect(int out_fd, int err_fd, Clock::time_point deadline, size_t max_output, SubprocessResult& result) {
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const int wait = remaining_ms(deadline);
    if (wait == 0) return SubprocessResult::End::timed_out;
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    const int ready = ::poll(fds, 2, wait);
    if (ready < 0 && errno != EINTR) return SubprocessResult::End::timed_out;
    if (ready <= 0) continue;
    if (out_open && fds[0].revents) out_open = drain(out_fd, result.output, max_output);
    if (err_open && fds[1].revents) {
      err_open = drain(err_fd, result.diagnostics, 2 * kDiagnosticsKept);
      if (result.diagnostics.size() > kDiagnosticsKept) result.diagnostics.erase(0, result.diagnostics.size() - kDiagnosticsKept);
    }
    if (result.output.size() > max_output) return SubprocessResult::End::too_much_output;
  }
  return SubprocessResult::End::exited;
}

enum class Reaped { status, killed, unknown };

// Waits for the child until the deadline (it may linger after closing its pipes), then kills it.
// unknown: waitpid refused (SIGCHLD ignored: the system reaped the child, its status is lost).
Reaped reap(pid_t pid, Clock::time_point deadline, int& status) {
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return Reaped::status;
    if (r < 0 && errno != EINTR) return Reaped::unknown;
    if (remaining_ms(deadline) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return Reaped::killed;
}

}  // namespace

bool write_all(int fd, const void* bytes, size_t size) {
  const char* p = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string SubprocessResult::describe(const SubprocessLimits& limits) const {
  switch (end) {
    case End::exited:
      return exit_code < 0 ? std::string("ended with an unknown status") : "exited with status " + std::to_string(exit_code);
    case End::signaled:
      return "crashed (signal " + std::to_string(signal) + ", " + strsignal(signal) + ")";
    case End::timed_out: {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(limits.timeout.count()) / 1000.0);
      return std::string("was still running after ") + seconds + " s and was stopped";
    }
    case End::too_much_output:
      return "wrote more than " + std::to_string(limits.max_output) + " bytes and was stopped";
  }
  return "ended";
}

SubprocessResult run_in_subprocess(const std::function<void(int fd)>& work, const SubprocessLimits& limits) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  const Clock::time_point deadline = Clock::now() + limits.timeout;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    child_main(work, out_pipe[1], err_pipe[1]);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    const int e = errno;
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw Error(std::string("cannot start a child process: ") + std::strerror(e));
  }
  set_nonblocking(out_pipe[0]);
  set_nonblocking(err_pipe[0]);
  SubprocessResult result;
  result.end = collect(out_pipe[0], err_pipe[0], deadline, limits.max_output, result);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (result.end != SubprocessResult::End::exited) {
    ::kill(pid, SIGKILL);
    int ignored = 0;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    return result;
  }
  int status = 0;
  const Reaped reaped = reap(pid, deadline, status);
  if (reaped == Reaped::killed) {
    result.end = SubprocessResult::End::timed_out;
  } else if (reaped == Reaped::unknown) {
    result.exit_code = -1;
  } else if (WIFSIGNALED(status)) {
    result.end = SubprocessResult::End::signaled;
    result.signal = WTERMSIG(status);
  } else {
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return result;
}

}  // namespace melodist
