// melodist serve's JSON API and security checks, against the server started in-process on an ephemeral
// port and cpp-httplib's client: every endpoint, every refusal of the issue (wrong Host, foreign Origin,
// oversize body, bad JSON, out-of-range fields, unknown and path-like models, malformed uploads), each
// with its status and JSON error, and the server still serving afterwards. The downloads are checked by
// the project's readers (read_song) and the formats' magic.
#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "melodist/song_file.h"
#include "serve/gate.h"
#include "serve/history.h"
#include "serve/server.h"

namespace fs = std::filesystem;
using nlohmann::json;
using melodist::serve::Server;
using melodist::serve::ServeOptions;

namespace {

const std::string kModel = std::string(MELODIST_SOURCE_DIR) + "/models/essen-german";

class Running {
 public:
  explicit Running(ServeOptions o) {
    dir_ = fs::temp_directory_path() / ("melodist-serve-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    o.port = 0;
    o.model_dirs = {kModel};
    o.history = (dir_ / "history.sqlite").string();
    history_ = o.history;
    server_ = std::make_unique<Server>(o);
    port = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Running() {
    server_->stop();
    thread_.join();
    server_.reset();
    fs::remove_all(dir_);
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port); }
  const std::string& history() const { return history_; }
  int port = 0;

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  std::string history_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

ServeOptions small_body() {
  ServeOptions o;
  o.max_body = 64 * 1024;
  return o;
}

httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body, httplib::Headers headers = {}) {
  return c.Post(path.c_str(), headers, body.dump(), "application/json");
}

// The status and the JSON error's field (the error message must be there too).
void expect_error(const httplib::Result& r, int status, const std::string& field) {
  ASSERT_TRUE(r) << "no answer";
  EXPECT_EQ(r->status, status) << r->body;
  const json body = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r->body;
  EXPECT_TRUE(body.contains("error") && body["error"].is_string() && !body["error"].get<std::string>().empty()) << r->body;
  if (!field.empty()) {
    EXPECT_EQ(body.value("field", ""), field) << r->body;
  }
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

void expect_still_serving(httplib::Client& c) {
  auto r = c.Get("/api/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

json compose_ok(httplib::Client& c, const json& request) {
  auto r = post_json(c, "/api/compose", request);
  EXPECT_TRUE(r);
  if (!r) return json::object();
  EXPECT_EQ(r->status, 200) << r->body;
  return json::parse(r->body);
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MELODIST_FIXTURES_DIR) + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

httplib::Result upload(httplib::Client& c, const std::string& path, const std::string& filename, const std::string& content) {
  httplib::MultipartFormDataItems items = {{"file", content, filename, "application/octet-stream"}, {"model", "essen-german", "", ""}};
  return c.Post(path.c_str(), items);
}

}  // namespace

TEST(Serve, ListsTheModelsWithCorpusAndFigures) {
  Running s({});
  auto c = s.client();
  auto r = c.Get("/api/models");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json j = json::parse(r->body);
  ASSERT_EQ(j["models"].size(), 1u);
  const json& m = j["models"][0];
  EXPECT_EQ(m["name"], "essen-german");
  EXPECT_EQ(m["corpus"].get<std::string>().rfind("Essen Folksong Collection, deutschl", 0), 0u) << m["corpus"];  // train --about
  EXPECT_EQ(m["vocabulary"], 94);  // notes, rest, hold, end, "|", "|1" .. "|4", 24 keys and the meters of deutschl
  EXPECT_GT(m["val_loss"].get<double>(), 0.0);
  EXPECT_EQ(j["formats"].size(), 6u);
}

TEST(Serve, ComposesVariationsInKeyMeterAndBarsAndKeepsThem) {
  Running s({});
  auto c = s.client();
  const json j = compose_ok(c, {{"key", "D major"}, {"meter", "3/4"}, {"bars", 4}, {"seed", 7}, {"variations", 3}, {"temperature", 0.9}});
  ASSERT_EQ(j["tunes"].size(), 3u);
  for (const json& t : j["tunes"]) {
    EXPECT_EQ(t["length_quarters"].get<double>(), 12.0);  // exactly 4 bars of 3/4
    EXPECT_LT(t["log_likelihood"].get<double>(), 0.0);
    EXPECT_FALSE(t["symbols"].get<std::string>().empty());
    const std::string abc = t["abc"];
    EXPECT_NE(abc.find("M:3/4"), std::string::npos) << abc;
    EXPECT_NE(abc.find("K:D"), std::string::npos) << abc;
    EXPECT_EQ(t["request"]["seed"], 7);
    EXPECT_EQ(t["request"]["candidates"], 1);  // the server's default
    // The tune is in the history as composed.
    auto g = c.Get(("/api/tunes/" + std::to_string(t["id"].get<int64_t>())).c_str());
    ASSERT_TRUE(g);
    ASSERT_EQ(g->status, 200);
    EXPECT_EQ(json::parse(g->body)["symbols"], t["symbols"]);
  }
  EXPECT_NE(j["tunes"][0]["symbols"], j["tunes"][1]["symbols"]);
}

TEST(Serve, SameParametersAndSeedGiveTheSameMelody) {
  Running s({});
  auto c = s.client();
  const json request = {{"meter", "6/8"}, {"bars", 8}, {"seed", 12345}, {"top_p", 0.9}, {"primer", "67 _ 67 _"}};
  const json a = compose_ok(c, request), b = compose_ok(c, request);
  ASSERT_EQ(a["tunes"].size(), 1u);
  EXPECT_EQ(a["tunes"][0]["symbols"], b["tunes"][0]["symbols"]);
  EXPECT_EQ(a["tunes"][0]["log_likelihood"], b["tunes"][0]["log_likelihood"]);
  EXPECT_NE(a["tunes"][0]["id"], b["tunes"][0]["id"]);
  EXPECT_EQ(a["tunes"][0]["symbols"].get<std::string>().rfind("M:6/8 67 _ 67 _", 0), 0u) << a["tunes"][0]["symbols"];
  json other = request;
  other["seed"] = 12346;
  EXPECT_NE(compose_ok(c, other)["tunes"][0]["symbols"], a["tunes"][0]["symbols"]);
}

TEST(Serve, RefusesAWrongHostHeader) {
  Running s({});
  auto c = s.client();
  for (const std::string& host : std::vector<std::string>{"evil.example", "127.0.0.1", "localhost:1", "127.0.0.1:" + std::to_string(s.port) + ".evil.example"}) {
    expect_error(c.Get("/api/models", {{"Host", host}}), 403, "Host");
    expect_error(c.Get("/", {{"Host", host}}), 403, "Host");
  }
  auto ok = c.Get("/api/models", {{"Host", "localhost:" + std::to_string(s.port)}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  expect_still_serving(c);
}

TEST(Serve, RefusesAForeignOriginOnMutatingRequests) {
  Running s({});
  auto c = s.client();
  const json request = {{"bars", 2}};
  for (const std::string& origin : std::vector<std::string>{"http://evil.example", s.origin() + ".evil.example", "null", "https://127.0.0.1:" + std::to_string(s.port)})
    expect_error(post_json(c, "/api/compose", request, {{"Origin", origin}}), 403, "Origin");
  expect_error(c.Delete("/api/tunes/1", {{"Origin", "http://evil.example"}}), 403, "Origin");
  auto own = post_json(c, "/api/compose", request, {{"Origin", s.origin()}});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  expect_still_serving(c);
}

TEST(Serve, MutatingEndpointsTakeOnlyJsonOrMultipartUploads) {
  Running s({});
  auto c = s.client();
  expect_error(c.Post("/api/compose", "bars=4", "application/x-www-form-urlencoded"), 415, "Content-Type");
  expect_error(c.Post("/api/compose", "{\"bars\":4}", "text/plain"), 415, "Content-Type");
  expect_error(c.Post("/api/encode", "{}", "application/json"), 415, "Content-Type");
  expect_still_serving(c);
}

TEST(Serve, RefusesAnOversizeBody) {
  Running s(small_body());
  auto c = s.client();
  const std::string big = "{\"primer\": \"" + std::string(100 * 1024, ' ') + "\"}";
  expect_error(c.Post("/api/compose", big, "application/json"), 413, "");
  expect_still_serving(c);
}

TEST(Serve, RefusesBadJson) {
  Running s({});
  auto c = s.client();
  expect_error(c.Post("/api/compose", "{\"bars\": 4", "application/json"), 400, "");
  expect_error(c.Post("/api/compose", "[1, 2]", "application/json"), 400, "");
  expect_error(c.Post("/api/tunes/1/star", "nope", "application/json"), 400, "");
  expect_still_serving(c);
}

TEST(Serve, RefusesOutOfRangeFieldsNamingThem) {
  Running s({});
  auto c = s.client();
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"bars", 65}}, "bars"},          {{{"bars", -1}}, "bars"},          {{{"bars", "8"}}, "bars"},
      {{{"variations", 0}}, "variations"}, {{{"variations", 9}}, "variations"}, {{{"steps", 100000}}, "steps"},
      {{{"candidates", 0}}, "candidates"}, {{{"candidates", 17}}, "candidates"},
      {{{"temperature", -0.5}}, "temperature"}, {{{"temperature", 99}}, "temperature"}, {{{"top_p", 0}}, "top_p"},
      {{{"cadence_temperature", -1}}, "cadence_temperature"}, {{{"cadence_temperature", "cool"}}, "cadence_temperature"},
      {{{"cadence_bars", 0}}, "cadence_bars"},
      {{{"rhythm_temperature", -0.5}}, "rhythm_temperature"}, {{{"rhythm_temperature", "even"}}, "rhythm_temperature"},
      {{{"top_p", 1.5}}, "top_p"},       {{{"seed", -1}}, "seed"},          {{{"seed", 1.5}}, "seed"},
      {{{"meter", "5/3"}}, "meter"},     {{{"meter", "x"}}, "meter"},       {{{"key", "H major"}}, "key"},
      {{{"key", "D dorian"}}, "key"},    {{{"primer", "67 _ 999"}}, "primer"}, {{{"primer", "67 / 67"}}, "primer"},
      {{{"colour", "red"}}, "colour"},     {{{"bars", 4}, {"pickup", "x"}}, "pickup"}, {{{"bars", 4}, {"pickup", "2"}}, "pickup"},
      {{{"bars", 0}, {"pickup", "1/8"}}, "pickup"}, {{{"end_on", "dominant"}}, "end_on"},
      // what the bundled model cannot honour: a meter it has never seen
      {{{"bars", 4}, {"meter", "7/8"}}, "meter"},
  };
  for (const auto& [body, field] : cases) {
    SCOPED_TRACE(body.dump());
    expect_error(post_json(c, "/api/compose", body), 400, field);
  }
  expect_error(c.Get("/api/tunes?limit=0"), 400, "limit");
  expect_still_serving(c);
}

TEST(Serve, ChoosesModelsByServedNameOnly) {
  Running s({});
  auto c = s.client();
  expect_error(post_json(c, "/api/compose", {{"model", "nottingham"}}), 400, "model");
  for (const std::string& path : std::vector<std::string>{kModel, "../models/essen-german", "models/essen-german", "..", ".", "essen-german/", "C:\\models\\x"}) {
    SCOPED_TRACE(path);
    auto r = post_json(c, "/api/compose", {{"model", path}});
    expect_error(r, 400, "model");
    EXPECT_NE(r->body.find("not a path"), std::string::npos) << r->body;
  }
  compose_ok(c, {{"model", "essen-german"}, {"bars", 2}});
}

TEST(Serve, EncodesAndScoresUploadsAndRefusesMalformedOnes) {
  Running s({});
  auto c = s.client();
  const std::string krn = fixture("kern/key-A-major.krn");
  ASSERT_FALSE(krn.empty());
  auto e = upload(c, "/api/encode", "song.krn", krn);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->status, 200) << e->body;
  const json encoded = json::parse(e->body);
  EXPECT_GT(encoded["symbols"].get<int>(), 0);
  // The primer from the file composes.
  compose_ok(c, {{"primer", encoded["primer"]}, {"bars", 8}});
  // 64 bars (1,024 steps of 4/4) fit the default bound, and a pickup goes before bar 1.
  EXPECT_EQ(compose_ok(c, {{"bars", 64}})["tunes"][0]["length_quarters"], 256.0);
  EXPECT_EQ(compose_ok(c, {{"bars", 4}, {"meter", "3/4"}, {"pickup", "1/4"}})["tunes"][0]["length_quarters"], 13.0);
  auto sc = upload(c, "/api/score", "song.krn", krn);
  ASSERT_TRUE(sc);
  ASSERT_EQ(sc->status, 200) << sc->body;
  EXPECT_GT(json::parse(sc->body)["nats_per_step"].get<double>(), 0.0);

  auto mid = upload(c, "/api/encode", "tune.mid", fixture("midi/abc_simple.mid"));
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->status, 200) << mid->body;
  // A readable song whose lengths the model's encoding cannot hold is refused as a primer.
  expect_error(upload(c, "/api/encode", "dots.krn", fixture("kern/durations-dots.krn")), 400, "file");
  for (const std::string& bad : std::vector<std::string>{"midi/bad_not_midi.mid", "midi/bad_truncated_chunk.mid"}) {
    auto r = upload(c, "/api/score", "mine.mid", fixture(bad));
    expect_error(r, 400, "file");
    EXPECT_NE(r->body.find("mine.mid"), std::string::npos) << r->body;    // named as the client named it
    EXPECT_EQ(r->body.find("upload-"), std::string::npos) << r->body;    // not the server's temporary file
  }
  expect_error(upload(c, "/api/encode", "garbage.krn", "**kern\n*M4/4\n4qq\n*-\n"), 400, "file");
  expect_error(upload(c, "/api/encode", "../../etc/passwd", "root:x:0:0"), 400, "file");
  expect_error(upload(c, "/api/encode", "song.exe", "MZ"), 400, "file");
  httplib::MultipartFormDataItems no_file = {{"model", "essen-german", "", ""}};
  expect_error(c.Post("/api/score", no_file), 400, "file");
  expect_still_serving(c);
}

TEST(Serve, HistoryListsStarsAndDeletes) {
  Running s({});
  auto c = s.client();
  const json j = compose_ok(c, {{"bars", 2}, {"variations", 2}});
  const int64_t first = j["tunes"][0]["id"], second = j["tunes"][1]["id"];
  auto list = c.Get("/api/tunes");
  ASSERT_TRUE(list);
  const json tunes = json::parse(list->body)["tunes"];
  ASSERT_EQ(tunes.size(), 2u);
  EXPECT_EQ(tunes[0]["id"], second);  // newest first
  const std::string path = "/api/tunes/" + std::to_string(first);
  auto star = post_json(c, path + "/star", {{"starred", true}});
  ASSERT_TRUE(star);
  ASSERT_EQ(star->status, 200);
  EXPECT_EQ(json::parse(c.Get(path.c_str())->body)["starred"], true);
  expect_error(post_json(c, path + "/star", {{"starred", "yes"}}), 400, "starred");
  expect_error(post_json(c, "/api/tunes/999/star", {{"starred", true}}), 404, "id");
  auto del = c.Delete(path.c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  expect_error(c.Get(path.c_str()), 404, "id");
  expect_error(c.Delete(path.c_str()), 404, "id");
  EXPECT_EQ(json::parse(c.Get("/api/tunes")->body)["tunes"].size(), 1u);
  // The permalink serves the page.
  auto page = c.Get(("/tune/" + std::to_string(second)).c_str());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/app.js"), std::string::npos);
  EXPECT_EQ(melodist::serve::History(s.history()).integrity_check(), "ok");
}

TEST(Serve, DownloadsEveryFormatReadableByTheReaders) {
  Running s({});
  auto c = s.client();
  const json t = compose_ok(c, {{"bars", 4}, {"meter", "2/4"}, {"key", "G major"}, {"seed", 3}})["tunes"][0];
  const std::string base = "/api/tunes/" + std::to_string(t["id"].get<int64_t>()) + "/download?format=";
  const std::map<std::string, std::string> magic = {{"mid", "MThd"}, {"abc", "X:1"}, {"musicxml", "<?xml"}, {"krn", "!!!"}, {"wav", "RIFF"}, {"txt", ""}};
  const fs::path dir = fs::temp_directory_path() / ("melodist-serve-dl-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const auto& [format, start] : magic) {
    SCOPED_TRACE(format);
    auto r = c.Get((base + format).c_str());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->body.substr(0, start.size()), start);
    EXPECT_NE(r->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
    if (format == "txt") {
      EXPECT_EQ(r->body, t["symbols"].get<std::string>() + "\n");
    }
    if (format == "mid" || format == "krn" || format == "abc" || format == "musicxml") {
      const fs::path file = dir / ("tune." + format);
      std::ofstream(file, std::ios::binary) << r->body;
      const melodist::api::Melody back = melodist::api::read_song(file.string());
      ASSERT_FALSE(back.notes().empty());
      EXPECT_EQ(back.notes().size(), t["notes"].size()) << r->body;
    }
  }
  fs::remove_all(dir);
  expect_error(c.Get((base + "exe").c_str()), 400, "format");
  expect_error(c.Get((base + "wav&bpm=0").c_str()), 400, "bpm");
  expect_error(c.Get("/api/tunes/424242/download?format=mid"), 404, "id");
}

TEST(Serve, TokenGuardsTheApiButNotThePage) {
  ServeOptions o;
  o.token = "s3cret-token";
  Running s(o);
  auto c = s.client();
  expect_error(c.Get("/api/models"), 401, "Authorization");
  expect_error(c.Get("/api/models", {{"Authorization", "Bearer wrong"}}), 401, "Authorization");
  expect_error(c.Get("/api/models", {{"Authorization", "Bearer s3cret-token-longer"}}), 401, "Authorization");
  auto ok = c.Get("/api/models", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

TEST(Serve, WarnsForAnotherHostWithoutAToken) {
  ServeOptions o;
  o.host = "0.0.0.0";
  o.model_dirs = {kModel};
  o.history = (fs::temp_directory_path() / ("melodist-serve-warn-" + std::to_string(::getpid()) + ".sqlite")).string();
  {
    Server open(o);
    ASSERT_EQ(open.warnings().size(), 1u);
    EXPECT_NE(open.warnings()[0].find("--token"), std::string::npos);
    o.token = "t";
    Server guarded(o);
    EXPECT_TRUE(guarded.warnings().empty());
  }
  fs::remove(o.history);
  fs::remove(o.history + "-wal");
  fs::remove(o.history + "-shm");
}

TEST(Serve, GateAdmitsUpToTheCapAndQueue) {
  melodist::serve::ComposeGate gate(1, 0);
  ASSERT_TRUE(gate.enter());
  EXPECT_FALSE(gate.enter());  // full, no queue: 503
  gate.leave();
  EXPECT_TRUE(gate.enter());
  gate.leave();
}

TEST(Serve, BusyServerAnswers503WithRetryAfterAndRecovers) {
  ServeOptions o;
  o.max_concurrent = 1;
  o.max_queue = 0;
  o.threads = 12;
  Running s(o);
  std::vector<std::thread> clients;
  std::vector<int> status(10, 0);
  std::vector<std::string> retry(10);
  for (int i = 0; i < 10; ++i)
    clients.emplace_back([&, i] {
      auto c = s.client();
      auto r = post_json(c, "/api/compose", {{"bars", 0}, {"steps", 2048}, {"variations", 8}, {"seed", i}});
      if (r) {
        status[i] = r->status;
        retry[i] = r->get_header_value("Retry-After");
      }
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(status[i] == 200 || status[i] == 503) << status[i];
    if (status[i] == 503) {
      EXPECT_EQ(retry[i], "1");
    }
  }
  EXPECT_NE(std::count(status.begin(), status.end(), 200), 0);
  auto c = s.client();
  compose_ok(c, {{"bars", 2}});
}

TEST(Serve, ReadTimeoutClosesAStalledRequestAndKeepsServing) {
  ServeOptions o;
  o.timeout_seconds = 1;
  Running s(o);
  // A client that sends half a request and stalls (slowloris) is disconnected by the read timeout.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(s.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const timeval wait{20, 0};  // the test's own bound: far beyond the server's 1 s
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  const std::string partial = "POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\nContent-Length: 100\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  auto c = s.client();
  expect_still_serving(c);  // served while the stalled one waits
  // httplib answers a request it could not read in time with a 4xx, then closes the connection.
  std::string answer;
  char buffer[256];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) answer.append(buffer, static_cast<size_t>(n));
  EXPECT_EQ(n, 0) << "the server did not close the stalled connection; it sent: " << answer;
  EXPECT_EQ(answer.rfind("HTTP/1.1 4", 0), 0u) << answer;
  ::close(fd);
  expect_still_serving(c);
}
