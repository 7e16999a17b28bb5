// The house's structural rules (docs/architecture.md), checked on the source tree itself:
//   - arrows point one way: a folder of src/ includes only folders below it in the stage order
//     util < music < nn < formats < preprocess < train < generate < evaluate < api < serve, cluster
//     (nn knows no files, formats only nn's model types, training nothing of generation);
//   - nn/ is arithmetic only: none of its files includes a file or JSON library (model files and their
//     metadata are formats/model_file.h);
//   - functions fit on a screen: a function of src/ longer than 120 lines says why in a comment holding
//     "long:" in the three lines above it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kSource = fs::path(MELODIST_SOURCE_DIR) / "src";

std::vector<fs::path> source_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(kSource)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".cpp" || ext == ".h" || ext == ".inc")) files.push_back(e.path());
  }
  return files;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The folder of src/ a file is in ("nn" for src/nn/lstm_step.cpp).
std::string folder_of(const fs::path& p) { return fs::relative(p, kSource).begin()->string(); }

TEST(HouseRules, IncludesPointDownTheStages) {
  const std::map<std::string, int> level = {{"util", 0},  {"music", 1},    {"nn", 2},  {"formats", 3}, {"preprocess", 4}, {"train", 5},
                                            {"generate", 6}, {"evaluate", 7}, {"api", 8}, {"serve", 9},   {"cluster", 9}};
  const std::regex include(R"re(^\s*#\s*include\s*"([a-z_]+)/)re");
  std::vector<std::string> upward;
  size_t checked = 0;
  for (const fs::path& p : source_files()) {
    const std::string from = folder_of(p);
    ASSERT_TRUE(level.count(from)) << "src/" << from << " is not a stage of the order above; add it here and to docs/architecture.md";
    const auto lines = lines_of(p);
    for (size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (!std::regex_search(lines[i], m, include) || !level.count(m[1].str())) continue;
      ++checked;
      const std::string to = m[1].str();
      if (level.at(to) > level.at(from) || (level.at(to) == level.at(from) && to != from))
        upward.push_back(fs::relative(p, kSource).string() + ":" + std::to_string(i + 1) + " includes " + to + "/");
    }
  }
  EXPECT_GT(checked, 200u) << "the scan found too few includes to be looking at the source tree";
  std::string all;
  for (const auto& u : upward) all += "\n  " + u;
  EXPECT_TRUE(upward.empty()) << "includes that run up or sideways:" << all;
}

// The includes of nn/ that would give it files or JSON (file:line includes <header>).
std::vector<std::string> io_includes(const std::vector<fs::path>& files) {
  static const std::regex io(R"re(^\s*#\s*include\s*<(nlohmann/[a-z_./]+|fstream|filesystem|cstdio|iostream)>)re");
  std::vector<std::string> out;
  for (const fs::path& p : files) {
    const auto lines = lines_of(p);
    for (size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (std::regex_search(lines[i], m, io)) out.push_back(p.filename().string() + ":" + std::to_string(i + 1) + " includes <" + m[1].str() + ">");
    }
  }
  return out;
}

TEST(HouseRules, NnHoldsNoFilesAndNoJson) {
  std::vector<fs::path> nn;
  for (const fs::path& p : source_files())
    if (folder_of(p) == "nn") nn.push_back(p);
  EXPECT_GT(nn.size(), 10u);
  std::string all;
  for (const auto& u : io_includes(nn)) all += "\n  " + u;
  EXPECT_TRUE(all.empty()) << "nn/ must not read files or JSON:" << all;
  // The scanner itself sees such an include.
  const fs::path probe = fs::temp_directory_path() / ("melodist-house-rules-io-" + std::to_string(::getpid()) + ".h");
  std::ofstream(probe) << "#pragma once\n#include <vector>\n#include <nlohmann/json.hpp>\n";
  const auto found = io_includes({probe});
  fs::remove(probe);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find(":3 includes <nlohmann/json.hpp>"), std::string::npos) << found[0];
}

// The length of every function defined at the start of a line (the house's style for free functions and
// out-of-class members), with the line it starts on.
struct Function {
  std::string where;
  int lines;
  bool reason;
};

std::vector<Function> long_functions(const fs::path& p, int limit) {
  static const std::regex head(R"(^[A-Za-z_][^;=()]*\([^;]*\)\s*(const\s*)?(override\s*)?(noexcept\s*)?\{\s*(//.*)?$)");
  static const std::regex not_function(R"(^(namespace|struct|class|enum|union|extern|if|for|while|switch)\b)");
  const auto lines = lines_of(p);
  std::vector<Function> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!std::regex_match(lines[i], head) || std::regex_search(lines[i], not_function)) continue;
    int depth = 0;
    size_t j = i;
    for (; j < lines.size(); ++j) {
      for (char c : lines[j]) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
      if (depth == 0) break;
    }
    const int length = static_cast<int>(j - i + 1);
    if (length > limit) {
      bool reason = false;
      for (size_t k = i >= 3 ? i - 3 : 0; k < i; ++k) reason |= lines[k].find("long:") != std::string::npos;
      out.push_back({fs::relative(p, kSource).string() + ":" + std::to_string(i + 1), length, reason});
    }
    i = j;
  }
  return out;
}

TEST(HouseRules, FunctionsFitOnAScreenOrSayWhyNot) {
  std::string unexplained;
  size_t files = 0;
  for (const fs::path& p : source_files()) {
    ++files;
    for (const Function& f : long_functions(p, 120))
      if (!f.reason) unexplained += "\n  " + f.where + " (" + std::to_string(f.lines) + " lines)";
  }
  EXPECT_GT(files, 100u);
  EXPECT_TRUE(unexplained.empty()) << "functions over 120 lines without a \"long:\" reason above them:" << unexplained;
}

// The scanner itself: it must see a long function, and accept one with a reason.
TEST(HouseRules, TheLengthScannerFindsLongFunctions) {
  const fs::path p = fs::temp_directory_path() / ("melodist-house-rules-" + std::to_string(::getpid()) + ".cpp");
  {
    std::ofstream out(p);
    out << "int short_one(int a) {\n  return a;\n}\n\n// long: one table\nint long_one(int a) {\n";
    for (int i = 0; i < 130; ++i) out << "  a += " << i << ";\n";
    out << "  return a;\n}\nint unexplained(int a) {\n";
    for (int i = 0; i < 130; ++i) out << "  a -= " << i << ";\n";
    out << "  return a;\n}\n";
  }
  const auto found = long_functions(p, 120);
  fs::remove(p);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_TRUE(found[0].reason);
  EXPECT_FALSE(found[1].reason);
  EXPECT_EQ(found[1].lines, 133);
}

}  // namespace
