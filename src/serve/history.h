#pragma once
// The history of `melodist serve`: every composed tune (its parameters, seed, model and melody) in one
// SQLite file (Debian libsqlite3), WAL mode with synchronous=FULL, so a tune whose compose request was
// answered survives a kill -9 of the server: add() commits before the answer is sent.
// One connection behind a mutex: SQLite serialises writers anyway, and the rows are small.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace melodist::serve {

struct TuneRecord {
  int64_t id = 0;
  std::string created;       // UTC, "2026-12-02 01:23:45"
  std::string model;         // the served model name
  std::string params;        // the compose request's parameters as JSON (seed, key, meter, bars, ...)
  int variation = 0;         // 0-based index among the request's variations
  std::string symbols;       // the melody in the model's text encoding, space-separated
  double log_likelihood = 0;
  bool starred = false;
};

class History {
 public:
  // Opens or creates the database. Throws melodist::Error naming the file.
  explicit History(const std::string& path);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Adds the tunes of one composition in one transaction; returns their ids in order.
  std::vector<int64_t> add(const std::vector<TuneRecord>& tunes);
  std::vector<TuneRecord> list(int limit, int64_t before_id) const;  // newest first; before_id 0: from the newest
  std::optional<TuneRecord> get(int64_t id) const;
  bool set_starred(int64_t id, bool starred);  // false: no such tune
  bool remove(int64_t id);                     // false: no such tune
  std::string integrity_check() const;         // PRAGMA integrity_check: "ok" when sound

 private:
  void exec(const char* sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
};

}  // namespace melodist::serve
