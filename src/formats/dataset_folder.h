#pragma once
// A dataset folder as one unit: songs.txt, mapping.json, file_dataset, manifest.json (preprocess/
// preprocess.h says what each holds). It is written whole and read whole:
//   - the writer builds the four files in a temporary folder beside the target and swaps it in with one
//     rename, so a reader finds the old set or the new one, never a mixture, and a failed or killed run
//     leaves the old folder as it was;
//   - manifest.json records a content hash of the other files ("content": {"hash": "sha256",
//     "songs.txt": hex, "mapping.json": hex, "file_dataset": hex}), and the reader refuses a songs.txt or
//     mapping.json that does not match it (a folder mixed by hand, by a copy, or by an older melodist that
//     replaced the files one by one). A manifest without the record (older datasets, hand-made ones) is
//     read without the check.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/sha256.h"

namespace melodist {

inline constexpr const char* kSongsFileName = "songs.txt";
inline constexpr const char* kMappingFileName = "mapping.json";
inline constexpr const char* kFileDatasetFileName = "file_dataset";
inline constexpr const char* kManifestFileName = "manifest.json";

struct DatasetFile {
  std::string name;   // one of the four names above
  std::string bytes;
};

// The manifest's "content" record for these bytes.
nlohmann::ordered_json dataset_content_record(const std::string& songs, const std::string& mapping,
                                              const std::string& file_dataset);

// The same record from the files' SHA-256 hex digests (a writer that hashed them as they streamed).
nlohmann::ordered_json dataset_content_record_of_digests(const std::string& songs_sha256, const std::string& mapping_sha256,
                                                         const std::string& file_dataset_sha256);

// Makes `files` the whole content of DIR. The caller holds FolderLock::beside(DIR) (util/folder_lock.h):
// the temporary folder DIR.tmp-PID and leftovers of killed runs beside DIR are this writer's alone.
// Throws melodist::Error, leaving DIR untouched, when DIR exists and is not a folder, holds a file that is
// not a dataset file (it would be deleted with the old folder), or a write fails.
void replace_dataset_folder(const std::string& dir, const std::vector<DatasetFile>& files);

// The same swap for a writer that streams (preprocess of a large corpus): the temporary folder
// DIR.tmp-PID is made at once (leftovers of killed runs removed), the writer fills path()/NAME as its bytes
// come (StreamedFile), and commit() checks DIR and swaps the folder in with the same guarantees and errors
// as replace_dataset_folder. Destroyed without commit(), the temporary folder is removed and DIR is
// untouched. The caller holds FolderLock::beside(DIR) for the object's whole life.
class StagedDatasetFolder {
 public:
  explicit StagedDatasetFolder(const std::string& dir);
  ~StagedDatasetFolder();
  StagedDatasetFolder(const StagedDatasetFolder&) = delete;
  StagedDatasetFolder& operator=(const StagedDatasetFolder&) = delete;
  const std::filesystem::path& path() const { return staged_; }
  // The staged folder must then hold exactly the dataset files (a stray one is removed with the old folder).
  void commit();

 private:
  std::string dir_;
  std::filesystem::path target_, staged_;
  bool committed_ = false;
};

// One file written front to back through a buffer and hashed as it goes. Throws melodist::Error naming
// the path when it cannot be created or written. Destroyed unfinished, it is closed as it stands.
class StreamedFile {
 public:
  explicit StreamedFile(std::string path);  // created, or truncated
  ~StreamedFile();
  StreamedFile(const StreamedFile&) = delete;
  StreamedFile& operator=(const StreamedFile&) = delete;
  void write(std::string_view bytes);
  size_t size() const { return size_; }
  // Flushes, fsyncs (unless `sync` is false: a scratch file read back at once) and closes; returns the
  // SHA-256 hex of every byte written.
  std::string finish(bool sync = true);

 private:
  void flush();
  std::string path_, buffer_;
  int fd_ = -1;
  size_t size_ = 0;
  Sha256 hash_;
};

struct DatasetFolderSnapshot {
  bool is_folder = false;                         // false: DIR is missing or not a folder
  std::optional<std::string> songs, mapping, manifest;  // absent: the file is missing
};

// songs.txt, mapping.json and manifest.json of DIR, all from one folder: the three files are opened
// through one handle on the folder, and a folder swapped away while they are read is read again. Throws
// melodist::Error naming the file when it cannot be read, when manifest.json is not JSON, or when songs.txt
// or mapping.json does not match the manifest's content record.
DatasetFolderSnapshot read_dataset_folder(const std::string& dir);

}  // namespace melodist
