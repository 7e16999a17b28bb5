// `melodist train` end to end on a hand-made tiny dataset (fixtures/train/tiny) and train_model as a
// library: clear errors, metrics.csv, resume equivalence (after a finished epoch and after a time-limit
// stop in the middle of an epoch), the time limit, corrupted checkpoints, the non-finite guard, and
// validation loss = the shared definition (score_songs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "formats/model_file.h"
#include "formats/safetensors.h"
#include "nn/song_score.h"
#include "nn/model.h"
#include "train/batching.h"
#include "train/checkpoint.h"
#include "preprocess/dataset.h"
#include "train/train.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "train_test_support.h"

namespace fs = std::filesystem;

namespace {

const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";
const std::string kSmall = " --hidden 16 --seq-len 8 --batch 4 --threads 2 --val-every 5";

using melodist_test::checkpoint_params;
using melodist_test::CliRun;
using melodist_test::mean_nats;
using melodist_test::to_model_ids;

fs::path scratch(const std::string& name) { return melodist_test::scratch_in("train", name); }

CliRun run(const std::string& args) { return melodist_test::run_melodist("train", "train " + args); }

void expect_error(const CliRun& r, const std::string& needle) { melodist_test::expect_one_line_error(r, {needle}); }

fs::path copy_dataset(const std::string& name) {
  fs::path d = scratch(name);
  fs::create_directories(d);
  for (auto f : {"songs.txt", "mapping.json", "manifest.json", "file_dataset"}) fs::copy_file(fs::path(kTiny) / f, d / f);
  return d;
}

// metrics.csv without the timing columns (tokens_per_second, elapsed_seconds).
std::string metrics_without_timing(const fs::path& dir) {
  std::ifstream in(dir / "metrics.csv");
  std::string line, out;
  while (std::getline(in, line)) {
    int commas = 0;
    size_t cut = line.size();
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == ',' && ++commas == 7) cut = i;
    out += line.substr(0, cut) + "\n";
  }
  return out;
}

TEST(Train, MissingDatasetIsAClearError) {
  expect_error(run("--data /nonexistent/dataset --out " + scratch("m").string()), "/nonexistent/dataset");
}

TEST(Train, EmptyDatasetIsAClearError) {
  fs::path d = copy_dataset("empty");
  std::ofstream(d / "songs.txt", std::ios::trunc);
  expect_error(run("--data " + d.string() + " --out " + scratch("m").string()), "holds no songs");
}

TEST(Train, MappingThatDoesNotMatchTheSongsIsAClearError) {
  fs::path d = copy_dataset("mismatch");
  std::ofstream(d / "mapping.json", std::ios::trunc) << "{\"/\": 0, \"_\": 1, \"60\": 2}\n";
  CliRun r = run("--data " + d.string() + " --out " + scratch("m").string());
  expect_error(r, "songs.txt:1: symbol \"62\" is not in");
}

TEST(Train, NonsenseSequenceLengthOrBatchIsAClearError) {
  expect_error(run("--data " + kTiny + " --out " + scratch("m").string() + " --seq-len 0"), "--seq-len 0 makes no sense");
  expect_error(run("--data " + kTiny + " --out " + scratch("m").string() + " --batch -3"), "--batch -3 makes no sense");
  expect_error(run("--data " + kTiny + " --out " + scratch("m").string() + " --seq-len 100000"), "fewer than one window");
}

TEST(Train, ForeignModelFolderIsAClearError) {
  fs::path m = scratch("foreign");
  fs::create_directories(m);
  std::ofstream(m / "notes.txt") << "my notes\n";
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 1"), "not a melodist model file");
  fs::remove(m / "notes.txt");
  std::ofstream(m / "model.safetensors") << "this is not a model";
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 1"), "model.safetensors");
  EXPECT_EQ(fs::file_size(m / "model.safetensors"), 19u);  // left alone
}

TEST(Train, WritesModelMetricsAndCheckpoint) {
  fs::path m = scratch("basic");
  CliRun r = run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 3 --about 'corpus=tiny fixture' --about licence=CC0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("val loss"), std::string::npos);
  EXPECT_NE(r.err.find("perplexity"), std::string::npos);
  EXPECT_NE(r.err.find("tokens/s"), std::string::npos);
  std::ifstream in(m / "metrics.csv");
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, melodist::kMetricsHeader);
  EXPECT_EQ(header, "epoch,step,partial,train_loss,val_loss,val_accuracy,val_perplexity,tokens_per_second,elapsed_seconds");
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 8) << line;
    EXPECT_EQ(line.rfind(std::to_string(rows) + ",", 0), 0u) << line;
  }
  EXPECT_EQ(rows, 3);
  const melodist::ModelFile file = melodist::load_model_file(m.string());
  const melodist::Model& model = file.model;
  const nlohmann::json& metadata = file.metadata;
  EXPECT_TRUE(fs::exists(m / "mapping.json"));
  EXPECT_EQ(metadata["validation"]["every"], 5);
  EXPECT_EQ(metadata["source"], "melodist train");
  EXPECT_NE(metadata["command"].get<std::string>().find("--epochs 3 --about 'corpus=tiny fixture' --about licence=CC0"),
            std::string::npos) << metadata["command"];
  EXPECT_EQ(metadata["about"], (nlohmann::json{{"corpus", "tiny fixture"}, {"licence", "CC0"}}));
  EXPECT_EQ(metadata["preprocessing"]["delimiter_length"], 8);
  EXPECT_TRUE(metadata["metrics"].contains("val_loss"));
  EXPECT_EQ(model.config.hidden_size, 16);
  // A second run into the same folder without --resume is refused (nothing is overwritten).
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 3"), "pass --resume");
  expect_error(run("--data " + kTiny + " --out " + (m / "x").string() + kSmall + " --about nokey"), "--about nokey: expected KEY=VALUE");
}

// With a constant rate --epochs only decides when to stop, so a run of 2 epochs resumed to 4 is the run of 4
// (with the cosine schedule, --epochs shapes the rate, and resuming to more epochs extends a finished run).
TEST(Train, ResumeReachesTheSameResultAsAnUninterruptedRun) {
  fs::path a = scratch("uninterrupted"), b = scratch("resumed");
  const std::string opts = kSmall + " --lr-schedule constant";
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + opts + " --epochs 4").status, 0);
  ASSERT_EQ(run("--data " + kTiny + " --out " + b.string() + opts + " --epochs 2").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + opts + " --epochs 4 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(checkpoint_params(a), checkpoint_params(b));
  EXPECT_EQ(melodist::load_model(a.string()).params, melodist::load_model(b.string()).params);
  EXPECT_EQ(metrics_without_timing(a), metrics_without_timing(b));
  // Other hyperparameters than the checkpoint's are refused.
  expect_error(run("--data " + kTiny + " --out " + b.string() + " --hidden 32 --seq-len 8 --batch 4 --val-every 5 --lr-schedule constant --epochs 5 --resume"),
               "other options");
}

TEST(Train, TimeLimitStopsAfterTheStepAndResumeContinuesMidEpoch) {
  fs::path a = scratch("full"), b = scratch("limited");
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + kSmall + " --epochs 2").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + kSmall + " --epochs 2 --time-limit 0.000001");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("time limit"), std::string::npos) << r.err;
  auto c = melodist::load_checkpoint((b / melodist::kCheckpointFileName).string());
  EXPECT_EQ(c.state.global_step, 1);  // the step that crossed the limit, and no more
  EXPECT_EQ(c.state.epoch, 0);
  EXPECT_EQ(c.state.step_in_epoch, 1);
  EXPECT_TRUE(fs::exists(b / "model.safetensors"));
  r = run("--data " + kTiny + " --out " + b.string() + kSmall + " --epochs 2 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(checkpoint_params(a), checkpoint_params(b));
}

TEST(Train, CorruptedOrTruncatedCheckpointIsAClearError) {
  fs::path m = scratch("corrupt");
  ASSERT_EQ(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 1").status, 0);
  const fs::path cp = m / melodist::kCheckpointFileName;
  std::string bytes = melodist::read_file(cp.string());
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x40;
  melodist::write_file_atomically(cp.string(), flipped);
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 2 --resume"), "checksum mismatch");
  melodist::write_file_atomically(cp.string(), bytes.substr(0, bytes.size() / 2));
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 2 --resume"), "checkpoint.safetensors");
  fs::remove(cp);
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 2 --resume"), "no checkpoint to resume from");
}

TEST(Train, NonFiniteLossStopsWithEpochAndStep) {
  fs::path m = scratch("diverge");
  CliRun r = run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 50 --lr 1e38 --clip 0");
  expect_error(r, "non-finite");
  EXPECT_NE(r.err.find("at epoch "), std::string::npos);
  EXPECT_NE(r.err.find(", step "), std::string::npos);
}

TEST(TrainLibrary, InMemorySplitAndValidationLossIsTheSharedDefinition) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  melodist::TrainOptions o;
  o.vocabulary = d.vocabulary;
  for (size_t i = 0; i < d.songs.size(); ++i) (i % 3 == 0 ? o.validation_songs : o.train_songs).push_back(d.songs[i]);
  o.delimiter_length = 8;
  o.hidden = 16, o.seq_len = 8, o.batch = 4, o.epochs = 6, o.threads = 1, o.verbose = false, o.lr = 0.01f;
  auto r = melodist::train_model(o);
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  EXPECT_LT(r.best_val_loss, r.history.front().val_loss + 1e-12);
  // The reported validation loss of the best epoch is score_songs' mean nats on the best model.
  auto scores = melodist::score_songs(r.best_model.model, o.validation_songs, true, false, 8);
  double nats = 0, steps = 0;
  for (const auto& s : scores) nats += s.total_nats(), steps += s.steps();
  EXPECT_NEAR(nats / steps, r.best_val_loss, 1e-9);
  EXPECT_EQ(r.best_model.metadata["validation"]["songs"], "explicit");
}

// The cosine schedule is a function of (epoch, step), so a run stopped mid-epoch resumes onto it
// exactly; it really lowers the rate (the result differs from a constant rate); bad names are refused.
TEST(Train, CosineScheduleResumesExactlyAndDiffersFromConstant) {
  fs::path a = scratch("cos-full"), b = scratch("cos-limited"), c = scratch("constant");
  const std::string opts = kSmall + " --epochs 2 --lr 0.01";
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + opts + " --lr-schedule cosine").status, 0);
  ASSERT_EQ(run("--data " + kTiny + " --out " + b.string() + opts + " --lr-schedule cosine --time-limit 0.000001").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + opts + " --lr-schedule cosine --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(checkpoint_params(a), checkpoint_params(b));
  ASSERT_EQ(run("--data " + kTiny + " --out " + c.string() + opts + " --lr-schedule constant").status, 0);
  EXPECT_NE(checkpoint_params(a), checkpoint_params(c));
  expect_error(run("--data " + kTiny + " --out " + scratch("bad").string() + opts + " --lr-schedule linear"), "--lr-schedule");
}

// A stateful epoch cut by the time limit used to resume its lanes from a zero state, so the resumed
// run drifted from the uninterrupted one; the carried state now travels in the checkpoint.
TEST(Train, StatefulAndSongWindowsResumeMidEpochExactly) {
  for (std::string mode : {"stateful", "songs"}) {
    fs::path a = scratch("full-" + mode), b = scratch("limited-" + mode);
    const std::string opts = kSmall + " --windows " + mode + " --epochs 2";
    ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + opts).status, 0);
    CliRun r = run("--data " + kTiny + " --out " + b.string() + opts + " --time-limit 0.000001");
    ASSERT_EQ(r.status, 0) << r.err;
    auto c = melodist::load_checkpoint((b / melodist::kCheckpointFileName).string());
    EXPECT_EQ(c.state.step_in_epoch, 1) << mode;
    EXPECT_EQ(c.state.carried.size(), 2u * 4 * 16) << mode;  // (L, 2, B, H)
    r = run("--data " + kTiny + " --out " + b.string() + opts + " --resume");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(checkpoint_params(a), checkpoint_params(b)) << mode;
    // b's metrics.csv has the partial epoch's row in front of the rows a has.
    std::string mb = metrics_without_timing(b);
    const size_t partial_row = mb.find("\n1,1,1,");
    ASSERT_NE(partial_row, std::string::npos) << mb;
    mb.erase(partial_row, mb.find('\n', partial_row + 1) - partial_row);
    EXPECT_EQ(metrics_without_timing(a), mb) << mode;
  }
}

// The songs schedule: every song's windows ceil((n + 1) / T) appear exactly once, in order, in one row
// on consecutive steps; a row takes a new song only when its current one has ended.
TEST(TrainBatching, SongScheduleCoversEverySongOnceInOrder) {
  std::vector<std::vector<int>> songs;
  for (int i = 0; i < 23; ++i) songs.push_back(std::vector<int>(1 + (i * 7) % 19, 1 + i % 5));
  const int T = 4, B = 3;
  auto plan = melodist::plan_song_epoch(songs, T, B, 7, 2);
  ASSERT_EQ(plan.row_song.size(), static_cast<size_t>(plan.steps) * B);
  std::vector<int> seen(songs.size(), 0);
  int64_t windows = 0;
  for (size_t i = 0; i < songs.size(); ++i) windows += (songs[i].size() + 1 + T - 1) / T;
  for (int b = 0; b < B; ++b) {
    int cur = -1, next_window = 0;
    for (int64_t k = 0; k < plan.steps; ++k) {
      const int s = plan.row_song[k * B + b], w = plan.row_window[k * B + b];
      if (s < 0) {
        EXPECT_TRUE(cur < 0 || next_window == static_cast<int>((songs[cur].size() + T) / T)) << "song left unfinished";
        cur = -1;
        continue;
      }
      if (s != cur) {
        if (cur >= 0) {
          EXPECT_EQ(next_window, static_cast<int>((songs[cur].size() + T) / T)) << "song " << cur << " cut";
        }
        EXPECT_EQ(w, 0);
        ++seen[s];
        cur = s, next_window = 0;
      }
      EXPECT_EQ(w, next_window++);
    }
  }
  for (size_t i = 0; i < songs.size(); ++i) EXPECT_EQ(seen[i], 1) << "song " << i;
  EXPECT_LE(plan.steps * B, windows + 2 * B);  // rows idle only at the end of the epoch
  // Same seed and epoch, same schedule; another epoch, another order.
  EXPECT_EQ(melodist::plan_song_epoch(songs, T, B, 7, 2).row_song, plan.row_song);
  EXPECT_NE(melodist::plan_song_epoch(songs, T, B, 7, 3).row_song, plan.row_song);
}

// --closing-weight: the targets from each song's last barline to its end "/" carry the weight, every other
// target 1; a song without a barline has no closing bar. Checked position by position against the
// targets fill_song_batch writes for the same rows.
TEST(TrainBatching, ClosingWeightsCoverEachSongsLastBarAndItsEnd) {
  const int bar = 1, count1 = 2, note = 3, delimiter = 0;
  const std::vector<bool> barline = {false, true, true, false};
  const std::vector<std::vector<int>> songs = {{note, bar, note, count1, note, note},  // closing bar from position 3
                                               {note, note, note},                     // no barline
                                               {count1, note}};                         // all of it
  const std::vector<int64_t> from = melodist::closing_bar_starts(songs, barline);
  EXPECT_EQ(from, (std::vector<int64_t>{3, 4, 0}));
  const int T = 3, B = 2;
  const auto plan = melodist::plan_song_epoch(songs, T, B, 5, 0);
  int weighted = 0;
  for (int64_t step = 0; step < plan.steps; ++step) {
    std::vector<int> tokens(T * B), targets(T * B);
    std::vector<unsigned char> starts(B);
    std::vector<float> weights(T * B, -1.0f);
    melodist::fill_song_batch(songs, plan, T, B, step, delimiter, 0, B, tokens.data(), targets.data(), starts.data());
    melodist::fill_closing_weights(from, plan, T, B, step, 0, B, 4.0f, weights.data());
    for (int r = 0; r < B; ++r) {
      const int s = plan.row_song[step * B + r];
      for (int t = 0; t < T; ++t) {
        const int i = t * B + r;
        if (targets[i] < 0) continue;  // padding: not scored
        const int64_t p = static_cast<int64_t>(plan.row_window[step * B + r]) * T + t;
        const bool closing = (s == 0 && p >= 3) || s == 2;
        EXPECT_EQ(weights[i], closing ? 4.0f : 1.0f) << "song " << s << " position " << p;
        weighted += closing;
      }
    }
  }
  EXPECT_EQ(weighted, 4 + 3);  // song 0: "|1" . . "/"; song 2: "|1" . "/"
}

// The weights reach training: --closing-weight 4 trains other weights than the plain run and is
// recorded; a vocabulary without barlines and shuffled windows are refused.
TEST(TrainLibrary, ClosingWeightChangesTrainingAndNeedsBarlines) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  auto options = [&](float weight, const fs::path& out) {
    melodist::TrainOptions o;
    o.vocabulary = d.vocabulary;
    o.vocabulary.push_back("|");
    const int bar = static_cast<int>(o.vocabulary.size()) - 1;
    for (size_t i = 0; i < d.songs.size(); ++i) {
      std::vector<int> song;
      for (size_t k = 0; k < d.songs[i].size(); ++k) {
        if (k > 0 && k % 8 == 0) song.push_back(bar);
        song.push_back(d.songs[i][k]);
      }
      (i % 3 == 0 ? o.validation_songs : o.train_songs).push_back(song);
    }
    o.delimiter_length = 8;
    o.hidden = 8, o.seq_len = 8, o.batch = 4, o.epochs = 2, o.threads = 1, o.verbose = false, o.lr = 0.01f;
    o.closing_weight = weight, o.out_dir = out.string();
    return o;
  };
  const fs::path plain = scratch("cw-plain"), four = scratch("cw-4");
  auto r1 = melodist::train_model(options(1, plain));
  auto r4 = melodist::train_model(options(4, four));
  EXPECT_FLOAT_EQ(r1.best_model.metadata["training"]["closing_weight"].get<float>(), 1.0f);
  EXPECT_NE(checkpoint_params(plain), checkpoint_params(four));
  EXPECT_FLOAT_EQ(r4.best_model.metadata["training"]["closing_weight"].get<float>(), 4.0f);
  melodist::TrainOptions no_bars = options(4, scratch("cw-nobars"));
  no_bars.vocabulary = d.vocabulary, no_bars.train_songs = d.songs, no_bars.validation_songs = {d.songs[0]};
  try {
    melodist::train_model(no_bars);
    ADD_FAILURE() << "a vocabulary without barlines was accepted";
  } catch (const melodist::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no barline symbols"), std::string::npos) << e.what();
  }
  melodist::TrainOptions shuffled = options(4, scratch("cw-shuffled"));
  shuffled.windows = melodist::WindowMode::shuffled;
  try {
    melodist::train_model(shuffled);
    ADD_FAILURE() << "--closing-weight with shuffled windows was accepted";
  } catch (const melodist::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--windows songs"), std::string::npos) << e.what();
  }
}

// The default training windows see exactly what validation scores: with dropout off and a learning
// rate too small to move any weight, the training loss of an epoch over the training songs equals the
// shared validation loss (score_songs: fresh state, delimiter_length "/", song + first "/") of those
// songs. Zero-state windows of the joined stream (the previous default) score other positions from
// other states and miss this by far.
TEST(TrainLibrary, SongWindowsTrainOnExactlyTheValidationObjective) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  melodist::TrainOptions o;
  o.vocabulary = d.vocabulary;
  for (size_t i = 0; i < d.songs.size(); ++i) (i % 3 == 0 ? o.validation_songs : o.train_songs).push_back(d.songs[i]);
  o.delimiter_length = 8;
  o.hidden = 16, o.seq_len = 8, o.batch = 4, o.epochs = 1, o.threads = 2, o.verbose = false;
  o.dropout = 0, o.lr = 1e-30f;
  auto score = [&](const melodist::Model& m) {
    auto scores = melodist::score_songs(m, o.train_songs, true, false, o.delimiter_length);
    double nats = 0, steps = 0;
    for (const auto& s : scores) nats += s.total_nats(), steps += s.steps();
    return nats / steps;
  };
  ASSERT_EQ(o.windows, melodist::WindowMode::songs) << "songs is the default";
  auto r = melodist::train_model(o);
  const double expected = score(r.best_model.model);
  EXPECT_NEAR(r.history[0].train_loss, expected, 1e-5 * expected);
  o.windows = melodist::WindowMode::shuffled;
  auto shuffled = melodist::train_model(o);
  EXPECT_GT(std::abs(shuffled.history[0].train_loss - expected), 1e-3) << "the check must be able to tell the schemes apart";
}

}  // namespace

namespace {

// ---- --init: training starts from an existing model's weights ----

// A model over the tiny dataset's symbols in another order (hard_sigmoid, 2 layers, every weight and
// bias perturbed so that a wrong row, column or bias entry changes the scores), saved to `dir`.
melodist::Model make_shuffled_init_model(const fs::path& dir, std::vector<std::string> vocabulary) {
  std::mt19937 rng(11);
  std::shuffle(vocabulary.begin(), vocabulary.end(), rng);
  melodist::ModelConfig cfg;
  cfg.vocab_size = static_cast<int>(vocabulary.size());
  cfg.hidden_size = 8;
  cfg.num_layers = 2;
  cfg.dropout = 0.1f;
  cfg.recurrent_activation = melodist::RecurrentActivation::hard_sigmoid;
  melodist::Model m = melodist::make_model(cfg, vocabulary, 7);
  std::uniform_real_distribution<float> noise(-0.5f, 0.5f);
  for (float& p : m.params) p += noise(rng);
  melodist::save_model({m, {{"source", "test model"}}}, dir.string());
  return m;
}

TEST(TrainInit, ReorderedModelComputesTheSameFunctionAndTrainingStartsFromIt) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  fs::path dir = scratch("init-model");
  melodist::Model original = make_shuffled_init_model(dir, d.vocabulary);
  ASSERT_NE(original.vocabulary, d.vocabulary) << "the shuffle must change the order";

  // Every song scored by the original model (in its ids) and by the reordered one (in the dataset's).
  melodist::Model reordered = melodist::reorder_vocabulary(original, d.vocabulary, dir.string());
  EXPECT_EQ(reordered.vocabulary, d.vocabulary);
  auto a = melodist::score_songs(original, to_model_ids(d.songs, d.vocabulary, original), true, false, 8);
  auto b = melodist::score_songs(reordered, d.songs, true, false, 8);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].steps(), b[i].steps());
    worst = std::max(worst, std::abs(a[i].total_nats() - b[i].total_nats()));
    for (size_t t = 0; t < a[i].steps(); ++t)
      EXPECT_EQ(original.vocabulary[a[i].argmax[t]], d.vocabulary[b[i].argmax[t]]) << "song " << i << " step " << t;
  }
  EXPECT_LT(worst, 1e-6) << "worst difference in nats per song: " << worst;

  // train_model with --init and a negligible rate: epoch 1's validation loss is the ORIGINAL model's
  // loss on the validation songs, so training started from its weights, in the right order, with its
  // shape and hard_sigmoid recurrent activation.
  melodist::TrainOptions o;
  o.data_dir = kTiny;
  o.val_every = 5;
  o.init_model_dir = dir.string();
  o.hidden = 0, o.layers = 0, o.seq_len = 8, o.batch = 4, o.epochs = 1, o.threads = 1, o.verbose = false, o.lr = 1e-30f;
  o.dropout = 0;
  auto r = melodist::train_model(o);
  std::vector<size_t> ti, vi;
  melodist::split_validation(d.songs.size(), 5, ti, vi);
  std::vector<std::vector<int>> train, val;
  for (size_t i : ti) train.push_back(d.songs[i]);
  for (size_t i : vi) val.push_back(d.songs[i]);
  const double expected = mean_nats(melodist::score_songs(original, to_model_ids(val, d.vocabulary, original), true, false, 8));
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_NEAR(r.history[0].val_loss, expected, 1e-6);
  // The training engine itself runs the model's network (hard_sigmoid gates): with song windows (the
  // validation objective, see SongWindowsTrainOnExactlyTheValidationObjective) and no dropout, epoch
  // 1's training loss is the original model's loss on the training songs.
  const double expected_train =
      mean_nats(melodist::score_songs(original, to_model_ids(train, d.vocabulary, original), true, false, 8));
  EXPECT_NEAR(r.history[0].train_loss, expected_train, 1e-5 * expected_train);
  EXPECT_EQ(r.best_model.model.config.hidden_size, 8);
  EXPECT_EQ(r.best_model.model.config.num_layers, 2);
  EXPECT_EQ(r.best_model.model.config.recurrent_activation, melodist::RecurrentActivation::hard_sigmoid);
  EXPECT_EQ(r.best_model.metadata["init"]["path"], fs::weakly_canonical(dir).string());
  EXPECT_EQ(r.best_model.metadata["init"]["source"], "test model");

  // A random init (no --init) gives a different loss, so the check above can fail.
  o.init_model_dir.clear();
  o.hidden = 8, o.layers = 2;
  EXPECT_GT(std::abs(melodist::train_model(o).history[0].val_loss - expected), 1e-3);
}

TEST(TrainInit, ModelWhoseVocabularyDiffersFromTheDatasetIsRefused) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  const std::string opts = " --seq-len 8 --batch 4 --val-every 5 --epochs 1 --threads 1";
  // Lacks "69" (has "71" instead): names the missing symbol.
  std::vector<std::string> lacking = d.vocabulary;
  std::replace(lacking.begin(), lacking.end(), std::string("69"), std::string("71"));
  fs::path m1 = scratch("init-lacking");
  make_shuffled_init_model(m1, lacking);
  fs::path out = scratch("init-lacking-out");
  expect_error(run("--data " + kTiny + " --init " + m1.string() + " --out " + out.string() + opts), "has no symbol \"69\"");
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  // With --add-symbols the missing "69" is added: the run trains over the model's symbols and "69".
  const auto added = run("--data " + kTiny + " --init " + m1.string() + " --add-symbols --out " + out.string() + opts);
  ASSERT_EQ(added.status, 0) << added.err;
  const melodist::ModelFile grown = melodist::load_model_file(out.string());
  EXPECT_EQ(grown.model.vocabulary.size(), lacking.size() + 1);
  EXPECT_NE(std::find(grown.model.vocabulary.begin(), grown.model.vocabulary.end(), "69"), grown.model.vocabulary.end());
  EXPECT_EQ(grown.metadata["init"].value("add_symbols", false), true);
  expect_error(run("--data " + kTiny + " --add-symbols --out " + scratch("add-no-init").string() + opts), "--add-symbols adds symbols to the --init model");
  // One symbol more than the dataset is accepted: the run trains over the model's vocabulary (see
  // tests/test_train_pretrained.cpp).
  std::vector<std::string> extra = d.vocabulary;
  extra.push_back("71");
  fs::path m2 = scratch("init-extra");
  make_shuffled_init_model(m2, extra);
  fs::path out2 = scratch("init-extra-out");
  CliRun r2 = run("--data " + kTiny + " --init " + m2.string() + " --out " + out2.string() + opts);
  EXPECT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(melodist::load_model(out2.string()).vocabulary.size(), extra.size());
  // A shape that contradicts the model's.
  fs::path m3 = scratch("init-ok");
  make_shuffled_init_model(m3, d.vocabulary);
  expect_error(run("--data " + kTiny + " --init " + m3.string() + " --out " + out.string() + opts + " --hidden 32"),
               "--hidden 32 contradicts the 8 units");
  expect_error(run("--data " + kTiny + " --init " + (out / "nothing").string() + " --out " + out.string() + opts), "nothing");
}

TEST(TrainInit, EndToEndWritesAModelNamingTheInitAndResumes) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  fs::path init = scratch("init-e2e-model");
  make_shuffled_init_model(init, d.vocabulary);
  fs::path out = scratch("init-e2e-out");
  const std::string opts = " --seq-len 8 --batch 4 --val-every 5 --threads 2";
  CliRun r = run("--data " + kTiny + " --init " + init.string() + " --out " + out.string() + opts + " --epochs 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("starting from"), std::string::npos) << r.err;
  const melodist::ModelFile file = melodist::load_model_file(out.string());
  const melodist::Model& m = file.model;
  EXPECT_EQ(file.metadata["init"]["path"], fs::weakly_canonical(init).string());
  EXPECT_EQ(file.metadata["init"]["source"], "test model");
  EXPECT_EQ(m.vocabulary, d.vocabulary);
  EXPECT_EQ(m.config.hidden_size, 8);
  EXPECT_EQ(m.config.recurrent_activation, melodist::RecurrentActivation::hard_sigmoid);
  // Resuming continues from the run's own checkpoint, with or without the same --init (even once the
  // init model is gone); another --init is refused.
  fs::path other = scratch("init-e2e-other");
  make_shuffled_init_model(other, d.vocabulary);
  expect_error(run("--data " + kTiny + " --init " + other.string() + " --out " + out.string() + opts + " --epochs 2 --resume"),
               "resume with that --init or without one");
  r = run("--data " + kTiny + " --init " + init.string() + " --out " + out.string() + opts + " --epochs 2 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  fs::remove_all(init);
  r = run("--data " + kTiny + " --out " + out.string() + opts + " --epochs 3 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(melodist::load_checkpoint((out / melodist::kCheckpointFileName).string()).state.epoch, 3);
  EXPECT_EQ(melodist::load_model_file(out.string()).metadata["init"]["source"], "test model");
  // A run that did not start from --init cannot be resumed with one.
  fs::path plain = scratch("init-e2e-plain");
  ASSERT_EQ(run("--data " + kTiny + " --out " + plain.string() + kSmall + " --epochs 1").status, 0);
  expect_error(run("--data " + kTiny + " --init " + other.string() + " --out " + plain.string() + kSmall + " --epochs 2 --resume"),
               "did not start from --init");
}

}  // namespace

namespace {

// import-keras writes a model folder without a checkpoint; `train --resume` into that folder fine-tunes
// the model in place (issue 7), starting from its weights.
TEST(TrainInit, ResumeOnAModelFolderWithoutCheckpointFineTunesItInPlace) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  fs::path dir = scratch("resume-in-place");
  make_shuffled_init_model(dir, d.vocabulary);
  const std::string opts = " --seq-len 8 --batch 4 --val-every 5 --threads 2";
  CliRun r = run("--data " + kTiny + " --out " + dir.string() + opts + " --epochs 1 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("starting from"), std::string::npos) << r.err;
  const melodist::ModelFile file = melodist::load_model_file(dir.string());
  const melodist::Model& m = file.model;
  EXPECT_EQ(file.metadata["init"]["source"], "test model");
  EXPECT_EQ(m.config.recurrent_activation, melodist::RecurrentActivation::hard_sigmoid);
  EXPECT_TRUE(fs::exists(dir / melodist::kCheckpointFileName));
  // From now on the folder holds a run: --resume continues it from its checkpoint.
  r = run("--data " + kTiny + " --out " + dir.string() + opts + " --epochs 2 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(melodist::load_checkpoint((dir / melodist::kCheckpointFileName).string()).state.epoch, 2);
}

}  // namespace

// --ema: the checkpoint's average is the hand-computed d-weighted average of the raw weights after each
// step (raw trajectories from runs without --ema, which the average must not change), with the
// warm-up decay d_t = min(ema, (1 + t) / (10 + t)); validation and the saved model use the average.
TEST(TrainLibrary, WeightAverageIsTheHandComputedAverageAndIsWhatIsValidated) {
  melodist::TrainingData d = melodist::load_training_data(kTiny);
  auto options = [&](float ema, int epochs, const fs::path& out) {
    melodist::TrainOptions o;
    o.vocabulary = d.vocabulary;
    for (size_t i = 0; i < d.songs.size(); ++i) (i % 3 == 0 ? o.validation_songs : o.train_songs).push_back(d.songs[i]);
    o.delimiter_length = 8;
    // seq_len longer than every song and batch above the song count: one optimizer step per epoch
    o.hidden = 8, o.seq_len = 32, o.batch = 32, o.epochs = epochs, o.threads = 1, o.verbose = false, o.lr = 0.01f;
    o.ema = ema, o.out_dir = out.string();
    o.lr_schedule = "constant";  // runs of 1, 2 and 3 epochs follow one trajectory
    return o;
  };
  std::vector<std::vector<float>> raw;  // raw[t]: the weights after t steps
  {
    melodist::TrainOptions o = options(0, 1, scratch("ema-p0"));
    raw.push_back(melodist::make_model(melodist::ModelConfig{static_cast<int>(o.vocabulary.size()), 8, 1},
                                       o.vocabulary, o.seed).params);
  }
  for (int e = 1; e <= 3; ++e) {
    fs::path out = scratch("ema-raw-" + std::to_string(e));
    melodist::train_model(options(0, e, out));
    raw.push_back(checkpoint_params(out));
  }
  fs::path out = scratch("ema-run");
  const float decay = 0.2f;  // step 1 takes the warm-up's 2/11, steps 2 and 3 the cap 0.2: both regimes
  auto r = melodist::train_model(options(decay, 3, out));
  const melodist::Checkpoint c = melodist::load_checkpoint((out / melodist::kCheckpointFileName).string());
  EXPECT_EQ(c.state.params, raw[3]) << "the average must not change the training trajectory";
  ASSERT_EQ(c.state.ema.size(), raw[0].size());
  double worst = 0;
  for (size_t i = 0; i < raw[0].size(); ++i) {
    double a = raw[0][i];
    for (int t = 1; t <= 3; ++t) {
      const double dt = std::min<double>(decay, (1.0 + t) / (10.0 + t));
      a = dt * a + (1 - dt) * raw[t][i];
    }
    worst = std::max(worst, std::abs(a - c.state.ema[i]) / (std::abs(a) + 1e-3));
  }
  std::printf("worst relative difference of the weight average: %.3g\n", worst);
  EXPECT_LT(worst, 1e-5);
  // The reported validation loss is the shared definition on the averaged weights, which is what is saved.
  const melodist::TrainOptions o = options(decay, 3, out);
  EXPECT_NEAR(mean_nats(melodist::score_songs(r.best_model.model, o.validation_songs, true, false, 8)),
              r.history[r.best_epoch - 1].val_loss, 1e-9);
  if (r.best_epoch == 3) {
    EXPECT_EQ(r.best_model.model.params, c.state.ema);
  }
  EXPECT_EQ(r.best_model.metadata["training"]["ema"].get<float>(), decay);
}

TEST(Train, WeightAverageResumesExactlyAndBadDecayIsRefused) {
  fs::path a = scratch("ema-full"), b = scratch("ema-limited");
  const std::string opts = kSmall + " --epochs 2 --lr 0.01 --ema 0.9";
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + opts).status, 0);
  ASSERT_EQ(run("--data " + kTiny + " --out " + b.string() + opts + " --time-limit 0.000001").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + opts + " --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(melodist::load_checkpoint((a / melodist::kCheckpointFileName).string()).state.ema,
            melodist::load_checkpoint((b / melodist::kCheckpointFileName).string()).state.ema);
  expect_error(run("--data " + kTiny + " --out " + scratch("ema-bad").string() + kSmall + " --ema 1"), "--ema");
}

// The schedule by hand: halfway through the epochs the factor is 0.1 + 0.9 x 0.5 = 0.55.
TEST(TrainSchedule, CosineByHand) {
  EXPECT_DOUBLE_EQ(melodist::cosine_lr_factor(0), 1.0);
  EXPECT_NEAR(melodist::cosine_lr_factor(0.5), 0.55, 1e-12);
  EXPECT_NEAR(melodist::cosine_lr_factor(1), 0.1, 1e-12);
  EXPECT_NEAR(melodist::schedule_progress(4, 5, 10, 10), 0.45, 1e-12);  // (4 + 5/10) / 10
  EXPECT_DOUBLE_EQ(melodist::schedule_progress(9, 10, 10, 10), 1.0);
}

// --weight-drop: recorded, changes the trajectory, resumes exactly mid-epoch, bad values refused.
TEST(Train, WeightDropResumesExactlyAndChangesTraining) {
  fs::path a = scratch("wd-full"), b = scratch("wd-limited"), c = scratch("wd-off");
  const std::string opts = kSmall + " --epochs 2 --lr 0.01";
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + opts + " --weight-drop 0.3").status, 0);
  ASSERT_EQ(run("--data " + kTiny + " --out " + b.string() + opts + " --weight-drop 0.3 --time-limit 0.000001").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + opts + " --weight-drop 0.3 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(checkpoint_params(a), checkpoint_params(b));
  ASSERT_EQ(run("--data " + kTiny + " --out " + c.string() + opts).status, 0);
  EXPECT_NE(checkpoint_params(a), checkpoint_params(c));
  const melodist::ModelFile m = melodist::load_model_file((a / "model.safetensors").string());
  EXPECT_FLOAT_EQ(m.metadata["training"]["weight_drop"].get<float>(), 0.3f);
  expect_error(run("--data " + kTiny + " --out " + scratch("wd-bad").string() + opts + " --weight-drop 1"), "--weight-drop");
}
