// melodist serve's history survives kill -9: the `melodist serve` binary is killed (SIGKILL) while 8
// clients compose; after a restart on the same SQLite file every composition whose request had been
// answered is there with the same melody, and PRAGMA integrity_check passes (asked of the sqlite3
// library directly, not through the server's own History class).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

extern char** environ;

namespace {

// `melodist serve --port 0` as a child process; the port is read from its first line.
struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  explicit ServeProcess(const std::string& history) {
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string model = std::string(MELODIST_SOURCE_DIR) + "/models/essen-german";
    const char* argv[] = {MELODIST_BINARY, "serve", "--port", "0", "--history", history.c_str(), "--model", model.c_str(),
                          "--max-concurrent", "8", nullptr};
    posix_spawn(&pid, MELODIST_BINARY, &actions, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos && read(out[0], &c, 1) == 1) line += c;
    close(out[0]);
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)"))) port = std::stoi(m[1]);
  }
  void kill_hard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~ServeProcess() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

std::string integrity_check(const std::string& path) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_exec(db, "PRAGMA integrity_check", [](void* o, int, char** v, char**) {
      *static_cast<std::string*>(o) += v[0] ? v[0] : "";
      return 0;
    }, &out, nullptr);
  }
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST(ServeDurability, KillNineKeepsEveryAnsweredComposition) {
  const fs::path dir = fs::temp_directory_path() / ("melodist-durability-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string history = (dir / "history.sqlite").string();
  std::map<int64_t, std::string> answered;  // tune id -> symbols, from answered requests only
  int answers_seen = 0;
  {
    ServeProcess server(history);
    ASSERT_GT(server.port, 0) << "melodist serve did not start";
    std::mutex mutex;
    std::atomic<bool> killed{false};
    std::atomic<int> answers{0};
    std::vector<std::thread> clients;
    for (int k = 0; k < 8; ++k)
      clients.emplace_back([&, k] {
        httplib::Client c("127.0.0.1", server.port);
        c.set_read_timeout(30, 0);
        for (int i = 0; !killed; ++i) {
          const json request = {{"bars", 4}, {"seed", k * 100000 + i}, {"variations", 2}};
          auto r = c.Post("/api/compose", request.dump(), "application/json");
          if (!r || r->status != 200) continue;
          const json body = json::parse(r->body);
          std::lock_guard lock(mutex);
          for (const json& t : body["tunes"]) answered[t["id"].get<int64_t>()] = t["symbols"].get<std::string>();
          ++answers;
        }
      });
    // Kill once the clients have had 80 answers; they are still composing and saving then.
    while (answers < 80) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server.kill_hard();
    killed = true;
    for (auto& t : clients) t.join();
    answers_seen = answers;
  }
  ASSERT_GE(answered.size(), 160u) << answers_seen << " answers seen";
  EXPECT_EQ(integrity_check(history), "ok");
  ServeProcess again(history);
  ASSERT_GT(again.port, 0) << "melodist serve did not restart on the history";
  httplib::Client c("127.0.0.1", again.port);
  size_t found = 0;
  for (const auto& [id, symbols] : answered) {
    auto r = c.Get(("/api/tunes/" + std::to_string(id)).c_str());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << "tune " << id << " was answered but is not in the history";
    EXPECT_EQ(json::parse(r->body)["symbols"], symbols);
    ++found;
  }
  EXPECT_EQ(found, answered.size());
  EXPECT_EQ(integrity_check(history), "ok");
  fs::remove_all(dir);
}
