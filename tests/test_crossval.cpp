// `crossval`: folds hold the right songs, every song is held out exactly once, and a fold's figures are
// what `evaluate` gives for its saved model on its held-out songs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "evaluate/crossval.h"

namespace {

using namespace melodist;
namespace fs = std::filesystem;

TEST(Crossval, FoldIndices) {
  // Fold i (1-based) holds songs i, i+k, ... (1-based): 0-based i-1, i-1+k, ...
  EXPECT_EQ(fold_indices(10, 3, 1), (std::vector<size_t>{0, 3, 6, 9}));
  EXPECT_EQ(fold_indices(10, 3, 3), (std::vector<size_t>{2, 5, 8}));
  std::vector<int> times(23, 0);
  for (int f = 1; f <= 10; ++f)
    for (size_t i : fold_indices(23, 10, f)) times[i]++;
  for (int t : times) EXPECT_EQ(t, 1);
}

TEST(Crossval, InnerValidationIndices) {
  // 10 songs, 3 folds, fold 1 holds 0 3 6 9; the others in order: 1 2 4 5 7 8; every 3rd: 4, 8.
  EXPECT_EQ(inner_validation_indices(10, 3, 1, 3), (std::vector<size_t>{4, 8}));
  // Fold 2 holds 1 4 7; the others: 0 2 3 5 6 8 9; every 2nd: 2 5 8.
  EXPECT_EQ(inner_validation_indices(10, 3, 2, 2), (std::vector<size_t>{2, 5, 8}));
  // Too few songs for every 10th: the last song outside the fold.
  EXPECT_EQ(inner_validation_indices(10, 3, 1, 10), (std::vector<size_t>{8}));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run(const std::string& args, const fs::path& out) {
  const int status = std::system((std::string(MELODIST_BINARY) + " " + args + " > " + out.string() + " 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CrossvalCli, EverySongOnceAndFoldsMatchEvaluate) {
  const fs::path dir = fs::temp_directory_path() / ("melodist-test-crossval-" + std::to_string(::getpid()));
  fs::create_directories(dir / "data");
  const std::vector<std::string> songs = {
      "60 _ 62 _ 64 _ _ _", "64 _ 62 _ 60 _ _ _", "60 _ _ _ 67 _ _ _ r _", "67 _ 65 _ 64 _ 62 _ 60 _ _ _",
      "62 _ 64 _ 65 _ 67 _", "60 62 64 _ 60 _ _ _", "r _ 64 _ 67 _ 72 _ _ _", "72 _ 67 _ 64 _ 60 _",
      "65 _ 64 _ 62 _ 60 _", "60 _ 60 _ 67 _ 67 _ 69 _ 69 _ 67 _ _ _"};
  int notes = 0;
  {
    std::ofstream out(dir / "data" / "songs.txt");
    for (const auto& s : songs) {
      out << s << "\n";
      std::istringstream in(s);
      std::string sym;
      while (in >> sym) notes += (sym != "_" && sym != "r");
    }
  }
  std::ofstream(dir / "data" / "mapping.json")
      << R"({"/": 0, "60": 1, "62": 2, "64": 3, "65": 4, "67": 5, "69": 6, "72": 7, "_": 8, "r": 9})";
  const fs::path log = dir / "out.json";
  ASSERT_EQ(run("crossval --data " + (dir / "data").string() + " --folds 3 --hidden 8 --epochs 2 --seq-len 16 --batch 4 "
                "--threads 1 --val-every 3 --json --out " + (dir / "cv").string(), log), 0)
      << slurp(log);
  const auto j = nlohmann::json::parse(slurp(log));
  ASSERT_EQ(j["folds"].size(), 3u);
  EXPECT_EQ(j["folds"][0]["test_songs"], 4);  // songs 1 4 7 10
  EXPECT_EQ(j["folds"][1]["test_songs"], 3);
  EXPECT_EQ(j["folds"][0]["train_songs"].get<int>() + j["folds"][0]["validation_songs"].get<int>(), 6);
  EXPECT_EQ(j["folds"][0]["validation_songs"], 2);  // every 3rd of the 6 training songs
  EXPECT_EQ(j["pooled"]["songs"], 10);
  EXPECT_EQ(j["pooled"]["notes"], notes);
  EXPECT_TRUE(fs::exists(dir / "cv" / "crossval.json"));
  for (const char* key : {"loss_nats_per_step", "pitch_bits_per_note", "bits_per_note", "accuracy"}) {
    const double mean = j["summary"][key]["mean"];
    EXPECT_GE(mean, j["summary"][key]["min"].get<double>());
    EXPECT_LE(mean, j["summary"][key]["max"].get<double>());
  }
  // Fold 2's saved model evaluated on fold 2's songs (2, 5, 8) gives fold 2's figures.
  fs::create_directories(dir / "fold2");
  fs::copy_file(dir / "data" / "mapping.json", dir / "fold2" / "mapping.json");
  std::ofstream(dir / "fold2" / "songs.txt") << songs[1] << "\n" << songs[4] << "\n" << songs[7] << "\n";
  ASSERT_EQ(run("evaluate --model " + (dir / "cv" / "fold-02").string() + " --data " + (dir / "fold2").string() +
                " --split all --json", log), 0)
      << slurp(log);
  const auto e = nlohmann::json::parse(slurp(log));
  for (const char* key : {"loss_nats_per_step", "pitch_bits_per_note", "bits_per_note", "accuracy", "steps"})
    EXPECT_NEAR(e[key].get<double>(), j["folds"][1]["test"][key].get<double>(), 1e-9) << key;
  // The same through `evaluate --split heldout` on the whole dataset (the model records its fold).
  ASSERT_EQ(run("evaluate --model " + (dir / "cv" / "fold-02").string() + " --data " + (dir / "data").string() +
                " --split heldout --json", log), 0)
      << slurp(log);
  const auto h = nlohmann::json::parse(slurp(log));
  for (const char* key : {"loss_nats_per_step", "pitch_bits_per_note", "songs", "steps"})
    EXPECT_NEAR(h[key].get<double>(), j["folds"][1]["test"][key].get<double>(), 1e-9) << key;
  // --split val: the fold's inner validation songs (fold 1, 1-based: every 3rd of songs 2 3 5 6 8 9 -> 5 and 9).
  ASSERT_EQ(run("evaluate --model " + (dir / "cv" / "fold-01").string() + " --data " + (dir / "data").string() +
                " --split val --json", log), 0)
      << slurp(log);
  EXPECT_EQ(nlohmann::json::parse(slurp(log))["songs"], 2);
  // A model that is not a fold model has no held-out split.
  const fs::path plain = dir / "plain";
  fs::create_directories(plain);
  ASSERT_EQ(run("train --data " + (dir / "data").string() + " --out " + plain.string() +
                " --hidden 8 --epochs 1 --seq-len 16 --batch 4 --threads 1", log), 0)
      << slurp(log);
  EXPECT_NE(run("evaluate --model " + plain.string() + " --data " + (dir / "data").string() + " --split heldout", log), 0);
  EXPECT_NE(slurp(log).find("not a crossval fold model"), std::string::npos) << slurp(log);

  // Dynamic evaluation: crossval reports it beside the static figures, and a fold's dynamic figures are
  // what `evaluate --split heldout` gives with the same options.
  ASSERT_EQ(run("crossval --data " + (dir / "data").string() + " --folds 3 --hidden 8 --epochs 2 --seq-len 16 --batch 4 "
                "--threads 1 --val-every 3 --json --dynamic-lr 0.3 --dynamic-segment 3 --out " + (dir / "cvd").string(), log), 0)
      << slurp(log);
  const auto d = nlohmann::json::parse(slurp(log));
  EXPECT_EQ(d["dynamic"]["lr"], 0.3);
  EXPECT_EQ(d["pooled_dynamic"]["songs"], 10);
  EXPECT_TRUE(d["summary_dynamic"]["pitch_bits_per_note"].contains("mean"));
  EXPECT_NEAR(d["pooled"]["loss_nats_per_step"].get<double>(), j["pooled"]["loss_nats_per_step"].get<double>(), 1e-12)
      << "the static figures do not depend on the dynamic options";
  EXPECT_NE(d["pooled_dynamic"]["loss_nats_per_step"].get<double>(), d["pooled"]["loss_nats_per_step"].get<double>());
  ASSERT_EQ(run("evaluate --model " + (dir / "cvd" / "fold-03").string() + " --data " + (dir / "data").string() +
                " --split heldout --dynamic-lr 0.3 --dynamic-segment 3 --json", log), 0)
      << slurp(log);
  const auto hd = nlohmann::json::parse(slurp(log));
  for (const char* key : {"loss_nats_per_step", "pitch_bits_per_note", "steps"})
    EXPECT_NEAR(hd[key].get<double>(), d["folds"][2]["test_dynamic"][key].get<double>(), 1e-9) << key;
  EXPECT_NE(run("evaluate --model " + (dir / "cvd" / "fold-03").string() + " --data " + (dir / "data").string() +
                " --dynamic-lr -1", log), 0);
  // --ensemble 2 --resume on the first run's folder: member 1 of every fold is that run's model, loaded
  // and not retrained; member 2 is trained with seed 2; the held-out figures are the mixture's, which
  // `evaluate` with both models gives too.
  ASSERT_EQ(run("crossval --data " + (dir / "data").string() + " --folds 3 --hidden 8 --epochs 2 --seq-len 16 --batch 4 "
                "--threads 1 --val-every 3 --json --ensemble 2 --resume --out " + (dir / "cv").string(), log), 0)
      << slurp(log);
  const auto en = nlohmann::json::parse(slurp(log));
  for (int f = 0; f < 3; ++f) {
    ASSERT_EQ(en["folds"][f]["members"].size(), 2u);
    EXPECT_EQ(en["folds"][f]["members"][0]["seed"], 1);
    EXPECT_EQ(en["folds"][f]["members"][1]["seed"], 2);
    EXPECT_EQ(en["folds"][f]["members"][0]["best_val_loss"].get<double>(), j["folds"][f]["best_val_loss"].get<double>());
  }
  EXPECT_TRUE(fs::exists(dir / "cv" / "fold-02-member-2" / "model.safetensors"));
  EXPECT_NE(en["pooled"]["loss_nats_per_step"].get<double>(), j["pooled"]["loss_nats_per_step"].get<double>());
  ASSERT_EQ(run("evaluate --model " + (dir / "cv" / "fold-02").string() + " --model " + (dir / "cv" / "fold-02-member-2").string() +
                " --data " + (dir / "data").string() + " --split heldout --json", log), 0)
      << slurp(log);
  const auto ee = nlohmann::json::parse(slurp(log));
  for (const char* key : {"loss_nats_per_step", "pitch_bits_per_note", "accuracy", "steps"})
    EXPECT_NEAR(ee[key].get<double>(), en["folds"][1]["test"][key].get<double>(), 1e-9) << key;
  EXPECT_NE(run("crossval --data " + (dir / "data").string() + " --folds 3 --resume", log), 0);
  EXPECT_NE(slurp(log).find("--resume needs --out"), std::string::npos) << slurp(log);
  EXPECT_NE(run("crossval --data " + (dir / "data").string() + " --folds 1", log), 0);
  EXPECT_NE(slurp(log).find("--folds must be at least 2"), std::string::npos) << slurp(log);
  fs::remove_all(dir);
}

}  // namespace
