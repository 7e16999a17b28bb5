#pragma once
// One writer per output folder: an advisory flock(2) on a lock file, held for the life of a FolderLock.
// A second melodist process that wants the same folder stops at once with
//   "DIR is in use by another melodist process (pid N)"
// instead of mixing its files with the first one's. The kernel drops a flock when its holder dies, so a
// lock file left behind by a crash is harmless: the next run takes it over.
//
// Two placements:
//   inside(dir)  DIR/.melodist.lock, for folders that are written file by file (a model folder, a
//                crossval folder); DIR is created if missing, and removed again on release when the run
//                created it and wrote nothing into it.
//   beside(dir)  DIR.lock next to DIR, for folders that are replaced whole by a rename (a dataset
//                folder, formats/dataset_folder.h): a lock inside would be swapped away with the folder.
// The lock file holds the holder's pid (for the message only) and is unlinked on release. Taking it
// checks that the locked inode is still the one at the path, so removing it never lets two holders in.
// Locks are per open file: a second FolderLock on the same folder in the same process is refused too.
#include <string>

namespace melodist {

inline constexpr const char* kLockFileName = ".melodist.lock";

class FolderLock {
 public:
  // Throws melodist::Error: the folder is in use, or the lock file cannot be created (naming it).
  static FolderLock inside(const std::string& dir);
  static FolderLock beside(const std::string& dir);

  FolderLock() = default;
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&& other) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock();

  const std::string& lock_path() const { return lock_path_; }

 private:
  FolderLock(const std::string& lock_path, const std::string& dir, bool remove_dir_if_empty);
  void release() noexcept;

  int fd_ = -1;
  std::string lock_path_, dir_;
  bool remove_dir_if_empty_ = false;
};

}  // namespace melodist
