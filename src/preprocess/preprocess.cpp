#include "preprocess/preprocess.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "formats/dataset_folder.h"
#include "melodist/version.h"
#include "preprocess/input_files.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/folder_lock.h"
#include "util/progress.h"

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

// --exclude LIST (keep = false): the listed songs become excluded; --include LIST (keep = true): all
// others do. Returns how many are excluded. Throws naming LIST:LINE for a name that is no song of the
// inputs (a typo would otherwise leave a held-out song in training, or out of the held-out set).
size_t exclude_by_list(std::vector<SongOutcome>& songs, const std::string& list_path, bool keep) {
  const SongList list = read_song_list(list_path);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < songs.size(); ++i) index.emplace(song_key(songs[i].path), i);
  std::vector<char> listed(songs.size(), 0);
  for (size_t n = 0; n < list.names.size(); ++n) {
    auto it = index.find(list.names[n]);
    if (it == index.end())
      throw file_error(list_path, list.lines[n],
                       list.names[n] + " is not a song of the inputs (" + (keep ? "--include" : "--exclude") + ")");
    listed[it->second] = 1;
  }
  size_t excluded = 0;
  for (size_t i = 0; i < songs.size(); ++i) {
    if (static_cast<bool>(listed[i]) == keep || songs[i].excluded) continue;
    songs[i].excluded = true;
    songs[i].accepted = false;
    songs[i].reason = std::string(keep ? "not listed in " : "listed in ") + list_path;
    ++excluded;
  }
  return excluded;
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
  std::vector<std::string> paths = collect_input_files(inputs);
  std::vector<std::vector<SongOutcome>> per_file(paths.size());

  int jobs = options.jobs > 0 ? options.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  jobs = static_cast<int>(std::min<size_t>(static_cast<size_t>(jobs), paths.size()));
  std::atomic<size_t> next{0}, done{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr failure;  // the first exception process_file_guarded could not turn into a reason
  auto worker = [&]() {
    for (size_t i = next++; i < paths.size(); i = next++) {
      try {
        per_file[i] = process_file_guarded(paths[i], options);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
      }
      if (++done == paths.size()) {
        std::lock_guard<std::mutex> lock(mutex);
        finished.notify_all();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  {
    Progress progress("preprocess", static_cast<double>(paths.size()), "files");
    std::unique_lock<std::mutex> lock(mutex);
    while (done < paths.size()) {
      finished.wait_for(lock, std::chrono::milliseconds(100));
      if (options.progress) progress.update(static_cast<double>(done));
    }
    if (options.progress) progress.finish(static_cast<double>(done));
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  for (auto& songs : per_file)
    for (auto& song : songs) dataset.files.push_back(std::move(song));
  if (!options.exclude_list.empty()) dataset.excluded += exclude_by_list(dataset.files, options.exclude_list, false);
  if (!options.include_list.empty()) dataset.excluded += exclude_by_list(dataset.files, options.include_list, true);

  SymbolSet symbols;
  if (options.delimiter_length > 0) symbols.delimiter = true;
  for (const SongOutcome& f : dataset.files) {
    if (!f.readable) ++dataset.unreadable;
    if ((!f.readable || f.malformed) && options.strict)
      throw file_error(f.path, 0, f.reason + " (--strict: a malformed file is fatal)");
    if (!f.accepted) continue;
    ++dataset.accepted;
    dataset.steps += f.steps;
    symbols.merge(f.symbols);
  }
  if (dataset.accepted == 0) symbols = SymbolSet{};
  dataset.vocabulary = ordered_vocabulary(symbols);
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

std::string manifest_json(const Dataset& dataset, const PreprocessOptions& options) {
  using json = nlohmann::ordered_json;
  json j;
  j["format"] = "melodist-dataset-manifest";
  j["format_version"] = kManifestFormatVersion;
  j["melodist_version"] = MELODIST_VERSION;
  json opts;
  opts["inputs"] = dataset.inputs;
  opts["step"] = options.encode.step.to_string();
  opts["durations"] = options.encode.durations.empty() ? std::string("any") : rational_list(options.encode.durations);
  opts["transpose"] = options.encode.transpose == TransposeMode::reference ? "reference" : "none";
  opts["ties"] = options.encode.ties == TieMode::reattack ? "reattack" : "merge";
  if (options.encode.key_symbol) opts["key_symbol"] = true;
  if (options.encode.meter_symbol) opts["meter_symbol"] = true;
  if (options.encode.barlines) opts["barlines"] = true;
  if (!options.exclude_list.empty()) opts["exclude"] = options.exclude_list;
  if (!options.include_list.empty()) opts["include"] = options.include_list;
  opts["delimiter_length"] = options.delimiter_length;
  opts["strict"] = options.strict;
  j["options"] = opts;
  json totals;
  totals["files"] = dataset.files.size();
  totals["accepted"] = dataset.accepted;
  totals["rejected"] = dataset.files.size() - dataset.accepted - dataset.excluded;
  if (dataset.excluded) totals["excluded"] = dataset.excluded;
  totals["unreadable"] = dataset.unreadable;
  totals["symbols"] = dataset.vocabulary.size();
  totals["steps"] = dataset.steps;
  j["totals"] = totals;
  if (dataset.accepted > 0)  // a dataset that is written: the hashes of its other three files
    j["content"] = dataset_content_record(songs_text(dataset), mapping_json(dataset.vocabulary),
                                          file_dataset_text(dataset, options.delimiter_length));
  json files = json::array();
  for (const auto& f : dataset.files) {
    json e;
    e["path"] = f.path;
    e["status"] = f.accepted ? "accepted" : f.excluded ? "excluded" : "rejected";
    e["reason"] = f.accepted ? json(nullptr) : json(f.reason);
    e["stage"] = f.accepted || f.excluded ? json(nullptr) : json(f.readable ? "encode" : "read");
    e["key"] = f.key ? json(key_display_name(*f.key)) : json(nullptr);
    if (!f.key_mode.empty()) e["mode"] = f.key_mode;
    e["key_source"] = f.key ? json(to_string(f.key_source)) : json(nullptr);
    e["transposition"] = f.key ? json(f.transposition) : json(nullptr);
    e["meter"] = f.meter ? json(std::to_string(f.meter->numerator) + "/" + std::to_string(f.meter->denominator)) : json(nullptr);
    e["steps"] = f.steps;
    if (!f.warnings.empty()) e["warnings"] = f.warnings;
    files.push_back(std::move(e));
  }
  j["files"] = std::move(files);
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
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

}  // namespace

void write_dataset(const Dataset& dataset, const std::string& out_dir, const PreprocessOptions& options) {
  FolderLock lock = FolderLock::beside(out_dir);
  write_dataset_locked(dataset, out_dir, options);
}

Dataset run_preprocess(const std::vector<std::string>& inputs, const std::string& out_dir, const PreprocessOptions& options) {
  if (options.delimiter_length < 0) throw Error("--delimiter-length must be 0 or more");
  if (options.encode.step <= Rational(0)) throw Error("--step must be positive");
  FolderLock lock = FolderLock::beside(out_dir);  // before the (long) build: a second run stops at once
  Dataset dataset = build_dataset(inputs, options);
  if (dataset.accepted == 0) {
    // The old dataset (if any) stays whole; the reasons go beside it, and the first few into the message.
    const std::string manifest = rejected_manifest_path(out_dir);
    std::string written;
    try {
      write_file_atomically(manifest, manifest_json(dataset, options));
      written = "; every reason in " + manifest;
    } catch (const Error&) {
    }
    std::string first;
    for (size_t i = 0; i < dataset.files.size() && i < 3; ++i)
      first += (i ? "; " : "") + dataset.files[i].path + ": " + dataset.files[i].reason;
    throw Error("no song accepted: all " + std::to_string(dataset.files.size()) + " file(s) were rejected (" + first +
                (dataset.files.size() > 3 ? "; ..." : "") + ")" + written + "; " + out_dir + " is left as it was");
  }
  write_dataset_locked(dataset, out_dir, options);
  return dataset;
}

std::string summary_line(const Dataset& dataset) {
  return "accepted " + std::to_string(dataset.accepted) + " of " + std::to_string(dataset.files.size()) + " songs" +
         (dataset.excluded ? " (" + std::to_string(dataset.excluded) + " excluded)" : std::string()) + ", " +
         std::to_string(dataset.vocabulary.size()) + " symbols, " + format_count(static_cast<double>(dataset.steps)) + " steps";
}

}  // namespace melodist
