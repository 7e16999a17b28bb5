#pragma once
// Each subcommand lives in apps/cmd_<name>.cpp and registers itself with a static Command object:
//   static melodist::cli::Command preprocess_command{"preprocess", 10, setup_preprocess};
// where setup_preprocess(CLI::App& app) adds the subcommand, its options and its callback.
// `order` sorts the subcommands in --help (pipeline order).
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "util/parse_number.h"

namespace melodist::cli {

// --seed: 0 .. 2^64-1 exactly (CLI11 alone wraps "-1" and saturates 2^64; util/parse_number.h).
inline CLI::Validator seed_range() {
  return CLI::Validator(
      [](std::string& text) {
        try {
          melodist::parse_uint64(text, "");
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
        return std::string();
      },
      "0..18446744073709551615", "seed");
}

struct Command {
  using Setup = std::function<void(CLI::App& root)>;
  Command(std::string name, int order, Setup setup);
};

struct CommandEntry {
  std::string name;
  int order;
  Command::Setup setup;
};
std::vector<CommandEntry>& command_registry();

}  // namespace melodist::cli
