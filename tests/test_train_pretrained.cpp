// Fine-tuning from a model pretrained on a LARGER vocabulary (issue 6: pretraining on the other German
// songs, then kinder): `train --init` and `crossval --init` with a model whose vocabulary holds every
// dataset symbol and more train over the model's vocabulary (the dataset's ids remapped into it), and
// crossval scores the held-out folds in that vocabulary; a dataset symbol the model lacks is a one-line
// error naming the model folder and the symbol.
//
// The pretrained model is trained here for one short epoch on fixtures/train/tiny-plus (tiny's songs
// and 3 songs with "71", which fixtures/train/tiny lacks).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "evaluate/crossval.h"
#include "formats/model_file.h"
#include "preprocess/dataset.h"
#include "evaluate/metrics.h"
#include "nn/song_score.h"
#include "nn/model.h"
#include "train/checkpoint.h"
#include "train/init_model.h"
#include "train/train.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "train_test_support.h"

namespace fs = std::filesystem;

namespace {

const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";
const std::string kTinyPlus = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny-plus";
const std::string kOpts = " --seq-len 8 --batch 4 --val-every 5 --threads 1";

using melodist_test::CliRun;
using melodist_test::slurp;

fs::path scratch(const std::string& name) { return melodist_test::scratch_in("pretrained", name); }

CliRun run(const std::string& args) { return melodist_test::run_melodist("pretrained", args); }

void expect_error(const CliRun& r, const std::vector<std::string>& needles) { melodist_test::expect_one_line_error(r, needles); }

// A small model trained for one epoch on `data` (written once per test binary run, reused).
fs::path pretrained(const std::string& name, const std::string& data) {
  static std::map<std::string, fs::path> made;
  if (made.count(name)) return made[name];
  fs::path dir = scratch(name);
  CliRun r = run("train --data " + data + " --out " + dir.string() + " --hidden 8 --epochs 1 --seed 3" + kOpts);
  EXPECT_EQ(r.status, 0) << r.err;
  return made[name] = dir;
}

// reorder_vocabulary with a fresh network: the model's symbols keep their rows and columns (in the new
// ids), a new symbol takes the fresh network's, every other tensor is the model's.
TEST(TrainingVocabulary, AddedSymbolsTakeFreshWeightsTheOthersKeepTheirs) {
  melodist::ModelConfig c;
  c.hidden_size = 3;
  c.num_layers = 2;
  c.vocab_size = 3;
  const melodist::Model old = melodist::make_model(c, {"/", "60", "_"}, 1);
  const std::vector<std::string> grown = {"_", "/", "$", "60"};
  c.vocab_size = 4;
  const melodist::Model fresh = melodist::make_model(c, grown, 2);
  const melodist::Model m = melodist::reorder_vocabulary(old, grown, "m", &fresh);
  EXPECT_EQ(m.vocabulary, grown);
  const auto a = melodist::parameter_views(old.config, const_cast<float*>(old.params.data()));
  const auto f = melodist::parameter_views(fresh.config, const_cast<float*>(fresh.params.data()));
  const auto b = melodist::parameter_views(m.config, const_cast<float*>(m.params.data()));
  const size_t H = 3, G = 12;
  const int from[4] = {2, 0, -1, 1};  // new id -> old id
  for (size_t i = 0; i < 4; ++i)
    for (size_t g = 0; g < G; ++g) {
      const float* want = from[i] < 0 ? f.lstm[0].w_x + i * G : a.lstm[0].w_x + static_cast<size_t>(from[i]) * G;
      EXPECT_EQ(b.lstm[0].w_x[i * G + g], want[g]) << i << " " << g;
    }
  for (size_t i = 0; i < 4; ++i) {
    for (size_t h = 0; h < H; ++h)
      EXPECT_EQ(b.w_y[h * 4 + i], from[i] < 0 ? f.w_y[h * 4 + i] : a.w_y[h * 3 + static_cast<size_t>(from[i])]);
    EXPECT_EQ(b.b_y[i], from[i] < 0 ? f.b_y[i] : a.b_y[static_cast<size_t>(from[i])]);
  }
  for (size_t k = 0; k < H * G; ++k) EXPECT_EQ(b.lstm[0].w_h[k], a.lstm[0].w_h[k]);
  for (size_t k = 0; k < H * G; ++k) EXPECT_EQ(b.lstm[1].w_x[k], a.lstm[1].w_x[k]);
  // Without a fresh network, or with a symbol of the model the vocabulary lacks: refused.
  EXPECT_THROW(melodist::reorder_vocabulary(old, grown, "m"), melodist::Error);
  const melodist::Model other = melodist::make_model(c, {"_", "/", "$", "62"}, 2);
  EXPECT_THROW(melodist::reorder_vocabulary(old, other.vocabulary, "m", &other), melodist::Error);
}

TEST(TrainingVocabulary, SameSymbolsKeepTheDatasetOrderMoreKeepTheModelsFewerAreRefused) {
  const std::vector<std::string> dataset = {"/", "_", "60", "62"};
  EXPECT_EQ(melodist::training_vocabulary({"62", "/", "60", "_"}, dataset, "m"), dataset);
  const std::vector<std::string> bigger = {"62", "/", "64", "60", "_"};
  EXPECT_EQ(melodist::training_vocabulary(bigger, dataset, "m"), bigger);
  try {
    melodist::training_vocabulary({"/", "_", "60"}, dataset, "some/model");
    FAIL() << "a model lacking \"62\" must be refused";
  } catch (const melodist::Error& e) {
    EXPECT_NE(std::string(e.what()).find("some/model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("has no symbol \"62\""), std::string::npos) << e.what();
  }
  // --add-symbols: the model's vocabulary, then the dataset's symbols it lacks.
  EXPECT_EQ(melodist::training_vocabulary({"/", "_", "60"}, dataset, "m", true), (std::vector<std::string>{"/", "_", "60", "62"}));
  EXPECT_EQ(melodist::training_vocabulary(bigger, dataset, "m", true), bigger);
  // Songs in the dataset's ids -> the bigger vocabulary's, by symbol: "60 _ 62" = ids 2 1 3 -> 3 4 0.
  EXPECT_EQ(melodist::remap_songs({{2, 1, 3}}, dataset, bigger, "m"), (std::vector<std::vector<int>>{{3, 4, 0}}));
  EXPECT_THROW(melodist::remap_songs({{3}}, dataset, {"/", "_", "60"}, "m"), melodist::Error);
}

// With a negligible rate and no dropout, epoch 1's validation loss of `train --init BIGGER` on tiny is
// the pretrained model's own loss on those validation songs in ITS ids: training ran the pretrained
// network, over its vocabulary, on the right symbols.
TEST(TrainPretrained, InitFromALargerVocabularyTrainsOverTheModelsVocabulary) {
  const fs::path init = pretrained("plus-model", kTinyPlus);
  const melodist::Model original = melodist::load_model(init.string());
  const melodist::TrainingData d = melodist::load_training_data(kTiny);
  ASSERT_EQ(original.vocabulary.size(), d.vocabulary.size() + 1);
  ASSERT_GE(original.symbol_id("71"), 0);

  melodist::TrainOptions o;
  o.data_dir = kTiny;
  o.val_every = 5;
  o.init_model_dir = init.string();
  o.hidden = 0, o.layers = 0, o.seq_len = 8, o.batch = 4, o.epochs = 1, o.threads = 1, o.verbose = false;
  o.lr = 1e-30f, o.dropout = 0;
  auto r = melodist::train_model(o);
  EXPECT_EQ(r.best_model.model.vocabulary, original.vocabulary);
  std::vector<size_t> ti, vi;
  melodist::split_validation(d.songs.size(), 5, ti, vi);
  std::vector<std::vector<int>> train, val;
  for (size_t i : ti) train.push_back(d.songs[i]);
  for (size_t i : vi) val.push_back(d.songs[i]);
  const double expected_val = melodist_test::mean_nats(melodist::score_songs(original, melodist_test::to_model_ids(val, d.vocabulary, original), true, false, 8));
  const double expected_train = melodist_test::mean_nats(melodist::score_songs(original, melodist_test::to_model_ids(train, d.vocabulary, original), true, false, 8));
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_NEAR(r.history[0].val_loss, expected_val, 1e-6);
  EXPECT_NEAR(r.history[0].train_loss, expected_train, 1e-5 * expected_train);
  // The same songs in the DATASET's ids under the pretrained model are other symbols: a different loss,
  // so the check above can fail.
  EXPECT_GT(std::abs(melodist_test::mean_nats(melodist::score_songs(original, val, true, false, 8)) - expected_val), 1e-3);
}

TEST(TrainPretrained, CliInitFromALargerVocabularyWritesItAndResumes) {
  const fs::path init = pretrained("plus-model", kTinyPlus);
  const melodist::Model original = melodist::load_model(init.string());
  fs::path out = scratch("fine-tuned");
  CliRun r = run("train --data " + kTiny + " --init " + init.string() + " --out " + out.string() + kOpts + " --epochs 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("training over the model's"), std::string::npos) << r.err;
  const melodist::ModelFile m = melodist::load_model_file(out.string());
  EXPECT_EQ(m.model.vocabulary, original.vocabulary);
  EXPECT_EQ(m.metadata["init"]["path"], fs::weakly_canonical(init).string());
  // The run's checkpoint holds the model's vocabulary; --resume continues it over that vocabulary.
  r = run("train --data " + kTiny + " --out " + out.string() + kOpts + " --epochs 2 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(melodist::load_checkpoint((out / melodist::kCheckpointFileName).string()).state.epoch, 2);
  EXPECT_EQ(melodist::load_model(out.string()).vocabulary, original.vocabulary);
}

// A pretrained model made on another step grid than the dataset's is most likely a mistake (the hold
// "_" stands for another length): a warning, not an error.
TEST(TrainPretrained, ModelOfAnotherStepGridIsWarnedAbout) {
  const fs::path init = pretrained("plus-model", kTinyPlus);
  fs::path data = scratch("twelfths");
  fs::create_directories(data);
  for (auto f : {"songs.txt", "mapping.json"}) fs::copy_file(fs::path(kTiny) / f, data / f);
  auto manifest = nlohmann::json::parse(slurp(fs::path(kTiny) / "manifest.json"));
  ASSERT_EQ(manifest["options"]["step"], "1/4");
  manifest["options"]["step"] = "1/12";
  melodist::write_file_atomically((data / "manifest.json").string(), manifest.dump(2));
  CliRun r = run("train --data " + data.string() + " --init " + init.string() + " --out " + scratch("tw").string() + kOpts +
                 " --epochs 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning: the --init model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"1/12\""), std::string::npos) << r.err;
  r = run("train --data " + kTiny + " --init " + init.string() + " --out " + scratch("same").string() + kOpts + " --epochs 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST(TrainPretrained, DatasetSymbolTheModelLacksIsAOneLineErrorNamingModelAndSymbol) {
  const fs::path small = pretrained("tiny-model", kTiny);  // no "71"
  expect_error(run("train --data " + kTinyPlus + " --init " + small.string() + " --out " + scratch("x").string() + kOpts +
                   " --epochs 1"),
               {small.string(), "has no symbol \"71\""});
  EXPECT_FALSE(fs::exists(scratch("x") / "model.safetensors"));
  expect_error(run("crossval --data " + kTinyPlus + " --folds 2 --init " + small.string() + kOpts + " --epochs 1"),
               {small.string(), "has no symbol \"71\""});
}

// crossval --init BIGGER: every fold model is the pretrained vocabulary, and each fold's held-out
// figures are exactly what `evaluate` (which maps a dataset's symbols to the model's ids by name) gives
// for that fold model on the fold's songs: pitch bits renormalised over the model's pitch symbols, "71"
// included.
TEST(CrossvalPretrained, FoldsFineTuneFromTheModelAndScoreInItsVocabulary) {
  const fs::path init = pretrained("plus-model", kTinyPlus);
  const melodist::Model original = melodist::load_model(init.string());
  fs::path cv = scratch("cv");
  CliRun r = run("crossval --data " + kTiny + " --folds 2 --init " + init.string() + " --out " + cv.string() + kOpts +
                 " --epochs 1 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const melodist::DatasetSongs text = melodist::read_dataset_songs(kTiny);
  for (int fold = 1; fold <= 2; ++fold) {
    const fs::path dir = cv / (fold == 1 ? "fold-01" : "fold-02");
    const melodist::ModelFile file = melodist::load_model_file(dir.string());
    const melodist::Model& m = file.model;
    EXPECT_EQ(m.vocabulary, original.vocabulary) << fold;
    EXPECT_EQ(m.config.hidden_size, 8) << "the network comes from the --init model";
    EXPECT_EQ(file.metadata["init"]["path"], fs::weakly_canonical(init).string());
    std::vector<std::vector<int>> held;
    for (size_t i : melodist::fold_indices(text.songs.size(), 2, fold))
      held.push_back(melodist::song_ids(m, text.songs[i], "songs.txt", text.lines[i]));
    const melodist::EvaluationMetrics e = melodist::evaluate_songs(m, held);
    const auto& t = j["folds"][fold - 1]["test"];
    EXPECT_NEAR(t["pitch_bits_per_note"].get<double>(), e.pitch_bits_per_note, 1e-9) << fold;
    EXPECT_NEAR(t["loss_nats_per_step"].get<double>(), e.loss_nats_per_step, 1e-9) << fold;
    EXPECT_EQ(t["notes"].get<size_t>(), e.notes) << fold;
  }
  // Every song held out once: the pooled notes are all the notes of tiny.
  size_t notes = 0;
  for (const auto& s : text.songs)
    for (const auto& sym : s) notes += melodist::symbol_kind(sym) == melodist::SymbolKind::note;
  EXPECT_EQ(j["pooled"]["notes"].get<size_t>(), notes);
}

}  // namespace
