#pragma once
// Each subcommand lives in apps/cmd_<name>.cpp and registers itself with a static Command object:
//   static melodist::cli::Command preprocess_command{"preprocess", 10, setup_preprocess};
// where setup_preprocess(CLI::App& app) adds the subcommand, its options and its callback.
// `order` sorts the subcommands in --help (pipeline order).
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace melodist::cli {

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
