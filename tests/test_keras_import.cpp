// `melodist import-keras`: agreement with an independent PyTorch implementation
// (tools/keras_reference_probs.py: h5py + torch.nn.LSTM in float64, fixtures committed under
// tests/fixtures/keras/), and refusals of unsupported or damaged files (tools/make_bad_h5.py).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "formats/keras_h5.h"
#include "formats/model_file.h"
#include "nn/lstm_step.h"
#include "nn/model.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using melodist::Model;

namespace {

const std::string kFixtures = std::string(MELODIST_FIXTURES_DIR) + "/keras/";
const std::string kReferenceDir = std::string(MELODIST_SHARED_DIR) + "/data/keras-reference/";

bool have_reference() { return fs::exists(kReferenceDir + "model.h5") && fs::exists(kReferenceDir + "mapping.json"); }

struct Worst {
  double difference = 0.0;
  std::string where;
  size_t compared = 0;
};

// Steps `model` through every context of the fixture from a zero state and compares the next-symbol
// distributions with the fixture's (torch, float64) ones.
Worst compare_with_fixture(const Model& model, const nlohmann::json& fixture) {
  Worst worst;
  const int V = model.config.vocab_size;
  EXPECT_EQ(fixture.at("vocabulary").get<std::vector<std::string>>(), model.vocabulary) << "the file's own ids must be kept";
  for (const auto& context : fixture.at("contexts")) {
    const std::string name = context.at("name");
    std::istringstream in(context.at("symbols").get<std::string>());
    std::vector<int> tokens;
    for (std::string s; in >> s;) {
      tokens.push_back(model.symbol_id(s));
      EXPECT_GE(tokens.back(), 0) << s;
    }
    const size_t first = context.at("first_scored").get<size_t>();
    const auto& expected = context.at("probabilities");
    EXPECT_EQ(expected.size(), tokens.size() - first) << name;
    melodist::StepState state = melodist::make_step_state(model, 1);
    std::vector<float> logits(V);
    for (size_t t = 0; t < tokens.size(); ++t) {
      melodist::model_step(model, &tokens[t], state, logits.data());
      if (t < first || t - first >= expected.size()) continue;
      melodist::softmax_inplace(logits.data(), V);
      const auto& row = expected[t - first];
      for (int v = 0; v < V; ++v) {
        const double d = std::fabs(static_cast<double>(logits[v]) - row[v].get<double>());
        ++worst.compared;
        if (d > worst.difference) {
          worst.difference = d;
          worst.where = name + ", position " + std::to_string(t) + ", symbol " + model.vocabulary[v];
        }
      }
    }
  }
  return worst;
}

void report(const char* what, const Worst& w) {
  std::printf("%s vs torch (float64): worst |p - p_torch| = %.3g over %zu probabilities (%s)\n", what, w.difference, w.compared,
              w.where.c_str());
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(melodist::read_file(path)); }

struct RunResult {
  int status = -1;
  std::string out, err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the built CLI with arguments; captures exit status, stdout and stderr.
RunResult run_melodist(const std::string& args, const fs::path& scratch) {
  const fs::path out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  const std::string command = shell_quote(MELODIST_BINARY) + " " + args + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int raw = std::system(command.c_str());
  RunResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = melodist::read_file(out.string());
  r.err = melodist::read_file(err.string());
  return r;
}

class KerasImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_ = fs::temp_directory_path() / ("melodist-keras-" + std::to_string(getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(scratch_);
    fs::create_directories(scratch_);
  }
  void TearDown() override { fs::remove_all(scratch_); }
  fs::path scratch_;
};

// ---- agreement with torch ----

TEST(KerasImport, ReferenceModelMatchesTorch) {
  if (!have_reference()) GTEST_SKIP() << "shared Keras reference model not found at " << kReferenceDir << " (MELODIST_SHARED_DIR)";
  melodist::KerasImport imported = melodist::import_keras_model(kReferenceDir + "model.h5", kReferenceDir + "mapping.json");
  const Model& model = imported.file.model;
  EXPECT_EQ(model.config.num_layers, 1);
  EXPECT_EQ(model.config.hidden_size, 256);
  EXPECT_EQ(model.config.vocab_size, 38);
  EXPECT_EQ(model.config.recurrent_activation, melodist::RecurrentActivation::sigmoid);  // the file's model_config says sigmoid
  EXPECT_EQ(imported.keras_version, "2.2.4-tf");
  const Worst worst = compare_with_fixture(model, read_json(kFixtures + "reference_probs.json"));
  report("reference model.h5", worst);
  EXPECT_GT(worst.compared, 8000u);  // 232 distributions over 38 symbols
  EXPECT_LT(worst.difference, 1e-5) << worst.where;
}

TEST(KerasImport, StackedHardSigmoidModelMatchesTorch) {
  melodist::KerasImport imported = melodist::import_keras_model(kFixtures + "tiny_hard_sigmoid.h5", kFixtures + "tiny_mapping.json");
  Model model = imported.file.model;
  EXPECT_EQ(model.config.num_layers, 2);
  EXPECT_EQ(model.config.hidden_size, 8);
  EXPECT_EQ(model.config.recurrent_activation, melodist::RecurrentActivation::hard_sigmoid);
  EXPECT_FLOAT_EQ(model.config.dropout, 0.3f);
  const nlohmann::json fixture = read_json(kFixtures + "tiny_hard_sigmoid_probs.json");
  const Worst worst = compare_with_fixture(model, fixture);
  report("tiny 2-layer hard_sigmoid model", worst);
  EXPECT_LT(worst.difference, 1e-5) << worst.where;
  // The fixture can tell the activations apart: the same weights with sigmoid gates disagree clearly.
  model.config.recurrent_activation = melodist::RecurrentActivation::sigmoid;
  const Worst wrong = compare_with_fixture(model, fixture);
  std::printf("  the same weights with sigmoid gates instead: worst difference %.3g\n", wrong.difference);
  EXPECT_GT(wrong.difference, 1e-2);
}

// ---- the command ----

TEST_F(KerasImportTest, CommandWritesAnOrdinaryModel) {
  const fs::path out = scratch_ / "model";
  RunResult r = run_melodist("import-keras --h5 " + shell_quote(kFixtures + "tiny_hard_sigmoid.h5") + " --mapping " +
                                 shell_quote(kFixtures + "tiny_mapping.json") + " --out " + shell_quote(out.string()),
                             scratch_);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* expected : {"Keras 2.2.4", "lstm_1", "lstm_2", "dense_1", "hard_sigmoid", "2 LSTM layers of 8 units", "6 symbols", "wrote"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << "missing \"" << expected << "\" in:\n" << r.out;
  const melodist::ModelFile loaded_file = melodist::load_model_file(out.string());
  const Model& loaded = loaded_file.model;
  Model direct = melodist::import_keras_model(kFixtures + "tiny_hard_sigmoid.h5", kFixtures + "tiny_mapping.json").file.model;
  EXPECT_EQ(loaded.params, direct.params);
  EXPECT_EQ(loaded.vocabulary, (std::vector<std::string>{"60", "_", "/", "64", "r", "62"}));  // the file's ids
  EXPECT_EQ(loaded.config.recurrent_activation, melodist::RecurrentActivation::hard_sigmoid);
  EXPECT_EQ(loaded_file.metadata.at("source"), "keras import");
  EXPECT_EQ(loaded_file.metadata.at("keras_version"), "2.2.4");
  // mapping.json written beside the weights keeps the file's ids
  const nlohmann::json mapping = read_json((out / "mapping.json").string());
  EXPECT_EQ(mapping.at("/"), 2);
  EXPECT_EQ(mapping.at("62"), 5);

  // An existing model is not overwritten without --force.
  const std::string again = "import-keras --h5 " + shell_quote(kFixtures + "tiny_hard_sigmoid.h5") + " --mapping " +
                            shell_quote(kFixtures + "tiny_mapping.json") + " --out " + shell_quote(out.string());
  r = run_melodist(again, scratch_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  r = run_melodist(again + " --force", scratch_);
  EXPECT_EQ(r.status, 0) << r.err;
  // ... and never over a training run, whose checkpoint would no longer match the weights.
  melodist::write_file_atomically((out / "checkpoint.safetensors").string(), "x");
  r = run_melodist(again + " --force", scratch_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("holds a training run"), std::string::npos) << r.err;
}

TEST_F(KerasImportTest, CommandImportsTheReferenceModel) {
  if (!have_reference()) GTEST_SKIP() << "shared Keras reference model not found at " << kReferenceDir << " (MELODIST_SHARED_DIR)";
  const fs::path out = scratch_ / "reference";
  RunResult r = run_melodist("import-keras --h5 " + shell_quote(kReferenceDir + "model.h5") + " --mapping " +
                                 shell_quote(kReferenceDir + "mapping.json") + " --out " + shell_quote(out.string()),
                             scratch_);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* expected : {"Keras 2.2.4-tf", "256 units", "recurrent_activation sigmoid", "38 symbols", "Dropout"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << "missing \"" << expected << "\" in:\n" << r.out;
  const melodist::ModelFile loaded_file = melodist::load_model_file(out.string());
  const Model& loaded = loaded_file.model;
  EXPECT_EQ(loaded_file.metadata.at("source"), "keras import");
  const nlohmann::json mapping = read_json(kReferenceDir + "mapping.json");
  for (const auto& [symbol, id] : mapping.items()) EXPECT_EQ(loaded.vocabulary.at(id.get<size_t>()), symbol);
}

struct Refusal {
  const char* h5;
  const char* mapping;
  const char* expected;  // a piece of the one-line message
};

TEST_F(KerasImportTest, RefusalsAreOneLineErrorsAndWriteNothing) {
  const Refusal refusals[] = {
      {"gru.h5", "tiny_mapping.json", "layer \"gru\" of type GRU is not supported"},
      {"bidirectional.h5", "tiny_mapping.json", "of type Bidirectional is not supported"},
      {"relu_activation.h5", "tiny_mapping.json", "activation=relu"},
      {"go_backwards.h5", "tiny_mapping.json", "go_backwards=true"},
      {"missing_weight.h5", "tiny_mapping.json", "layer \"lstm_2\" has no weight \"recurrent_kernel\""},
      {"wrong_shape.h5", "tiny_mapping.json", "layer \"lstm_1\": weight \"kernel\" has shape (6, 28), expected (6, 32)"},
      {"tiny_hard_sigmoid.h5", "mapping_5_symbols.json", "5 symbols, but the model's output layer \"dense_1\" has 6 units"},
      {"not_hdf5.h5", "tiny_mapping.json", "not an HDF5 file"},
      {"truncated.h5", "tiny_mapping.json", "truncated or damaged"},
      {"does_not_exist.h5", "tiny_mapping.json", "no such file"},
  };
  for (const auto& refusal : refusals) {
    const fs::path out = scratch_ / "out";
    RunResult r = run_melodist("import-keras --h5 " + shell_quote(kFixtures + refusal.h5) + " --mapping " +
                                   shell_quote(kFixtures + refusal.mapping) + " --out " + shell_quote(out.string()),
                               scratch_);
    SCOPED_TRACE(refusal.h5);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(r.err.starts_with("melodist: error: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not exactly one line:\n" << r.err;
    EXPECT_NE(r.err.find(refusal.expected), std::string::npos) << r.err;
    // the message names the file at fault
    const std::string named = std::string(refusal.expected).find("symbols") != std::string::npos ? refusal.mapping : refusal.h5;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "a refused import wrote " << out;
  }
}

// ---- mapping.json ----

TEST_F(KerasImportTest, MappingMustBeAPermutationOfTextEncodingSymbols) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"/": 0, "60": 0})", "id 0 is given to two symbols"},
      {R"({"/": 0, "60": 2})", "has id 2"},
      {R"({"/": 0, "C4": 1})", "\"C4\" is not a symbol of the text encoding"},
      {R"({"/": 0, "128": 1})", "\"128\" is not a symbol"},
      {R"({"_": 0, "60": 1})", "has no \"/\" symbol"},
      {R"({"/": 0, "60": "1"})", "has id \"1\""},
      {R"(["/", "60"])", "expected a JSON object"},
      {R"({"/": 0,)", "not a JSON mapping"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string path = (scratch_ / "mapping.json").string();
    melodist::write_file_atomically(path, text);
    try {
      melodist::read_keras_mapping(path);
      ADD_FAILURE() << "accepted " << text;
    } catch (const melodist::Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(expected), std::string::npos) << message;
      EXPECT_TRUE(message.starts_with(path)) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  melodist::write_file_atomically((scratch_ / "ok.json").string(), R"({"64": 1, "/": 2, "_": 0, "r": 3})");
  EXPECT_EQ(melodist::read_keras_mapping((scratch_ / "ok.json").string()), (std::vector<std::string>{"_", "64", "/", "r"}));
}

}  // namespace
