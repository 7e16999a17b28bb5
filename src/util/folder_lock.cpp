#include "util/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

namespace fs = std::filesystem;

// The holder's pid as it wrote it; it writes it right after taking the lock, so wait a moment for it.
std::string holder_pid(const std::string& lock_path) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buffer[32] = {};
      ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
      ::close(fd);
      std::string pid(buffer, n > 0 ? static_cast<size_t>(n) : 0);
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      if (!pid.empty()) return pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return "unknown";
}

}  // namespace

FolderLock FolderLock::inside(const std::string& dir) {
  const fs::path folder = without_trailing_slash(dir);
  std::error_code ec;
  const bool existed = fs::exists(folder, ec);
  if (!existed) {
    fs::create_directories(folder, ec);
    if (ec) throw file_error(dir, 0, "cannot create the folder: " + ec.message());
  } else if (!fs::is_directory(folder, ec)) {
    throw file_error(dir, 0, "exists and is not a folder");
  }
  return FolderLock((folder / kLockFileName).string(), dir, !existed);
}

FolderLock FolderLock::beside(const std::string& dir) {
  const fs::path folder = without_trailing_slash(dir);
  if (folder.filename().empty() || folder.filename() == "." || folder.filename() == "..")
    throw file_error(dir, 0, "names no folder that can be replaced (give the folder's own name)");
  std::error_code ec;
  if (folder.has_parent_path()) {
    fs::create_directories(folder.parent_path(), ec);
    if (ec) throw file_error(folder.parent_path().string(), 0, "cannot create the folder: " + ec.message());
  }
  return FolderLock(folder.string() + ".lock", dir, false);
}

FolderLock::FolderLock(const std::string& lock_path, const std::string& dir, bool remove_dir_if_empty)
    : lock_path_(lock_path), dir_(dir), remove_dir_if_empty_(remove_dir_if_empty) {
  // open, lock, then check that the path still names the locked inode: a holder that released in
  // between unlinked it, and the lock on an unlinked file guards nothing, so take the new one instead.
  for (;;) {
    int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw file_error(lock_path_, 0, std::string("cannot create the lock file: ") + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EINTR) continue;
      if (err == EWOULDBLOCK)
        throw Error(dir_ + " is in use by another melodist process (pid " + holder_pid(lock_path_) + ")");
      throw file_error(lock_path_, 0, std::string("cannot lock: ") + std::strerror(err));
    }
    struct stat by_fd {}, by_path {};
    if (::fstat(fd, &by_fd) == 0 && ::stat(lock_path_.c_str(), &by_path) == 0 && by_fd.st_dev == by_path.st_dev &&
        by_fd.st_ino == by_path.st_ino) {
      fd_ = fd;
      break;
    }
    ::close(fd);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::write(fd_, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    release();
    throw file_error(lock_path_, 0, std::string("cannot write the lock file: ") + std::strerror(err));
  }
}

FolderLock::FolderLock(FolderLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      lock_path_(std::move(other.lock_path_)),
      dir_(std::move(other.dir_)),
      remove_dir_if_empty_(other.remove_dir_if_empty_) {}

FolderLock& FolderLock::operator=(FolderLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    lock_path_ = std::move(other.lock_path_);
    dir_ = std::move(other.dir_);
    remove_dir_if_empty_ = other.remove_dir_if_empty_;
  }
  return *this;
}

FolderLock::~FolderLock() { release(); }

void FolderLock::release() noexcept {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still holding it: nobody can lock this inode through the path now
  ::close(fd_);
  fd_ = -1;
  if (remove_dir_if_empty_) ::rmdir(fs::path(lock_path_).parent_path().c_str());  // fails unless empty
}

}  // namespace melodist
