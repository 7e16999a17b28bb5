// melodist serve under load (issue 17): the server in-process on an ephemeral port, clients over HTTP
// (cpp-httplib), compose requests of 16 bars (4/4, the bundled model).
//   idle     one client, 200 requests one after another: p50 / p99 latency (target p50 < 20 ms)
//   load     64 clients x 50 requests at once: no error, every melody equal to the same request made
//            alone (the library called directly), p50 / p99 latency, requests/s
//   memory   10,000 requests from 64 clients: resident memory after the first 1,000 and at the end
// Run: build/bench/bench_serve [--clients 64] [--requests 50] [--memory-requests 10000]
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "melodist/model.h"
#include "serve/compose.h"
#include "serve/server.h"

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

json request_for(uint64_t seed) { return {{"bars", 16}, {"meter", "4/4"}, {"seed", seed}, {"variations", 1}}; }

double resident_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Outcome {
  std::vector<double> ms;
  int errors = 0, mismatches = 0;
  std::string first_error;
};

// `clients` threads, each making `per_client` requests with seeds base + client * per_client + i;
// expected (when given) holds the symbols each seed must give.
Outcome hammer(int port, int clients, int per_client, uint64_t base, const std::vector<std::string>* expected) {
  std::vector<Outcome> parts(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k)
    threads.emplace_back([&, k] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(120, 0);
      Outcome& o = parts[static_cast<size_t>(k)];
      for (int i = 0; i < per_client; ++i) {
        const uint64_t index = static_cast<uint64_t>(k) * static_cast<uint64_t>(per_client) + static_cast<uint64_t>(i);
        const auto start = Clock::now();
        auto r = c.Post("/api/compose", request_for(base + index).dump(), "application/json");
        o.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (!r || r->status != 200) {
          ++o.errors;
          if (o.first_error.empty()) o.first_error = r ? "HTTP " + std::to_string(r->status) + " " + r->body : httplib::to_string(r.error());
          continue;
        }
        if (expected && json::parse(r->body)["tunes"][0]["symbols"].get<std::string>() != (*expected)[index]) ++o.mismatches;
      }
    });
  for (auto& t : threads) t.join();
  Outcome all;
  for (Outcome& o : parts) {
    all.ms.insert(all.ms.end(), o.ms.begin(), o.ms.end());
    all.errors += o.errors;
    all.mismatches += o.mismatches;
    if (all.first_error.empty()) all.first_error = o.first_error;
  }
  if (!all.first_error.empty()) std::printf("        first error: %s\n", all.first_error.c_str());
  return all;
}

std::string joined(const std::vector<std::string>& symbols) {
  std::string out;
  for (const std::string& s : symbols) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 64, per_client = 50, memory_requests = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--requests")) per_client = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--memory-requests")) memory_requests = std::atoi(argv[i + 1]);
  }
  const fs::path dir = fs::temp_directory_path() / ("melodist-bench-serve-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  melodist::serve::ServeOptions o;
  o.port = 0;
  o.history = (dir / "history.sqlite").string();
  o.max_concurrent = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.max_queue = clients;
  o.threads = clients + 8;
  melodist::serve::Server server(o);
  const int port = server.bind();
  std::thread serving([&] { server.run(); });
  std::printf("melodist serve bench: %d composing at once, %u hardware threads, history %s\n", o.max_concurrent,
              std::thread::hardware_concurrency(), o.history.c_str());

  const Outcome idle = hammer(port, 1, 200, 1, nullptr);
  std::printf("idle:   1 client x 200 requests of 16 bars: p50 %.2f ms, p99 %.2f ms, errors %d\n", percentile(idle.ms, 0.5),
              percentile(idle.ms, 0.99), idle.errors);

  // What each request gives alone: the library itself, one call per seed.
  const melodist::api::Model model = melodist::api::Model::bundled();
  const uint64_t base = 1000000;
  std::vector<std::string> expected;
  for (int i = 0; i < clients * per_client; ++i) {
    melodist::api::GenerationOptions g;
    g.bars = 16;
    g.meter = melodist::api::Meter{4, 4};     // the request's meter (request_for)
    g.candidates = 1;                         // the server's default
    g.max_steps = melodist::serve::kMaxSteps;  // what the server asks for when bars is given
    g.seed = base + static_cast<uint64_t>(i);
    expected.push_back(joined(model.generate(g).front().symbols()));
  }
  const auto start = Clock::now();
  const Outcome load = hammer(port, clients, per_client, base, &expected);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("load:   %d clients x %d requests: %zu answered in %.2f s = %.1f requests/s; p50 %.2f ms, p99 %.2f ms; "
              "errors %d, melodies differing from the same request alone %d\n",
              clients, per_client, load.ms.size(), seconds, static_cast<double>(load.ms.size()) / seconds,
              percentile(load.ms, 0.5), percentile(load.ms, 0.99), load.errors, load.mismatches);

  const int per = std::max(1, memory_requests / clients);
  const Outcome warm = hammer(port, clients, std::max(1, per / 10), 5000000, nullptr);
  const double rss_warm = resident_mib();
  const Outcome rest = hammer(port, clients, per - std::max(1, per / 10), 6000000, nullptr);
  const double rss_end = resident_mib();
  std::printf("memory: resident %.1f MiB after %zu requests, %.1f MiB after %zu (errors %d)\n", rss_warm, warm.ms.size(), rss_end,
              warm.ms.size() + rest.ms.size(), warm.errors + rest.errors);
  server.stop();
  serving.join();
  fs::remove_all(dir);
  return load.errors + load.mismatches + idle.errors == 0 ? 0 : 1;
}
