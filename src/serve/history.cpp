#include "serve/history.h"

#include <sqlite3.h>

#include "util/error.h"

namespace melodist::serve {

namespace {

// A prepared statement, finalized on every path out.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& path) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw file_error(path, 0, std::string("history database: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  int step() { return sqlite3_step(stmt_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string text_column(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

constexpr const char* kColumns = "id, created, model, params, variation, symbols, log_likelihood, starred";

TuneRecord row(sqlite3_stmt* s) {
  TuneRecord t;
  t.id = sqlite3_column_int64(s, 0);
  t.created = text_column(s, 1);
  t.model = text_column(s, 2);
  t.params = text_column(s, 3);
  t.variation = sqlite3_column_int(s, 4);
  t.symbols = text_column(s, 5);
  t.log_likelihood = sqlite3_column_double(s, 6);
  t.starred = sqlite3_column_int(s, 7) != 0;
  return t;
}

}  // namespace

History::History(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw file_error(path, 0, "cannot open the history database: " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS tunes ("
         " id INTEGER PRIMARY KEY AUTOINCREMENT,"
         " created TEXT NOT NULL DEFAULT (datetime('now')),"
         " model TEXT NOT NULL, params TEXT NOT NULL, variation INTEGER NOT NULL,"
         " symbols TEXT NOT NULL, log_likelihood REAL NOT NULL, starred INTEGER NOT NULL DEFAULT 0)");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

History::~History() { sqlite3_close(db_); }

void History::exec(const char* sql) const {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    throw file_error(path_, 0, "history database: " + text);
  }
}

std::vector<int64_t> History::add(const std::vector<TuneRecord>& tunes) {
  std::lock_guard lock(mutex_);
  std::vector<int64_t> ids;
  exec("BEGIN IMMEDIATE");
  try {
    Statement s(db_, "INSERT INTO tunes (model, params, variation, symbols, log_likelihood, starred) VALUES (?, ?, ?, ?, ?, 0)", path_);
    for (const TuneRecord& t : tunes) {
      sqlite3_reset(s.get());
      s.bind(1, t.model);
      s.bind(2, t.params);
      s.bind(3, static_cast<int64_t>(t.variation));
      s.bind(4, t.symbols);
      s.bind(5, t.log_likelihood);
      if (s.step() != SQLITE_DONE) throw file_error(path_, 0, std::string("history database: ") + sqlite3_errmsg(db_));
      ids.push_back(sqlite3_last_insert_rowid(db_));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return ids;
}

std::vector<TuneRecord> History::list(int limit, int64_t before_id) const {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kColumns + " FROM tunes WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2";
  Statement s(db_, sql.c_str(), path_);
  s.bind(1, before_id);
  s.bind(2, static_cast<int64_t>(limit));
  std::vector<TuneRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(row(s.get()));
  if (rc != SQLITE_DONE) throw file_error(path_, 0, std::string("history database: ") + sqlite3_errmsg(db_));
  return out;
}

std::optional<TuneRecord> History::get(int64_t id) const {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kColumns + " FROM tunes WHERE id = ?1";
  Statement s(db_, sql.c_str(), path_);
  s.bind(1, id);
  if (s.step() == SQLITE_ROW) return row(s.get());
  return std::nullopt;
}

bool History::set_starred(int64_t id, bool starred) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "UPDATE tunes SET starred = ?1 WHERE id = ?2", path_);
  s.bind(1, static_cast<int64_t>(starred ? 1 : 0));
  s.bind(2, id);
  if (s.step() != SQLITE_DONE) throw file_error(path_, 0, std::string("history database: ") + sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

bool History::remove(int64_t id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM tunes WHERE id = ?1", path_);
  s.bind(1, id);
  if (s.step() != SQLITE_DONE) throw file_error(path_, 0, std::string("history database: ") + sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

std::string History::integrity_check() const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA integrity_check", path_);
  std::string out;
  while (s.step() == SQLITE_ROW) out += (out.empty() ? "" : "\n") + text_column(s.get(), 0);
  return out;
}

}  // namespace melodist::serve
