// evaluate's figures against hand-computed values on a tiny model whose probabilities are known.
//
// The model: vocabulary {"/", "_", "60", "62", "r"}, H = 4, every weight and bias ZERO except the
// dense bias b_y. With zero LSTM weights every gate pre-activation is 0, so i = f = o = sigmoid(0) =
// 1/2 and g = tanh(0) = 0: c' = c/2 + 0 = 0 and h' = 0 at every step. The logits are therefore b_y
// at every step and p = softmax(b_y). We set b_y = ln p for
//     p("/") = 1/8, p("_") = 1/2, p("60") = 1/4, p("62") = 1/16, p("r") = 1/16   (sum 1),
// so -log2 p is 3, 1, 2, 4, 4 bits, and the argmax is always "_".
//
// Song A = "60 _ 62 _ _ r 60", scored with its end "/":
//   steps 60 _ 62 _ _ r 60 /  -> bits 2+1+4+1+1+4+2+3 = 18 over 8 steps, 3 notes (60, 62, 60)
//   loss = 18 ln2 / 8 = 2.25 ln2 nats/step, perplexity = 2^2.25, accuracy = 3/8 (the three holds),
//   onset accuracy = 0/4 (60, 62, r, 60), hold accuracy = 3/3, bits per note = 18 / 3 = 6.
//   pitch symbols hold p = 1/4 + 1/16 = 5/16, so p(60 | pitch) = 4/5 and p(62 | pitch) = 1/5:
//   pitch bits = (2 log2(5/4) + log2 5) / 3.
// Song B = "62 r": bits 4 + 4 + 3 (end) = 11, 1 note -> 11 bits/note, pitch bits log2 5.
// Both songs pooled: bits per note (18 + 11) / 4 = 7.25; song mean (6 + 11) / 2 = 8.5;
//   pitch bits pooled (2 log2 1.25 + 2 log2 5) / 4; loss (29 ln2) / 11 nats/step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "formats/model_file.h"
#include "preprocess/dataset.h"
#include "evaluate/metrics.h"
#include "formats/text_encoding.h"
#include "util/error.h"
#include "nn/model.h"

namespace {

using namespace melodist;

// Every weight and bias zero except b_y = ln p, so p = softmax(b_y) at every step.
Model bias_only_model(const std::vector<std::string>& vocabulary, const std::vector<double>& p) {
  ModelConfig config;
  config.vocab_size = static_cast<int>(vocabulary.size());
  config.hidden_size = 4;
  config.num_layers = 1;
  config.dropout = 0.0f;
  Model model = make_model(config, vocabulary, 1);
  std::fill(model.params.begin(), model.params.end(), 0.0f);
  ParameterViews views = parameter_views(model.config, model.params.data());
  for (size_t v = 0; v < p.size(); ++v) views.b_y[v] = static_cast<float>(std::log(p[v]));
  return model;
}

Model bias_only_model() {
  return bias_only_model({"/", "_", "60", "62", "r"}, {1.0 / 8, 1.0 / 2, 1.0 / 4, 1.0 / 16, 1.0 / 16});
}

std::vector<int> ids(const Model& model, const std::string& text) {
  return song_ids(model, split_symbols(text), "test", 1);
}

TEST(Metrics, SymbolKinds) {
  EXPECT_EQ(symbol_kind("60"), SymbolKind::note);
  EXPECT_EQ(symbol_kind("0"), SymbolKind::note);
  EXPECT_EQ(symbol_kind("127"), SymbolKind::note);
  EXPECT_EQ(symbol_kind("128"), SymbolKind::other);
  EXPECT_EQ(symbol_kind("r"), SymbolKind::rest);
  EXPECT_EQ(symbol_kind("_"), SymbolKind::hold);
  EXPECT_EQ(symbol_kind("/"), SymbolKind::end);
  EXPECT_EQ(symbol_kind("6a"), SymbolKind::other);
  EXPECT_EQ(symbol_kind("K:C"), SymbolKind::other);  // preprocess --key-symbol
  EXPECT_EQ(symbol_kind("|"), SymbolKind::other);    // preprocess --barlines
}

// The key symbol and the barline (preprocess --key-symbol --barlines) by hand, on a bias-only model over
// {"/", "_", "60", "62", "r", "K:C", "|"} with p = 1/16, 1/2, 1/8, 1/16, 1/16, 1/16, 1/8 (sum 1), so -log2 p is
// 4, 1, 3, 4, 4, 4, 3 bits and the argmax is always "_".
// Song "K:C 60 _ | 62 _", scored with its end "/":
//   steps K:C 60 _ | 62 _ /  -> bits 4+3+1+3+4+1+4 = 20 over 7 steps, 2 notes: bits per note 10;
//   onsets 60 and 62 only (2, both wrong), holds 2 (both right), accuracy 2/7;
//   the pitch symbols are 60 and 62 alone (p sum 3/16; "K:C" and "|" are not pitches), so
//   p(60 | pitch) = 2/3, p(62 | pitch) = 1/3: pitch bits (log2 1.5 + log2 3) / 2.
TEST(Metrics, KeyAndBarlineSymbolsByHand) {
  const Model model = bias_only_model({"/", "_", "60", "62", "r", "K:C", "|"},
                                      {1.0 / 16, 1.0 / 2, 1.0 / 8, 1.0 / 16, 1.0 / 16, 1.0 / 16, 1.0 / 8});
  const EvaluationMetrics m = evaluate_songs(model, {ids(model, "K:C 60 _ | 62 _")});
  EXPECT_EQ(m.steps, 7u);
  EXPECT_EQ(m.notes, 2u);
  EXPECT_EQ(m.onset_steps, 2u);
  EXPECT_EQ(m.hold_steps, 2u);
  EXPECT_NEAR(m.loss_nats_per_step, 20 * std::log(2.0) / 7, 1e-5);
  EXPECT_NEAR(m.accuracy, 2.0 / 7.0, 1e-12);
  EXPECT_NEAR(m.onset_accuracy, 0.0, 1e-12);
  EXPECT_NEAR(m.hold_accuracy, 1.0, 1e-12);
  EXPECT_NEAR(m.bits_per_note, 10.0, 1e-5);
  EXPECT_NEAR(m.pitch_bits_per_note, (std::log2(1.5) + std::log2(3.0)) / 2, 1e-5);
}

TEST(Metrics, OneSongByHand) {
  const Model model = bias_only_model();
  const EvaluationMetrics m = evaluate_songs(model, {ids(model, "60 _ 62 _ _ r 60")});
  const double ln2 = std::log(2.0);
  EXPECT_EQ(m.songs, 1u);
  EXPECT_EQ(m.steps, 8u);
  EXPECT_EQ(m.notes, 3u);
  EXPECT_EQ(m.onset_steps, 4u);
  EXPECT_EQ(m.hold_steps, 3u);
  EXPECT_NEAR(m.loss_nats_per_step, 2.25 * ln2, 1e-5);
  EXPECT_NEAR(m.perplexity, std::pow(2.0, 2.25), 1e-4);
  EXPECT_NEAR(m.accuracy, 3.0 / 8.0, 1e-12);
  EXPECT_NEAR(m.onset_accuracy, 0.0, 1e-12);
  EXPECT_NEAR(m.hold_accuracy, 1.0, 1e-12);
  EXPECT_NEAR(m.bits_per_note, 6.0, 1e-5);
  EXPECT_NEAR(m.pitch_bits_per_note, (2 * std::log2(1.25) + std::log2(5.0)) / 3, 1e-5);
}

TEST(Metrics, PooledAndSongMeans) {
  const Model model = bias_only_model();
  const EvaluationMetrics m = evaluate_songs(model, {ids(model, "60 _ 62 _ _ r 60"), ids(model, "62 r")});
  EXPECT_EQ(m.songs, 2u);
  EXPECT_EQ(m.steps, 11u);
  EXPECT_EQ(m.notes, 4u);
  EXPECT_NEAR(m.loss_nats_per_step, 29 * std::log(2.0) / 11, 1e-5);
  EXPECT_NEAR(m.bits_per_note, 7.25, 1e-5);
  EXPECT_NEAR(m.bits_per_note_song_mean, 8.5, 1e-5);
  EXPECT_NEAR(m.pitch_bits_per_note, (2 * std::log2(1.25) + 2 * std::log2(5.0)) / 4, 1e-5);
  EXPECT_NEAR(m.pitch_bits_per_note_song_mean,
              ((2 * std::log2(1.25) + std::log2(5.0)) / 3 + std::log2(5.0)) / 2, 1e-5);
  EXPECT_NEAR(m.onset_accuracy, 0.0, 1e-12);  // 60 62 r 60 62 r: the model always says "_"
}

TEST(Metrics, NoHoldsGivesNullInJson) {
  const Model model = bias_only_model();
  const EvaluationMetrics m = evaluate_songs(model, {ids(model, "62 r")});
  EXPECT_TRUE(std::isnan(m.hold_accuracy));
  const auto j = to_json(m);
  EXPECT_TRUE(j["hold_accuracy"].is_null());
  for (const char* key : {"loss_nats_per_step", "accuracy", "perplexity", "onset_accuracy", "hold_accuracy",
                          "bits_per_note", "pitch_bits_per_note", "songs", "steps", "notes"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["steps"], 3);
}

TEST(Metrics, UnknownSymbolNamesFileAndLine) {
  const Model model = bias_only_model();
  try {
    song_ids(model, split_symbols("60 _ 61"), "data/songs.txt", 7);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("data/songs.txt:7: symbol \"61\""), std::string::npos) << e.what();
  }
}

TEST(Metrics, ValidationIndices) {
  EXPECT_EQ(validation_indices(7, 3), (std::vector<size_t>{2, 5}));
  EXPECT_EQ(validation_indices(2, 3), (std::vector<size_t>{}));
}

// ---- the CLI, end to end ----
struct CommandResult {
  int status;
  std::string out;
};
CommandResult run(const std::string& args) {
  const std::string out_path = std::filesystem::temp_directory_path() / ("melodist-test-metrics-" + std::to_string(::getpid()) + ".out");
  const std::string command = std::string(MELODIST_BINARY) + " " + args + " > " + out_path + " 2>&1";
  int status = std::system(command.c_str());
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(out_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

class EvaluateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("melodist-test-evaluate-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "data");
    save_model({bias_only_model(), {{"validation", {{"every", 2}}}}}, (dir_ / "model").string());
    // Songs 2 and 4 (1-based) are the validation songs of a model with every = 2.
    std::ofstream(dir_ / "data" / "songs.txt") << "62 _ _ _\n60 _ 62 _ _ r 60\nr 60\n62 r\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(EvaluateCli, JsonValidationSplit) {
  auto r = run("evaluate --model " + (dir_ / "model").string() + " --data " + (dir_ / "data").string() + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["songs"], 2);
  EXPECT_EQ(j["steps"], 11);
  EXPECT_EQ(j["notes"], 4);
  EXPECT_NEAR(j["bits_per_note"].get<double>(), 7.25, 1e-5);
}

TEST_F(EvaluateCli, AllSplitAndErrors) {
  auto r = run("evaluate --model " + (dir_ / "model").string() + " --data " + (dir_ / "data").string() +
               " --split all --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["songs"], 4);
  r = run("evaluate --model " + (dir_ / "model").string() + " --data " + (dir_ / "nothing").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("melodist: error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing"), std::string::npos) << r.out;
  std::ofstream(dir_ / "data" / "songs.txt") << "60 _ 61\n60\n";
  r = run("evaluate --model " + (dir_ / "model").string() + " --data " + (dir_ / "data").string() + " --split all");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("songs.txt:1: symbol \"61\""), std::string::npos) << r.out;
}

}  // namespace
