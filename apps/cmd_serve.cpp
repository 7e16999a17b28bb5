// melodist serve: the composing page and JSON API on a local HTTP server (src/serve/server.h).
#include <spawn.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "command.h"
#include "serve/server.h"

extern char** environ;

namespace {

melodist::serve::Server* running_server = nullptr;

void stop_on_signal(int) {
  if (running_server) running_server->stop();
}

// --open: the desktop's browser (xdg-open); a missing xdg-open is only a message.
void open_browser(const std::string& url) {
  pid_t pid = 0;
  const char* argv[] = {"xdg-open", url.c_str(), nullptr};
  if (posix_spawnp(&pid, "xdg-open", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
    std::fprintf(stderr, "melodist serve: cannot run xdg-open; open %s yourself\n", url.c_str());
}

void setup(CLI::App& root) {
  auto o = std::make_shared<melodist::serve::ServeOptions>();
  auto open = std::make_shared<bool>(false);
  CLI::App* app = root.add_subcommand("serve", "Compose in the browser: a local server with the page built in (http://127.0.0.1:8080/)");
  app->add_option("--host", o->host, "address to listen on; anything but 127.0.0.1/localhost should come with --token")->capture_default_str();
  app->add_option("--port", o->port, "TCP port (0: any free port)")->capture_default_str();
  app->add_option("--model,-m", o->model_dirs, "model folder or bundled model name to serve (repeat for several; default: essen-german); clients choose by folder name");
  app->add_option("--history", o->history, "SQLite file keeping every composition")->capture_default_str();
  app->add_option("--threads", o->threads, "HTTP worker threads (0: max-concurrent + max-queue + 4)")->capture_default_str();
  app->add_option("--max-concurrent", o->max_concurrent, "compositions at once")->capture_default_str();
  app->add_option("--max-queue", o->max_queue, "compositions waiting for a slot; beyond that: 503 with Retry-After")->capture_default_str();
  app->add_option("--max-body", o->max_body, "largest request body in bytes (413 beyond; uploads included)")->capture_default_str();
  app->add_option("--timeout", o->timeout_seconds, "read and write timeout in seconds")->capture_default_str();
  app->add_option("--token", o->token, "require \"Authorization: Bearer TOKEN\" on every API call (the page asks for it once)");
  app->add_option("--allow-host", o->allowed_hosts, "a further Host header to accept (the name a reverse proxy forwards)");
  app->add_flag("--open", *open, "open the page in the desktop's browser");
  app->callback([o, open] {
    melodist::serve::Server server(*o);
    server.bind();
    for (const std::string& w : server.warnings()) std::fprintf(stderr, "melodist serve: warning: %s\n", w.c_str());
    std::printf("melodist serve: %s (history %s; Ctrl-C stops)\n", server.url().c_str(), o->history.c_str());
    std::fflush(stdout);
    running_server = &server;
    std::signal(SIGINT, stop_on_signal);
    std::signal(SIGTERM, stop_on_signal);
    if (*open) open_browser(server.url() + (o->token.empty() ? "" : "#token=" + o->token));  // the page keeps it for the tab
    server.run();
    running_server = nullptr;
  });
}

}  // namespace

static melodist::cli::Command serve_command{"serve", 90, setup};
