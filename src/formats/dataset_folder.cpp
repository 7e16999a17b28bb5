#include "formats/dataset_folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/sha256.h"

namespace melodist {

namespace {

namespace fs = std::filesystem;

constexpr size_t kBufferBytes = size_t{1} << 16;  // StreamedFile: one write(2) per 64 KiB

bool is_dataset_file_name(const std::string& name) {
  return name == kSongsFileName || name == kMappingFileName || name == kFileDatasetFileName ||
         name == kManifestFileName || name.find(".tmp-") != std::string::npos;
}

void fsync_folder(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw file_error(dir.string(), 0, std::string("cannot open the folder: ") + std::strerror(errno));
  int rc = ::fsync(fd), err = errno;
  ::close(fd);
  if (rc != 0) throw file_error(dir.string(), 0, std::string("cannot sync the folder: ") + std::strerror(err));
}

// DIR.tmp-PID and DIR.old-PID beside DIR left by runs that were killed (the caller holds DIR's lock, so no
// live run owns them).
void remove_leftovers(const fs::path& target) {
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string other = e.path().filename().string();
    if (other.rfind(name + ".tmp-", 0) == 0 || other.rfind(name + ".old-", 0) == 0) fs::remove_all(e.path(), ec);
  }
}

void check_replaceable(const std::string& dir, const fs::path& target) {
  std::error_code ec;
  if (!fs::exists(target, ec)) return;
  if (!fs::is_directory(target, ec)) throw file_error(dir, 0, "exists and is not a folder (--out names the dataset folder)");
  for (const auto& e : fs::directory_iterator(target)) {
    const std::string name = e.path().filename().string();
    if (!is_dataset_file_name(name))
      throw file_error(dir, 0, "holds \"" + name +
                                   "\", which is not a dataset file; the dataset folder is replaced whole, so choose an "
                                   "empty or new folder for --out");
  }
}

// The new folder at `staged` takes the place of `target`. On Linux renameat2(RENAME_EXCHANGE) swaps the two
// names in one step, so `target` never disappears (a reader that opens it in between finds the old set,
// not "no dataset"); the old folder is then at `staged` and is removed. Filesystems without
// RENAME_EXCHANGE (EINVAL, ENOSYS) get rename-aside: target -> TARGET.old-PID, staged -> target, a moment
// in which `target` is absent, but never a mixed folder.
void swap_in(const fs::path& staged, const fs::path& target, const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(target, ec)) {
    if (::rename(staged.c_str(), target.c_str()) != 0)
      throw file_error(dir, 0, std::string("cannot move the new dataset in: ") + std::strerror(errno));
    return;
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staged, ec);  // the old dataset; a failure leaves a leftover the next run removes
    return;
  }
  if (errno != EINVAL && errno != ENOSYS)
    throw file_error(dir, 0, std::string("cannot swap the new dataset in: ") + std::strerror(errno));
  const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
  if (::rename(target.c_str(), old.c_str()) != 0)
    throw file_error(dir, 0, std::string("cannot move the old dataset aside: ") + std::strerror(errno));
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::rename(old.c_str(), target.c_str());
    throw file_error(dir, 0, std::string("cannot move the new dataset in: ") + std::strerror(err));
  }
  fs::remove_all(old, ec);
}

// The whole file at `name` under the folder handle; nullopt when it does not exist.
std::optional<std::string> read_at(int dir_fd, const char* name, const std::string& dir) {
  const std::string path = (fs::path(dir) / name).string();
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw file_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
  }
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw file_error(path, 0, std::string("cannot read: ") + std::strerror(err));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

// "" when the set matches the manifest's content record (or there is none), else the error.
std::string content_mismatch(const DatasetFolderSnapshot& s, const std::string& dir) {
  if (!s.manifest) return "";
  const std::string manifest_path = (fs::path(dir) / kManifestFileName).string();
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(*s.manifest);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(manifest_path, 0, std::string("not valid JSON: ") + e.what());
  }
  if (!manifest.is_object() || !manifest.contains("content")) return "";
  const nlohmann::json& record = manifest["content"];
  if (!record.is_object() || record.value("hash", "") != "sha256")
    throw file_error(manifest_path, 0, "\"content\" is not a {\"hash\": \"sha256\", ...} record");
  for (const auto& [name, bytes] : {std::pair{kSongsFileName, &s.songs}, std::pair{kMappingFileName, &s.mapping}}) {
    if (!*bytes || !record.contains(name)) continue;  // a missing file is the caller's error
    if (!record[name].is_string() || record[name].get<std::string>() != sha256_hex(**bytes))
      return (fs::path(dir) / name).string() + ": does not match the SHA-256 that " + manifest_path +
             " records for it: the folder mixes files of different datasets (run `melodist preprocess` again)";
  }
  return "";
}

bool same_folder(int dir_fd, const std::string& dir) {
  struct stat by_fd {}, by_path {};
  return ::fstat(dir_fd, &by_fd) == 0 && ::stat(dir.c_str(), &by_path) == 0 && by_fd.st_dev == by_path.st_dev &&
         by_fd.st_ino == by_path.st_ino;
}

}  // namespace

nlohmann::ordered_json dataset_content_record(const std::string& songs, const std::string& mapping,
                                              const std::string& file_dataset) {
  nlohmann::ordered_json record;
  record["hash"] = "sha256";
  record[kSongsFileName] = sha256_hex(songs);
  record[kMappingFileName] = sha256_hex(mapping);
  record[kFileDatasetFileName] = sha256_hex(file_dataset);
  return record;
}

nlohmann::ordered_json dataset_content_record_of_digests(const std::string& songs_sha256, const std::string& mapping_sha256,
                                                         const std::string& file_dataset_sha256) {
  nlohmann::ordered_json record;
  record["hash"] = "sha256";
  record[kSongsFileName] = songs_sha256;
  record[kMappingFileName] = mapping_sha256;
  record[kFileDatasetFileName] = file_dataset_sha256;
  return record;
}

void replace_dataset_folder(const std::string& dir, const std::vector<DatasetFile>& files) {
  check_replaceable(dir, without_trailing_slash(dir));  // before anything is written beside DIR
  StagedDatasetFolder staged(dir);
  for (const DatasetFile& f : files) write_file_atomically((staged.path() / f.name).string(), f.bytes);  // each fsync'ed
  staged.commit();
}

StagedDatasetFolder::StagedDatasetFolder(const std::string& dir) : dir_(dir), target_(without_trailing_slash(dir)) {
  remove_leftovers(target_);
  staged_ = target_.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::create_directories(staged_, ec);
  if (ec) throw file_error(staged_.string(), 0, "cannot create the temporary dataset folder: " + ec.message());
}

StagedDatasetFolder::~StagedDatasetFolder() {
  std::error_code ec;
  if (!committed_) fs::remove_all(staged_, ec);
}

void StagedDatasetFolder::commit() {
  check_replaceable(dir_, target_);
  fsync_folder(staged_);
  swap_in(staged_, target_, dir_);
  committed_ = true;
  fsync_folder(target_.has_parent_path() ? target_.parent_path() : fs::path("."));
}

StreamedFile::StreamedFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw file_error(path_, 0, std::string("cannot write: ") + std::strerror(errno));
  buffer_.reserve(kBufferBytes);
}

StreamedFile::~StreamedFile() {
  if (fd_ >= 0) ::close(fd_);
}

void StreamedFile::write(std::string_view bytes) {
  hash_.update(bytes);
  size_ += bytes.size();
  if (buffer_.size() + bytes.size() > kBufferBytes) flush();
  if (bytes.size() >= kBufferBytes) {
    buffer_ = bytes;  // one large piece: written through at once
    flush();
  } else {
    buffer_ += bytes;
  }
}

void StreamedFile::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw file_error(path_, 0, std::string("cannot write: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

std::string StreamedFile::finish(bool sync) {
  flush();
  const int fd = fd_;
  fd_ = -1;
  if (sync && ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    throw file_error(path_, 0, std::string("cannot write: ") + std::strerror(err));
  }
  if (::close(fd) != 0) throw file_error(path_, 0, std::string("cannot write: ") + std::strerror(errno));
  return hash_.hex();
}

DatasetFolderSnapshot read_dataset_folder(const std::string& dir) {
  // A melodist writer never changes a folder's files in place; it swaps the folder. So files opened through
  // one folder handle are one set, unless that folder was swapped away and is being removed (a file
  // vanishes) or the set was mixed some other way (the hashes differ): then, if the path now names another
  // folder, read that one. 50 tries, 10 ms apart, cover a writer that swaps continuously.
  constexpr int kTries = 50;
  for (int attempt = 1;; ++attempt) {
    DatasetFolderSnapshot s;
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 && errno == ENOENT && attempt > 1 && attempt < kTries) {  // rename-aside's moment
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (dir_fd < 0) return s;
    s.is_folder = true;
    std::string mismatch;
    try {
      s.songs = read_at(dir_fd, kSongsFileName, dir);
      s.mapping = read_at(dir_fd, kMappingFileName, dir);
      s.manifest = read_at(dir_fd, kManifestFileName, dir);
      mismatch = content_mismatch(s, dir);
    } catch (...) {
      ::close(dir_fd);
      throw;
    }
    const bool incomplete = !s.songs || !s.mapping || !s.manifest || !mismatch.empty();
    const bool swapped = incomplete && !same_folder(dir_fd, dir);
    ::close(dir_fd);
    if (swapped && attempt < kTries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (!mismatch.empty()) throw Error(mismatch);
    return s;
  }
}

}  // namespace melodist
