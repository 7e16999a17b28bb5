// melodist: learn melodies from folk songs with an LSTM and compose new ones.
// The command is thin: every subcommand (apps/cmd_*.cpp) parses options and calls libmelodist.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "command.h"
#include "melodist/melodist.h"
#include "util/error.h"

namespace melodist::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

Command::Command(std::string name, int order, Setup setup) {
  command_registry().push_back({std::move(name), order, std::move(setup)});
}

}  // namespace melodist::cli

int main(int argc, char** argv) {
  CLI::App app{"melodist " MELODIST_VERSION ": learns melodies from folk songs with an LSTM network and composes new ones"};
  // Version, the checkout it was built from, and the BLAS in use (bug reports need all three).
  app.set_version_flag("--version", [] {
    return "melodist " MELODIST_VERSION " (API " + std::to_string(MELODIST_API_VERSION) + ")\nrevision " +
           melodist::api::git_revision() + "\nBLAS " + melodist::api::blas_info();
  });
  app.require_subcommand(1);
  auto& registry = melodist::cli::command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& entry : registry) entry.setup(app);
  // A subcommand this build left out (an optional part, CMakeLists.txt) says which option brings it back.
  struct Optional {
    const char *name, *option, *packages;
  };
  static const Optional kOptional[] = {{"import-keras", "MELODIST_KERAS", "libhdf5-dev"},
                                       {"plot", "MELODIST_PLOT", "libcairo2-dev"},
                                       {"serve", "MELODIST_SERVE", "libcpp-httplib-dev libsqlite3-dev"}};
  for (const auto& [name, option, packages] : kOptional) {
    const bool built = std::any_of(registry.begin(), registry.end(), [&](const auto& e) { return e.name == name; });
    if (argc > 1 && argv[1] == std::string(name) && !built) {
      std::fprintf(stderr, "melodist: error: this melodist was built without `%s`; configure with -D%s=ON (needs %s)\n", name, option,
                   packages);
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print as CLI11 does; a bad option is one line and exit status 1, like
    // every other melodist error.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "melodist: error: %s (see --help)\n", e.what());
    return 1;
  } catch (const melodist::Error& e) {
    std::fprintf(stderr, "melodist: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "melodist: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "melodist: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
