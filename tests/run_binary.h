#pragma once
// Runs the built melodist binary (MELODIST_BINARY) as a child process without a shell, so that its wait
// status is its own: a crash shows as a signal (WIFSIGNALED), not as a shell's exit status 128 + N.
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "util/atomic_file.h"

extern char** environ;

namespace test_support {

struct BinaryRun {
  bool exited = false;   // WIFEXITED
  int status = -1;       // exit status when exited
  int signal = 0;        // the terminating signal when killed by one (0 otherwise)
  std::string out, err;  // standard output and error
  long max_rss_kb = 0;   // the child's peak resident memory (wait4's ru_maxrss, KiB)
};

// `melodist ARGS...` with standard output and error captured in `scratch`/run.out and run.err.
inline BinaryRun run_melodist(const std::vector<std::string>& args, const std::string& scratch) {
  const std::string out_path = scratch + "/run.out", err_path = scratch + "/run.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_text{MELODIST_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  BinaryRun run;
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, MELODIST_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return run;
  int raw = 0;
  pid_t waited = -1;
  struct rusage usage {};
  do waited = wait4(pid, &raw, 0, &usage);
  while (waited < 0 && errno == EINTR);
  if (waited != pid) return run;
  run.exited = WIFEXITED(raw);
  run.status = run.exited ? WEXITSTATUS(raw) : -1;
  run.signal = WIFSIGNALED(raw) ? WTERMSIG(raw) : 0;
  run.max_rss_kb = usage.ru_maxrss;
  run.out = melodist::read_file(out_path);
  run.err = melodist::read_file(err_path);
  return run;
}

}  // namespace test_support
