// `melodist train` end to end on a hand-made tiny dataset (fixtures/train/tiny) and train_model as a
// library: clear errors, metrics.csv, resume equivalence (after a finished epoch and after a time-limit
// stop in the middle of an epoch), the time limit, corrupted checkpoints, the non-finite guard, and
// validation loss = the shared definition (score_songs).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "formats/safetensors.h"
#include "generate/song_score.h"
#include "nn/model.h"
#include "train/batching.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/train.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace {

const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";
const std::string kSmall = " --hidden 16 --seq-len 8 --batch 4 --threads 2 --val-every 5";

struct CliRun {
  int status;
  std::string err;
};

fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("melodist-test-train-" + std::to_string(::getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p;
}

CliRun run(const std::string& args) {
  fs::path err = scratch("stderr.txt");
  std::string cmd = std::string(MELODIST_BINARY) + " train " + args + " 2> " + err.string() + " > /dev/null";
  int rc = std::system(cmd.c_str());
  std::ifstream in(err);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WEXITSTATUS(rc), ss.str()};
}

void expect_error(const CliRun& r, const std::string& needle) {
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("melodist: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected \"" << needle << "\" in: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected: " << r.err;
}

fs::path copy_dataset(const std::string& name) {
  fs::path d = scratch(name);
  fs::create_directories(d);
  for (auto f : {"songs.txt", "mapping.json", "manifest.json", "file_dataset"}) fs::copy_file(fs::path(kTiny) / f, d / f);
  return d;
}

std::vector<float> checkpoint_params(const fs::path& dir) {
  return melodist::load_checkpoint((dir / melodist::kCheckpointFileName).string()).params;
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
  CliRun r = run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 3");
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
  melodist::Model model = melodist::load_model(m.string());
  EXPECT_TRUE(fs::exists(m / "mapping.json"));
  EXPECT_EQ(model.metadata["validation"]["every"], 5);
  EXPECT_EQ(model.metadata["source"], "melodist train");
  EXPECT_NE(model.metadata["command"].get<std::string>().find("--epochs 3"), std::string::npos);
  EXPECT_EQ(model.metadata["preprocessing"]["delimiter_length"], 8);
  EXPECT_TRUE(model.metadata["metrics"].contains("val_loss"));
  EXPECT_EQ(model.config.hidden_size, 16);
  // A second run into the same folder without --resume is refused (nothing is overwritten).
  expect_error(run("--data " + kTiny + " --out " + m.string() + kSmall + " --epochs 3"), "pass --resume");
}

TEST(Train, ResumeReachesTheSameResultAsAnUninterruptedRun) {
  fs::path a = scratch("uninterrupted"), b = scratch("resumed");
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + kSmall + " --epochs 4").status, 0);
  ASSERT_EQ(run("--data " + kTiny + " --out " + b.string() + kSmall + " --epochs 2").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + kSmall + " --epochs 4 --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(checkpoint_params(a), checkpoint_params(b));
  EXPECT_EQ(melodist::load_model(a.string()).params, melodist::load_model(b.string()).params);
  EXPECT_EQ(metrics_without_timing(a), metrics_without_timing(b));
  // Other hyperparameters than the checkpoint's are refused.
  expect_error(run("--data " + kTiny + " --out " + b.string() + " --hidden 32 --seq-len 8 --batch 4 --val-every 5 --epochs 5 --resume"),
               "other options");
}

TEST(Train, TimeLimitStopsAfterTheStepAndResumeContinuesMidEpoch) {
  fs::path a = scratch("full"), b = scratch("limited");
  ASSERT_EQ(run("--data " + kTiny + " --out " + a.string() + kSmall + " --epochs 2").status, 0);
  CliRun r = run("--data " + kTiny + " --out " + b.string() + kSmall + " --epochs 2 --time-limit 0.000001");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("time limit"), std::string::npos) << r.err;
  auto c = melodist::load_checkpoint((b / melodist::kCheckpointFileName).string());
  EXPECT_EQ(c.state["global_step"], 1);  // the step that crossed the limit, and no more
  EXPECT_EQ(c.state["epoch"], 0);
  EXPECT_EQ(c.state["step_in_epoch"], 1);
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
  auto scores = melodist::score_songs(r.best_model, o.validation_songs, true, false, 8);
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
  ASSERT_EQ(run("--data " + kTiny + " --out " + c.string() + opts).status, 0);
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
    EXPECT_EQ(c.state["step_in_epoch"], 1) << mode;
    EXPECT_EQ(c.carried.size(), 2u * 4 * 16) << mode;  // (L, 2, B, H)
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
  const double expected = score(r.best_model);
  EXPECT_NEAR(r.history[0].train_loss, expected, 1e-5 * expected);
  o.windows = melodist::WindowMode::shuffled;
  auto shuffled = melodist::train_model(o);
  EXPECT_GT(std::abs(shuffled.history[0].train_loss - expected), 1e-3) << "the check must be able to tell the schemes apart";
}

}  // namespace
