// The public API (include/melodist/) against the `melodist` command it must agree with byte for byte:
// generate --seed, score --json, and the one-line error messages.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "melodist/melodist.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string run(const std::string& args) {
  std::string out;
  FILE* p = popen((std::string(MELODIST_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

fs::path temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("melodist-api-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST(Api, GenerateWritesTheCliBytes) {
  const fs::path dir = temp_dir();
  run("generate --seed 7 --out " + (dir / "cli.mid").string());
  run("generate --seed 7 --out " + (dir / "cli.txt").string());
  melodist::api::GenerationOptions o;
  o.seed = 7;
  const melodist::api::Melody m = melodist::api::Model::bundled().generate(o).at(0);
  m.write((dir / "api.mid").string());
  m.write((dir / "api.txt").string());
  EXPECT_EQ(slurp(dir / "api.mid"), slurp(dir / "cli.mid"));
  EXPECT_EQ(slurp(dir / "api.txt"), slurp(dir / "cli.txt"));
  EXPECT_GT(m.notes().size(), 0u);
  fs::remove_all(dir);
}

TEST(Api, ScoreEqualsCliScoreJson) {
  const std::string song = std::string(MELODIST_FIXTURES_DIR) + "/kern/accidentals.krn";
  const std::string json = run("score --json " + song);
  const auto total_at = json.find("\"total_nats\": ");
  ASSERT_NE(total_at, std::string::npos) << json;
  const double cli_total = std::stod(json.substr(total_at + 14));
  const auto steps_at = json.find("\"steps\": ");
  const size_t cli_steps = std::stoul(json.substr(steps_at + 9));
  const melodist::api::Score s = melodist::api::Model::bundled().score(melodist::api::read_song(song));
  EXPECT_EQ(s.nats.size(), cli_steps);
  EXPECT_NEAR(s.total_nats, cli_total, 1e-9 * std::abs(cli_total) + 1e-12);
}

TEST(Api, ErrorsAreTheCliLines) {
  const melodist::api::Model model = melodist::api::Model::bundled();
  melodist::api::GenerationOptions o;
  o.temperature = -1;
  std::string api_message;
  try {
    model.generate(o);
  } catch (const melodist::Error& e) {
    api_message = e.what();
  }
  const std::string cli = run("generate --temperature -1 --out /dev/null/x.mid");
  ASSERT_FALSE(api_message.empty());
  EXPECT_NE(cli.find("melodist: error: " + api_message), std::string::npos) << cli << " vs " << api_message;
  EXPECT_THROW(melodist::api::read_song("/nonexistent/song.krn"), melodist::Error);
  try {
    melodist::api::Melody::from_symbols({"60", "_"}).write("x.wav");
    FAIL() << "wrote an unknown extension";
  } catch (const melodist::Error& e) {
    EXPECT_EQ(std::string(e.what()), "x.wav: unknown extension \".wav\" (melodist writes .mid, .midi, .txt)");
  }
}

// The bundled model knows keys and meters: key and meter prime it, bars makes exactly that many bars.
TEST(Api, KeyAndBarsShapeTheMelody) {
  melodist::api::GenerationOptions o;
  o.seed = 3;
  o.bars = 2;
  o.key = "D major";
  o.meter = melodist::api::Meter{3, 4};
  const melodist::api::Model model = melodist::api::Model::bundled();
  for (const melodist::api::Melody& m : [&] { o.count = 4; return model.generate(o); }()) {
    ASSERT_GE(m.symbols().size(), 2u);
    EXPECT_EQ(m.symbols()[0], "K:D");
    EXPECT_EQ(m.symbols()[1], "M:3/4");
    EXPECT_DOUBLE_EQ(m.length(), 6.0);  // two bars of 3/4, no pickup asked for
    EXPECT_TRUE(m.ended());
  }
  // The meter alone: the model samples its key first (as it learned: "K:.. M:.."), then the meter is forced.
  o.key.clear();
  for (const melodist::api::Melody& m : model.generate(o)) {
    ASSERT_GE(m.symbols().size(), 2u);
    EXPECT_EQ(m.symbols()[0].rfind("K:", 0), 0u) << m.symbols()[0];
    EXPECT_EQ(m.symbols()[1], "M:3/4");
    EXPECT_DOUBLE_EQ(m.length(), 6.0);
  }
  // Bars without a meter: the model's meter, from those whose bars fit the step budget.
  o.meter.reset();
  o.bars = 8;
  for (const melodist::api::Melody& m : model.generate(o)) EXPECT_TRUE(m.ended()) << m.symbols()[1];
  o.key = "H major";
  EXPECT_THROW(model.generate(o), melodist::Error);
}

// The controls' one policy (src/generate/generator.cpp, as `melodist generate`): on a model without key or
// meter symbols, `key` moves the output of a model of songs moved to C / Am and is refused by a model of
// written pitches; `meter` is refused (`time_signature` is the written meter and the bar length instead).
TEST(Api, ControlsAModelCannotHonourAreRefusedAsTheCommandRefusesThem) {
  const fs::path dir = temp_dir();
  const fs::path songs = dir / "songs";
  fs::create_directories(songs);
  const char* notes = "cdefgab";
  for (int i = 0; i < 10; ++i)  // 10 songs in C major (validation takes every 10th)
    std::ofstream(songs / ("s" + std::to_string(i) + ".krn")) << "**kern\n*M2/4\n*C:\n=1\n4c\n4" << notes[i % 7] << "\n=2\n4"
                                                          << notes[(i + 2) % 7] << "\n4e\n=3\n2c\n==\n*-\n";
  for (const bool moved : {true, false}) {
    melodist::api::PreprocessOptions p;
    p.transpose = moved;
    const std::string data = (dir / (moved ? "moved-data" : "written-data")).string();
    melodist::api::preprocess({songs.string()}, data, p);
    melodist::api::TrainOptions t;
    t.hidden = 8;
    t.epochs = 1;
    t.threads = 1;
    const std::string model_dir = (dir / (moved ? "moved" : "written")).string();
    melodist::api::train(data, model_dir, t);
    const melodist::api::Model model = melodist::api::Model::load(model_dir);
    melodist::api::GenerationOptions o;
    o.seed = 4;
    o.max_steps = 12;
    o.key = "G major";
    if (moved) {
      const std::vector<melodist::api::Melody> in_g = model.generate(o);
      o.key.clear();
      const std::vector<melodist::api::Melody> in_c = model.generate(o);
      std::vector<std::string> moved_down = in_c[0].symbols();  // C major to G major: -5, the nearer octave
      int pitches = 0;
      for (std::string& s : moved_down)
        if (s.find_first_not_of("0123456789") == std::string::npos) s = std::to_string(std::stoi(s) - 5), ++pitches;
      ASSERT_GT(pitches, 0);
      EXPECT_EQ(in_g[0].symbols(), moved_down);
    } else {
      try {
        model.generate(o);
        FAIL() << "a model of written pitches without key symbols took a key";
      } catch (const melodist::Error& e) {
        EXPECT_NE(std::string(e.what()).find("the model has no key symbols"), std::string::npos) << e.what();
      }
    }
    o.key.clear();
    o.meter = melodist::api::Meter{3, 4};
    EXPECT_THROW(model.generate(o), melodist::Error);
    o.meter.reset();
    o.time_signature = melodist::api::Meter{3, 4};
    o.bars = 2;
    o.max_steps = 40;
    for (const melodist::api::Melody& m : model.generate(o)) {
      EXPECT_EQ(m.meter()->numerator, 3);
      EXPECT_DOUBLE_EQ(m.length(), 6.0);
    }
  }
  fs::remove_all(dir);
}

TEST(Api, TrainCallsProgressOncePerEpochAndTheModelLoads) {
  const fs::path dir = temp_dir();
  melodist::api::TrainOptions o;
  o.hidden = 8;
  o.epochs = 3;
  o.threads = 1;
  std::vector<melodist::api::Epoch> seen;
  o.progress = [&](const melodist::api::Epoch& e) { seen.push_back(e); };
  const melodist::api::TrainSummary r =
      melodist::api::train(std::string(MELODIST_FIXTURES_DIR) + "/train/tiny", (dir / "model").string(), o);
  ASSERT_EQ(seen.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].epoch, i + 1);
    EXPECT_EQ(seen[i].val_loss, r.history.at(i).val_loss);
  }
  EXPECT_EQ(melodist::api::Model::load((dir / "model").string()).info().hidden_size, 8);
  // A callback that throws stops the run with its exception.
  o.progress = [](const melodist::api::Epoch&) { throw melodist::Error("stop"); };
  EXPECT_THROW(melodist::api::train(std::string(MELODIST_FIXTURES_DIR) + "/train/tiny", (dir / "again").string(), o), melodist::Error);
  fs::remove_all(dir);
}
