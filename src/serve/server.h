#pragma once
// melodist serve: a local HTTP server (cpp-httplib) with the composing page compiled in (web/, see
// serve/assets.h) and the JSON API the page and scripts use. Safe by default (see README "Compose in
// the browser"):
//   - binds 127.0.0.1; another host warns unless a token is set; with a token every /api/ call needs
//     "Authorization: Bearer TOKEN" (401)
//   - Host must be the bound address, localhost or 127.0.0.1 with the port (403: DNS rebinding)
//   - a mutating request (POST, DELETE) whose Origin is not exactly this server's gets 403; its body must be
//     application/json (multipart/form-data only on the upload endpoints): a foreign page cannot post a form
//   - body cap (413), read/write timeouts, at most max_concurrent compositions with max_queue waiting
//     (503 + Retry-After beyond), field bounds (400 naming the field), models by served name only
//   - uploads are parsed by the song readers from a private temporary file (the readers take a path):
//     mkstemps in a mkdtemp folder of mode 0700 that the server made, named by the server, deleted at once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace melodist::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0: an ephemeral port (tests)
  std::vector<std::string> model_dirs;   // folders or bundled model names (as --model); empty: the default bundled model
  std::string history = "melodist-history.sqlite";
  int threads = 0;                       // HTTP worker threads; 0: max_concurrent + max_queue + 4
  int max_concurrent = 2;                // compositions at once
  int max_queue = 16;                    // compositions waiting for a slot; beyond: 503
  std::string token;                     // empty: no token
  std::vector<std::string> allowed_hosts;  // further Host values ("melodist.example.org"; the port is added when absent)
  size_t max_body = 1 << 20;             // bytes (413 beyond)
  int timeout_seconds = 10;              // read and write timeouts
};

class Server {
 public:
  // Loads the models and opens the history; throws melodist::Error.
  explicit Server(const ServeOptions& options);
  ~Server();
  // Binds host:port (port 0: any free port); returns the port. Throws melodist::Error when it cannot.
  int bind();
  void run();   // serves until stop(); call after bind()
  void stop();  // from any thread
  std::string url() const;  // http://host:port/
  // Messages for the operator before serving (the non-loopback warning).
  std::vector<std::string> warnings() const;

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace melodist::serve
