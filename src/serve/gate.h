#pragma once
// The cap on concurrent compositions: at most `running` at once and `waiting` queued for a slot;
// enter() is false beyond that (the server answers 503 with Retry-After).
#include <condition_variable>
#include <mutex>

namespace melodist::serve {

class ComposeGate {
 public:
  ComposeGate(int running, int waiting) : max_running_(running), max_waiting_(waiting) {}
  bool enter() {
    std::unique_lock lock(mutex_);
    if (running_ >= max_running_) {
      if (waiting_ >= max_waiting_) return false;
      ++waiting_;
      cv_.wait(lock, [&] { return running_ < max_running_; });
      --waiting_;
    }
    ++running_;
    return true;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    --running_;
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int running_ = 0, waiting_ = 0;
  const int max_running_, max_waiting_;
};

}  // namespace melodist::serve
