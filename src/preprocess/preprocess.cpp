#include "preprocess/preprocess.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "formats/dataset_folder.h"
#include "formats/mapping_json.h"
#include "melodist/version.h"
#include "preprocess/input_files.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/folder_lock.h"
#include "util/progress.h"
#include "util/sha256.h"

namespace melodist {

namespace {

// "path:12: cannot read ..." -> "line 12: cannot read ...", "path: no **kern spine" -> "no **kern spine":
// the manifest names the file already.
std::string reason_without_path(const std::string& message, const std::string& path) {
  if (message.compare(0, path.size() + 1, path + ":") != 0) return message;
  std::string rest = message.substr(path.size() + 1);
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits > 0 && digits < rest.size() && rest[digits] == ':') return "line " + rest.substr(0, digits) + rest.substr(digits);
  if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
  return rest;
}

SongOutcome failed(const std::string& name, const std::string& reason) {
  SongOutcome out;
  out.path = name;
  out.reason = reason;
  return out;
}

SongOutcome process_melody(const std::string& name, const Melody& melody, const PreprocessOptions& options) {
  SongOutcome out;
  out.path = name;
  out.readable = true;
  out.warnings = melody.warnings;
  out.key_mode = melody.key_mode;
  out.meter = melody.time_signature;
  EncodedSong song = encode_melody(melody, options.encode);
  out.key = song.key;
  out.key_source = song.key_source;
  out.transposition = song.transposition;
  if (!song.accepted) {
    out.reason = song.reason;
    out.malformed = song.malformed;
    return out;
  }
  out.accepted = true;
  out.steps = song.symbols.size();
  out.notes = song.notes;
  out.text = join_symbols(song.symbols);
  for (const auto& s : song.symbols) out.symbols.add(s);
  return out;
}

// Every song of one file (an ABC file holds many: "path#X" each; a bad tune is one rejected entry).
std::vector<SongOutcome> process_file(const std::string& path, const PreprocessOptions& options) {
  std::vector<SongEntry> entries;
  try {
    entries = read_songs(path, options.read);
  } catch (const Error& e) {
    return {failed(path, reason_without_path(e.what(), path))};
  } catch (const std::bad_alloc&) {
    return {failed(path, "out of memory while reading")};
  } catch (const std::exception& e) {
    return {failed(path, e.what())};
  }
  std::vector<SongOutcome> out;
  out.reserve(entries.size());
  for (const SongEntry& entry : entries)
    out.push_back(entry.melody ? process_melody(entry.name, *entry.melody, options)
                               : failed(entry.name, reason_without_path(entry.error, path)));
  return out;
}

// process_file with whatever it throws turned into the file's rejection reason (an exception that
// leaves a worker thread would end the whole run in std::terminate, SIGABRT). Only a failure to record
// the reason itself (out of memory) still throws; the worker hands that to the main thread.
std::vector<SongOutcome> process_file_guarded(const std::string& path, const PreprocessOptions& options) {
  std::string reason;
  try {
    return process_file(path, options);
  } catch (const std::bad_alloc&) {
    reason = "out of memory";
  } catch (const std::exception& e) {
    reason = reason_without_path(e.what(), path);
  } catch (...) {
    reason = "unknown failure";
  }
  SongOutcome out = failed(path, reason);
  out.malformed = true;
  return {out};
}

std::string rational_list(const std::vector<Rational>& values) {
  std::string s;
  for (const auto& v : values) s += (s.empty() ? "" : ",") + v.to_string();
  return s;
}

// --exclude LIST (keep = false) or --include LIST (keep = true) while the songs stream past: the names
// of the list, and whether a song has matched each. A name matches the first song with that song_key
// (a second path to the same file, through a link, is not listed).
class ListFilter {
 public:
  ListFilter(const std::string& list_path, bool keep) : list_(read_song_list(list_path)), keep_(keep) {
    for (const std::string& name : list_.names) matched_.emplace(name, false);
  }

  // Marks `song` excluded when the list says so (listed for --exclude, not listed for --include);
  // returns whether it did.
  bool apply(SongOutcome& song, const std::string& key) {
    auto it = matched_.find(key);
    const bool listed = it != matched_.end() && !it->second;
    if (listed) it->second = true;
    if (listed == keep_ || song.excluded) return false;
    song.excluded = true;
    song.accepted = false;
    song.reason = std::string(keep_ ? "not listed in " : "listed in ") + list_.path;
    return true;
  }

  // Throws naming LIST:LINE for the first name that is no song of the inputs (a typo would otherwise
  // leave a held-out song in training, or out of the held-out set).
  void check_all_matched() const {
    for (size_t n = 0; n < list_.names.size(); ++n)
      if (!matched_.at(list_.names[n]))
        throw file_error(list_.path, list_.lines[n],
                         list_.names[n] + " is not a song of the inputs (" + (keep_ ? "--include" : "--exclude") + ")");
  }

 private:
  SongList list_;
  bool keep_;
  std::unordered_map<std::string, bool> matched_;
};

// What the dataset's totals and vocabulary need from each song, in input order, without keeping the
// song: the lists' exclusions, the counts, the symbols, and the first --strict failure (reported after
// the list errors, as a run over all songs would find them).
class SongAccounting {
 public:
  SongAccounting(Dataset& dataset, const PreprocessOptions& options) : dataset_(dataset), strict_(options.strict) {
    if (!options.exclude_list.empty()) exclude_.emplace(options.exclude_list, false);
    if (!options.include_list.empty()) include_.emplace(options.include_list, true);
    if (options.delimiter_length > 0) symbols_.delimiter = true;
  }

  void take(SongOutcome& song) {
    ++dataset_.songs;
    if (exclude_ || include_) {
      const std::string key = song_key(song.path);
      if (exclude_ && exclude_->apply(song, key)) ++dataset_.excluded;
      if (include_ && include_->apply(song, key)) ++dataset_.excluded;
    }
    if (!song.readable) ++dataset_.unreadable;
    if ((!song.readable || song.malformed) && strict_ && !strict_failure_)
      strict_failure_ = file_error(song.path, 0, song.reason + " (--strict: a malformed file is fatal)");
    if (!song.accepted) return;
    ++dataset_.accepted;
    dataset_.steps += song.steps;
    symbols_.merge(song.symbols);
  }

  // After the last song: the lists' unknown names, then --strict; then the vocabulary.
  void finish() {
    if (exclude_) exclude_->check_all_matched();
    if (include_) include_->check_all_matched();
    if (strict_failure_) throw *strict_failure_;
    if (dataset_.accepted == 0) symbols_ = SymbolSet{};
    dataset_.vocabulary = ordered_vocabulary(symbols_);
  }

 private:
  Dataset& dataset_;
  bool strict_;
  std::optional<ListFilter> exclude_, include_;
  std::optional<Error> strict_failure_;
  SymbolSet symbols_;
};

// Files read and encoded ahead of the one handed on next: enough to keep `jobs` threads busy past a slow
// file, few enough that memory stays a few MB whatever the corpus.
constexpr size_t kWindowFiles = 256;

// Hands every song of `paths` to `take`, in path order (the tunes of an ABC file in file order), while
// `jobs` threads read and encode files at most kWindowFiles ahead. `take` runs on the calling thread. A
// failure process_file_guarded could not turn into a reason (out of memory) is rethrown here.
void for_each_song(const std::vector<std::string>& paths, const PreprocessOptions& options,
                   const std::function<void(SongOutcome&)>& take) {
  int jobs = options.jobs > 0 ? options.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  jobs = static_cast<int>(std::min<size_t>(static_cast<size_t>(jobs), paths.size()));
  const size_t window = std::min(paths.size(), std::max(kWindowFiles, 4 * static_cast<size_t>(jobs)));
  std::vector<std::vector<SongOutcome>> slots(window);  // file i in slot i % window
  std::vector<char> ready(window, 0);
  std::mutex mutex;
  std::condition_variable filled, room;
  size_t next = 0, handed = 0;  // the next file a worker takes; files handed to `take` (under mutex)
  bool stop = false;
  std::atomic<size_t> done{0};
  std::exception_ptr failure;
  auto worker = [&]() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      room.wait(lock, [&] { return stop || next >= paths.size() || next < handed + window; });
      if (stop || next >= paths.size()) return;
      const size_t i = next++;
      lock.unlock();
      std::vector<SongOutcome> songs;
      std::exception_ptr error;
      try {
        songs = process_file_guarded(paths[i], options);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !failure) failure = error;
      slots[i % window] = std::move(songs);
      ready[i % window] = 1;
      ++done;
      filled.notify_all();
    }
  };
  std::vector<std::thread> threads;
  // Whatever ends this function (the last song, a failure, `take` throwing) stops and joins the workers.
  auto join = [&]() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    room.notify_all();
    for (auto& t : threads) t.join();
  };
  struct Joiner {
    const std::function<void()> join;
    ~Joiner() { join(); }
  } joiner{join};
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  Progress progress("preprocess", static_cast<double>(paths.size()), "files");
  std::unique_lock<std::mutex> lock(mutex);
  while (handed < paths.size()) {
    const size_t slot = handed % window;
    const bool woke = filled.wait_for(lock, std::chrono::milliseconds(100), [&] { return ready[slot] || failure; });
    if (failure) std::rethrow_exception(failure);
    if (woke) {
      std::vector<SongOutcome> songs = std::move(slots[slot]);
      slots[slot].clear();
      ready[slot] = 0;
      ++handed;
      room.notify_all();
      lock.unlock();
      for (SongOutcome& song : songs) take(song);
      lock.lock();
    }
    if (options.progress) progress.update(static_cast<double>(done));
  }
  if (options.progress) progress.finish(static_cast<double>(done));
}

}  // namespace

std::string key_display_name(const Key& key) {
  std::string tonic = key.spelling.empty() ? key.name() : key.spelling;
  for (char& c : tonic) if (c == '-') c = 'b';
  if (!tonic.empty() && tonic[0] >= 'a' && tonic[0] <= 'z') tonic[0] = static_cast<char>(tonic[0] - 'a' + 'A');
  return tonic + (key.minor ? " minor" : " major");
}

Dataset build_dataset(const std::vector<std::string>& inputs, const PreprocessOptions& options) {
  auto start = std::chrono::steady_clock::now();
  Dataset dataset;
  dataset.inputs = inputs;
  const std::vector<std::string> paths = collect_input_files(inputs);
  SongAccounting accounting(dataset, options);
  for_each_song(paths, options, [&](SongOutcome& song) {
    accounting.take(song);
    dataset.files.push_back(std::move(song));
  });
  accounting.finish();
  dataset.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return dataset;
}

std::string songs_text(const Dataset& dataset) {
  std::string out;
  for (const auto& f : dataset.files)
    if (f.accepted) out += f.text, out += '\n';
  return out;
}

std::string file_dataset_text(const Dataset& dataset, int delimiter_length) {
  // Reference: songs += song + " " + "/ " * L for every song, then the last character is dropped.
  std::string delimiter;
  for (int i = 0; i < delimiter_length; ++i) delimiter += i ? " /" : "/";
  std::string out;
  for (const auto& f : dataset.files) {
    if (!f.accepted) continue;
    if (!out.empty()) out += ' ';
    out += f.text;
    if (delimiter_length > 0) out += ' ', out += delimiter;
  }
  return out;
}

namespace {

using ordered_json = nlohmann::ordered_json;

// manifest.json without its "files": the options, the totals and (for a dataset that is written) the
// content record.
ordered_json manifest_head(const Dataset& dataset, const PreprocessOptions& options, const ordered_json& content) {
  ordered_json j;
  j["format"] = "melodist-dataset-manifest";
  j["format_version"] = kManifestFormatVersion;
  j["melodist_version"] = MELODIST_VERSION;
  ordered_json opts;
  opts["inputs"] = dataset.inputs;
  opts["step"] = options.encode.step.to_string();
  opts["durations"] = options.encode.durations.empty() ? std::string("any") : rational_list(options.encode.durations);
  opts["transpose"] = options.encode.transpose == TransposeMode::reference ? "reference" : "none";
  opts["ties"] = options.encode.ties == TieMode::reattack ? "reattack" : "merge";
  if (options.encode.key_symbol) opts["key_symbol"] = true;
  if (options.encode.meter_symbol) opts["meter_symbol"] = true;
  if (options.encode.barlines) opts["barlines"] = true;
  if (options.encode.countdown_bars > 0) opts["countdown_bars"] = options.encode.countdown_bars;
  if (options.encode.triplets) opts["triplets"] = true;
  if (options.encode.final_mark) opts["final_mark"] = true;
  if (options.encode.countdown_key) opts["countdown_key"] = true;
  if (options.encode.pitch_only) opts["pitch_only"] = true;
  if (options.encode.per_note) opts["per_note"] = true;
  if (!options.exclude_list.empty()) opts["exclude"] = options.exclude_list;
  if (!options.include_list.empty()) opts["include"] = options.include_list;
  opts["delimiter_length"] = options.delimiter_length;
  opts["strict"] = options.strict;
  j["options"] = opts;
  ordered_json totals;
  totals["files"] = dataset.songs;
  totals["accepted"] = dataset.accepted;
  totals["rejected"] = dataset.songs - dataset.accepted - dataset.excluded;
  if (dataset.excluded) totals["excluded"] = dataset.excluded;
  totals["unreadable"] = dataset.unreadable;
  totals["symbols"] = dataset.vocabulary.size();
  totals["steps"] = dataset.steps;
  j["totals"] = totals;
  if (!content.is_null()) j["content"] = content;
  return j;
}

// One song's entry of the manifest's "files".
ordered_json manifest_entry(const SongOutcome& f) {
  ordered_json e;
  e["path"] = f.path;
  e["status"] = f.accepted ? "accepted" : f.excluded ? "excluded" : "rejected";
  e["reason"] = f.accepted ? ordered_json(nullptr) : ordered_json(f.reason);
  e["stage"] = f.accepted || f.excluded ? ordered_json(nullptr) : ordered_json(f.readable ? "encode" : "read");
  e["key"] = f.key ? ordered_json(key_display_name(*f.key)) : ordered_json(nullptr);
  if (!f.key_mode.empty()) e["mode"] = f.key_mode;
  e["key_source"] = f.key ? ordered_json(to_string(f.key_source)) : ordered_json(nullptr);
  e["transposition"] = f.key ? ordered_json(f.transposition) : ordered_json(nullptr);
  e["meter"] = f.meter ? ordered_json(std::to_string(f.meter->numerator) + "/" + std::to_string(f.meter->denominator))
                       : ordered_json(nullptr);
  e["steps"] = f.steps;
  if (!f.warnings.empty()) e["warnings"] = f.warnings;
  return e;
}

std::string dump_json(const ordered_json& j) { return j.dump(2, ' ', false, ordered_json::error_handler_t::replace); }

}  // namespace

std::string manifest_json(const Dataset& dataset, const PreprocessOptions& options) {
  ordered_json content;  // null: no dataset is written
  if (dataset.accepted > 0)
    content = dataset_content_record(songs_text(dataset), mapping_json(dataset.vocabulary),
                                     file_dataset_text(dataset, options.delimiter_length));
  ordered_json j = manifest_head(dataset, options, content);
  ordered_json files = ordered_json::array();
  for (const auto& f : dataset.files) files.push_back(manifest_entry(f));
  j["files"] = std::move(files);
  return dump_json(j) + "\n";
}

namespace {

// DIR.rejected-manifest.json: beside the dataset folder, which a run without songs leaves as it was.
std::string rejected_manifest_path(const std::string& out_dir) {
  return without_trailing_slash(out_dir).string() + ".rejected-manifest.json";
}

void write_dataset_locked(const Dataset& dataset, const std::string& out_dir, const PreprocessOptions& options) {
  std::string songs = songs_text(dataset), mapping = mapping_json(dataset.vocabulary);
  std::string joined = file_dataset_text(dataset, options.delimiter_length);
  std::string manifest = manifest_json(dataset, options);
  replace_dataset_folder(out_dir, {{kSongsFileName, std::move(songs)},
                                   {kMappingFileName, std::move(mapping)},
                                   {kFileDatasetFileName, std::move(joined)},
                                   {kManifestFileName, std::move(manifest)}});
  std::error_code ec;
  std::filesystem::remove(rejected_manifest_path(out_dir), ec);  // it described an earlier, failed run
}

// The dataset folder written as the songs stream past, into DIR.tmp-PID (StagedDatasetFolder): songs.txt
// and file_dataset grow by each accepted song, hashed as they grow, and each song's manifest entry goes to
// a scratch file there; at the end mapping.json is written, manifest.json is its head (the totals and
// hashes, known only then) followed by the scratch file, and the folder is swapped in. The bytes are those
// of songs_text, file_dataset_text, mapping_json and manifest_json over the same songs.
class DatasetStreamWriter {
 public:
  DatasetStreamWriter(const std::string& out_dir, const PreprocessOptions& options)
      : options_(options),
        folder_(out_dir),
        songs_(file(kSongsFileName)),
        joined_(file(kFileDatasetFileName)),
        entries_(file(kEntriesFileName)) {
    for (int i = 0; i < options.delimiter_length; ++i) delimiter_ += i ? " /" : "/";
  }

  void take(const SongOutcome& song) {
    if (song.accepted) {
      songs_.write(song.text);
      songs_.write("\n");
      if (joined_.size() > 0) joined_.write(" ");
      joined_.write(song.text);
      if (options_.delimiter_length > 0) joined_.write(" "), joined_.write(delimiter_);
    }
    // The entry as manifest_json prints it: an element of "files", four spaces in.
    std::string entry = entries_.size() > 0 ? ",\n    " : "    ";
    for (char c : dump_json(manifest_entry(song))) {
      entry += c;
      if (c == '\n') entry += "    ";  // JSON strings hold no raw newline: every one is the printer's
    }
    entries_.write(entry);
  }

  // After the last song (the totals and vocabulary in `dataset`): the dataset replaces DIR.
  void commit(const Dataset& dataset) {
    const std::string mapping = mapping_json(dataset.vocabulary);
    write_file_atomically(file(kMappingFileName), mapping);
    const ordered_json content = dataset_content_record_of_digests(songs_.finish(), sha256_hex(mapping), joined_.finish());
    write_manifest(dataset, content, file(kManifestFileName));
    folder_.commit();
  }

  // No song accepted: the manifest, without a content record, goes to `path` instead, and DIR stays as it
  // was (the temporary folder goes with this object).
  void write_rejected_manifest(const Dataset& dataset, const std::string& path) {
    const std::string staged = file(kManifestFileName);
    write_manifest(dataset, ordered_json(), staged);
    if (::rename(staged.c_str(), path.c_str()) != 0) throw file_error(path, 0, std::string("cannot write: ") + std::strerror(errno));
  }

 private:
  static constexpr const char* kEntriesFileName = "manifest-files.part";  // removed before the swap

  std::string file(const char* name) const { return (folder_.path() / name).string(); }

  void write_manifest(const Dataset& dataset, const ordered_json& content, const std::string& path) {
    ordered_json head = manifest_head(dataset, options_, content);
    head["files"] = ordered_json::array();
    std::string text = dump_json(head);  // ends with "[]\n}": the entries go between the brackets
    const bool any = entries_.size() > 0;
    entries_.finish(false);  // read back below; the manifest is what must reach the disk
    StreamedFile manifest(path);
    if (!any) {
      manifest.write(text + "\n");
    } else {
      manifest.write(std::string_view(text).substr(0, text.size() - 3));
      manifest.write("\n");
      copy_into(file(kEntriesFileName), manifest);
      manifest.write("\n  ]\n}\n");
    }
    manifest.finish();
    std::filesystem::remove(file(kEntriesFileName));
  }

  // The bytes of the file at `path` appended to `to`, 64 KiB at a time.
  static void copy_into(const std::string& path, StreamedFile& to) {
    std::ifstream in(path, std::ios::binary);
    std::string buffer(size_t{1} << 16, '\0');
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      to.write(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
    }
    if (in.bad() || !in.eof()) throw file_error(path, 0, "cannot read");
  }

  const PreprocessOptions& options_;
  StagedDatasetFolder folder_;
  StreamedFile songs_, joined_, entries_;
  std::string delimiter_;
};

}  // namespace

void write_dataset(const Dataset& dataset, const std::string& out_dir, const PreprocessOptions& options) {
  FolderLock lock = FolderLock::beside(out_dir);
  write_dataset_locked(dataset, out_dir, options);
}

Dataset run_preprocess(const std::vector<std::string>& inputs, const std::string& out_dir, const PreprocessOptions& options) {
  if (options.delimiter_length < 0) throw Error("--delimiter-length must be 0 or more");
  if (options.encode.step <= Rational(0)) throw Error("--step must be positive");
  check_encode_options(options.encode);
  FolderLock lock = FolderLock::beside(out_dir);  // before the (long) build: a second run stops at once
  auto start = std::chrono::steady_clock::now();
  Dataset dataset;
  dataset.inputs = inputs;
  const std::vector<std::string> paths = collect_input_files(inputs);
  SongAccounting accounting(dataset, options);
  DatasetStreamWriter writer(out_dir, options);
  std::string first;  // the first three songs' reasons, for the error when none is accepted
  for_each_song(paths, options, [&](SongOutcome& song) {
    accounting.take(song);
    if (dataset.songs <= 3) first += (dataset.songs > 1 ? "; " : "") + song.path + ": " + song.reason;
    writer.take(song);
  });
  accounting.finish();
  dataset.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (dataset.accepted == 0) {
    // The old dataset (if any) stays whole; the reasons go beside it, and the first few into the message.
    const std::string manifest = rejected_manifest_path(out_dir);
    std::string written;
    try {
      writer.write_rejected_manifest(dataset, manifest);
      written = "; every reason in " + manifest;
    } catch (const Error&) {
    }
    throw Error("no song accepted: all " + std::to_string(dataset.songs) + " file(s) were rejected (" + first +
                (dataset.songs > 3 ? "; ..." : "") + ")" + written + "; " + out_dir + " is left as it was");
  }
  writer.commit(dataset);
  std::error_code ec;
  std::filesystem::remove(rejected_manifest_path(out_dir), ec);  // it described an earlier, failed run
  return dataset;
}

std::string summary_line(const Dataset& dataset) {
  return "accepted " + std::to_string(dataset.accepted) + " of " + std::to_string(dataset.songs) + " songs" +
         (dataset.excluded ? " (" + std::to_string(dataset.excluded) + " excluded)" : std::string()) + ", " +
         std::to_string(dataset.vocabulary.size()) + " symbols, " + format_count(static_cast<double>(dataset.steps)) + " steps";
}

}  // namespace melodist
