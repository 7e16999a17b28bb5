#include "serve/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <httplib.h>
#include <mutex>

#include "formats/model_file.h"
#include "generate/generator.h"
#include "nn/model.h"
#include "melodist/model.h"
#include "melodist/song_file.h"
#include "formats/text_encoding.h"
#include "serve/assets.h"
#include "serve/compose.h"
#include "serve/gate.h"
#include "util/error.h"

namespace melodist::serve {

using nlohmann::json;

namespace {

// An uploaded song, written where only the server chooses: a mkstemps file in the server's own 0700
// folder, removed when this goes out of scope. The readers take a path (formats/song_file.h), so the
// bytes pass through this file; the client's file name only picks the reader (its extension).
class UploadFile {
 public:
  UploadFile(const std::string& dir, const httplib::MultipartFormData& file) {
    std::string ext = std::filesystem::path(file.filename).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::vector<std::string> readable = api::readable_extensions();
    if (ext.empty() || std::find(readable.begin(), readable.end(), ext) == readable.end()) {
      std::string known;
      for (const std::string& e : readable) known += (known.empty() ? "" : " ") + e;
      throw ApiError(400, "file", "file: \"" + shown_name(file.filename) + "\" is not a song file melodist reads (" + known + ")");
    }
    std::string pattern = dir + "/upload-XXXXXX" + ext;
    const int fd = mkstemps(pattern.data(), static_cast<int>(ext.size()));
    if (fd < 0) throw ApiError(500, "", "cannot hold the upload: " + std::string(std::strerror(errno)));
    path_ = pattern;
    size_t done = 0;
    while (done < file.content.size()) {
      const ssize_t n = ::write(fd, file.content.data() + done, file.content.size() - done);
      if (n <= 0) {
        ::close(fd);
        throw ApiError(500, "", "cannot hold the upload");
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    name_ = shown_name(file.filename);
  }
  ~UploadFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;
  const std::string& path() const { return path_; }
  // A reader's message names the temporary file: show the client's name instead.
  std::string message(const std::string& text) const {
    std::string out = text;
    for (size_t at; (at = out.find(path_)) != std::string::npos;) out.replace(at, path_.size(), name_);
    return out;
  }
  // The file name as it may appear in a message: its last part, printable ASCII, at most 80 characters.
  static std::string shown_name(const std::string& name) {
    std::string base = std::filesystem::path(name).filename().string(), out;
    for (char c : base)
      if (c >= 32 && c < 127 && out.size() < 80) out += c;
    return out.empty() ? "upload" : out;
  }

 private:
  std::string path_, name_;
};

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& field, const std::string& message) {
  json body = {{"error", message}};
  if (!field.empty()) body["field"] = field;
  send_json(res, status, body);
}

std::string media_type(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

bool is_loopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

json parse_body(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) throw ApiError(400, "", "the request body is not valid JSON");
  return body;
}

int64_t path_id(const httplib::Request& req) {
  try {
    return std::stoll(req.matches[1].str());
  } catch (const std::exception&) {
    throw ApiError(404, "id", "no such tune");
  }
}

}  // namespace

struct Server::Impl {
  ServeOptions options;
  std::vector<ServedModel> models;
  History history;
  httplib::Server http;
  ComposeGate gate;
  std::string upload_dir;
  int port = 0;
  std::vector<std::string> allowed_hosts;  // "host:port" values of the Host header
  int listen_socket = -1;

  Impl(const ServeOptions& o, std::vector<ServedModel> m)
      : options(o), models(std::move(m)), history(o.history), gate(o.max_concurrent, o.max_queue) {}
  ~Impl() {
    if (!upload_dir.empty()) std::filesystem::remove_all(upload_dir);
  }

  httplib::Server::HandlerResponse check(const httplib::Request& req, httplib::Response& res);
  void routes();
  void compose(const httplib::Request& req, httplib::Response& res);
  const ServedModel& upload_model(const httplib::Request& req);
  void encode_upload(const httplib::Request& req, httplib::Response& res);
  void score_upload(const httplib::Request& req, httplib::Response& res);
  TuneRecord tune(const httplib::Request& req);
};

// Every request passes here before routing: Host, token, Origin and Content-Type (see server.h).
httplib::Server::HandlerResponse Server::Impl::check(const httplib::Request& req, httplib::Response& res) {
  using R = httplib::Server::HandlerResponse;
  const std::string host = req.get_header_value("Host");
  if (std::find(allowed_hosts.begin(), allowed_hosts.end(), host) == allowed_hosts.end()) {
    send_error(res, 403, "Host", "Host \"" + host.substr(0, 80) + "\" is not this server's address (DNS rebinding protection)");
    return R::Handled;
  }
  const bool api_call = req.path.rfind("/api/", 0) == 0;
  if (api_call && !options.token.empty()) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) != 0 || !constant_time_equal(auth.substr(7), options.token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "Authorization", "this server needs \"Authorization: Bearer TOKEN\" (--token)");
      return R::Handled;
    }
  }
  const bool mutating = req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS";
  if (!mutating) return R::Unhandled;
  if (req.has_header("Origin") && req.get_header_value("Origin") != "http://" + host) {
    send_error(res, 403, "Origin", "Origin \"" + req.get_header_value("Origin").substr(0, 80) + "\" is not this server's (cross-site request)");
    return R::Handled;
  }
  const bool upload = req.path == "/api/encode" || req.path == "/api/score";
  const std::string type = media_type(req);
  const std::string wanted = upload ? "multipart/form-data" : "application/json";
  const std::string length = req.get_header_value("Content-Length");  // the body is read after this check
  const bool empty_delete = req.method == "DELETE" && type.empty() && (length.empty() || length == "0");
  if (type != wanted && !empty_delete) {
    send_error(res, 415, "Content-Type", req.path + " takes " + wanted + ", not \"" + type.substr(0, 60) + "\"");
    return R::Handled;
  }
  return R::Unhandled;
}

void Server::Impl::compose(const httplib::Request& req, httplib::Response& res) {
  const ComposeRequest request = parse_compose(parse_body(req), models);
  if (!gate.enter()) {
    res.set_header("Retry-After", "1");
    send_error(res, 503, "", "the server is composing at its limit (--max-concurrent); try again shortly");
    return;
  }
  std::vector<api::Melody> melodies;
  try {
    melodies = serve::compose(request);
  } catch (...) {
    gate.leave();
    throw;
  }
  gate.leave();
  const std::string params = request_json(request).dump();
  std::vector<TuneRecord> records;
  for (size_t i = 0; i < melodies.size(); ++i) {
    TuneRecord t;
    t.model = request.model->name;
    t.params = params;
    t.variation = static_cast<int>(i);
    t.symbols = join_symbols(melodies[i].symbols());
    t.log_likelihood = melodies[i].log_likelihood();
    records.push_back(std::move(t));
  }
  // Committed (WAL, synchronous=FULL) before the answer: an answered composition is in the history.
  const std::vector<int64_t> ids = history.add(records);
  json tunes = json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    TuneRecord t = *history.get(ids[i]);
    json j = tune_json(t, models);
    j["generated_steps"] = melodies[i].generated_steps();
    j["ended"] = melodies[i].ended();
    tunes.push_back(std::move(j));
  }
  send_json(res, 200, {{"tunes", tunes}});
}

const ServedModel& Server::Impl::upload_model(const httplib::Request& req) {
  if (!req.has_file("model")) return models.front();
  json body = {{"model", req.get_file_value("model").content}};
  return *parse_compose(body, models).model;
}

void Server::Impl::encode_upload(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_file("file")) throw ApiError(400, "file", "file: give the song as the multipart field \"file\"");
  const ServedModel& model = upload_model(req);
  const UploadFile file(upload_dir, req.get_file_value("file"));
  try {
    const std::vector<std::string> symbols = primer_from_song_file(model.encoding, file.path());
    if (symbols.empty()) throw ApiError(400, "file", "file: the song is empty");
    send_json(res, 200, {{"model", model.name}, {"primer", join_symbols(symbols)}, {"symbols", symbols.size()}});
  } catch (const Error& e) {
    throw ApiError(400, "file", "file: " + file.message(e.what()));
  }
}

void Server::Impl::score_upload(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_file("file")) throw ApiError(400, "file", "file: give the song as the multipart field \"file\"");
  const ServedModel& model = upload_model(req);
  const UploadFile file(upload_dir, req.get_file_value("file"));
  try {
    api::ReadOptions read;
    read.step = model.model.info().step;
    const api::Score s = model.model.score(api::read_song(file.path(), read));
    send_json(res, 200, {{"model", model.name}, {"steps", s.nats.size()}, {"total_nats", s.total_nats},
                         {"nats_per_step", s.nats_per_step}, {"log_likelihood", -s.total_nats}});
  } catch (const Error& e) {
    throw ApiError(400, "file", "file: " + file.message(e.what()));
  }
}

TuneRecord Server::Impl::tune(const httplib::Request& req) {
  const std::optional<TuneRecord> t = history.get(path_id(req));
  if (!t) throw ApiError(404, "id", "no such tune");
  return *t;
}

void Server::Impl::routes() {
  // Every handler's ApiError / melodist::Error becomes a JSON error; the server keeps serving.
  auto wrap = [this](auto handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res) {
      try {
        handler(req, res);
      } catch (const ApiError& e) {
        send_error(res, e.status, e.field, e.what());
      } catch (const Error& e) {
        send_error(res, 500, "", e.what());
      }
    };
  };
  for (const Asset& a : embedded_assets()) {
    const std::string path(a.path);
    const std::string type = path.ends_with(".js") ? "text/javascript" : path.ends_with(".css") ? "text/css" : "text/html; charset=utf-8";
    auto serve_asset = [a, type](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_content(std::string(a.bytes), type);
    };
    http.Get(path, serve_asset);
    if (path == "/index.html") {
      http.Get("/", serve_asset);
      http.Get(R"(/tune/(\d+))", serve_asset);  // the permalink: the page loads the tune by id
    }
  }
  http.Get("/api/models", wrap([this](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const ServedModel& m : models) list.push_back(m.summary);
    send_json(res, 200, {{"models", list}, {"formats", download_formats()}, {"limits",
      {{"bars", kMaxBars}, {"variations", kMaxVariations}, {"steps", kMaxSteps}, {"temperature", kMaxTemperature}}}});
  }));
  http.Post("/api/compose", wrap([this](const httplib::Request& req, httplib::Response& res) { compose(req, res); }));
  http.Post("/api/encode", wrap([this](const httplib::Request& req, httplib::Response& res) { encode_upload(req, res); }));
  http.Post("/api/score", wrap([this](const httplib::Request& req, httplib::Response& res) { score_upload(req, res); }));
  http.Get("/api/tunes", wrap([this](const httplib::Request& req, httplib::Response& res) {
    int limit = 50;
    int64_t before = 0;
    try {
      if (req.has_param("limit")) limit = std::stoi(req.get_param_value("limit"));
      if (req.has_param("before")) before = std::stoll(req.get_param_value("before"));
    } catch (const std::exception&) {
      throw ApiError(400, "limit", "limit and before must be whole numbers");
    }
    if (limit < 1 || limit > 500) throw ApiError(400, "limit", "limit: must be from 1 to 500");
    json tunes = json::array();
    for (const TuneRecord& t : history.list(limit, before)) tunes.push_back(tune_json(t, models));
    send_json(res, 200, {{"tunes", tunes}});
  }));
  http.Get(R"(/api/tunes/(\d+))", wrap([this](const httplib::Request& req, httplib::Response& res) { send_json(res, 200, tune_json(tune(req), models)); }));
  http.Post(R"(/api/tunes/(\d+)/star)", wrap([this](const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    if (!body.is_object() || !body.contains("starred") || !body["starred"].is_boolean())
      throw ApiError(400, "starred", "starred: give {\"starred\": true} or false");
    if (!history.set_starred(path_id(req), body["starred"].get<bool>())) throw ApiError(404, "id", "no such tune");
    send_json(res, 200, tune_json(tune(req), models));
  }));
  http.Delete(R"(/api/tunes/(\d+))", wrap([this](const httplib::Request& req, httplib::Response& res) {
    if (!history.remove(path_id(req))) throw ApiError(404, "id", "no such tune");
    send_json(res, 200, {{"deleted", path_id(req)}});
  }));
  http.Get(R"(/api/tunes/(\d+)/download)", wrap([this](const httplib::Request& req, httplib::Response& res) {
    double bpm = 120;
    try {
      if (req.has_param("bpm")) bpm = std::stod(req.get_param_value("bpm"));
    } catch (const std::exception&) {
      throw ApiError(400, "bpm", "bpm: must be a number in (0, 400]");
    }
    const Download d = render_tune(tune(req), req.get_param_value("format"), bpm, models);
    res.set_header("Content-Disposition", "attachment; filename=\"" + d.filename + "\"");
    res.set_content(d.bytes, d.mime);
  }));
}

Server::Server(const ServeOptions& o) {
  if (o.max_concurrent < 1 || o.max_concurrent > 256) throw Error("--max-concurrent must be from 1 to 256");
  if (o.max_queue < 0 || o.max_queue > 4096) throw Error("--max-queue must be from 0 to 4096");
  if (o.threads < 0 || o.threads > 1024) throw Error("--threads must be from 0 (automatic) to 1024");
  if (o.port < 0 || o.port > 65535) throw Error("--port must be from 0 to 65535");
  // As `generate --model`: a folder, or the name of a bundled model ("nottingham"); none: the default one.
  std::vector<std::string> dirs;
  for (const std::string& arg : o.model_dirs) dirs.push_back(resolve_model_dir(arg));
  if (dirs.empty()) dirs.push_back(resolve_model_dir(""));
  impl_ = std::make_unique<Impl>(o, load_served_models(dirs));
  std::string dir = (std::filesystem::temp_directory_path() / "melodist-serve-XXXXXX").string();
  if (!mkdtemp(dir.data())) throw Error("cannot make a private folder for uploads in " + std::filesystem::temp_directory_path().string());
  impl_->upload_dir = dir;
  httplib::Server& http = impl_->http;
  const int threads = o.threads > 0 ? o.threads : o.max_concurrent + o.max_queue + 4;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // Debian's compiled cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG): dozens of clients
  // connecting at once overflow it (SYN retries, reset connections). The listening socket passes through
  // here before bind; bind() listens on it again with a longer queue (Linux updates the backlog).
  http.set_socket_options([this](int sock) {
    httplib::default_socket_options(sock);
    impl_->listen_socket = sock;
  });
  http.set_payload_max_length(o.max_body);
  http.set_read_timeout(o.timeout_seconds, 0);
  http.set_write_timeout(o.timeout_seconds, 0);
  http.set_keep_alive_timeout(o.timeout_seconds);  // an idle connection holds a worker thread: no longer than a stalled one
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) { return impl_->check(req, res); });
  // A status from httplib itself (404, 413, ...) gets a JSON body too.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string message = res.status == 413 ? "the request body is larger than the server accepts (--max-body)"
                                : res.status == 404 ? "no such page or API endpoint" : "request refused";
    send_error(res, res.status, "", message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    send_error(res, 500, "", message);
  });
  impl_->routes();
}

Server::~Server() = default;

int Server::bind() {
  Impl& s = *impl_;
  if (s.options.port == 0) s.port = s.http.bind_to_any_port(s.options.host);
  else s.port = s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1;
  if (s.port <= 0) throw Error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + " (in use, or not an address of this machine)");
  if (s.listen_socket >= 0) ::listen(s.listen_socket, 1024);
  const std::string port = ":" + std::to_string(s.port);
  const std::string bound = s.options.host.find(':') != std::string::npos ? "[" + s.options.host + "]" : s.options.host;
  s.allowed_hosts = {bound + port, "localhost" + port, "127.0.0.1" + port};
  for (const std::string& h : s.options.allowed_hosts) s.allowed_hosts.push_back(h.find(':') != std::string::npos ? h : h + port);
  return s.port;
}

void Server::run() { impl_->http.listen_after_bind(); }
void Server::stop() { impl_->http.stop(); }

std::string Server::url() const {
  const std::string host = impl_->options.host == "0.0.0.0" || impl_->options.host == "::" ? "127.0.0.1" : impl_->options.host;
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(impl_->port) + "/";
}

std::vector<std::string> Server::warnings() const {
  if (is_loopback(impl_->options.host) || !impl_->options.token.empty()) return {};
  return {"serving on " + impl_->options.host + " without --token: anyone who can reach this address can compose and read and delete the history; "
          "give --token TOKEN, or keep the default 127.0.0.1 behind a reverse proxy"};
}

}  // namespace melodist::serve
