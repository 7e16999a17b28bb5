// Transposition augmentation (train/augment.h, `train --augment-transpose N`): the shift tables and
// allowed offsets on a hand-worked vocabulary, the per-epoch draw (deterministic, uniform over the
// allowed offsets), the trainer training on exactly the shifted songs while validation stays
// untouched, and the CLI end to end (recorded in the metadata, resumed identically, passed through by
// crossval).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "formats/model_file.h"
#include "nn/song_score.h"
#include "nn/model.h"
#include "train/augment.h"
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

// Ids:          0    1    2    3     4     5     6     7     8
const std::vector<std::string> kVocab = {"/", "_", "r", "60", "61", "62", "63", "64", "67"};
// Hand-worked allowed offsets for N = 2 (a shift must land every pitch of the song on 60..64 or 67):
//   A = 60 _ 62 r : -2 -> 58 no, -1 -> 59 no, 0, +1 -> 61 63, +2 -> 62 64          => {0, 1, 2}
//   B = 62 64 _   : -2 -> 60 62, -1 -> 61 63, 0, +1 -> 65 no, +2 -> 66 no          => {-2, -1, 0}
//   C = r _ 67    : 65, 66, 68, 69 are not in the vocabulary                        => {0}
//   D = r _ r     : no pitch, every offset leaves it as it is                       => {-2, ..., 2}
const std::vector<std::vector<int>> kSongs = {{3, 1, 5, 2}, {5, 7, 1}, {2, 1, 8}, {2, 1, 2}};

TEST(Augment, PitchSymbolsAreTheMidiNumbersOfTheEncoding) {
  EXPECT_EQ(melodist::pitch_of_symbol("60"), 60);
  EXPECT_EQ(melodist::pitch_of_symbol("0"), 0);
  EXPECT_EQ(melodist::pitch_of_symbol("127"), 127);
  for (const char* s : {"128", "060", "-1", "r", "_", "/", "", "6a", "1000"}) EXPECT_EQ(melodist::pitch_of_symbol(s), -1) << s;
}

TEST(Augment, HandWorkedShiftTableAndAllowedOffsets) {
  const melodist::TransposeTable t = melodist::make_transpose_table(kVocab, 2);
  // Non-pitch symbols stay under every shift; pitches move to the symbol of the shifted number.
  for (int d = -2; d <= 2; ++d)
    for (int v : {0, 1, 2}) EXPECT_EQ(t.shift(v, d), v) << "symbol " << kVocab[v] << " shift " << d;
  EXPECT_EQ(t.shift(3, 1), 4);   // 60 -> 61
  EXPECT_EQ(t.shift(3, 2), 5);   // 60 -> 62
  EXPECT_EQ(t.shift(3, -1), -1); // 59 is not in the vocabulary
  EXPECT_EQ(t.shift(7, -2), 5);  // 64 -> 62
  EXPECT_EQ(t.shift(7, 2), -1);  // 66
  EXPECT_EQ(t.shift(8, 0), 8);
  EXPECT_EQ(t.shift(8, 1), -1);  // 68

  EXPECT_EQ(melodist::allowed_shifts(t, kSongs[0]), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(melodist::allowed_shifts(t, kSongs[1]), (std::vector<int>{-2, -1, 0}));
  EXPECT_EQ(melodist::allowed_shifts(t, kSongs[2]), (std::vector<int>{0}));
  EXPECT_EQ(melodist::allowed_shifts(t, kSongs[3]), (std::vector<int>{-2, -1, 0, 1, 2}));

  // A + 2 = 62 _ 64 r; A + 1 = 61 _ 63 r; B - 2 = 60 62 _; B - 1 = 61 63 _; D + 2 = D.
  EXPECT_EQ(melodist::transpose_song(t, kSongs[0], 2), (std::vector<int>{5, 1, 7, 2}));
  EXPECT_EQ(melodist::transpose_song(t, kSongs[0], 1), (std::vector<int>{4, 1, 6, 2}));
  EXPECT_EQ(melodist::transpose_song(t, kSongs[1], -2), (std::vector<int>{3, 5, 1}));
  EXPECT_EQ(melodist::transpose_song(t, kSongs[1], -1), (std::vector<int>{4, 6, 1}));
  EXPECT_EQ(melodist::transpose_song(t, kSongs[3], 2), kSongs[3]);
  EXPECT_THROW(melodist::transpose_song(t, kSongs[1], 1), melodist::Error);

  // N = 0: only the song itself.
  EXPECT_EQ(melodist::allowed_shifts(melodist::make_transpose_table(kVocab, 0), kSongs[0]), (std::vector<int>{0}));
  EXPECT_THROW(melodist::make_transpose_table(kVocab, -1), melodist::Error);
}

TEST(Augment, KeySymbolsMoveWithThePitches) {
  // Ids:                                  0    1    2     3     4     5      6      7      8
  const std::vector<std::string> vocab = {"/", "_", "60", "62", "64", "K:C", "K:D", "K:E", "K:Am"};
  const melodist::TransposeTable t = melodist::make_transpose_table(vocab, 4);
  EXPECT_EQ(t.shift(5, 2), 6);    // K:C + 2 = K:D
  EXPECT_EQ(t.shift(5, 4), 7);    // K:C + 4 = K:E
  EXPECT_EQ(t.shift(6, -2), 5);   // K:D - 2 = K:C
  EXPECT_EQ(t.shift(5, -1), -1);  // K:B is not in the vocabulary
  EXPECT_EQ(t.shift(8, 0), 8);
  EXPECT_EQ(t.shift(8, 2), -1);   // K:Bm is not either
  // K:C 60 62: 0 and +2 land every symbol (K:D 62 64); +4 would need 66; odd offsets miss 61/63/65.
  const std::vector<int> song = {5, 2, 1, 3};
  EXPECT_EQ(melodist::allowed_shifts(t, song), (std::vector<int>{0, 2}));
  EXPECT_EQ(melodist::transpose_song(t, song, 2), (std::vector<int>{6, 3, 1, 4}));
  // A key-only song moves wherever its key can go.
  EXPECT_EQ(melodist::allowed_shifts(t, {5}), (std::vector<int>{0, 2, 4}));
}

TEST(Augment, EpochDrawIsDeterministicUniformOverTheAllowedOffsetsAndMovesOnlyPitches) {
  const auto a = melodist::make_transpose_augmenter(kVocab, kSongs, 2);
  // Same (seed, epoch): the same songs; the documented generator gives the draw.
  for (int epoch = 0; epoch < 5; ++epoch) {
    EXPECT_EQ(melodist::augment_epoch(a, kSongs, 9, epoch), melodist::augment_epoch(a, kSongs, 9, epoch));
    for (size_t i = 0; i < kSongs.size(); ++i) {
      std::mt19937_64 rng(melodist::mix_seed(melodist::mix_seed(9, 0xa06e0000ULL + epoch), i));
      EXPECT_EQ(melodist::epoch_shift(a, 9, epoch, i), a.allowed[i][rng() % a.allowed[i].size()]);
    }
  }
  // Over 600 epochs every allowed offset of A (3) and D (5) comes up about equally often, C never moves,
  // and every epoch's song is the hand-worked shift of the original.
  std::map<int, int> count_a, count_d;
  std::vector<int> seq_seed1, seq_seed2;
  for (int epoch = 0; epoch < 600; ++epoch) {
    const auto songs = melodist::augment_epoch(a, kSongs, 1, epoch);
    const int da = melodist::epoch_shift(a, 1, epoch, 0);
    ++count_a[da];
    ++count_d[melodist::epoch_shift(a, 1, epoch, 3)];
    EXPECT_EQ(melodist::epoch_shift(a, 1, epoch, 2), 0);
    EXPECT_EQ(songs[2], kSongs[2]);
    EXPECT_EQ(songs[3], kSongs[3]);
    const std::vector<int> expected_a = da == 0 ? kSongs[0] : da == 1 ? std::vector<int>{4, 1, 6, 2} : std::vector<int>{5, 1, 7, 2};
    EXPECT_EQ(songs[0], expected_a);
    if (epoch < 30) seq_seed1.push_back(da), seq_seed2.push_back(melodist::epoch_shift(a, 2, epoch, 0));
  }
  ASSERT_EQ(count_a.size(), 3u);
  for (auto [d, n] : count_a) EXPECT_NEAR(n, 200, 45) << "offset " << d;  // binomial sd ~11.5
  ASSERT_EQ(count_d.size(), 5u);
  for (auto [d, n] : count_d) EXPECT_NEAR(n, 120, 40) << "offset " << d;  // sd ~9.8
  EXPECT_NE(seq_seed1, seq_seed2) << "another seed, other offsets";
}

// The tiny dataset's songs over a chromatic vocabulary 55..74 (tiny's ids first, so its songs keep
// their ids), so that most songs have several allowed offsets.
std::vector<std::string> chromatic_vocabulary(std::vector<std::string> v) {
  for (int p = 55; p <= 74; ++p)
    if (std::find(v.begin(), v.end(), std::to_string(p)) == v.end()) v.push_back(std::to_string(p));
  return v;
}

using melodist_test::mean_nats;

// With dropout off and a negligible rate, epoch 1's training loss with song windows is the model's
// loss on exactly augment_epoch(seed, epoch 0) of the training songs, and the validation loss is the
// one of the unshifted validation songs (the same as without augmentation).
TEST(AugmentTraining, TrainsOnTheShiftedSongsAndLeavesValidationUntouched) {
  const melodist::TrainingData d = melodist::load_training_data(kTiny);
  melodist::TrainOptions o;
  o.vocabulary = chromatic_vocabulary(d.vocabulary);
  for (size_t i = 0; i < d.songs.size(); ++i) (i % 3 == 0 ? o.validation_songs : o.train_songs).push_back(d.songs[i]);
  o.delimiter_length = 8;
  o.hidden = 16, o.seq_len = 8, o.batch = 4, o.epochs = 1, o.threads = 2, o.verbose = false;
  o.dropout = 0, o.lr = 1e-30f, o.seed = 5;
  o.augment_transpose = 2;
  const auto aug = melodist::make_transpose_augmenter(o.vocabulary, o.train_songs, 2);
  size_t moved = 0;
  for (const auto& a : aug.allowed) moved += a.size() > 1;
  ASSERT_GT(moved, o.train_songs.size() / 2) << "the vocabulary must leave room to shift";
  const auto shifted = melodist::augment_epoch(aug, o.train_songs, o.seed, 0);
  ASSERT_NE(shifted, o.train_songs);

  const auto r = melodist::train_model(o);
  const double expected_train = mean_nats(melodist::score_songs(r.best_model.model, shifted, true, false, 8));
  EXPECT_NEAR(r.history[0].train_loss, expected_train, 1e-5 * expected_train);
  EXPECT_NEAR(r.history[0].val_loss, mean_nats(melodist::score_songs(r.best_model.model, o.validation_songs, true, false, 8)), 1e-9);
  EXPECT_EQ(r.best_model.metadata["training"]["augment_transpose"], 2);

  o.augment_transpose = 0;
  const auto plain = melodist::train_model(o);
  EXPECT_NEAR(plain.history[0].val_loss, r.history[0].val_loss, 1e-9) << "validation songs are never shifted";
  EXPECT_GT(std::abs(plain.history[0].train_loss - r.history[0].train_loss), 1e-4) << "the check must be able to fail";
  EXPECT_EQ(plain.best_model.metadata["training"]["augment_transpose"], 0);

  // The stream modes train on the shifted stream too: deterministic, and different from no augmentation.
  for (auto mode : {melodist::WindowMode::shuffled, melodist::WindowMode::stateful}) {
    o.windows = mode;
    o.augment_transpose = 0;
    const double off = melodist::train_model(o).history[0].train_loss;
    o.augment_transpose = 2;
    const double on = melodist::train_model(o).history[0].train_loss;
    EXPECT_EQ(on, melodist::train_model(o).history[0].train_loss) << melodist::to_string(mode);
    EXPECT_GT(std::abs(on - off), 1e-4) << melodist::to_string(mode);
  }
}

using melodist_test::checkpoint_params;
using melodist_test::CliRun;

fs::path scratch(const std::string& name) { return melodist_test::scratch_in("augment", name); }

CliRun run(const std::string& args) { return melodist_test::run_melodist("augment", args); }

// tiny's songs with a chromatic mapping.json (55..74).
fs::path chromatic_dataset() {
  static fs::path made;
  if (!made.empty()) return made;
  fs::path dir = scratch("chromatic-data");
  fs::create_directories(dir);
  for (auto f : {"songs.txt", "manifest.json"}) fs::copy_file(fs::path(kTiny) / f, dir / f);
  const auto vocabulary = chromatic_vocabulary(melodist::load_training_data(kTiny).vocabulary);
  nlohmann::json mapping = nlohmann::json::object();
  for (size_t i = 0; i < vocabulary.size(); ++i) mapping[vocabulary[i]] = i;
  melodist::write_file_atomically((dir / "mapping.json").string(), mapping.dump(2));
  return made = dir;
}

TEST(AugmentCli, TrainRecordsTheOptionAndResumesIdentically) {
  const std::string data = chromatic_dataset().string();
  const std::string opts = " --hidden 8 --seq-len 8 --batch 4 --val-every 5 --threads 2 --epochs 2 --augment-transpose 2";
  fs::path a = scratch("full"), b = scratch("limited"), c = scratch("off");
  CliRun r = run("train --data " + data + " --out " + a.string() + opts);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("transposing each training song"), std::string::npos) << r.err;
  const melodist::ModelFile m = melodist::load_model_file(a.string());
  EXPECT_EQ(m.metadata["training"]["augment_transpose"], 2);
  EXPECT_EQ(melodist::load_checkpoint((a / melodist::kCheckpointFileName).string()).options["augment_transpose"], 2);
  // Stopped after the first step, then resumed: the same weights as the uninterrupted run.
  ASSERT_EQ(run("train --data " + data + " --out " + b.string() + opts + " --time-limit 0.000001").status, 0);
  r = run("train --data " + data + " --out " + b.string() + opts + " --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(checkpoint_params(a), checkpoint_params(b));
  // Off (the default): other weights, 0 in the metadata, nothing new in the checkpoint's options.
  ASSERT_EQ(run("train --data " + data + " --out " + c.string() + " --hidden 8 --seq-len 8 --batch 4 --val-every 5 --threads 2 --epochs 2").status, 0);
  EXPECT_NE(checkpoint_params(a), checkpoint_params(c));
  EXPECT_EQ(melodist::load_model_file(c.string()).metadata["training"]["augment_transpose"], 0);
  EXPECT_FALSE(melodist::load_checkpoint((c / melodist::kCheckpointFileName).string()).options.contains("augment_transpose"));
  // Resuming with another setting, or a nonsense one, is a one-line error.
  r = run("train --data " + data + " --out " + a.string() + " --hidden 8 --seq-len 8 --batch 4 --val-every 5 --threads 2 --epochs 3 --augment-transpose 3 --resume");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("other options"), std::string::npos) << r.err;
  r = run("train --data " + data + " --out " + scratch("bad").string() + " --augment-transpose -1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("melodist: error: --augment-transpose -1"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(AugmentCli, CrossvalPassesTheOptionToEveryFold) {
  fs::path cv = scratch("cv");
  CliRun r = run("crossval --data " + chromatic_dataset().string() + " --folds 2 --out " + cv.string() +
                 " --hidden 8 --seq-len 8 --batch 4 --val-every 5 --threads 2 --epochs 1 --augment-transpose 2 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* fold : {"fold-01", "fold-02"})
    EXPECT_EQ(melodist::load_model_file((cv / fold).string()).metadata["training"]["augment_transpose"], 2) << fold;
}

}  // namespace
