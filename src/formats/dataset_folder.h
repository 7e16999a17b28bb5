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
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// Makes `files` the whole content of DIR. The caller holds FolderLock::beside(DIR) (util/folder_lock.h):
// the temporary folder DIR.tmp-PID and leftovers of killed runs beside DIR are this writer's alone.
// Throws melodist::Error, leaving DIR untouched, when DIR exists and is not a folder, holds a file that is
// not a dataset file (it would be deleted with the old folder), or a write fails.
void replace_dataset_folder(const std::string& dir, const std::vector<DatasetFile>& files);

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
